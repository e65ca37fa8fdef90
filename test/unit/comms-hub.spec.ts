// The virtual CH against DOMAIN.md §A (IPAN-1…6) on the simulated air: a fake HHT transmits, a
// listener collects what the CH answers, and the discrete-event clock straddles every limit. Each
// behaviour is shown on the conformant profile and on the profile that breaks (or varies) it.
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { hex, hex16 } from '../../protocol/bytes.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import { Air, attachRadio, attachSniffer, type AirMeta } from '../../sim/air.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';
import { VirtualCommsHub, type CommsHubBehaviour } from '../../sim/comms-hub.ts';
import {
  buildHanRead,
  buildHhtRejoinRequest,
  buildInterPanCcs01,
  readHanRead,
  rejoinResponseTo,
  readInterPanCcs01,
  type Ccs01Malformation,
  type InterPanCcs01Input,
} from '../../protocol/hht-messages.ts';
import { VirtualNrfSnifferFirmware, VirtualRigRadioFirmware, type DeviceLine } from '../../sim/serial-devices.ts';

const CH_IEEE = '00:db:12:34:56:78:90:a2';
const HHT_IEEE = '00:0d:6f:00:0a:1b:2c:3d';
/** A second HHT identity (the rig radio's, in CH-IPAN-006). */
const OTHER_HHT_IEEE = '02:0d:6f:00:0a:1b:2c:3d';
/** The HHT's entity id, authorised on the CH. */
const HHT_ID = '90:b3:d5:1f:30:00:00:77';
const HHT_SHORT = 0x4a21;
/** The ZigBee test-vector install code (16 bytes, no CRC). */
const INSTALL_CODE = '83fed3407a939723a5c639b26916d505';
const CHANNEL = 11;
/** Any PAN but the virtual bench's former constant. */
const CH_PAN = 0x4b1d;
const MIN = 60_000;
const HOUR = 60 * MIN;

const CONFORMANT: CommsHubBehaviour = {
  interPan: {
    windowMinutes: 60,
    reopensOnPowerOn: true,
    acceptsMalformed: false,
    acceptsUnauthorised: false,
    responseDelayMs: 120,
    refusalSideEffect: 'none',
  },
  hht: { stayHours: 18, survivesPowerOn: false },
};
const variant = (interPan: Partial<CommsHubBehaviour['interPan']>, hht: Partial<CommsHubBehaviour['hht']> = {}): CommsHubBehaviour => ({
  interPan: { ...CONFORMANT.interPan, ...interPan },
  hht: { ...CONFORMANT.hht, ...hht },
});
// The firmware-images/profiles/ch-*.yaml behaviours, inline so these tests pin the simulator alone.
const SECMP0037 = variant({ windowMinutes: null });
const WINDOW_45 = variant({ windowMinutes: 45 });
const NO_REOPEN = variant({ reopensOnPowerOn: false });
const STAYS_24H = variant({}, { stayHours: 24 });
const SURVIVES_POWER_ON = variant({}, { survivesPowerOn: true });
const ACCEPTS_MALFORMED = variant({ acceptsMalformed: true });
const REFUSAL_ADDS = variant({ refusalSideEffect: 'adds-sender' });
const REFUSAL_REMOVES = variant({ refusalSideEffect: 'removes-sender' });

interface Heard {
  frame: Uint8Array;
  meta: AirMeta;
}

/** A CH on the air, a fake HHT that transmits, and a listener that hears everything on the channel. */
class Bench {
  readonly clock = new DiscreteEventClock();
  readonly air = new Air(this.clock);
  readonly ch: VirtualCommsHub;
  readonly heard: Heard[] = [];
  #seq = 0;
  #counter = 0x1000n;

  constructor(profile: CommsHubBehaviour, hhtShort = HHT_SHORT) {
    this.ch = new VirtualCommsHub({
      clock: this.clock,
      air: this.air,
      profile,
      ieee: CH_IEEE,
      channel: CHANNEL,
      authorisedHhts: [HHT_ID],
      pan: CH_PAN,
      hhtShort,
    });
    this.air.attach({ channel: CHANNEL, receive: (frame, meta) => this.heard.push({ frame, meta }) });
  }

  /** Advances to `ms` after the bench epoch (the CH is powered on at 0 by the tests). */
  to(ms: number): Promise<void> {
    return this.clock.advanceTo(this.clock.epochMs + ms);
  }

