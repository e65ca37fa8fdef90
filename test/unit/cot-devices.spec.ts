// The virtual meters and HAN clients against DOMAIN.md §B (COT-1…9) and PWR-3 on the simulated air:
// an ESME (or GPF), an IHD and a PPMID talk over the Air, a listener hears every frame and reads it
// with the HanDecoder, a rig-radio-like client reads the meter, and each client's observation port
// says what it holds. Every profile is the real firmware-images/profiles/*.yaml file.
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILT_IN_MANIFEST, loadFirmwareManifests } from '../../firmware-images/manifest.ts';
import {
  PROFILE_KIND_OF_ROLE,
  ProfileError,
  loadProfile,
  misbehavesOn,
  type HanClientProfile,
  type MeterProfile,
} from '../../firmware-images/profiles.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import type { ZclFrameSpec } from '../../protocol/zcl/index.ts';
import { Air, type AirMeta } from '../../sim/air.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';
import { VirtualHanClient } from '../../sim/han-client.ts';
import { HanStack, SE_CLUSTER, toZclUtc, type HanAddress } from '../../sim/han-frames.ts';
import { VirtualMeter } from '../../sim/meter.ts';
import { HAN_READ_ANSWER_DELAY_MS, VirtualCommsHub } from '../../sim/comms-hub.ts';
import { COORDINATOR_LOSS_NOTICED_MS, HAN_BOOT_MS } from '../../sim/han-join.ts';
import { CLEAR_ALL_TENANCY_DATA, TENANCY_CONTROL, kindsClearedBy } from '../../sim/tenancy.ts';

const PROFILES = path.join(path.dirname(BUILT_IN_MANIFEST), 'profiles');
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const CHANNEL = 11;
const PAN = 0x4b1d;

const ESME: HanAddress = { short: 0x0001, ieee: '00:db:12:34:56:78:00:01' };
const GPF: HanAddress = { short: 0x0002, ieee: '00:db:12:34:56:78:90:a3' };
const CH_IEEE = '00:db:12:34:56:78:90:a2';
/** From power-on to on the HAN: the device's boot, its Rejoin Request, the CH's Rejoin Response. */
const HAN_JOIN_MS = HAN_BOOT_MS + HAN_READ_ANSWER_DELAY_MS;
const IHD: HanAddress = { short: 0x4a01, ieee: '00:0d:6f:00:00:00:4a:01' };
const PPMID: HanAddress = { short: 0x4a02, ieee: '00:0d:6f:00:00:00:4a:02' };
const RIG: HanAddress = { short: 0x7777, ieee: '00:db:12:34:56:78:90:f0' };
const short = (a: HanAddress) => `0x${a.short.toString(16).padStart(4, '0')}`;

async function meterProfile(id: string): Promise<MeterProfile> {
  const p = await loadProfile(path.join(PROFILES, `${id}.yaml`));
  assert.equal(p.kind, 'meter', id);
  return p as MeterProfile;
}

async function clientProfile(id: string): Promise<HanClientProfile> {
  const p = await loadProfile(path.join(PROFILES, `${id}.yaml`));
  assert.equal(p.kind, 'han-client', id);
  return p as HanClientProfile;
}

interface Heard {
  /** Bench ms since the epoch. */
  t: number;
  from: string;
  d: DecodedFrame;
}

/** One meter and its clients on the air with the CH that admits them (powered throughout), a listener that hears everything, and the rig radio as a HAN client. */
class Han {
  readonly clock = new DiscreteEventClock();
  readonly air = new Air(this.clock);
  readonly decoder = new HanDecoder();
  readonly heard: Heard[] = [];
  readonly rig = new HanStack(RIG, PAN);
  meter!: VirtualMeter;
  ch!: VirtualCommsHub;
  readonly clients = new Map<string, VirtualHanClient>();

