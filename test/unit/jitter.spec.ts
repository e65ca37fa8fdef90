// Timer jitter of the virtual devices (sim/jitter.ts): every draw within what a conformant device
// may do (boot 3–8 s, answers within ±25 % of the profile's latency, a poll timer within ±0.1 %,
// inside the COT-3 clock tolerance), different from case to case, the same for the same seed and
// start, and none at all with seed 0.
import { test, expect } from '@playwright/test';
import path from 'node:path';
import { BUILT_IN_MANIFEST } from '../../firmware-images/manifest.ts';
import { loadProfile, type CommsHubProfile, type HanClientProfile, type MeterProfile } from '../../firmware-images/profiles.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { LAB_SETTINGS } from '../../rigs/lab-settings.ts';
import { Air, type AirMeta } from '../../sim/air.ts';
import { DEFAULT_BENCH_EPOCH_MS, DiscreteEventClock } from '../../sim/clock.ts';
import { HAN_READ_ANSWER_DELAY_MS, VirtualCommsHub } from '../../sim/comms-hub.ts';
import { VirtualHanClient } from '../../sim/han-client.ts';
import type { HanAddress } from '../../sim/han-frames.ts';
import { COORDINATOR_LOSS_NOTICED_MS, HAN_BOOT_MS } from '../../sim/han-join.ts';
import { DeviceJitter, JITTER_LIMITS } from '../../sim/jitter.ts';
import { VirtualMeter } from '../../sim/meter.ts';

const PROFILES = path.join(path.dirname(BUILT_IN_MANIFEST), 'profiles');
const SEC = 1000;
const HOUR = 3600 * SEC;
const DAY = 24 * HOUR;
const PAN = 0x4b1d;
const CH_IEEE = '00:db:12:34:56:78:90:a2';
const ESME: HanAddress = { short: 0x0001, ieee: '00:db:12:34:56:78:00:01' };
const IHD: HanAddress = { short: 0x4a01, ieee: '00:0d:6f:00:00:00:4a:01' };
const short = (a: HanAddress) => `0x${a.short.toString(16).padStart(4, '0')}`;

/** Many benches' worth of draws: seeds 1…20, cases a day apart, three devices each. */
function everyDraw<T>(draw: (j: DeviceJitter) => T): T[] {
  const out: T[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    for (let day = 0; day < 10; day++) {
      for (const id of ['ch', 'esme', 'ihd']) out.push(draw(DeviceJitter.of(seed, DEFAULT_BENCH_EPOCH_MS + day * DAY + seed * 7, id)));
    }
  }
  return out;
}