  /** The HHT sends a CCS01 over inter-PAN now; returns its counter. */
  sendCcs01(options: Partial<InterPanCcs01Input> = {}): bigint {
    const counter = this.#counter++;
    const frame = buildInterPanCcs01({
      hhtIeee: HHT_IEEE,
      chIeee: CH_IEEE,
      seq: this.#seq++,
      counter,
      originator: HHT_ID,
      installCode: INSTALL_CODE,
      ...options,
    });
    this.air.transmit(frame, { channel: CHANNEL, from: HHT_IEEE });
    return counter;
  }

  sendHanRead(): void {
    const frame = buildHanRead({ hhtShort: HHT_SHORT, chShort: this.ch.short, pan: this.ch.pan, seq: this.#seq++, ieee: HHT_IEEE });
    this.air.transmit(frame, { channel: CHANNEL, from: HHT_IEEE });
  }

  fromCh(since = 0): Heard[] {
    return this.heard.slice(since).filter((h) => h.meta.from === CH_IEEE);
  }

  /** The CH's CCS01 response to `counter`, read back. */
  responseTo(counter: bigint) {
    return this.fromCh()
      .map((h) => readInterPanCcs01(h.frame))
      .find((m) => m?.kind === 'response' && m.counter === counter);
  }
}

/** A fresh CH powered on at 0; the HHT sends CCS01 at `atMs`; what came back within a second. */
async function ccs01At(profile: CommsHubBehaviour, atMs: number, options: Partial<InterPanCcs01Input> = {}) {
  const b = new Bench(profile);
  b.ch.power(true);
  await b.to(atMs);
  const counter = b.sendCcs01(options);
  await b.clock.sleep(1000);
  return { b, response: b.responseTo(counter) };
}

/** Joins the HHT at 1 min after power-on; returns the bench and when the HHT entered the log. */
async function joined(profile: CommsHubBehaviour) {
  const { b, response } = await ccs01At(profile, 1 * MIN);
  assert.deepEqual(response?.results, [0]);
  const [entry] = b.ch.deviceLog;
  assert.equal(entry?.ieee, HHT_IEEE);
  return { b, addedAt: entry.addedAt - b.clock.epochMs };
}

/** The HHT reads the CH over the HAN at `atMs`: did an answer come back within a second? */
async function hanReadAnsweredAt(b: Bench, atMs: number): Promise<boolean> {
  await b.to(atMs);
  const since = b.heard.length;
  b.sendHanRead();
  await b.clock.sleep(1000);
  return b.fromCh(since).some((h) => readHanRead(h.frame)?.kind === 'response');
}

test.describe('inter-PAN join window (IPAN-1, IPAN-2)', () => {
  test('conformant: a CCS01 at 59:00 is answered with success and logs the HHT; at 61:00 it is ignored', async () => {
    const open = await ccs01At(CONFORMANT, 59 * MIN);
    expect(open.response).toMatchObject({ wellFormed: true, results: [0], originator: CH_IEEE, recipient: HHT_ID, hht: HHT_IEEE });
    expect(open.b.ch.deviceLog).toEqual([
      {
        ieee: HHT_IEEE,
        kind: 'hht',
        addedAt: open.b.clock.epochMs + 59 * MIN + 120,
        expiresAt: open.b.clock.epochMs + 59 * MIN + 120 + 18 * HOUR,
      },
    ]);
    // The answer goes out after the profile's response delay.
    expect(open.b.fromCh()[0].meta.atUs).toBe(BigInt(open.b.clock.epochMs + 59 * MIN + 120) * 1000n);

    const closed = await ccs01At(CONFORMANT, 61 * MIN);
    expect(closed.response).toBeUndefined();
    expect(closed.b.fromCh()).toEqual([]);
    expect(closed.b.ch.deviceLog).toEqual([]);
    expect(closed.b.ch.events.map((e) => [e.kind, e.at - closed.b.clock.epochMs, e.detail])).toEqual([
      ['power-on', 0, undefined],
      ['window-opened', 0, 'for 60 min'],
      ['window-closed', 60 * MIN, '60 min after power-on'],
      ['ccs01-ignored', 61 * MIN, 'inter-PAN window closed'],
    ]);
  });

  test('the window is half-open: closed from exactly 60:00', async () => {
    expect((await ccs01At(CONFORMANT, 60 * MIN - 1)).response?.results).toEqual([0]);
    expect((await ccs01At(CONFORMANT, 60 * MIN)).response).toBeUndefined();
  });

  test('a 45-minute profile closes at 45:00', async () => {
    expect((await ccs01At(WINDOW_45, 44 * MIN)).response?.results).toEqual([0]);
    expect((await ccs01At(WINDOW_45, 45 * MIN)).response).toBeUndefined();
    expect((await ccs01At(WINDOW_45, 46 * MIN)).response).toBeUndefined();
  });

  test('a SECMP0037 profile never closes (IPAN-6)', async () => {
    for (const at of [61 * MIN, 5 * HOUR, 30 * 24 * HOUR]) {
      assert.deepEqual((await ccs01At(SECMP0037, at)).response?.results, [0], `at ${at / MIN} min`);
    }
  });

  test('while the CH is off it hears nothing', async () => {
    const b = new Bench(CONFORMANT);
    b.sendCcs01();
    b.ch.power(true);
    await b.to(10 * MIN);
    b.ch.power(false);
    b.sendCcs01();
    await b.to(11 * MIN);
    expect(b.fromCh()).toEqual([]);
    expect(b.ch.interPanOpen).toBe(false);
  });
});

test.describe('power cycles (IPAN-3)', () => {
  test('conformant: a power cycle opens a new 60-minute window from the new power-on', async () => {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    await b.to(70 * MIN);
    b.ch.power(false);
    await b.to(75 * MIN);
    b.ch.power(true);
    const t1 = 75 * MIN;
    await b.to(t1 + 59 * MIN);
    const inside = b.sendCcs01();
    await b.to(t1 + 61 * MIN);
    const outside = b.sendCcs01();
    await b.clock.sleep(1000);
    expect(b.responseTo(inside)?.results).toEqual([0]);
    expect(b.responseTo(outside)).toBeUndefined();
  });

  test('a profile that opens the window only at its first power-on stays closed after a power cycle', async () => {
    const b = new Bench(NO_REOPEN);
    b.ch.power(true);
    await b.to(70 * MIN);
    b.ch.power(false);
    b.ch.power(true);
    await b.to(71 * MIN);
    const counter = b.sendCcs01();
    await b.clock.sleep(1000);
    expect(b.responseTo(counter)).toBeUndefined();
    expect(b.ch.interPanOpen).toBe(false);
  });

  test('a profile that misses every second reopen: power cycles 1 and 3 open a window, 2 and 4 do not (counted, never random)', async () => {
    const b = new Bench(variant({ missesReopen: { every: 2 } }));
    const open: boolean[] = [];
    for (let cycle = 0; cycle <= 4; cycle++) {
      // Each power-on 70 minutes after the last: the previous window has ended.
      b.ch.power(false);
      b.ch.power(true);
      await b.to(cycle * 70 * MIN + MIN);
      const counter = b.sendCcs01();
      await b.clock.sleep(1000);
      open.push(b.responseTo(counter)?.results?.[0] === 0);
      await b.to((cycle + 1) * 70 * MIN);
    }
    expect(open).toEqual([true, true, false, true, false]);
    expect(b.ch.events.filter((e) => e.kind === 'power-on' && e.detail).map((e) => e.detail)).toEqual([
      'power cycle 2: no new window (profile)',
      'power cycle 4: no new window (profile)',
    ]);
  });

  test('a power-off loses an answer the CH had not sent yet', async () => {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    await b.to(MIN);
    b.sendCcs01();
    await b.clock.sleep(50);
    b.ch.power(false);
    await b.clock.sleep(1000);
    expect(b.fromCh()).toEqual([]);
    expect(b.ch.deviceLog).toEqual([]);
  });
});

test.describe('the joined HHT on the HAN (IPAN-4)', () => {
  test('conformant: the HHT is answered at 17:59 after joining and not at 18:01', async () => {
    const { b, addedAt } = await joined(CONFORMANT);
    expect(await hanReadAnsweredAt(b, addedAt + 17 * HOUR + 59 * MIN)).toBe(true);
    expect(await hanReadAnsweredAt(b, addedAt + 18 * HOUR + 1 * MIN)).toBe(false);
    expect(b.ch.deviceLog).toEqual([]);
    expect(b.ch.events.filter((e) => e.kind === 'hht-removed').map((e) => [e.at - b.clock.epochMs, e.detail])).toEqual([
      [addedAt + 18 * HOUR, '18 h after joining'],
    ]);
  });

  test('a 24-hour profile still answers the HHT at 23:59', async () => {
    const { b, addedAt } = await joined(STAYS_24H);
    expect(await hanReadAnsweredAt(b, addedAt + 18 * HOUR + 1 * MIN)).toBe(true);
    expect(await hanReadAnsweredAt(b, addedAt + 23 * HOUR + 59 * MIN)).toBe(true);
    expect(await hanReadAnsweredAt(b, addedAt + 24 * HOUR + 1 * MIN)).toBe(false);
  });

  test('conformant: the HHT is gone after the next power-on; a survives-power-on profile keeps it', async () => {
    for (const [profile, kept] of [
      [CONFORMANT, false],
      [SURVIVES_POWER_ON, true],
    ] as const) {
      const { b } = await joined(profile);
      assert.equal(await hanReadAnsweredAt(b, 2 * HOUR), true);
      b.ch.power(false);
      await b.to(2 * HOUR + MIN);
      b.ch.power(true);
      assert.equal(await hanReadAnsweredAt(b, 3 * HOUR), kept);
      assert.equal(b.ch.deviceLog.length, kept ? 1 : 0);
    }
  });

  test('a HAN read from a device not in the log is ignored', async () => {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    expect(await hanReadAnsweredAt(b, MIN)).toBe(false);
    expect(b.ch.events.at(-1)).toMatchObject({ kind: 'han-read-ignored', ieee: HHT_IEEE });
  });
});

test.describe('the HHT joins the HAN after its CCS01 (Rejoin Request → Rejoin Response)', () => {
  /** The HHT's Rejoin Request at `atMs`; the CH's Rejoin Response to it, read back, if any. */
  async function rejoinAt(b: Bench, atMs: number, ieee = HHT_IEEE) {
    await b.to(atMs);
    const since = b.heard.length;
    b.air.transmit(buildHhtRejoinRequest({ pan: CH_PAN, ieee, seq: 9 }), { channel: CHANNEL, from: ieee });
    await b.clock.sleep(1000);
    const decoder = new HanDecoder();
    return b
      .fromCh(since)
      .map((h) => rejoinResponseTo(decoder.decode({ n: 1, timestampUs: 0n, frame: h.frame, fcsIncluded: false }), ieee))
      .find((r) => r);
  }

  test('each HHT gets its own short address: the first the assigned one, a second HHT the next, each the same again at its next rejoin', async () => {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    b.sendCcs01();
    b.sendCcs01({ hhtIeee: OTHER_HHT_IEEE });
    expect(await rejoinAt(b, 2 * MIN)).toEqual({ short: HHT_SHORT, status: 0 });
    expect(await rejoinAt(b, 3 * MIN, OTHER_HHT_IEEE)).toEqual({ short: HHT_SHORT + 1, status: 0 });
    expect(await rejoinAt(b, 4 * MIN)).toEqual({ short: HHT_SHORT, status: 0 });
  });

  test('admitted with the short address the CH assigns once the CCS01 was accepted; ignored before and after the HHT left', async () => {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    expect(await rejoinAt(b, 30_000)).toBeUndefined();
    expect(b.ch.events.at(-1)).toMatchObject({ kind: 'rejoin-ignored', ieee: HHT_IEEE });
    b.sendCcs01();
    expect(await rejoinAt(b, 2 * MIN)).toEqual({ short: HHT_SHORT, status: 0 });
    b.ch.power(false);
    b.ch.power(true);
    expect(await rejoinAt(b, 4 * MIN)).toBeUndefined();
  });

  test("the assigned short address is the CH's, not the one the HHT asked from (it has none: 0xfffe)", async () => {
    const other = new Bench(CONFORMANT, 0x2345);
    other.ch.power(true);
    other.sendCcs01();
    expect(await rejoinAt(other, 2 * MIN)).toEqual({ short: 0x2345, status: 0 });
  });
});

test.describe('malformed and unauthorised CCS01 (IPAN-5)', () => {
  const MALFORMED: Ccs01Malformation[] = ['truncated', 'bad-length', 'wrong-use-case'];

  test('conformant: each malformed CCS01 is refused unanswered and the log is unchanged', async () => {
    for (const malformed of MALFORMED) {
      const { b } = await ccs01At(CONFORMANT, MIN, { malformed });
      assert.deepEqual(b.fromCh(), [], malformed);
      assert.deepEqual(b.ch.deviceLog, [], malformed);
      const refused = b.ch.events.find((e) => e.kind === 'ccs01-refused');
      assert.match(refused?.detail ?? '', /^malformed: /, malformed);
    }
  });

  test('conformant: an unauthorised CCS01 gets a refusal (DLMS result 3) and the log is unchanged', async () => {
    const { b, response } = await ccs01At(CONFORMANT, MIN, { unauthorised: true });
    expect(response).toMatchObject({ wellFormed: true, results: [3] });
    expect(b.ch.deviceLog).toEqual([]);
    expect(b.ch.events.find((e) => e.kind === 'ccs01-refused')?.detail).toMatch(/^unauthorised originator /);
    // Later HAN traffic from that HHT is not answered either.
    expect(await hanReadAnsweredAt(b, 2 * MIN)).toBe(false);
  });

  test('an accepts-malformed profile answers success and logs the sender', async () => {
    for (const malformed of MALFORMED) {
      const { b, response } = await ccs01At(ACCEPTS_MALFORMED, MIN, { malformed });
      assert.deepEqual(response?.results, [0], malformed);
      assert.deepEqual(
        b.ch.deviceLog.map((e) => e.ieee),
        [HHT_IEEE],
        malformed,
      );
    }
  });

  test('conformant: refusals naming a second HHT or the joined one leave the log as it was (no addition, no removal)', async () => {
    const { b } = await joined(CONFORMANT);
    for (const hhtIeee of [OTHER_HHT_IEEE, HHT_IEEE]) {
      for (const malformed of MALFORMED) b.sendCcs01({ hhtIeee, malformed });
      b.sendCcs01({ hhtIeee, unauthorised: true });
    }
    await b.clock.sleep(1000);
    expect(b.ch.deviceLog.map((e) => e.ieee)).toEqual([HHT_IEEE]);
    expect(b.ch.events.filter((e) => e.kind === 'ccs01-refused')).toHaveLength(8);
  });

  test('a refusal-adds-sender profile refuses as the conformant one does, yet logs the device the CCS01 names', async () => {
    for (const options of [...MALFORMED.map((malformed): Partial<InterPanCcs01Input> => ({ malformed })), { unauthorised: true }]) {
      const { b, response } = await ccs01At(REFUSAL_ADDS, MIN, { hhtIeee: OTHER_HHT_IEEE, ...options });
      // The refusal is the conformant one: none for a malformed CCS01, DLMS result 3 for an unauthorised one.
      expect(response?.results, JSON.stringify(options)).toEqual(options.unauthorised ? [3] : undefined);
      expect(
        b.ch.deviceLog.map((e) => e.ieee),
        JSON.stringify(options),
      ).toEqual([OTHER_HHT_IEEE]);
    }
  });

  test('a refusal-removes-sender profile refuses, and removes the joined HHT a refused CCS01 names (not one it does not name)', async () => {
    const { b } = await joined(REFUSAL_REMOVES);
    b.sendCcs01({ hhtIeee: OTHER_HHT_IEEE, malformed: 'truncated' });
    await b.clock.sleep(1000);
    expect(b.ch.deviceLog.map((e) => e.ieee)).toEqual([HHT_IEEE]);
    const counter = b.sendCcs01({ malformed: 'wrong-use-case' });
    await b.clock.sleep(1000);
    expect(b.responseTo(counter)).toBeUndefined();
    expect(b.ch.deviceLog).toEqual([]);
    expect(b.ch.events.at(-1)).toMatchObject({ kind: 'hht-removed', ieee: HHT_IEEE, detail: 'a refused CCS01 named it' });
  });

  test('a CCS01 for another CHF is ignored', async () => {
    const { b } = await ccs01At(CONFORMANT, MIN, { chIeee: '00:db:12:34:56:78:90:ff' });
    expect(b.fromCh()).toEqual([]);
    expect(b.ch.events.at(-1)).toMatchObject({ kind: 'ccs01-ignored', detail: 'recipient 00:db:12:34:56:78:90:ff is not this CHF' });
  });
});

test('the CCS01 carries the install code it is given: another code, another frame, read back as sent', () => {
  const build = (installCode: string) =>
    buildInterPanCcs01({ hhtIeee: HHT_IEEE, chIeee: CH_IEEE, seq: 1, counter: 77n, originator: HHT_ID, installCode });
  const lab = '0102030405060708090a0b0c0d0e0f10c3b5';
  expect(hex(build(INSTALL_CODE))).not.toBe(hex(build(lab)));
  expect(readInterPanCcs01(build(INSTALL_CODE))?.device).toEqual({ ieee: HHT_IEEE, installCode: INSTALL_CODE });
  expect(readInterPanCcs01(build(lab))?.device).toEqual({ ieee: HHT_IEEE, installCode: lab });
});

test('what the CH sends decodes with HanDecoder as inter-PAN Tunneling Transfer Data carrying a GBCS CCS01 response', async () => {
  for (const chPan of [undefined, CH_PAN]) {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    await b.to(MIN);
    const counter = b.sendCcs01({ chPan });
    await b.clock.sleep(1000);
    const [sent] = b.fromCh();
    const d = new HanDecoder().decode({ n: 1, timestampUs: sent.meta.atUs, frame: sent.frame, fcsIncluded: false });
    expect(d.error).toBeUndefined();
    expect(d.mac).toMatchObject({ type: 'data', src: CH_IEEE, srcPan: hex16(CH_PAN), dst: HHT_IEEE, dstPan: '0xffff' });
    expect(d.nwk?.type).toBe('inter-pan');
    expect(d.aps).toMatchObject({ type: 'inter-pan', cluster: '0x0704', profile: '0x0109' });
    expect(d.zcl).toMatchObject({ name: 'Transfer Data', dir: 'server-to-client', type: 'cluster' });
    expect(d.gbcs).toMatchObject({
      messageCode: 1,
      cra: 'response',
      useCase: 'CCS01',
      originator: CH_IEEE,
      recipient: HHT_ID,
      originatorCounter: String(counter),
    });
  }
});

test('deterministic: two runs of a scenario give identical frame bytes, times and CH events', async () => {
  const scenario = async () => {
    const b = new Bench(CONFORMANT);
    b.ch.power(true);
    await b.to(MIN);
    b.sendCcs01();
    b.sendCcs01({ unauthorised: true });
    await hanReadAnsweredAt(b, 2 * HOUR);
    b.ch.power(false);
    await b.to(2 * HOUR + MIN);
    b.ch.power(true);
    await b.to(2 * HOUR + 30 * MIN);
    b.sendCcs01({ chPan: CH_PAN });
    await hanReadAnsweredAt(b, 20 * HOUR);
    await hanReadAnsweredAt(b, 21 * HOUR);
    return {
      frames: b.heard.map((h) => `${h.meta.atUs} ${h.meta.from} ${hex(h.frame)}`),
      events: b.ch.events.map((e) => JSON.stringify(e)),
    };
  };
  const first = await scenario();
  const second = await scenario();
  assert.ok(first.frames.length >= 10);
  assert.deepEqual(second, first);
});

/** A serial line seen from the device, driven by the test as the host. */
class TestLine implements DeviceLine {
  readonly dtr = true;
  bytesWritten = 0;
  text = '';
  #listeners: Array<(bytes: Buffer) => void> = [];
  write(data: Uint8Array | string): void {
    const s = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    this.text += s;
    this.bytesWritten += Buffer.byteLength(s, 'latin1');
  }
  onReceive(listener: (bytes: Buffer) => void): void {
    this.#listeners.push(listener);
  }
  host(command: string): void {
    for (const l of this.#listeners) l(Buffer.from(`${command}\r\n`, 'latin1'));
  }
  async unplug(): Promise<void> {}
  receivedLines(): string[] {
    return this.text.split('\r\n').filter((l) => l.startsWith('received: '));
  }
}

test.describe('the air', () => {
  test('delivers to every listener on the channel but the sender, in attach order, stamped with the clock', async () => {
    const clock = new DiscreteEventClock();
    const air = new Air(clock);
    const got: string[] = [];
    const listener = (name: string, channel: number, id?: string) => ({
      channel,
      id,
      receive: (frame: Uint8Array, meta: AirMeta) =>
        got.push(`${name} ${hex(frame)} ch${meta.channel} ${meta.atUs} ${meta.rssi}/${meta.lqi} from ${meta.from}`),
    });
    air.attach(listener('a', 11, 'dev-a'));
    const mobile = { ...listener('b', 15), channel: 15 };
    const detachB = air.attach(mobile);
    air.attach(listener('c', 11));
    await clock.sleep(1.5);
    air.transmit(Uint8Array.of(1, 2), { channel: 11, from: 'dev-a' });
    air.transmit(Uint8Array.of(3), { channel: 15, from: 'dev-x', rssi: -80, lqi: 40 });
    mobile.channel = 11;
    air.transmit(Uint8Array.of(4), { channel: 11, from: 'dev-x' });
    detachB();
    air.transmit(Uint8Array.of(5), { channel: 11, from: 'dev-x' });
    const us = clock.nowUs();
    expect(got).toEqual([
      `c 0102 ch11 ${us} -45/255 from dev-a`,
      `b 03 ch15 ${us} -80/40 from dev-x`,
      `a 04 ch11 ${us} -45/255 from dev-x`,
      `b 04 ch11 ${us} -45/255 from dev-x`,
      `c 04 ch11 ${us} -45/255 from dev-x`,
      `a 05 ch11 ${us} -45/255 from dev-x`,
      `c 05 ch11 ${us} -45/255 from dev-x`,
    ]);
  });

  test('an answer sent while a frame is being delivered goes out after it, so everyone hears the order it was sent in', () => {
    const air = new Air(new DiscreteEventClock());
    const got: string[] = [];
    air.attach({
      channel: 11,
      id: 'echo',
      receive: (f) => {
        got.push(`echo heard ${f[0]}`);
        if (f[0] === 1) air.transmit(Uint8Array.of(2), { channel: 11, from: 'echo' });
      },
    });
    air.attach({ channel: 11, receive: (f) => got.push(`monitor heard ${f[0]}`) });
    air.transmit(Uint8Array.of(1), { channel: 11, from: 'hht' });
    expect(got).toEqual(['echo heard 1', 'monitor heard 1', 'monitor heard 2']);
  });

  test('a virtual sniffer and the rig radio on the air: the radio as HHT joins the CH, the sniffer sees both frames', async () => {
    const clock = new DiscreteEventClock();
    const air = new Air(clock);
    const snifferLine = new TestLine();
    const sniffer = new VirtualNrfSnifferFirmware(snifferLine);
    attachSniffer(air, sniffer);
    const radioLine = new TestLine();
    const radio = new VirtualRigRadioFirmware(radioLine);
    attachRadio(air, radio, HHT_IEEE);
    const ch = new VirtualCommsHub({
      clock,
      air,
      profile: CONFORMANT,
      ieee: CH_IEEE,
      channel: 15,
      authorisedHhts: [HHT_ID],
      pan: CH_PAN,
      hhtShort: HHT_SHORT,
    });

    for (const c of ['shell echo off', 'channel 15', 'receive']) snifferLine.host(c);
    for (const c of ['channel 15', 'receive on']) radioLine.host(c);
    ch.power(true);
    await clock.sleep(MIN);
    const ccs01 = buildInterPanCcs01({
      hhtIeee: HHT_IEEE,
      chIeee: CH_IEEE,
      seq: 1,
      counter: 77n,
      originator: HHT_ID,
      installCode: INSTALL_CODE,
    });
    radioLine.host(`tx ${hex(ccs01)}`);
    await clock.sleep(1000);

    const sniffed = snifferLine.receivedLines();
    expect(sniffed).toHaveLength(2);
    expect(sniffed[0]).toContain(`received: ${hex(ccs01)}`);
    expect(sniffed[0]).toMatch(new RegExp(`time: ${BigInt(clock.epochMs + MIN) * 1000n}$`));
    expect(sniffed[1]).toMatch(new RegExp(`time: ${BigInt(clock.epochMs + MIN + 120) * 1000n}$`));
    // The radio hears the CH's answer, not its own transmission.
    const heardByRadio = radioLine.receivedLines();
    expect(heardByRadio).toHaveLength(1);
    const psdu = Buffer.from(heardByRadio[0].split(/\s+/)[1], 'hex').subarray(0, -2);
    expect(readInterPanCcs01(psdu)).toMatchObject({ kind: 'response', counter: 77n, results: [0] });
    expect(ch.deviceLog.map((e) => e.ieee)).toEqual([HHT_IEEE]);
  });
});