  constructor() {
    this.air.attach({ channel: CHANNEL, receive: (frame: Uint8Array, meta: AirMeta) => this.#hear(frame, meta) });
  }

  #hear(frame: Uint8Array, meta: AirMeta): void {
    const d = this.decoder.decode({ n: this.heard.length + 1, timestampUs: meta.atUs, frame, fcsIncluded: false });
    this.heard.push({ t: Number(meta.atUs / 1000n) - this.clock.epochMs, from: meta.from, d });
  }

  static async of(meterId: string, clients: Record<string, string>, meterAddress = ESME, chId = 'ch-conformant'): Promise<Han> {
    const h = new Han();
    const addresses: Record<string, HanAddress> = { ihd: IHD, ppmid: PPMID };
    const chProfile = await loadProfile(path.join(PROFILES, `${chId}.yaml`));
    assert.equal(chProfile.kind, 'comms-hub');
    h.ch = new VirtualCommsHub({
      clock: h.clock,
      air: h.air,
      profile: chProfile,
      ieee: CH_IEEE,
      channel: CHANNEL,
      pan: PAN,
      hhtShort: 0x0bcd,
      hanDevices: [meterAddress.ieee, IHD.ieee, PPMID.ieee],
    });
    h.ch.power(true);
    h.meter = new VirtualMeter({
      clock: h.clock,
      air: h.air,
      profile: await meterProfile(meterId),
      pan: PAN,
      self: meterAddress,
      clients: Object.keys(clients).map((k) => addresses[k]),
    });
    for (const [name, id] of Object.entries(clients)) {
      h.clients.set(
        name,
        new VirtualHanClient({
          clock: h.clock,
          air: h.air,
          profile: await clientProfile(id),
          pan: PAN,
          self: addresses[name],
          servers: [meterAddress],
        }),
      );
    }
    return h;
  }

  client(name: string): VirtualHanClient {
    const c = this.clients.get(name);
    assert.ok(c, name);
    return c;
  }

  powerAll(): void {
    this.meter.power(true);
    for (const c of this.clients.values()) c.power(true);
  }

  /** The CH's relay, wired as the virtual bench wires it: every device on its HAN loses the coordinator at power-off. */
  chPower(on: boolean): void {
    this.ch.power(on);
    if (!on) for (const d of [this.meter, ...this.clients.values()]) d.coordinatorLost();
  }

  to(ms: number): Promise<void> {
    return this.clock.advanceTo(this.clock.epochMs + ms);
  }

  /** Bench time `ms` after the epoch (2026-01-01T00:00Z). */
  abs(ms: number): number {
    return this.clock.epochMs + ms;
  }

  /** Calls `action` every `period` from `from` until `until` (relative ms), on the clock. */
  every(period: number, from: number, until: number, action: (i: number) => void): void {
    let i = 0;
    const step = (t: number) =>
      this.clock.at(
        this.abs(t),
        () => {
          action(i++);
          if (t + period <= until) step(t + period);
        },
        'test feed',
      );
    step(from);
  }

  /** A meter's life: a reading every 30 minutes. */
  feedConsumption(from: number, until: number): void {
    this.every(30 * MIN, from, until, (i) => this.meter.recordConsumption(1000 + 250 * i));
  }

  /** Frames with a ZCL command of this name, optionally from or to a device. */
  zcl(name: string, opts: { from?: HanAddress; to?: HanAddress; since?: number } = {}): Heard[] {
    return this.heard.filter(
      (h) =>
        h.d.zcl?.name === name &&
        (opts.from === undefined || h.d.nwk?.src === short(opts.from)) &&
        (opts.to === undefined || h.d.nwk?.dst === short(opts.to)) &&
        (opts.since === undefined || h.t >= opts.since),
    );
  }

  /** The rig radio asks the meter something, as an IHD-like client would. */
  ask(spec: ZclFrameSpec, cluster: number): void {
    this.air.transmit(this.rig.zcl(this.meter.self.short, cluster, spec), { channel: CHANNEL, from: RIG.ieee });
  }

  /** The first answer to the rig after `since`. */
  answerToRig(since: number): DecodedFrame | undefined {
    return this.heard.find((h) => h.t >= since && h.d.nwk?.dst === short(RIG))?.d;
  }
}

/** The previous occupier's life on the conformant pair, then ECS12 at day 1 10:00 for day 2 00:00. */
async function tenancyScenario(meterId: string, ihdId: string, ppmidId = 'ppmid-conformant') {
  const h = await Han.of(meterId, { ihd: ihdId, ppmid: ppmidId });
  h.powerAll();
  h.feedConsumption(1 * HOUR, 4 * DAY);
  await h.to(6 * HOUR);
  h.meter.topUp({ code: '12345678901234567890', amount: 2000 });
  await h.to(7 * HOUR);
  h.meter.collectDebt({ amountCollected: 150, outstandingDebt: 4850 });
  await h.to(8 * HOUR);
  h.meter.displayMessage({ messageId: 1, message: 'Your meter reading is due' });
  await h.to(9 * HOUR);
  h.meter.displayMessage({ messageId: 2, message: 'Debt plan agreed' });
  const T = 2 * DAY;
  await h.to(DAY + 10 * HOUR);
  const cot = h.meter.changeOfTenancy({ implementationUtc: h.abs(T) });
  assert.ok(cot);
  return { h, T, cot };
}

test.describe('the conformant pair (COT-1, COT-4, COT-5, COT-6, COT-7)', () => {
  test('the ESME publishes; IHD and PPMID clear all four kinds at the implementation time and keep what came after', async () => {
    const { h, T, cot } = await tenancyScenario('esme-conformant', 'ihd-conformant');
    await h.to(DAY + 10 * HOUR + 1 * SEC);
    // COT-1: unsolicited, to each client, after the meter's response delay.
    for (const client of [IHD, PPMID]) {
      const [p] = h.zcl('Publish Change of Tenancy', { to: client });
      assert.ok(p, `publish to ${short(client)}`);
      assert.equal(p.t, DAY + 10 * HOUR + 150);
      assert.deepEqual(p.d.zcl!.fields, {
        providerId: 1,
        issuerEventId: cot.issuerEventId,
        tariffType: 0,
        implementationDateTime: toZclUtc(h.abs(T)),
        control: CLEAR_ALL_TENANCY_DATA,
        controlFlags: ['clear historical load profile', 'clear IHD data (consumer)', 'clear IHD data (supplier)', 'clear prepayment data'],
      });
      assert.match(p.d.summary, /Publish Change of Tenancy.*implementation 2026-01-03T00:00:00Z/);
    }

    // COT-5: nothing goes before the implementation time.
    await h.to(T - 1);
    for (const name of ['ihd', 'ppmid']) {
      const o = h.client(name).observe();
      assert.equal(o.clearingDueAt, h.abs(T), name);
      assert.equal(o.topUpHistory.count, 1, name);
      assert.equal(o.debtRecovery.count, 1, name);
      assert.equal(o.supplierMessages.count, 2, name);
      assert.ok(o.consumptionHistory.count > 60, name);
    }

    // COT-4 at T; COT-6: the ESME cancels its last message on the air.
    await h.to(T);
    for (const name of ['ihd', 'ppmid']) {
      const o = h.client(name).observe();
      assert.equal(o.clearingDueAt, null);
      assert.deepEqual([o.topUpHistory.count, o.debtRecovery.count, o.supplierMessages.count], [0, 0, 0], name);
      // The reading taken at T itself is the new occupier's.
      assert.equal(o.consumptionHistory.count, 1, name);
      assert.equal(o.consumptionHistory.earliestRecordedAt, h.abs(T), name);
    }
    expect(h.zcl('Cancel Message').map((x) => [x.t, x.d.nwk!.dst, x.d.zcl!.fields!.messageId])).toEqual([
      [T, short(IHD), 2],
      [T, short(PPMID), 2],
    ]);
    expect(h.meter.lastMessage).toBeUndefined();

    // COT-7: the new occupier's data stays, through the daily polls that bring the same publication back.
    await h.to(T + 2 * HOUR);
    h.meter.topUp({ code: '99999999999999999999', amount: 500 });
    await h.to(T + 3 * HOUR);
    h.meter.displayMessage({ messageId: 3, message: 'Welcome to your new home' });
    await h.to(4 * DAY);
    for (const name of ['ihd', 'ppmid']) {
      const c = h.client(name);
      const o = c.observe();
      assert.equal(o.topUpHistory.count, 1, name);
      assert.equal(o.topUpHistory.latestRecordedAt, h.abs(T + 2 * HOUR), name);
      expect(c.held('supplierMessages').map((m) => m.messageId)).toEqual([3]);
      assert.ok(o.consumptionHistory.earliestRecordedAt! >= h.abs(T), name);
      assert.equal(o.consumptionHistory.count, 2 * 48 + 1, name);
      assert.equal(o.tenancy?.issuerEventId, cot.issuerEventId);
    }
    // The daily polls (24 h from power-up at 0) were answered with the same publication.
    expect(h.zcl('Get Change of Tenancy', { from: IHD, since: T }).map((x) => x.t)).toEqual([2 * DAY, 3 * DAY, 4 * DAY]);
    expect(h.zcl('Publish Change of Tenancy', { to: IHD, since: T }).map((x) => [x.t, x.d.zcl!.fields!.issuerEventId])).toEqual([
      [2 * DAY + 150, cot.issuerEventId],
      [3 * DAY + 150, cot.issuerEventId],
    ]);

    // The meter, read as the rig radio reads it: attributes 0x0200/0x0201, top-up log and last message of the new occupier only.
    let since = 4 * DAY;
    h.ask(
      { type: 'global', cmd: 0x00, dir: 'client-to-server', seq: 1, fields: { attributes: [0x0100, 0x0200, 0x0201] } },
      SE_CLUSTER.deviceManagement,
    );
    await h.to(since + SEC);
    expect(h.answerToRig(since)?.zcl?.fields?.records).toMatchObject([
      { attributeId: 0x0100, value: 1 },
      { attributeId: 0x0200, value: toZclUtc(h.abs(T)) },
      { attributeId: 0x0201, value: CLEAR_ALL_TENANCY_DATA },
    ]);
    since = h.clock.elapsed();
    h.ask(
      { name: 'Get Top Up Log', dir: 'client-to-server', seq: 2, fields: { latestEndTime: 0, numberOfRecords: 5 } },
      SE_CLUSTER.prepayment,
    );
    await h.to(since + SEC);
    expect(h.answerToRig(since)?.zcl).toMatchObject({
      name: 'Publish Top Up Log',
      seq: 2,
      fields: { totalNumberOfCommands: 1, topUps: [{ topUpCode: '99999999999999999999', topUpAmount: 500 }] },
    });
    since = h.clock.elapsed();
    h.ask({ name: 'Get Last Message', dir: 'client-to-server', seq: 3 }, SE_CLUSTER.messaging);
    await h.to(since + SEC);
    expect(h.answerToRig(since)?.zcl).toMatchObject({ name: 'Display Message', seq: 3, fields: { messageId: 3 } });
  });

  test('the control bits decide which kinds are cleared (the mapping in sim/tenancy.ts)', async () => {
    expect(kindsClearedBy(TENANCY_CONTROL.clearHistoricalLoadProfile)).toEqual(['consumptionHistory']);
    expect(kindsClearedBy(TENANCY_CONTROL.clearIhdDataConsumer)).toEqual(['consumptionHistory', 'topUpHistory']);
    expect(kindsClearedBy(TENANCY_CONTROL.clearIhdDataSupplier)).toEqual(['debtRecovery', 'supplierMessages']);
    expect(kindsClearedBy(TENANCY_CONTROL.clearPrepaymentData)).toEqual(['topUpHistory', 'debtRecovery']);
    expect(kindsClearedBy(0x1 | 0x2 | 0x20 | 0x1800)).toEqual([]);

    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant' });
    h.powerAll();
    h.feedConsumption(HOUR, 2 * DAY);
    await h.to(2 * HOUR);
    h.meter.topUp({ code: '01', amount: 1 });
    h.meter.collectDebt({ amountCollected: 1, outstandingDebt: 1 });
    h.meter.displayMessage({ messageId: 7, message: 'm' });
    h.meter.changeOfTenancy({ implementationUtc: h.abs(DAY), control: TENANCY_CONTROL.clearIhdDataSupplier });
    await h.to(DAY + MIN);
    const o = h.client('ihd').observe();
    expect([
      o.consumptionHistory.earliestRecordedAt! < h.abs(DAY),
      o.topUpHistory.count,
      o.debtRecovery.count,
      o.supplierMessages.count,
    ]).toEqual([true, 1, 0, 0]);
  });
});

test.describe('polling (COT-2, COT-3)', () => {
  /** Each profile powered at 07:13 UTC for four days: when did it send Get Change of Tenancy? */
  async function pollTimes(id: string): Promise<number[]> {
    const h = await Han.of('esme-conformant', { ihd: id });
    await h.to(7 * HOUR + 13 * MIN);
    h.powerAll();
    await h.to(4 * DAY + 7 * HOUR + 13 * MIN + MIN);
    return h.zcl('Get Change of Tenancy', { from: IHD }).map((x) => x.t);
  }

  test('24 h, 3 h and midnight pollers all poll at power-up and within every 24 h', async () => {
    const on = 7 * HOUR + 13 * MIN;
    const expected: Record<string, number[]> = {
      'ihd-conformant': [on + HAN_JOIN_MS, ...[1, 2, 3, 4].map((d) => on + d * DAY)],
      'ihd-polls-3h': [on + HAN_JOIN_MS, ...Array.from({ length: 32 }, (_, i) => on + (i + 1) * 3 * HOUR)],
      'ihd-polls-midnight': [on + HAN_JOIN_MS, ...[1, 2, 3, 4].map((d) => d * DAY)],
    };
    for (const [id, times] of Object.entries(expected)) {
      const polls = await pollTimes(id);
      assert.deepEqual(polls, times, id);
      const gaps = polls.slice(1).map((t, i) => t - polls[i]);
      assert.ok(Math.max(...gaps) <= DAY, `${id}: longest gap ${Math.max(...gaps) / HOUR} h`);
    }
  });

  test('ihd-polls-48h leaves 48 h between polls (COT-3)', async () => {
    const polls = await pollTimes('ihd-polls-48h');
    const gaps = polls.slice(1).map((t, i) => t - polls[i]);
    expect(Math.max(...gaps)).toBe(2 * DAY);
  });

  test('ihd-skips-every-second-poll and ppmid-skips-every-third-poll leave one 48 h gap in two, or in three (COT-3 broken sometimes)', async () => {
    const on = 7 * HOUR + 13 * MIN;
    expect(await pollTimes('ihd-skips-every-second-poll')).toEqual([on + HAN_JOIN_MS, on + DAY, on + 3 * DAY]);
    const h = await Han.of('esme-conformant', { ppmid: 'ppmid-skips-every-third-poll' });
    await h.to(on);
    h.powerAll();
    await h.to(on + 7 * DAY + MIN);
    expect(h.zcl('Get Change of Tenancy', { from: PPMID }).map((x) => x.t)).toEqual([
      on + HAN_JOIN_MS,
      ...[1, 2, 4, 5, 7].map((d) => on + d * DAY),
    ]);
  });

  test('ihd-skips-every-second-power-up-poll polls after its 1st and 3rd power-up, not after the 2nd', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-skips-every-second-power-up-poll' });
    h.meter.power(true);
    const polled: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const since = i * HOUR;
      await h.to(since);
      h.client('ihd').power(true);
      await h.to(since + 10 * MIN);
      polled.push(h.zcl('Get Change of Tenancy', { from: IHD, since }).length > 0);
      h.client('ihd').power(false);
    }
    expect(polled).toEqual([true, false, true]);
  });

