// Jitter of the virtual devices' timers (boot time, answer latency, the drift of a poll clock),
// drawn from the bench seed and the case's start time: each case's fresh bench lines its timers
// up differently, the same seed gives the same bench, byte for byte. Every draw stays within what
// a conformant device may do, so a conformant device PASSes and a mutant FAILs on every seed.
// Seed 0 turns jitter off: every timer at its profile's nominal value.
import { COORDINATOR_LOSS_NOTICED_MS, HAN_BOOT_MS } from './han-join.ts';

/** The ranges a draw stays within. */
export const JITTER_LIMITS = {
  /** From power-on to the first Rejoin Request: a ZigBee device's boot. */
  bootMs: { min: 3_000, max: 8_000 },
  /** From the CH's power-off to a device noticing it: its neighbour entry ages out after 2–3 missed Link Status periods of 15 s. */
  coordinatorLossMs: { min: 30_000, max: 45_000 },
  /** An answer comes within this fraction of the profile's latency either way. */
  latencyFraction: 0.25,
  /**
   * How fast or slow a device's poll timer runs, as a fraction: 0.1 % (86 s a day), well inside the
   * COT-3 tolerance a lab sets for the device's clock (default 5 min in 24 h, 0.35 %).
   */
  driftFraction: 0.001,
} as const;

/** The seed that turns jitter off. */
export const NO_JITTER_SEED = 0;

/** FNV-1a of a text: folds a device id into the stream's seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A murmur3 finaliser: spreads nearby seeds (1, 2, 3…) far apart. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One device's timers on one bench: its own stream, so adding a device never moves another's draws. */
export class DeviceJitter {
  /** How much slower (> 0) or faster (< 0) its poll timer runs than bench time, as a fraction; fixed for the bench's life. */
  readonly drift: number;
  readonly #random: (() => number) | undefined;

  private constructor(random: (() => number) | undefined) {
    this.#random = random;
    this.drift = random ? (2 * random() - 1) * JITTER_LIMITS.driftFraction : 0;
  }

  /** Nominal timers: a device built outside a bench, or a bench with seed 0. */
  static none(): DeviceJitter {
    return new DeviceJitter(undefined);
  }

  /** The jitter of device `deviceId` on a bench of seed `seed` whose clock starts at `epochMs`. */
  static of(seed: number, epochMs: number, deviceId: string): DeviceJitter {
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`jitter: the bench seed must be a whole number ≥ 0, not ${seed}`);
    if (!Number.isFinite(epochMs)) throw new RangeError(`jitter: the bench start time must be a finite number of ms, not ${epochMs}`);
    if (seed === NO_JITTER_SEED) return DeviceJitter.none();
    // The start time's high and low 32 bits both count: cases a few ms or many days apart differ.
    const hi = Math.floor(epochMs / 4_294_967_296) >>> 0,
      lo = epochMs >>> 0;
    const state = mix(mix(mix(seed ^ 0x6a09e667) ^ hi) ^ lo) ^ fnv1a(deviceId);
    return new DeviceJitter(mulberry32(mix(state)));
  }

  get enabled(): boolean {
    return this.#random !== undefined;
  }

  /** From power-on to the first Rejoin Request, whole ms; a new draw at every power-on. */
  bootMs(): number {
    const r = this.#random;
    if (!r) return HAN_BOOT_MS;
    const { min, max } = JITTER_LIMITS.bootMs;
    return Math.round(min + r() * (max - min));
  }

  /** From the CH (the coordinator) going away to the device noticing, whole ms; a new draw each time. */
  coordinatorLossMs(): number {
    const r = this.#random;
    if (!r) return COORDINATOR_LOSS_NOTICED_MS;
    const { min, max } = JITTER_LIMITS.coordinatorLossMs;
    return Math.round(min + r() * (max - min));
  }

  /** One answer's latency: the profile's `nominalMs` within ± 25 %, whole ms; a new draw per answer. */
  latencyMs(nominalMs: number): number {
    const r = this.#random;
    if (!r || nominalMs === 0) return nominalMs;
    return Math.max(0, Math.round(nominalMs * (1 + (2 * r() - 1) * JITTER_LIMITS.latencyFraction)));
  }

  /**
   * The bench time at which the device's own timer, started at `startedAt` (bench time, when its
   * clock was set), reads `deviceTime`: later for a slow clock, earlier for a fast one.
   */
  benchTimeOf(deviceTime: number, startedAt: number): number {
    return startedAt + Math.round((deviceTime - startedAt) * (1 + this.drift));
  }

  /** The reverse: what the device's timer reads at bench time `benchTime`. */
  deviceTimeAt(benchTime: number, startedAt: number): number {
    return startedAt + (benchTime - startedAt) / (1 + this.drift);
  }
}
