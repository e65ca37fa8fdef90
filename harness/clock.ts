// The bench clock suites use: wall time on hardware, the discrete-event clock on the virtual
// bench (advanced only through the drain barrier, so time never outruns what drivers parsed).
import type { RigFault } from '../drivers/faults.ts';
import type { DiscreteEventClock } from '../sim/clock.ts';

/**
 * The bench's watchdog: the first fault of a part the bench cannot judge without (a sniffer, the
 * rig radio, the MQTT connection, a relay's availability), or undefined while all are well.
 */
export type BenchHealth = () => RigFault | undefined;

const healthy: BenchHealth = () => undefined;

/** How often a hardware wait wakes to ask the watchdog: a part lost mid-wait is noticed within this. */
export const HARDWARE_HEALTH_CHECK_MS = 1_000;

export interface BenchClock {
  readonly virtual: boolean;
  /** Bench time, ms since the Unix epoch. */
  now(): number;
  /** Sleeps `ms`; ends early by throwing the part's RigFault when the bench's health fails meanwhile. */
  sleep(ms: number): Promise<void>;
  /** Waits until `condition()` holds or `withinMs` have passed; true when it held. Throws as sleep does. */
  waitFor(condition: () => boolean, withinMs: number): Promise<boolean>;
  /**
   * Runs `fn` as one of several cases sharing the bench side by side (each its own async chain, e.g.
   * `Promise.all([bench.sideBySide('A', a), bench.sideBySide('B', b)])`). On the virtual bench time
   * then moves only while every such case waits on it, so their interleaving is deterministic.
   * Optional so stand-in clocks need not have it; where absent, run fn as it is.
   */
  sideBySide?<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export const seconds = (n: number) => n * 1000;
export const minutes = (n: number) => n * 60_000;
/** A span as a step says it, `m:ss` (whole seconds, never `59:60`). */
export const mmss = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
export const hours = (n: number) => n * 3_600_000;

/** Wall time for a hardware bench. */
export class HardwareClock implements BenchClock {
  readonly virtual = false;

  constructor(
    private readonly health: BenchHealth = healthy,
    private readonly checkEveryMs = HARDWARE_HEALTH_CHECK_MS,
  ) {}

  now(): number {
    return performance.timeOrigin + performance.now();
  }

  async sleep(ms: number): Promise<void> {
    const deadline = this.now() + ms;
    // Never blind for longer than checkEveryMs: a sniffer unplugged in a 59-minute wait ends the wait.
    for (;;) {
      this.assertHealthy();
      const left = deadline - this.now();
      if (left <= 0) return;
      await pause(Math.min(left, this.checkEveryMs));
    }
  }

  async waitFor(condition: () => boolean, withinMs: number): Promise<boolean> {
    const deadline = this.now() + withinMs;
    while (!condition()) {
      this.assertHealthy();
      if (this.now() >= deadline) return false;
      await pause(Math.min(20, deadline - this.now()));
    }
    return true;
  }

  /** Wall time needs no gate: it moves on whatever the cases do. */
  sideBySide<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  private assertHealthy(): void {
    const fault = this.health();
    if (fault) throw fault;
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Virtual time: runs the simulation's events in order, draining the drivers after each. The
 * watchdog is asked after every drain, so a wait ends at the very event whose fault the drivers
 * noticed (the sim clock hands a throwing barrier's fault to whoever waits on time).
 */
export class VirtualBenchClock implements BenchClock {
  readonly virtual = true;
  private readonly barrier: () => Promise<void>;

  constructor(
    private readonly sim: DiscreteEventClock,
    drain: () => Promise<void>,
    health: BenchHealth = healthy,
  ) {
    this.barrier = async () => {
      await drain();
      const fault = health();
      if (fault) throw fault;
    };
  }

  now(): number {
    return this.sim.now();
  }

  async sleep(ms: number): Promise<void> {
    await this.barrier();
    await this.sim.advanceTo(this.sim.now() + ms, this.barrier);
  }

  async waitFor(condition: () => boolean, withinMs: number): Promise<boolean> {
    const deadline = this.sim.now() + withinMs;
    await this.barrier();
    // Side by side, another case may schedule the event that ends this watch after we looked at the next one.
    const stopWhen = this.sim.participants > 0 ? condition : undefined;
    // Event by event, so the moment the condition holds is the moment we stop: no time is skipped past it.
    while (!condition()) {
      const next = this.sim.nextEventAt;
      if (next === undefined || next > deadline) {
        await this.sim.advanceTo(deadline, this.barrier, stopWhen);
        if (this.sim.now() < deadline) continue;
        return condition();
      }
      await this.sim.advanceTo(next, this.barrier, stopWhen);
    }
    return true;
  }

  sideBySide<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.sim.participate(name, fn);
  }
}

/**
 * A case's view of the bench clock: no wait goes past the case's deadline (its planned duration
 * and margin). A wait that would is cut at the deadline and the case ends INCONCLUSIVE
 * (`case-overran`), its evidence kept — never "without a verdict" because a runner timed it out.
 */
export class CaseClock implements BenchClock {
  constructor(
    private readonly bench: BenchClock,
    /** Bench time (ms) past which the case may not wait; a shared Change of Tenancy moves it on by the wait for the others'. */
    public deadlineMs: number,
    private readonly overran: () => Error,
    /** Told of every wait and when it ends at the latest: progress shows a wait even when the case does not name it. */
    private readonly onWait?: (kind: 'pause' | 'watch', untilMs: number) => void,
  ) {}

  get virtual(): boolean {
    return this.bench.virtual;
  }

  now(): number {
    return this.bench.now();
  }

  async sleep(ms: number): Promise<void> {
    const left = this.deadlineMs - this.now();
    this.onWait?.('pause', this.now() + Math.min(ms, Math.max(0, left)));
    if (ms <= left) return this.bench.sleep(ms);
    if (left > 0) await this.bench.sleep(left);
    throw this.overran();
  }

  async waitFor(condition: () => boolean, withinMs: number): Promise<boolean> {
    const left = this.deadlineMs - this.now();
    this.onWait?.('watch', this.now() + Math.min(withinMs, Math.max(0, left)));
    if (withinMs <= left) return this.bench.waitFor(condition, withinMs);
    // The wait would outlast the case: what it waits for may still come before the deadline.
    if (await this.bench.waitFor(condition, Math.max(0, left))) return true;
    throw this.overran();
  }

  sideBySide<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.bench.sideBySide ? this.bench.sideBySide(name, fn) : fn();
  }
}