  test('ihd-no-poll-at-power-up is silent after power-up until its 24 h poll (COT-2)', async () => {
    const polls = await pollTimes('ihd-no-poll-at-power-up');
    expect(polls[0]).toBe(7 * HOUR + 13 * MIN + DAY);
    expect((await pollTimes('ihd-conformant'))[0]).toBe(7 * HOUR + 13 * MIN + HAN_JOIN_MS);
  });

  test('rejoin and a meter power cycle: the conformant IHD polls, ihd-no-poll-at-rejoin does not (COT-2, PWR-3)', async () => {
    for (const [id, polls] of [
      ['ihd-conformant', true],
      ['ihd-no-poll-at-rejoin', false],
    ] as const) {
      const h = await Han.of('esme-conformant', { ihd: id });
      h.powerAll();
      await h.to(HOUR);
      h.client('ihd').disconnect();
      await h.to(2 * HOUR);
      h.client('ihd').rejoin();
      await h.to(2 * HOUR + SEC);
      assert.equal(h.zcl('Get Change of Tenancy', { from: IHD, since: 2 * HOUR }).length, polls ? 1 : 0, `${id} at rejoin`);
      // PWR-3: the ESME's power cycle; it announces itself when back on the HAN.
      h.meter.power(false);
      await h.to(3 * HOUR);
      h.meter.power(true);
      await h.to(3 * HOUR + HAN_JOIN_MS + SEC);
      assert.equal(h.heard.filter((x) => x.t === 3 * HOUR + HAN_JOIN_MS && x.d.aps?.zdp === 'Device_annce').length, 1);
      assert.equal(
        h.zcl('Get Change of Tenancy', { from: IHD, since: 3 * HOUR }).length,
        polls ? 1 : 0,
        `${id} after the ESME's power cycle`,
      );
    }
  });
});

