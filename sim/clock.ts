// Bench time (ARCHITECTURE.md "Time is a dependency"): suites and virtual devices ask a clock,
// never setTimeout or Date.now. On hardware it is wall time; on the virtual bench it is a
// discrete-event clock that moves only when told to, and only as fast as the drivers read.
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Awaited before virtual time moves on: resolves once the drivers have read and parsed what the
 * virtual hardware wrote up to the current instant (the drain barrier).
 */
export type DrainBarrier = () => Promise<void>;

/** Something a virtual device does at an instant. Runs synchronously; what it returns is ignored. */
export type ClockAction = () => void;

/** Cancels a scheduled event; cancelling one that already ran (or was cancelled) does nothing. */
export type CancelEvent = () => void;

export interface DiscreteEventClockOptions {
  /** Bench time at the start, ms since the Unix epoch. Default 2026-01-01T00:00:00Z. */
  epochMs?: number;
  /** Default drain barrier for advanceTo and sleep. Default: none (resolves at once). */
  barrier?: DrainBarrier;
}

export const DEFAULT_BENCH_EPOCH_MS = Date.UTC(2026, 0, 1);

interface ScheduledEvent {
  at: number;
  /** Insertion order: breaks ties between events at the same instant. */
  seq: number;
  action: ClockAction;
  label: string;
  cancelled: boolean;
}

/** One of several cases sharing the clock side by side (see participate). */
interface Participant {
  readonly name: string;
  /** Its targets not yet reached: > 0 means it waits on the clock. */
  waiting: number;
}

/** Someone waiting for time to reach `at` (a sleep or an advanceTo). */
interface TimeTarget {
  at: number;
  seq: number;
  barrier: DrainBarrier;
  resolve: () => void;
  reject: (e: unknown) => void;
  /** The participant whose async chain made it; undefined outside any. */
  owner?: Participant;
  /** Ends the wait at the instant an event makes it true (see advanceTo). */
  stopWhen?: () => boolean;
}

const noBarrier: DrainBarrier = () => Promise.resolve();

/** Events run between two turns of the event loop (timers, sockets): a few ms of work at most. */
const EVENTS_PER_LOOP_TURN = 100;

/** Lets the continuations of a woken sleeper run (and schedule events) before time moves on. */
const yieldToContinuations = () => new Promise<void>((resolve) => setImmediate(resolve));

function earlier(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A binary min-heap on (at, seq): events come out in time order, same-instant ones in insertion order. */
class EventQueue {
  readonly #heap: ScheduledEvent[] = [];

  get size(): number {
    return this.#heap.length;
  }

  peek(): ScheduledEvent | undefined {
    return this.#heap[0];
  }

  push(e: ScheduledEvent): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): ScheduledEvent | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < h.length && earlier(h[l], h[m])) m = l;
      if (r < h.length && earlier(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
    return top;
  }
}

/**
 * Virtual bench time. Events run in (time, insertion) order with now() set to their time;
 * after each one the drain barrier is awaited, so virtual time never outruns delivery.
 * Deterministic: nothing here reads wall time.
 */
export class DiscreteEventClock {
  readonly virtual = true;
  readonly epochMs: number;
  /** The default drain barrier; the bench sets it once its drivers are up. */
  barrier: DrainBarrier;

  #now: number;
  #seq = 0;
  #pending = 0;
  readonly #events = new EventQueue();
  #targets: TimeTarget[] = [];
  #running = false;
  #inAction = false;
  readonly #participants = new Set<Participant>();
  /** Which participant an async chain belongs to: a wait made anywhere inside participate(fn) is fn's. */
  readonly #chain = new AsyncLocalStorage<Participant>();

  constructor(options: DiscreteEventClockOptions = {}) {
    this.epochMs = options.epochMs ?? DEFAULT_BENCH_EPOCH_MS;
    this.#now = this.epochMs;
    this.barrier = options.barrier ?? noBarrier;
  }

  /** Bench time, ms since the Unix epoch (epochMs + elapsed). */
  now(): number {
    return this.#now;
  }

