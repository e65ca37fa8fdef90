// The frame-source seam every sniffer and radio driver shares, whatever frames its input: it hands
// parsed frames to listeners and iterators, anchors sniffer time to bench time on the first frame,
// and holds the drain barrier. A line reader (drivers/received-lines.ts) and a byte-framed reader
// each feed it and say how far they have parsed.
import type { RigFault } from '../faults.ts';
import type { DriverLog } from '../serial.ts';
import type { SniffedFrame, SnifferTimeAnchor } from './sniffer.ts';

type Subscriber = { push(frame: SniffedFrame): void; end(fault?: RigFault): void };

/** How far the owner's parser has got: bytes received, and whether every complete unit among them is parsed. */
export interface ParsePosition {
  received: number;
  caughtUp: boolean;
}

export class FrameFeed {
  #anchor: SnifferTimeAnchor | undefined;
  #subscribers = new Set<Subscriber>();
  #drainWaiters: Array<{ atLeast: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  #ended: { fault?: RigFault } | undefined;
  #ending = false;

  constructor(private readonly options: { where: string; log: DriverLog; now: () => number; position: () => ParsePosition }) {}

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#anchor;
  }

  /** Bench time (ms) of a sniffer stamp, through the anchor; see SnifferTimeAnchor for its uncertainty. */
  toBenchTime(snifferUs: bigint): number {
    if (!this.#anchor) throw new Error(`${this.options.where}: no frame received yet, so sniffer time has no bench anchor`);
    return this.#anchor.benchMs + Number(snifferUs - this.#anchor.snifferUs) / 1000;
  }

  /** A parsed frame: anchors time on the first, then goes to every listener (a throwing listener is logged, not fatal). */
  publish(frame: SniffedFrame): void {
    this.#anchor ??= { snifferUs: frame.snifferUs, benchMs: this.options.now(), line: frame.line };
    for (const s of this.#subscribers) {
      try {
        s.push(frame);
      } catch (error) {
        this.options.log.warn('frame listener threw', { where: this.options.where, line: frame.line, error: String(error) });
      }
    }
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    const subscriber: Subscriber = { push: listener, end() {} };
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Frames from now on; ends when the stream is ended, throws the fault if it was lost. */
  frames(): AsyncIterableIterator<SniffedFrame> {
    const queue: SniffedFrame[] = [];
    let ended: { fault?: RigFault } | undefined = this.#ended;
    let wake: (() => void) | undefined;
    const subscriber: Subscriber = {
      push(frame) {
        queue.push(frame);
        wake?.();
      },
      end(fault) {
        ended = { fault };
        wake?.();
      },
    };
    if (!ended) this.#subscribers.add(subscriber);
    const subscribers = this.#subscribers;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<SniffedFrame>> {
        while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (queue.length) return { value: queue.shift()!, done: false };
        subscribers.delete(subscriber);
        if (ended?.fault) throw ended.fault;
        return { value: undefined, done: true };
      },
      async return(): Promise<IteratorResult<SniffedFrame>> {
        subscribers.delete(subscriber);
        ended ??= {};
        return { value: undefined, done: true };
      },
    };
  }

  /** The drain barrier (Drainable.drain): a trailing partial unit is not waited for, it cannot be parsed until it completes. */
  drain(options: { receivedBytes?: number } = {}): Promise<void> {
    if (this.#ended) return this.#ended.fault ? Promise.reject(this.#ended.fault) : Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push({ atLeast: options.receivedBytes ?? 0, resolve, reject });
      this.settleDrains();
    });
  }

  /** The owner calls this whenever its parse position moved. */
  settleDrains(): void {
    if (this.#ended) return;
    const { received, caughtUp } = this.options.position();
    if (!caughtUp) return;
    this.#drainWaiters = this.#drainWaiters.filter((w) => {
      if (received < w.atLeast) return true;
      w.resolve();
      return false;
    });
  }

  /** Ends iterators and pending drains: with a fault they reject, without one they finish. */
  end(fault?: RigFault): void {
    if (this.#ending) return;
    this.#ending = true;
    // Units already in the stream and parser buffers are delivered before the end.
    setImmediate(() => {
      this.#ended = { fault };
      for (const s of this.#subscribers) s.end(fault);
      this.#subscribers.clear();
      for (const w of this.#drainWaiters.splice(0)) fault ? w.reject(fault) : w.resolve();
    });
  }
}