test.describe('joining the HAN through the CH (NWK Rejoin Request / Response)', () => {
  const rejoins = (h: Han, kind: 'Rejoin Request' | 'Rejoin Response', who: HanAddress) =>
    h.heard.filter(
      (x) => x.d.nwk?.command === kind && (kind === 'Rejoin Request' ? x.d.nwk.src64 === who.ieee : x.d.nwk.dst64 === who.ieee),
    );

  test('powered with the CH on: boot, Rejoin Request to 0x0000, admitted with its own address; then the ESME announces and the IHD polls', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant' });
    h.powerAll();
    await h.to(MIN);
    for (const who of [ESME, IHD]) {
      const [request] = rejoins(h, 'Rejoin Request', who);
      const [response] = rejoins(h, 'Rejoin Response', who);
      expect([request.t, request.d.nwk?.dst, request.d.nwk?.commandFields]).toEqual([HAN_BOOT_MS, '0x0000', { capability: 0x8e }]);
      expect([response.t, response.d.nwk?.src, response.d.nwk?.commandFields]).toEqual([
        HAN_JOIN_MS,
        '0x0000',
        { address: short(who), status: 0 },
      ]);
    }
    expect(h.heard.filter((x) => x.d.aps?.zdp === 'Device_annce').map((x) => x.t)).toEqual([HAN_JOIN_MS]);
    expect(h.zcl('Get Change of Tenancy', { from: IHD }).map((x) => x.t)).toEqual([HAN_JOIN_MS]);
  });

  test('with the CH off there is no HAN: the devices ask again with back-off (15 s doubling, at most 5 min) and join at the first request after the CH is back', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant' });
    h.ch.power(false);
    h.powerAll();
    await h.to(30 * MIN);
    expect([h.meter.onHan, h.client('ihd').onHan]).toEqual([false, false]);
    expect(h.zcl('Get Change of Tenancy')).toEqual([]);
    const asked = rejoins(h, 'Rejoin Request', IHD).map((x) => x.t / SEC);
    // 5, +15, +30, +60, +120, +240, then every 300 s.
    expect(asked.slice(0, 8)).toEqual([5, 20, 50, 110, 230, 470, 770, 1070]);
    expect(rejoins(h, 'Rejoin Response', IHD)).toEqual([]);
    h.ch.power(true);
    const next = asked.at(-1)! * SEC + 5 * MIN;
    await h.to(next + MIN);
    expect(rejoins(h, 'Rejoin Response', IHD).map((x) => x.t)).toEqual([next + HAN_READ_ANSWER_DELAY_MS]);
    expect(h.client('ihd').onHan).toBe(true);
    expect(
      h
        .client('ihd')
        .events.filter((e) => e.kind === 'joined')
        .map((e) => e.detail),
    ).toEqual(['power-up']);
    expect(h.zcl('Get Change of Tenancy', { from: IHD }).map((x) => x.t)).toEqual([next + HAN_READ_ANSWER_DELAY_MS]);
  });

  test('a device the CHF device log does not hold is never admitted', async () => {
    const h = await Han.of('esme-conformant', {});
    const stranger = new VirtualHanClient({
      clock: h.clock,
      air: h.air,
      profile: await clientProfile('ihd-conformant'),
      pan: PAN,
      self: { short: 0x4a09, ieee: '00:0d:6f:00:00:00:4a:09' },
      servers: [ESME],
    });
    stranger.power(true);
    await h.to(HOUR);
    expect(stranger.onHan).toBe(false);
    expect(h.ch.events.filter((e) => e.kind === 'rejoin-ignored').length).toBeGreaterThan(5);
    expect(h.heard.filter((x) => x.d.nwk?.command === 'Rejoin Response')).toEqual([]);
  });

  test('a CH power cycle takes every device off the HAN once it notices; each asks again with back-off and is back after power-on (PWR-1); a dropped-out IHD rejoins', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant' });
    h.powerAll();
    await h.to(HOUR);
    h.chPower(false);
    // Noticed when the coordinator's Link Status stops (45 s nominal); asked at once, then after 15, 30, 60, 120, 240, 300 s.
    await h.to(HOUR + COORDINATOR_LOSS_NOTICED_MS + SEC);
    expect([h.meter.onHan, h.client('ihd').onHan]).toEqual([false, false]);
    await h.to(HOUR + 10 * MIN);
    h.chPower(true);
    await h.to(2 * HOUR);
    expect([h.meter.onHan, h.client('ihd').onHan]).toEqual([true, true]);
    const asks = [45, 60, 90, 150, 270, 510, 810].map((s) => HOUR + s * SEC);
    for (const device of [ESME, IHD]) expect(rejoins(h, 'Rejoin Request', device).map((x) => x.t)).toEqual([HAN_BOOT_MS, ...asks]);
    // The first Rejoin Request after the power-on is admitted; the IHD polls as after any rejoin (COT-2).
    expect(rejoins(h, 'Rejoin Response', IHD).map((x) => x.t)).toEqual([HAN_JOIN_MS, HOUR + 810 * SEC + HAN_READ_ANSWER_DELAY_MS]);
    expect(h.zcl('Get Change of Tenancy', { from: IHD, since: HOUR + 10 * MIN }).length).toBeGreaterThanOrEqual(1);
    h.client('ihd').disconnect();
    await h.to(3 * HOUR);
    h.client('ihd').rejoin();
    await h.to(3 * HOUR + SEC);
    expect(rejoins(h, 'Rejoin Request', IHD).at(-1)!.t).toBe(3 * HOUR);
    expect(
      h
        .client('ihd')
        .events.filter((e) => e.kind === 'joined')
        .map((e) => e.detail),
    ).toEqual(['power-up', 'rejoin', 'rejoin']);
    expect(h.zcl('Get Change of Tenancy', { from: IHD, since: 3 * HOUR }).map((x) => x.t)).toEqual([3 * HOUR + HAN_READ_ANSWER_DELAY_MS]);
  });

  test('a CH power cycle: ihd-rejoins-after-30min asks only 30 min after it noticed, esme-never-rejoins never; ch-loses-device-log admits neither (PWR-1, PWR-2)', async () => {
    const h = await Han.of('esme-never-rejoins', { ihd: 'ihd-rejoins-after-30min' });
    h.powerAll();
    await h.to(HOUR);
    h.chPower(false);
    await h.to(HOUR + 5 * SEC);
    h.chPower(true);
    await h.to(3 * HOUR);
    expect(rejoins(h, 'Rejoin Request', ESME).map((x) => x.t)).toEqual([HAN_BOOT_MS]);
    expect(h.meter.onHan).toBe(false);
    expect(rejoins(h, 'Rejoin Request', IHD).map((x) => x.t)).toEqual([HAN_BOOT_MS, HOUR + COORDINATOR_LOSS_NOTICED_MS + 30 * MIN]);
    expect(h.client('ihd').onHan).toBe(true);

    const lost = await Han.of('esme-conformant', { ihd: 'ihd-conformant' }, ESME, 'ch-loses-device-log');
    lost.powerAll();
    await lost.to(HOUR);
    expect([lost.meter.onHan, lost.client('ihd').onHan]).toEqual([true, true]);
    lost.chPower(false);
    await lost.to(HOUR + 5 * SEC);
    lost.chPower(true);
    await lost.to(2 * HOUR);
    // They keep asking, bounded by the back-off; the CH no longer knows them.
    expect([lost.meter.onHan, lost.client('ihd').onHan]).toEqual([false, false]);
    expect(rejoins(lost, 'Rejoin Request', IHD).length).toBeGreaterThan(5);
    expect(lost.ch.deviceLog).toEqual([]);
    expect(lost.ch.events.filter((e) => e.kind === 'device-removed').map((e) => e.ieee)).toEqual([ESME.ieee, IHD.ieee, PPMID.ieee]);
  });
});