  /** The same instant in µs since the Unix epoch: what virtual radios stamp frames with. */
  nowUs(): bigint {
    return BigInt(Math.round(this.#now * 1000));
  }

  /** ms since epochMs. */
  elapsed(): number {
    return this.#now - this.epochMs;
  }

  /** Scheduled events not yet run nor cancelled. */
  get pending(): number {
    return this.#pending;
  }

  /** Participants registered now (see participate). */
  get participants(): number {
    return this.#participants.size;
  }

  /** When the next event is due, if any. */
  get nextEventAt(): number | undefined {
    this.#dropCancelled();
    return this.#events.peek()?.at;
  }

  /** Schedules `action` at bench time `timeMs` (ms since the Unix epoch, as now()). */
  at(timeMs: number, action: ClockAction, label = 'event'): CancelEvent {
    if (!Number.isFinite(timeMs)) throw new RangeError(`clock.at(${timeMs}) for "${label}": the time must be a finite number of ms`);
    // An event in the past would break the promise that now() never goes backwards.
    if (timeMs < this.#now)
      throw new RangeError(
        `clock.at for "${label}": ${new Date(timeMs).toISOString()} is before now (${new Date(this.#now).toISOString()})`,
      );
    const e: ScheduledEvent = { at: timeMs, seq: this.#seq++, action, label, cancelled: false };
    this.#events.push(e);
    this.#pending++;
    return () => {
      if (e.cancelled) return;
      e.cancelled = true;
      this.#pending--;
    };
  }

  /** Schedules `action` `delayMs` from now. */
  after(delayMs: number, action: ClockAction, label?: string): CancelEvent {
    if (!(delayMs >= 0)) throw new RangeError(`clock.after(${delayMs}) for "${label ?? 'event'}": the delay must be ≥ 0 ms`);
    return this.at(this.#now + delayMs, action, label);
  }

  /**
   * Runs every event due up to `timeMs` and leaves now() at `timeMs`. The barrier is awaited
   * before time first moves, after each event, and before returning. Concurrent calls are served
   * earliest target first, each resolving when time reaches it. Must not be called from inside
   * an event or a barrier (it would wait for itself). `stopWhen`, asked whenever time may move on
   * (after each event and its barrier, after a woken waiter waits again), ends the wait early at
   * that instant once it holds: a watch whose event another case schedules meanwhile, or that
   * another case's action satisfies, stops then, not at its deadline.
   */
  advanceTo(timeMs: number, barrier: DrainBarrier = this.barrier, stopWhen?: () => boolean): Promise<void> {
    if (!Number.isFinite(timeMs))
      return Promise.reject(new RangeError(`clock.advanceTo(${timeMs}): the time must be a finite number of ms`));
    if (timeMs < this.#now)
      return Promise.reject(
        new RangeError(`clock.advanceTo: ${new Date(timeMs).toISOString()} is before now (${new Date(this.#now).toISOString()})`),
      );
    if (this.#inAction)
      return Promise.reject(
        new Error('clock.advanceTo from inside a clock event would wait for itself: schedule with at() or after() instead'),
      );
    // Outside any participant it is ownerless; one that has ended no longer counts for the gate either.
    const owner = this.#chain.getStore();
    return new Promise<void>((resolve, reject) => {
      this.#targets.push({ at: timeMs, seq: this.#seq++, barrier, resolve, reject, owner, stopWhen });
      if (owner) owner.waiting++;
      if (!this.#running && this.#gateOpen()) void this.#run();
    });
  }

  /**
   * Runs `fn` as a participant: one of several cases sharing this clock side by side, each its own
   * async chain. While any participant is registered, time moves only when every one of them waits
   * on the clock, and one target at a time, earliest (time, insertion) first: the woken participant
   * runs alone until it waits again or ends. So what a case does between its waits (file I/O, MQTT
   * round trips, serial reads) takes no bench time however long it takes on the wall, and cases
   * woken at the same instant resume one after another in a fixed order: the same schedule gives the
   * same trace every run. Every wait made anywhere inside fn's async chain is the participant's.
   * fn starts on its first turn (a zero-length wait), so participants started together begin in
   * the order participate was called. Registered when called, unregistered when fn settles
   * (returns or throws). Start participants together, or from inside a participant: one
   * registered from outside after non-clock work joins at a wall-time-dependent instant.
   */
  async participate<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (typeof name !== 'string' || name === '')
      throw new TypeError(`clock.participate(${String(name)}): the name must be a non-empty string`);
    if (typeof fn !== 'function') throw new TypeError(`clock.participate("${name}"): fn must be a function`);
    if (this.#inAction) throw new Error(`clock.participate("${name}") from inside a clock event: start participants outside events`);
    for (const p of this.#participants)
      if (p.name === name) throw new Error(`clock.participate("${name}"): a participant of that name is already running`);
    const me: Participant = { name, waiting: 0 };
    this.#participants.add(me);
    try {
      return await this.#chain.run(me, async () => {
        await this.advanceTo(this.#now);
        return await fn();
      });
    } finally {
      this.#participants.delete(me);
      // No participant left: the chain tracking (promise hooks) costs nothing until the next one.
      if (this.#participants.size === 0) this.#chain.disable();
      // Those still registered may all be waiting already: this one no longer holds time back.
      if (!this.#running && this.#targets.length > 0 && this.#gateOpen()) void this.#run();
    }
  }

  /** Advances virtual time by `ms` (see advanceTo). */
  sleep(ms: number, barrier?: DrainBarrier): Promise<void> {
    if (!(ms >= 0)) return Promise.reject(new RangeError(`clock.sleep(${ms}): the duration must be ≥ 0 ms`));
    return this.advanceTo(this.#now + ms, barrier);
  }

  #dropCancelled(): void {
    while (this.#events.peek()?.cancelled) this.#events.pop();
  }

  /** Time may move: no participants, or every one waits on the clock. Ownerless waits neither hold nor open it. */
  #gateOpen(): boolean {
    for (const p of this.#participants) if (p.waiting === 0) return false;
    return true;
  }

  #settled(t: TimeTarget): TimeTarget {
    if (t.owner) t.owner.waiting--;
    return t;
  }

  /** A wait whose stopWhen now holds is due now: it resolves in (time, insertion) order before time moves on. */
  #stopWatchesThatHold(): boolean {
    let stopped = false;
    for (const t of this.#targets) {
      if (!t.stopWhen || t.at <= this.#now) continue;
      let holds: boolean;
      try {
        holds = t.stopWhen();
      } catch {
        // The waiter asks again in its own chain and hears the error there, not every waiter.
        holds = true;
      }
      if (holds) {
        t.at = this.#now;
        stopped = true;
      }
    }
    return stopped;
  }

  #nextTarget(): TimeTarget | undefined {
    let best: TimeTarget | undefined;
    for (const t of this.#targets) if (!best || earlier(t, best)) best = t;
    return best;
  }

  #eventsSinceTurn = 0;

  async #run(): Promise<void> {
    this.#running = true;
    try {
      await this.#nextTarget()!.barrier();
      // The earliest target is re-read every step: a sleep that starts meanwhile may be earlier.
      for (let target = this.#nextTarget(); target; target = this.#nextTarget()) {
        // A participant is running (not waiting): time stays until it waits; its wait restarts the run.
        if (!this.#gateOpen()) return;
        // Asked whenever time may move: after each event, and after what a woken participant did.
        if (this.#stopWatchesThatHold()) continue;
        this.#dropCancelled();
        const e = this.#events.peek();
        if (e && e.at <= target.at) {
          this.#events.pop();
          this.#pending--;
          this.#now = e.at;
          this.#inAction = true;
          try {
            e.action();
          } finally {
            this.#inAction = false;
          }
          await target.barrier();
          // A long run of events is a long run of microtasks: give the event loop a turn now and then, or the
          // station's MQTT keepalive (wall time) fails under a day of polls. Virtual time stays where it is meanwhile.
          if (++this.#eventsSinceTurn >= EVENTS_PER_LOOP_TURN) {
            this.#eventsSinceTurn = 0;
            await yieldToContinuations();
          }
          continue;
        }
        this.#now = target.at;
        await target.barrier();
        if (this.#participants.size === 0) {
          const reached = this.#targets.filter((t) => t.at <= this.#now);
          this.#targets = this.#targets.filter((t) => t.at > this.#now);
          for (const t of reached) t.resolve();
        } else {
          // One at a time: the woken one runs alone until it waits again (or ends), then the next.
          this.#targets.splice(this.#targets.indexOf(target), 1);
          this.#settled(target).resolve();
          if (!this.#gateOpen()) return;
        }
        const next = this.#nextTarget();
        if (next) {
          await yieldToContinuations();
          await next.barrier();
        }
      }
    } catch (e) {
      // A throwing event is a rig defect: everyone waiting on time hears of it.
      const waiting = this.#targets;
      this.#targets = [];
      for (const t of waiting) this.#settled(t).reject(e);
    } finally {
      this.#running = false;
    }
  }
}