test.describe('the draws', () => {
  test('boot times lie in 3–8 s and spread over the range', () => {
    const boots = everyDraw((j) => [j.bootMs(), j.bootMs()]).flat();
    expect(Math.min(...boots)).toBeGreaterThanOrEqual(JITTER_LIMITS.bootMs.min);
    expect(Math.max(...boots)).toBeLessThanOrEqual(JITTER_LIMITS.bootMs.max);
    expect(boots.every(Number.isInteger)).toBe(true);
    // Alignments are explored: both ends of the range are reached, not just the nominal 5 s.
    expect(Math.min(...boots)).toBeLessThan(3_500);
    expect(Math.max(...boots)).toBeGreaterThan(7_500);
  });

  test('a device notices the CH has gone 30–45 s after its power-off (2–3 missed Link Status periods), spread over the range; nominal 45 s', () => {
    const noticed = everyDraw((j) => j.coordinatorLossMs());
    expect(Math.min(...noticed)).toBeGreaterThanOrEqual(JITTER_LIMITS.coordinatorLossMs.min);
    expect(Math.max(...noticed)).toBeLessThanOrEqual(JITTER_LIMITS.coordinatorLossMs.max);
    expect(noticed.every(Number.isInteger)).toBe(true);
    expect(Math.min(...noticed)).toBeLessThan(32_000);
    expect(Math.max(...noticed)).toBeGreaterThan(43_000);
    expect(DeviceJitter.none().coordinatorLossMs()).toBe(COORDINATOR_LOSS_NOTICED_MS);
  });

  test("answers come within ±25 % of the profile's latency, whole ms; a latency of 0 stays 0", () => {
    for (const nominal of [5, 20, 120, 150, 4_000]) {
      const got = everyDraw((j) => j.latencyMs(nominal));
      expect(Math.min(...got), `${nominal} ms`).toBeGreaterThanOrEqual(Math.floor(nominal * 0.75));
      expect(Math.max(...got), `${nominal} ms`).toBeLessThanOrEqual(Math.ceil(nominal * 1.25));
      expect(new Set(got).size, `${nominal} ms`).toBeGreaterThan(2);
    }
    expect(everyDraw((j) => j.latencyMs(0)).every((ms) => ms === 0)).toBe(true);
  });

  test('a poll timer drifts at most 0.1 % either way, both ways, inside the COT-3 clock tolerance', () => {
    const drifts = everyDraw((j) => j.drift);
    expect(Math.max(...drifts.map(Math.abs))).toBeLessThanOrEqual(JITTER_LIMITS.driftFraction);
    expect(Math.min(...drifts)).toBeLessThan(-JITTER_LIMITS.driftFraction / 2);
    expect(Math.max(...drifts)).toBeGreaterThan(JITTER_LIMITS.driftFraction / 2);
    // 0.1 % of the 24 h period is 86 s, under the lab's default 5 min for the device's clock.
    expect(JITTER_LIMITS.driftFraction * LAB_SETTINGS.cotPollPeriodHours.default * 60).toBeLessThan(
      LAB_SETTINGS.cotPollToleranceMinutes.default,
    );
  });

  test('the same seed, start and device give the same draws; another start, seed or device others', () => {
    const draws = (seed: number, epoch: number, id: string) => {
      const j = DeviceJitter.of(seed, epoch, id);
      return [j.drift, j.bootMs(), j.latencyMs(150), j.bootMs()];
    };
    const t = DEFAULT_BENCH_EPOCH_MS + 3 * DAY + 1234;
    expect(draws(7, t, 'ihd')).toEqual(draws(7, t, 'ihd'));
    expect(draws(7, t + 1, 'ihd')).not.toEqual(draws(7, t, 'ihd'));
    expect(draws(8, t, 'ihd')).not.toEqual(draws(7, t, 'ihd'));
    expect(draws(7, t, 'esme')).not.toEqual(draws(7, t, 'ihd'));
  });

  test('seed 0 (and a device built without a bench) runs every timer at its nominal value', () => {
    for (const j of [DeviceJitter.of(0, DEFAULT_BENCH_EPOCH_MS + 99, 'ihd'), DeviceJitter.none()]) {
      expect([j.enabled, j.drift, j.bootMs(), j.latencyMs(150), j.benchTimeOf(5 * DAY, 0)]).toEqual([false, 0, HAN_BOOT_MS, 150, 5 * DAY]);
    }
  });

  test("a device's timer and bench time convert both ways", () => {
    const j = DeviceJitter.of(3, DEFAULT_BENCH_EPOCH_MS, 'ppmid');
    const start = DEFAULT_BENCH_EPOCH_MS + HOUR;
    const at = j.benchTimeOf(start + DAY, start);
    expect(Math.abs(at - (start + DAY * (1 + j.drift)))).toBeLessThanOrEqual(0.5);
    expect(Math.abs(j.deviceTimeAt(at, start) - (start + DAY))).toBeLessThanOrEqual(1);
  });

  test('a seed or start that is not a number of the right kind is refused, saying which', () => {
    expect(() => DeviceJitter.of(-1, DEFAULT_BENCH_EPOCH_MS, 'ihd')).toThrow(/bench seed must be a whole number ≥ 0, not -1/);
    expect(() => DeviceJitter.of(1.5, DEFAULT_BENCH_EPOCH_MS, 'ihd')).toThrow(/not 1.5/);
    expect(() => DeviceJitter.of(1, Number.NaN, 'ihd')).toThrow(/bench start time must be a finite number of ms, not NaN/);
  });
});

interface Heard {
  /** Bench ms since the clock's epoch. */
  t: number;
  d: DecodedFrame;
}