test.describe('non-conformant clients and meters, each visibly so', () => {
  for (const [meterId, address] of [
    ['esme-never-publishes', ESME],
    ['gpf-never-publishes', GPF],
  ] as const) {
    test(`${meterId}: nothing on the air until the clients poll; they clear only then (COT-1)`, async () => {
      const h = await Han.of(meterId, { ihd: 'ihd-conformant' }, address);
      expect(h.meter.profile.meterType).toBe(meterId.startsWith('gpf') ? 'gpf' : 'esme');
      h.powerAll();
      h.feedConsumption(HOUR, 2 * DAY);
      await h.to(2 * HOUR);
      h.meter.changeOfTenancy({ implementationUtc: h.abs(3 * HOUR) });
      await h.to(DAY - MIN);
      expect(h.zcl('Publish Change of Tenancy')).toEqual([]);
      expect(h.client('ihd').observe().tenancy).toBeNull();
      expect(h.client('ihd').observe().consumptionHistory.earliestRecordedAt).toBe(h.abs(HOUR));
      // The 24 h poll (from power-up) brings it; the implementation time has passed, so it clears at once.
      await h.to(DAY + SEC);
      const [answer] = h.zcl('Publish Change of Tenancy', { to: IHD });
      const [poll] = h.zcl('Get Change of Tenancy', { from: IHD, since: DAY - MIN });
      expect([poll.t, answer.t, answer.d.zcl!.seq]).toEqual([DAY, DAY + 150, poll.d.zcl!.seq]);
      expect(h.client('ihd').observe().consumptionHistory.earliestRecordedAt).toBe(h.abs(3 * HOUR));
    });
  }

  test('esme-keeps-last-message: no Cancel Message, and Get Last Message still returns the old one (COT-6)', async () => {
    for (const [id, keeps] of [
      ['esme-conformant', false],
      ['esme-keeps-last-message', true],
    ] as const) {
      const h = await Han.of(id, { ihd: 'ihd-conformant' });
      h.powerAll();
      await h.to(HOUR);
      h.meter.displayMessage({ messageId: 42, message: 'Old occupier' });
      h.meter.changeOfTenancy({ implementationUtc: h.abs(2 * HOUR) });
      await h.to(3 * HOUR);
      h.ask({ name: 'Get Last Message', dir: 'client-to-server', seq: 9 }, SE_CLUSTER.messaging);
      await h.to(3 * HOUR + SEC);
      const answer = h.answerToRig(3 * HOUR)?.zcl;
      assert.equal(h.zcl('Cancel Message').length, keeps ? 0 : 1, id);
      if (keeps)
        assert.deepEqual([answer?.name, answer?.fields?.messageId, answer?.fields?.message], ['Display Message', 42, 'Old occupier'], id);
      else assert.deepEqual([answer?.name, answer?.fields?.statusName], ['Default Response', 'Not Found'], id);
    }
  });

  test("esme-keeps-top-up-log and gpf-keeps-debt-log keep exactly that log; the conformant meters keep only the new occupier's entries (COT-4, meter side)", async () => {
    const cases: [id: string, address: typeof ESME | typeof GPF, kept: 'topUpLog' | 'debtLog' | undefined][] = [
      ['esme-conformant', ESME, undefined],
      ['gpf-conformant', GPF, undefined],
      ['esme-keeps-top-up-log', ESME, 'topUpLog'],
      ['gpf-keeps-debt-log', GPF, 'debtLog'],
    ];
    for (const [id, address, kept] of cases) {
      const h = await Han.of(id, { ihd: 'ihd-conformant' }, address);
      h.powerAll();
      await h.to(HOUR);
      h.meter.topUp({ code: '11', amount: 500 });
      h.meter.collectDebt({ amountCollected: 10, outstandingDebt: 90 });
      h.meter.changeOfTenancy({ implementationUtc: h.abs(3 * HOUR) });
      await h.to(2 * HOUR);
      assert.deepEqual([h.meter.topUpLog.length, h.meter.debtLog.length], [1, 1], `${id}: nothing goes before the implementation time`);
      await h.to(3 * HOUR + MIN);
      h.meter.topUp({ code: '22', amount: 700 });
      for (const log of ['topUpLog', 'debtLog'] as const) {
        const previous = h.meter[log].filter((e) => e.at < h.abs(3 * HOUR));
        assert.equal(previous.length, log === kept ? 1 : 0, `${id}: ${log}`);
      }
      assert.deepEqual(
        h.meter.topUpLog.map((t) => t.code),
        kept === 'topUpLog' ? ['11', '22'] : ['22'],
        `${id}: the new occupier's top-up stays`,
      );
    }
  });

  test('the PPMID and IHD that keep one kind of data keep exactly that kind (COT-4)', async () => {
    const cases: [client: 'ihd' | 'ppmid', id: string, kept: string][] = [
      ['ppmid', 'ppmid-keeps-top-up-history', 'topUpHistory'],
      ['ppmid', 'ppmid-keeps-debt-recovery', 'debtRecovery'],
      ['ihd', 'ihd-keeps-supplier-messages', 'supplierMessages'],
    ];
    for (const [client, id, kept] of cases) {
      const { h, T } =
        client === 'ihd' ? await tenancyScenario('esme-conformant', id) : await tenancyScenario('esme-conformant', 'ihd-conformant', id);
      await h.to(T + MIN);
      const o = h.client(client).observe();
      for (const kind of ['topUpHistory', 'debtRecovery', 'supplierMessages'] as const) {
        assert.equal(o[kind].count > 0, kind === kept, `${id}: ${kind}`);
        if (kind === kept) assert.ok(o[kind].latestRecordedAt! < h.abs(T), `${id}: ${kind} is the previous occupier's`);
      }
      assert.equal(o.consumptionHistory.earliestRecordedAt, h.abs(T), id);
    }
    // The ESME's Cancel Message takes only its last message: the first stays on ihd-keeps-supplier-messages.
    const { h, T } = await tenancyScenario('esme-conformant', 'ihd-keeps-supplier-messages');
    await h.to(T + MIN);
    expect(
      h
        .client('ihd')
        .held('supplierMessages')
        .map((m) => m.messageId),
    ).toEqual([1]);
  });

  test('ihd-clears-on-receipt clears before the implementation time (COT-5)', async () => {
    const { h, T } = await tenancyScenario('esme-conformant', 'ihd-clears-on-receipt');
    await h.to(DAY + 10 * HOUR + SEC);
    const early = h.client('ihd').observe();
    expect([early.topUpHistory.count, early.debtRecovery.count, early.supplierMessages.count, early.clearingDueAt]).toEqual([
      0,
      0,
      0,
      null,
    ]);
    // Still visible on the conformant PPMID beside it until T.
    expect(h.client('ppmid').observe().topUpHistory.count).toBe(1);
    expect(h.client('ihd').events.find((e) => e.kind === 'data-cleared')?.at).toBe(h.abs(DAY + 10 * HOUR + 150));
    expect(T).toBeGreaterThan(DAY + 10 * HOUR);
  });

  test('ihd-ignores-implementation-time never clears (COT-5, COT-4)', async () => {
    const { h, T } = await tenancyScenario('esme-conformant', 'ihd-ignores-implementation-time');
    await h.to(T + DAY);
    const o = h.client('ihd').observe();
    expect([o.topUpHistory.count, o.debtRecovery.count, o.supplierMessages.count, o.tenancy]).toEqual([1, 1, 1, null]);
    expect(o.consumptionHistory.earliestRecordedAt).toBe(h.abs(HOUR));
    // It did hear the publication (unsolicited and at its polls).
    expect(h.client('ihd').events.filter((e) => e.kind === 'tenancy-ignored').length).toBeGreaterThanOrEqual(2);
    expect(h.zcl('Publish Change of Tenancy', { to: IHD }).length).toBeGreaterThanOrEqual(2);
  });

  test("ihd-clears-new-occupier-data wipes the new occupier's data at its next poll (COT-7)", async () => {
    for (const [id, wipes] of [
      ['ihd-conformant', false],
      ['ihd-clears-new-occupier-data', true],
    ] as const) {
      const { h, T } = await tenancyScenario('esme-conformant', id);
      await h.to(T + HOUR);
      h.meter.topUp({ code: '77', amount: 300 });
      await h.to(T + 8 * HOUR);
      assert.equal(h.client('ihd').observe().topUpHistory.count, 1, id);
      // The IHD was powered at 0: its daily poll at 3 × 24 h brings the same publication back.
      await h.to(3 * DAY + SEC);
      const o = h.client('ihd').observe();
      assert.equal(o.topUpHistory.count, wipes ? 0 : 1, id);
      // Even the reading taken at the poll instant goes.
      assert.equal(o.consumptionHistory.earliestRecordedAt, wipes ? null : h.abs(T), id);
    }
  });

  test('side effects of clearing: ppmid-stops-polling-after-tenancy never polls again, ihd-stops-recording-after-tenancy keeps nothing new (COT-3, COT-7)', async () => {
    const { h, T } = await tenancyScenario('esme-conformant', 'ihd-stops-recording-after-tenancy', 'ppmid-stops-polling-after-tenancy');
    await h.to(T + 3 * DAY);
    // Both cleared as they should.
    for (const name of ['ihd', 'ppmid']) expect(h.client(name).observe().topUpHistory.count, name).toBe(0);
    expect(h.zcl('Get Change of Tenancy', { from: PPMID, since: T + SEC })).toEqual([]);
    expect(h.zcl('Get Change of Tenancy', { from: IHD, since: T + SEC }).length).toBe(3);
    // Readings every 30 minutes went on for two days after T: the PPMID kept the new occupier's, the IHD none.
    expect(h.client('ppmid').observe().consumptionHistory.count).toBeGreaterThanOrEqual(2 * 48);
    expect(h.client('ihd').observe().consumptionHistory.count).toBe(0);
  });

  test('ihd-polls-every-second floods the HAN outside power-up; the conformant IHD sends none (COT-9)', async () => {
    for (const [id, perMinute] of [
      ['ihd-conformant', 0],
      ['ihd-polls-every-second', 60],
    ] as const) {
      const h = await Han.of('esme-conformant', { ihd: id });
      h.powerAll();
      await h.to(20 * MIN);
      for (let m = 10; m < 20; m++) {
        assert.equal(
          h.heard.filter((x) => x.t >= m * MIN && x.t < (m + 1) * MIN && x.d.zcl?.name === 'Get Change of Tenancy').length,
          perMinute,
          `${id}, minute ${m}`,
        );
      }
      // Every one of them answered (the meter has nothing set: Not Found), so the flood is twice the polls.
      if (perMinute) expect(h.zcl('Default Response', { to: IHD, since: 10 * MIN }).length).toBe(600);
    }
  });
});