/** A CH, an ESME and an IHD on the air, each with its jitter from `seed` and the bench start; a listener hears every frame. */
async function han(seed: number, epochMs: number) {
  const load = async <P>(id: string) => (await loadProfile(path.join(PROFILES, `${id}.yaml`))) as P;
  const clock = new DiscreteEventClock({ epochMs });
  const air = new Air(clock);
  const decoder = new HanDecoder();
  const heard: Heard[] = [];
  air.attach({
    channel: 11,
    receive: (frame: Uint8Array, meta: AirMeta) => {
      heard.push({
        t: Number(meta.atUs / 1000n) - epochMs,
        d: decoder.decode({ n: heard.length + 1, timestampUs: meta.atUs, frame, fcsIncluded: false }),
      });
    },
  });
  const jitter = (id: string) => DeviceJitter.of(seed, epochMs, id);
  const ch = new VirtualCommsHub({
    clock,
    air,
    profile: await load<CommsHubProfile>('ch-conformant'),
    ieee: CH_IEEE,
    pan: PAN,
    hhtShort: 0x0bcd,
    hanDevices: [ESME.ieee, IHD.ieee],
    jitter: jitter('ch'),
  });
  const meterProfile = await load<MeterProfile>('esme-conformant');
  const meter = new VirtualMeter({ clock, air, profile: meterProfile, pan: PAN, self: ESME, clients: [IHD], jitter: jitter('esme') });
  const ihdJitter = jitter('ihd');
  const ihdProfile = await load<HanClientProfile>('ihd-conformant');
  const ihd = new VirtualHanClient({ clock, air, profile: ihdProfile, pan: PAN, self: IHD, servers: [ESME], jitter: ihdJitter });
  ch.power(true);
  meter.power(true);
  ihd.power(true);
  await clock.advanceTo(epochMs + 4 * DAY + HOUR);
  const rejoinRequest = (who: HanAddress) => heard.find((h) => h.d.nwk?.command === 'Rejoin Request' && h.d.nwk.src64 === who.ieee)!.t;
  const polls = heard.filter((h) => h.d.zcl?.name === 'Get Change of Tenancy' && h.d.nwk?.src === short(IHD)).map((h) => h.t);
  // No tenancy set yet: the meter answers each poll with a Default Response (NOT_FOUND).
  const answers = heard
    .filter((h) => h.d.nwk?.src === short(ESME) && h.d.nwk?.dst === short(IHD) && h.d.zcl?.type === 'global' && h.d.zcl.cmd === 0x0b)
    .map((h) => h.t);
  return { heard, meterProfile, ihdJitter, boots: [rejoinRequest(ESME), rejoinRequest(IHD)], polls, answers };
}

test.describe('on the air', () => {
  test("each case's bench lines the devices' timers up differently, every one within its limits", async () => {
    const seen: string[] = [];
    for (let day = 0; day < 6; day++) {
      const h = await han(5, DEFAULT_BENCH_EPOCH_MS + day * DAY + 17);
      for (const boot of h.boots) {
        expect(boot).toBeGreaterThanOrEqual(JITTER_LIMITS.bootMs.min);
        expect(boot).toBeLessThanOrEqual(JITTER_LIMITS.bootMs.max);
      }
      // The CH admits within ±25 % of its nominal latency: the IHD's power-up poll follows its admission.
      const admitted = h.polls[0] - h.boots[1];
      expect(admitted).toBeGreaterThanOrEqual(Math.floor(HAN_READ_ANSWER_DELAY_MS * 0.75));
      expect(admitted).toBeLessThanOrEqual(Math.ceil(HAN_READ_ANSWER_DELAY_MS * 1.25));
      // The meter answers each poll it hears (no tenancy set: a Default Response) within ±25 % of its profile's latency;
      // an IHD that boots first polls before the meter is on the HAN, and again when the meter announces itself.
      const delay = h.meterProfile.responseDelayMs;
      expect(h.answers.length).toBeGreaterThanOrEqual(5);
      for (const a of h.answers) {
        const asked = h.polls.filter((p) => p < a).at(-1)!;
        expect(a - asked).toBeGreaterThanOrEqual(Math.floor(delay * 0.75));
        expect(a - asked).toBeLessThanOrEqual(Math.ceil(delay * 1.25));
      }
      // Every 24 h by the IHD's own timer, counted from power-up: 24 h × (1 + drift) of bench time, within the COT-3 tolerance.
      const periodic = h.polls.filter((t) => t > HOUR);
      expect(periodic.length).toBe(4);
      for (const [i, t] of periodic.entries()) expect(Math.abs(t - (i + 1) * DAY * (1 + h.ihdJitter.drift))).toBeLessThanOrEqual(1);
      for (let i = 1; i < periodic.length; i++) {
        expect(Math.abs(periodic[i] - periodic[i - 1] - DAY)).toBeLessThanOrEqual(JITTER_LIMITS.driftFraction * DAY + 1);
      }
      seen.push(JSON.stringify([h.boots, periodic[0]]));
    }
    expect(new Set(seen).size).toBe(seen.length);
  });

  test('the same seed and start give the same frames at the same instants; seed 0 the nominal ones', async () => {
    const start = DEFAULT_BENCH_EPOCH_MS + 2 * DAY;
    const frames = (h: { heard: Heard[] }) => h.heard.map((x) => `${x.t} ${x.d.summary}`);
    expect(frames(await han(9, start))).toEqual(frames(await han(9, start)));
    const nominal = await han(0, start);
    expect(nominal.boots).toEqual([HAN_BOOT_MS, HAN_BOOT_MS]);
    expect(nominal.polls).toEqual([HAN_BOOT_MS + HAN_READ_ANSWER_DELAY_MS, DAY, 2 * DAY, 3 * DAY, 4 * DAY]);
    expect(nominal.answers.map((a, i) => a - nominal.polls[i])).toEqual(nominal.polls.map(() => nominal.meterProfile.responseDelayMs));
  });
});