test.describe('catching up (COT-8)', () => {
  test('an IHD off during the publication and past the implementation time clears at its next power-up', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant', ppmid: 'ppmid-conformant' });
    h.powerAll();
    h.feedConsumption(HOUR, 3 * DAY);
    await h.to(2 * HOUR);
    h.meter.topUp({ code: '01', amount: 10 });
    await h.to(10 * HOUR);
    h.client('ihd').power(false);
    h.meter.changeOfTenancy({ implementationUtc: h.abs(12 * HOUR) });
    await h.to(20 * HOUR);
    expect(h.zcl('Publish Change of Tenancy', { to: IHD })).toHaveLength(1); // Sent, but the IHD was off.
    expect(h.client('ihd').observe()).toMatchObject({ powered: false, tenancy: null, topUpHistory: { count: 1 } });
    h.client('ihd').power(true);
    await h.to(20 * HOUR + HAN_JOIN_MS + SEC);
    const [poll] = h.zcl('Get Change of Tenancy', { from: IHD, since: 20 * HOUR });
    expect(poll.t).toBe(20 * HOUR + HAN_JOIN_MS);
    const o = h.client('ihd').observe();
    expect([o.topUpHistory.count, o.consumptionHistory.count, o.tenancy?.receivedAt]).toEqual([0, 0, h.abs(20 * HOUR + HAN_JOIN_MS + 150)]);
  });

  test('an IHD disconnected from the HAN during the publication clears when it rejoins', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant' });
    h.powerAll();
    h.feedConsumption(HOUR, 3 * DAY);
    await h.to(5 * HOUR);
    h.client('ihd').disconnect();
    h.meter.changeOfTenancy({ implementationUtc: h.abs(6 * HOUR) });
    await h.to(8 * HOUR);
    expect(h.client('ihd').observe().consumptionHistory.earliestRecordedAt).toBe(h.abs(HOUR));
    h.client('ihd').rejoin();
    await h.to(8 * HOUR + SEC);
    // Recorded before the disconnect, so the previous occupier's: all gone; nothing was heard meanwhile.
    expect(h.client('ihd').observe().consumptionHistory.count).toBe(0);
    await h.to(9 * HOUR);
    expect(h.client('ihd').observe().consumptionHistory.earliestRecordedAt).toBe(h.abs(8 * HOUR + 30 * MIN));
  });

  test('a clearing that fell due while the IHD was off is done at power-on, before it even polls', async () => {
    const h = await Han.of('esme-conformant', { ihd: 'ihd-conformant' });
    h.powerAll();
    h.feedConsumption(HOUR, DAY);
    await h.to(3 * HOUR);
    h.meter.changeOfTenancy({ implementationUtc: h.abs(6 * HOUR) });
    await h.to(5 * HOUR);
    expect(h.client('ihd').observe().clearingDueAt).toBe(h.abs(6 * HOUR));
    h.client('ihd').power(false);
    await h.to(7 * HOUR);
    h.client('ihd').power(true);
    await h.to(7 * HOUR + 1);
    expect(h.client('ihd').observe().consumptionHistory.count).toBe(0);
  });
});

test.describe('the Change of Tenancy images (firmware-images/virtual.yaml)', () => {
  /** Every COT image, and the requirement ids its profile breaks (empty: conformant). */
  const BREAKS: Record<string, string[]> = {
    'esme-conformant': [],
    'gpf-conformant': [],
    'ihd-conformant': [],
    'ihd-polls-3h': [],
    'ihd-polls-midnight': [],
    'ppmid-conformant': [],
    'esme-never-publishes': ['COT-1'],
    'gpf-never-publishes': ['COT-1'],
    'esme-keeps-last-message': ['COT-6'],
    'esme-keeps-top-up-log': ['COT-4'],
    'gpf-keeps-debt-log': ['COT-4'],
    'ihd-no-poll-at-power-up': ['COT-2'],
    'ihd-no-poll-at-rejoin': ['COT-2', 'PWR-3'],
    'ihd-polls-48h': ['COT-3'],
    'ppmid-keeps-top-up-history': ['COT-4'],
    'ppmid-keeps-debt-recovery': ['COT-4'],
    'ihd-keeps-supplier-messages': ['COT-4'],
    'ihd-clears-on-receipt': ['COT-5'],
    'ihd-ignores-implementation-time': ['COT-5', 'COT-4'],
    'ihd-clears-new-occupier-data': ['COT-7'],
    'ihd-polls-every-second': ['COT-9'],
    // Dead (never transmit): they break no requirement; the rig must not judge them at all.
    'esme-dead': [],
    'ihd-dead': [],
    'ppmid-dead': [],
    'ihd-polls-every-minute': [],
    'ihd-clears-30min-early': ['COT-5'],
    'ihd-polls-24h10m': ['COT-3'],
    'esme-slow-keeps-top-up-log': ['COT-4'],
    'ihd-skips-every-second-poll': ['COT-3'],
    'ppmid-skips-every-third-poll': ['COT-3'],
    'ihd-skips-every-second-power-up-poll': ['COT-2'],
    'ppmid-stops-polling-after-tenancy': ['COT-3'],
    'ihd-stops-recording-after-tenancy': ['COT-7'],
    'gpf-slow-keeps-debt-log': ['COT-4'],
    // PWR-1 on the HAN devices (suites/power-cycle.spec.ts).
    'ihd-rejoins-after-30min': ['PWR-1'],
    'esme-never-rejoins': ['PWR-1'],
    'ppmid-rejoins-after-16min': ['PWR-1'],
    // RCN-1…3 on the clients (suites/reconnect.spec.ts).
    'ihd-retries-every-second': ['RCN-1'],
    'ppmid-recovers-after-30min': ['RCN-1'],
    'ihd-no-refresh-after-reconnect': ['RCN-2'],
    'ppmid-refuses-top-up-without-wan': ['RCN-3'],
    // RCN-4 (suites/reconnect.spec.ts).
    'ihd-stays-off-after-ota': ['RCN-4'],
    'ppmid-polls-30min-after-ota': ['RCN-4'],
  };

  test('each claims SECMP0056, has the role its device runs (the GPF: the CH) and breaks what its name says', async () => {
    const catalogue = await loadFirmwareManifests([BUILT_IN_MANIFEST]);
    const cot = [...catalogue].filter((i) => i.claims.includes('secmp0056'));
    expect(cot.map((i) => i.id).sort()).toEqual(Object.keys(BREAKS).sort());
    for (const image of cot) {
      const p = await loadProfile(image.image.file);
      assert.deepEqual(p.breaks, BREAKS[image.id], image.id);
      // Besides SECMP0056, an IHD or PPMID may claim the OTA Upgrade cluster (RCN-4).
      assert.deepEqual(
        image.claims.filter((c) => c !== 'zigbee-ota-upgrade'),
        ['secmp0056'],
        image.id,
      );
      if (p.kind === 'meter' && p.meterType === 'gpf') assert.equal(image.role, 'CH', image.id);
      else assert.equal(PROFILE_KIND_OF_ROLE[image.role], p.kind, image.id);
      if (p.kind === 'han-client') assert.equal(image.role, p.clientType.toUpperCase(), image.id);
      if (p.kind === 'meter' && p.meterType === 'esme') assert.equal(image.role, 'ESME', image.id);
    }
  });

  test('an occasional misbehaviour is counted: every N-th event from `first` (default N), never the ones between', () => {
    const hits = (o: Parameters<typeof misbehavesOn>[0]) => [1, 2, 3, 4, 5, 6, 7].filter((n) => misbehavesOn(o, n));
    expect(hits({ every: 2 })).toEqual([2, 4, 6]);
    expect(hits({ every: 3, first: 1 })).toEqual([1, 4, 7]);
    expect(hits({ every: 2, first: 5 })).toEqual([5, 7]);
    expect(hits(undefined)).toEqual([]);
  });

  test('an occasional misbehaviour that cannot happen, or is not a count, is refused saying where and why', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gbcs-rig-cot-'));
    try {
      const ihd = path.join(dir, 'ihd.yaml');
      await writeFile(
        ihd,
        (await readFile(path.join(PROFILES, 'ihd-conformant.yaml'), 'utf8')).replace(
          'pollPeriodHours: 24',
          'pollPeriodHours: null\nskipsPolls: { every: 2 }\nskipsPowerUpPolls: { every: 1, first: 0.5 }',
        ),
      );
      const e = await loadProfile(ihd).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(ProfileError);
      const problems = (e as ProfileError).problems;
      expect(problems.map((p) => p.path).sort()).toEqual(['skipsPowerUpPolls.every', 'skipsPowerUpPolls.first']);
      expect(problems.find((p) => p.path === 'skipsPowerUpPolls.every')).toMatchObject({
        expected: expect.stringContaining('at least 2'),
        hint: expect.stringContaining('{ every: N }'),
      });
      // The shape right, the combination impossible: a device with no periodic poll cannot skip one.
      await writeFile(ihd, (await readFile(ihd, 'utf8')).replace('{ every: 1, first: 0.5 }', '{ every: 2 }'));
      const e2 = await loadProfile(ihd).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect((e2 as ProfileError).problems.map((p) => [p.path, p.expected])).toEqual([
        ['skipsPolls', 'absent when the device has no periodic poll (pollPeriodHours null, no pollIntervalSeconds)'],
      ]);
      const ch = path.join(dir, 'ch.yaml');
      await writeFile(
        ch,
        (await readFile(path.join(PROFILES, 'ch-no-reopen-on-power-cycle.yaml'), 'utf8')).replace(
          'reopensOnPowerOn: false',
          'reopensOnPowerOn: false\n  missesReopen: { every: 2 }',
        ),
      );
      const e3 = await loadProfile(ch).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect((e3 as ProfileError).problems.map((p) => [p.path, p.expected])).toEqual([
        ['interPan.missesReopen', 'absent when reopensOnPowerOn is false (then no power cycle opens a window)'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a han-client profile with two periodic polls, or a meter profile with a wrong shape, is refused with every problem', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gbcs-rig-cot-'));
    try {
      const ihd = path.join(dir, 'ihd.yaml');
      await writeFile(
        ihd,
        (await readFile(path.join(PROFILES, 'ihd-conformant.yaml'), 'utf8')).replace(
          'pollAlignment: power-up',
          'pollAlignment: power-up\npollIntervalSeconds: 60',
        ),
      );
      const e1 = await loadProfile(ihd).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(e1).toBeInstanceOf(ProfileError);
      expect((e1 as ProfileError).problems.map((p) => [p.path, p.expected])).toEqual([
        ['pollPeriodHours', 'null when pollIntervalSeconds is given (one periodic poll)'],
      ]);

      const meter = path.join(dir, 'meter.yaml');
      await writeFile(
        meter,
        'id: m\nkind: meter\ndescription: x\nbreaks: []\nmeterType: gsme\npublishesChangeOfTenancy: yes\nansweresGetChangeOfTenancy: true\ncancelsLastMessageOnTenancyChange: true\nclears: { consumptionHistory: true, topUpHistory: true }\nresponseDelayMs: 0\n',
      );
      const e2 = await loadProfile(meter).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(e2).toBeInstanceOf(ProfileError);
      const problems = (e2 as ProfileError).problems;
      expect(problems.map((p) => p.path).sort()).toEqual([
        'answeresGetChangeOfTenancy',
        'answersGetChangeOfTenancy',
        'clears.debtRecovery',
        'meterType',
        'publishesChangeOfTenancy',
      ]);
      expect(problems.find((p) => p.path === 'meterType')).toMatchObject({
        line: 5,
        value: '"gsme"',
        hint: expect.stringContaining('esme-conformant.yaml'),
      });
      expect(problems.find((p) => p.path === 'answeresGetChangeOfTenancy')!.expected).toContain('did you mean "answersGetChangeOfTenancy"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test.describe('reconnect (RCN-1…3): a lost meter probed with back-off, a top-up keyed in on the PPMID', () => {
  /** The seconds between the IHD's requests to the ESME from `since`: its reads, then its probes once the ESME stopped answering. */
  const gaps = (h: Han, since: number, until: number) => {
    const t = h.heard
      .filter((x) => x.t >= since && x.t <= until && x.d.zcl?.dir === 'client-to-server' && x.d.nwk?.src === short(IHD))
      .map((x) => x.t);
    return t.slice(1).map((x, i) => (x - t[i]) / SEC);
  };

  test('the ESME off: the conformant IHD probes after 40 s, then 60, 120, 240 and every 300 s; the storm every second, the slow one every 30 min', async () => {
    for (const [id, expected] of [
      ['ihd-conformant', [40, 60, 120, 240, 300, 300, 300]],
      ['ihd-retries-every-second', [11, 1, 1, 1, 1, 1, 1]],
      ['ppmid-recovers-after-30min', [1810]],
    ] as const) {
      const h = await Han.of('esme-conformant', { ihd: id });
      h.powerAll();
      await h.to(HOUR);
      h.meter.power(false);
      await h.to(3 * HOUR);
      expect(gaps(h, HOUR, 3 * HOUR).slice(0, expected.length), id).toEqual(expected);
      // Back on: its Device_annce ends the probes and the client polls (PWR-3).
      h.meter.power(true);
      await h.to(3 * HOUR + MIN);
      expect(h.zcl('Get Change of Tenancy', { from: IHD, since: 3 * HOUR }).length, id).toBe(1);
      expect(
        h.client('ihd').events.filter((e) => e.kind === 'server-probed' && e.at > h.abs(3 * HOUR + 10 * SEC)),
        id,
      ).toEqual([]);
    }
  });

  test('with the WAN down, a code keyed in on the conformant PPMID is credited by the ESME; a used code is refused; ppmid-refuses-top-up-without-wan sends nothing', async () => {
    const h = await Han.of('esme-conformant', { ppmid: 'ppmid-conformant' });
    h.powerAll();
    await h.to(HOUR);
    const ppmid = h.client('ppmid');
    ppmid.wanChanged(false);
    expect(ppmid.enterTopUp('12345678901234567890')).toBe(true);
    await h.to(HOUR + MIN);
    expect(ppmid.enterTopUp('12345678901234567890')).toBe(true);
    await h.to(HOUR + 2 * MIN);
    const answers = h.zcl('Consumer Top Up Response', { to: PPMID }).map((x) => [x.d.zcl!.fields!.resultType, x.d.zcl!.fields!.topUpValue]);
    expect(answers).toEqual([
      [0, 1000],
      [2, 0],
    ]);
    expect(h.meter.topUpLog.map((t) => t.code)).toEqual(['12345678901234567890']);

    const refusing = await Han.of('esme-conformant', { ppmid: 'ppmid-refuses-top-up-without-wan' });
    refusing.powerAll();
    await refusing.to(HOUR);
    refusing.client('ppmid').wanChanged(false);
    expect(refusing.client('ppmid').enterTopUp('12345678901234567890')).toBe(false);
    refusing.client('ppmid').wanChanged(true);
    expect(refusing.client('ppmid').enterTopUp('12345678901234567891')).toBe(true);
    await refusing.to(HOUR + MIN);
    expect(refusing.zcl('Consumer Top Up', { from: PPMID }).map((x) => x.d.zcl!.fields!.topUpCode)).toEqual(['12345678901234567891']);
  });
});
