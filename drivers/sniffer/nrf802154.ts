// nRF Sniffer for 802.15.4 (PROTOCOL.md §1): a text shell on a USB CDC serial line. This file
// also holds the `received:` line reader that the rig radio reuses, because its firmware
// reports frames in the very same line format.
import { DelimiterParser } from '@serialport/parser-delimiter';
import { RigFault } from '../faults.ts';
import { openSerialLink, silentLog, type DriverLog, type SerialBinding, type SerialLink, type SerialLocation } from '../serial.ts';

/** One frame as heard on air, FCS removed, stamped with the sniffer's own clock. */
export interface SniffedFrame {
  /** The PSDU without FCS (the two trailing link-quality bytes are stripped). */
  frame: Uint8Array;
  /** dBm, as the radio reported it. */
  rssi: number;
  lqi: number;
  /** The channel the driver had tuned to when the line arrived (the line does not carry it). */
  channel: number;
  /** Microseconds since sniffer boot, unwrapped to one monotonic count (see SnifferClock). */
  snifferUs: bigint;
  /** 1-based line number on this serial line, so evidence can point at the raw line. */
  line: number;
}

/** The vendor capture tool's regex (nrf802154_sniffer.py), unanchored: it tolerates a prompt before and text after. */
export const RECEIVED_LINE = /received:\s+([0-9a-fA-F]+)\s+power:\s+(-?\d+)\s+lqi:\s+(\d+)\s+time:\s+(-?\d+)/;

/** 127-byte PSDU maximum (IEEE 802.15.4 aMaxPHYPacketSize), the last two being the non-FCS trailer. */
const MAX_LINE_BYTES = 127;

export type ReceivedLine =
  | { kind: 'frame'; psdu: Uint8Array; rssi: number; lqi: number; printedTime: bigint }
  | { kind: 'malformed'; reason: string }
  | { kind: 'other' };

/** Pure parse of one line (no `\r`/`\n`): a frame, a frame line that cannot be trusted, or anything else. */
export function parseReceivedLine(text: string): ReceivedLine {
  const m = RECEIVED_LINE.exec(text);
  if (!m) return /received:/i.test(text) ? { kind: 'malformed', reason: 'a "received:" line that does not match the frame line format' } : { kind: 'other' };
  const [, hexText, power, lqiText, time] = m;
  if (hexText.length % 2 !== 0) return { kind: 'malformed', reason: `odd number of hex digits (${hexText.length})` };
  const bytes = Buffer.from(hexText, 'hex');
  if (bytes.length < 3) return { kind: 'malformed', reason: `${bytes.length} bytes: too short for a frame plus the 2 trailing bytes` };
  if (bytes.length > MAX_LINE_BYTES) return { kind: 'malformed', reason: `${bytes.length} bytes: longer than a 127-byte PSDU` };
  const lqi = Number(lqiText);
  if (lqi > 255) return { kind: 'malformed', reason: `lqi ${lqi} is above 255` };
  // The radio overwrites the FCS with link-quality data: those 2 bytes are not an FCS, drop them.
  const psdu = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length - 2).slice();
  return { kind: 'frame', psdu, rssi: Number(power), lqi, printedTime: BigInt(time) };
}

const TWO_32 = 1n << 32n;
const TWO_31 = 1n << 31n;

/**
 * Turns printed sniffer times into one monotonic 64-bit µs count.
 *
 * Rule: current firmware prints a 64-bit µs counter; older firmware printed a 32-bit one that
 * wraps every 2^32 µs (71.6 min), some of it as a signed number (negative after 35.8 min, read
 * here as signed 32-bit, i.e. + 2^32). A printed value below 2^32 is "32-bit-looking". When a
 * 32-bit-looking value is more than 2^31 µs below the previous one, the counter wrapped: from
 * then on 2^32 more is added (once per wrap). A value ≥ 2^32 proves a 64-bit counter and no wrap
 * is ever inferred after it. A smaller backwards step is kept as printed and reported.
 * Limits: a wrap is missed if no frame is seen for 2^31 µs (35.8 min) or more across it; a
 * 64-bit sniffer rebooting after more than 35.8 min of uptime but before 71.6 min looks like a wrap.
 */
export class SnifferClock {
  #wraps = 0n;
  #previous: bigint | undefined;
  #counter: 'unknown' | '64-bit' = 'unknown';

  get wraps(): number {
    return Number(this.#wraps);
  }

  get counter(): 'unknown' | '64-bit' {
    return this.#counter;
  }

  /** Returns the unwrapped µs and whether the printed value stepped backwards without a wrap. */
  unwrap(printed: bigint): { us: bigint; backwards: boolean } {
    if (this.#counter === '64-bit' || printed >= TWO_32) {
      this.#counter = '64-bit';
      const backwards = this.#previous !== undefined && printed < this.#previous;
      this.#previous = printed;
      return { us: printed, backwards };
    }
    const raw = printed < 0n ? printed + TWO_32 : printed;
    let backwards = false;
    if (this.#previous !== undefined && raw < this.#previous) {
      if (this.#previous - raw > TWO_31) this.#wraps += 1n;
      else backwards = true;
    }
    this.#previous = raw;
    return { us: raw + this.#wraps * TWO_32, backwards };
  }
}

/**
 * The one pairing of sniffer time and bench time (ms), taken when the first frame line was parsed.
 * The bench time is read after the line crossed USB and the parser, so every mapped time is late
 * by that same delivery latency (never early); durations between sniffer stamps do not carry it.
 */
export interface SnifferTimeAnchor {
  snifferUs: bigint;
  benchMs: number;
  line: number;
}

export interface ReceivedLineStats {
  lines: number;
  frames: number;
  /** Every line that did not yield a frame and was not a command response. */
  nonFrameLines: number;
  /** Of those, lines that looked like a frame line but could not be parsed: a frame was lost. */
  malformedLines: number;
  /** Printed times that stepped backwards without being a wrap (reported, not corrected). */
  backwardsTimes: number;
  timeWraps: number;
  bytesReceived: number;
}

export interface ReceivedLineReaderOptions {
  where: string;
  log: DriverLog;
  now: () => number;
  /** The channel to label a frame with, read when its line is parsed. */
  channel: () => number;
  /** Offered every non-frame line first; true when the owner took it (a radio's command response). */
  claimLine?: (text: string, line: number) => boolean;
  /** Told of every line that was neither a frame nor claimed: a frame line may have been lost in it. */
  unreadLine?: (line: UnreadLine) => void;
}

/** A line from the device that was neither a frame nor an answer: counted, logged, never a crash. */
export interface UnreadLine {
  line: number;
  /** The line as received (latin1), without its line end. */
  text: string;
  /** Why it is not a frame (a malformed frame line) or `not a frame line`. */
  reason: string;
  preview: string;
  /** True when it looked like a frame line: a frame was certainly lost. */
  malformed: boolean;
}

const preview = (text: string): string => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

type Subscriber = { push(frame: SniffedFrame): void; end(fault?: RigFault): void };

/**
 * Reads `received:` lines off a serial line: splits lines, parses frames, unwraps time, keeps
 * the bench anchor, counts and logs everything else, and tells when all received bytes are parsed.
 */
export class ReceivedLineReader {
  readonly stats: ReceivedLineStats = { lines: 0, frames: 0, nonFrameLines: 0, malformedLines: 0, backwardsTimes: 0, timeWraps: 0, bytesReceived: 0 };
  #clock = new SnifferClock();
  #anchor: SnifferTimeAnchor | undefined;
  #subscribers = new Set<Subscriber>();
  #throughLastNewline = 0;
  #consumed = 0;
  #drainWaiters: Array<{ atLeast: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  #ended: { fault?: RigFault } | undefined;
  #ending = false;

  constructor(link: SerialLink, private readonly options: ReceivedLineReaderOptions) {
    // Counted before the parser sees the chunk, so drain() knows which bytes complete a line.
    link.port.on('data', (chunk: Buffer) => {
      const newline = chunk.lastIndexOf(0x0a);
      if (newline >= 0) this.#throughLastNewline = this.stats.bytesReceived + newline + 1;
      this.stats.bytesReceived += chunk.length;
      this.#settleDrains();
    });
    const lines = link.port.pipe(new DelimiterParser({ delimiter: '\n' }));
    lines.on('data', (line: Buffer) => this.#onLine(line));
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#anchor;
  }

  /** Bench time (ms) of a sniffer stamp, through the anchor; see SnifferTimeAnchor for its uncertainty. */
  toBenchTime(snifferUs: bigint): number {
    if (!this.#anchor) throw new Error(`${this.options.where}: no frame received yet, so sniffer time has no bench anchor`);
    return this.#anchor.benchMs + Number(snifferUs - this.#anchor.snifferUs) / 1000;
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    const subscriber: Subscriber = { push: listener, end() {} };
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** Frames from now on; ends when the line is closed, throws the fault if it was lost. */
  frames(): AsyncIterableIterator<SniffedFrame> {
    const queue: SniffedFrame[] = [];
    let ended: { fault?: RigFault } | undefined = this.#ended;
    let wake: (() => void) | undefined;
    const subscriber: Subscriber = {
      push(frame) { queue.push(frame); wake?.(); },
      end(fault) { ended = { fault }; wake?.(); },
    };
    if (!ended) this.#subscribers.add(subscriber);
    const subscribers = this.#subscribers;
    return {
      [Symbol.asyncIterator]() { return this; },
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

  /**
   * Resolves when every line received so far has been parsed and delivered; with `receivedBytes`
   * (the far side's byte count, on the virtual bench) it also waits for those bytes to arrive.
   * A trailing partial line is not waited for: it cannot be parsed until its newline comes.
   */
  drain(options: { receivedBytes?: number } = {}): Promise<void> {
    if (this.#ended) return this.#ended.fault ? Promise.reject(this.#ended.fault) : Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push({ atLeast: options.receivedBytes ?? 0, resolve, reject });
      this.#settleDrains();
    });
  }

  /** Ends iterators and pending drains: with a fault they reject, without one they finish. */
  end(fault?: RigFault): void {
    if (this.#ending) return;
    this.#ending = true;
    // Lines already in the stream and parser buffers are delivered before the end.
    setImmediate(() => {
      this.#ended = { fault };
      for (const s of this.#subscribers) s.end(fault);
      this.#subscribers.clear();
      for (const w of this.#drainWaiters.splice(0)) fault ? w.reject(fault) : w.resolve();
    });
  }

  #settleDrains(): void {
    if (this.#ended || this.#consumed < this.#throughLastNewline) return;
    this.#drainWaiters = this.#drainWaiters.filter((w) => {
      if (this.stats.bytesReceived < w.atLeast) return true;
      w.resolve();
      return false;
    });
  }

  #onLine(raw: Buffer): void {
    const lineNo = ++this.stats.lines;
    // latin1 keeps one char per byte, so garbage never throws and previews stay faithful.
    const text = raw.toString('latin1').replace(/\r+$/, '');
    try {
      this.#handle(text, lineNo);
    } finally {
      this.#consumed += raw.length + 1;
      this.#settleDrains();
    }
  }

  #handle(text: string, lineNo: number): void {
    const { where, log } = this.options;
    const parsed = parseReceivedLine(text);
    if (parsed.kind === 'frame') {
      const { us, backwards } = this.#clock.unwrap(parsed.printedTime);
      this.stats.timeWraps = this.#clock.wraps;
      if (backwards) {
        this.stats.backwardsTimes++;
        log.warn('sniffer time stepped backwards (not a wrap): kept as printed', { where, line: lineNo, printedTime: String(parsed.printedTime) });
      }
      this.#anchor ??= { snifferUs: us, benchMs: this.options.now(), line: lineNo };
      const frame: SniffedFrame = { frame: parsed.psdu, rssi: parsed.rssi, lqi: parsed.lqi, channel: this.options.channel(), snifferUs: us, line: lineNo };
      this.stats.frames++;
      for (const s of this.#subscribers) {
        try {
          s.push(frame);
        } catch (error) {
          log.warn('frame listener threw', { where, line: lineNo, error: String(error) });
        }
      }
      return;
    }
    if (parsed.kind === 'other' && this.options.claimLine?.(text, lineNo)) return;
    this.stats.nonFrameLines++;
    const unread: UnreadLine = parsed.kind === 'malformed'
      ? { line: lineNo, text, reason: parsed.reason, preview: preview(text), malformed: true }
      : { line: lineNo, text, reason: 'not a frame line', preview: preview(text), malformed: false };
    if (unread.malformed) {
      this.stats.malformedLines++;
      log.warn('malformed frame line: frame lost', { where, line: lineNo, reason: unread.reason, preview: unread.preview });
    } else {
      log.info('line is not a frame', { where, line: lineNo, preview: unread.preview });
    }
    this.options.unreadLine?.(unread);
  }
}

export interface Nrf802154SnifferOptions {
  /** Names the sniffer in faults and logs; defaults to `sniffer <path>`. */
  where?: string;
  log?: DriverLog;
  /** Bench time in ms; the anchor reads it once, on the first frame. */
  now?: () => number;
}

export type SnifferState = 'idle' | 'receiving' | 'stopped' | 'closed';

const CHANNELS = { min: 11, max: 26 };

/**
 * Consecutive lines, while receiving, that are neither frames nor answers before the sniffer counts
 * as sending garbage (wrong firmware, a corrupted USB link): a live sniffer on a quiet channel
 * prints nothing at all, and even its boot banner and prompts are a handful of lines.
 */
export const GARBAGE_LINE_LIMIT = 16;

/** The liveness probe (PROTOCOL.md §1): a bare `channel` makes the shell print the channel it is tuned to. */
export interface SnifferProbe {
  /** How often to ask, wall time. */
  everyMs: number;
  /** How long the answer may take before the sniffer counts as hung. */
  answerWithinMs: number;
}

/** The nRF Sniffer for 802.15.4 on one serial line. */
export class Nrf802154Sniffer {
  readonly where: string;
  #reader: ReceivedLineReader;
  #state: SnifferState = 'idle';
  #channel: number | undefined;
  #fault: RigFault | undefined;
  #faultListeners = new Set<(fault: RigFault) => void>();
  #unreadListeners = new Set<(line: UnreadLine) => void>();
  /** Lines in a row, while receiving, that were neither frames nor answers. */
  #garbageRun = 0;
  #probe: { timer: NodeJS.Timeout; sentAt?: number } | undefined;

  /** Opens the sniffer by path or USB serial number (binding: MockBinding or a pty on the virtual bench). */
  static async open(
    location: SerialLocation,
    options: Nrf802154SnifferOptions & { binding?: SerialBinding; baudRate?: number } = {},
  ): Promise<Nrf802154Sniffer> {
    const link = await openSerialLink(location, { role: 'sniffer', where: options.where, binding: options.binding, baudRate: options.baudRate, log: options.log });
    return new Nrf802154Sniffer(link, options);
  }

  constructor(readonly link: SerialLink, options: Nrf802154SnifferOptions = {}) {
    this.where = options.where ?? link.where;
    this.#reader = new ReceivedLineReader(link, {
      where: this.where,
      log: options.log ?? silentLog,
      now: options.now ?? Date.now,
      channel: () => this.#channel ?? 0,
      claimLine: (text) => this.#onProbeAnswer(text),
      unreadLine: (line) => this.#onUnreadLine(line),
    });
    this.#reader.onFrame(() => (this.#garbageRun = 0));
    link.onLost((lost) => this.#onLinkLost(lost));
  }

  get state(): SnifferState {
    return this.#state;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get stats(): Readonly<ReceivedLineStats> {
    return this.#reader.stats;
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#reader.anchor;
  }

  /** The fault that stopped this sniffer, if any. */
  get fault(): RigFault | undefined {
    return this.#fault;
  }

  /** The vendor start sequence: sleep, shell echo off, channel N, receive. */
  async start(channel: number): Promise<void> {
    if (!Number.isInteger(channel) || channel < CHANNELS.min || channel > CHANNELS.max) {
      throw new Error(`${this.where}: channel ${channel} is not a 2.4 GHz 802.15.4 channel (11–26)`);
    }
    this.#assertUsable();
    await this.#command('sleep');
    await this.#command('shell echo off');
    // Relabelled once `sleep` is sent: only lines still in flight from an earlier start() could carry the wrong channel.
    this.#channel = channel;
    await this.#command(`channel ${channel}`);
    await this.#command('receive');
    this.#state = 'receiving';
    this.#garbageRun = 0;
  }

  /**
   * Asks the sniffer every `everyMs` (wall time, so on hardware only) whether its shell is alive:
   * a bare `channel` must be answered with the tuned channel within `answerWithinMs`. No answer is
   * a hung firmware, another channel a sniffer that restarted and lost its settings: a RigFault.
   */
  startProbe(probe: SnifferProbe): void {
    this.stopProbe();
    const timer = setInterval(() => {
      if (this.#state !== 'receiving' || this.#fault) return;
      const p = this.#probe!;
      if (p.sentAt !== undefined && performance.now() - p.sentAt > probe.answerWithinMs) {
        return this.#failWith(new RigFault('sniffer-stopped', this.where, `did not answer a "channel" probe within ${probe.answerWithinMs} ms: its firmware hangs`,
          'Re-plug the sniffer (its firmware stopped answering); frames may have been missed, so re-run the test.'));
      }
      if (p.sentAt === undefined) {
        p.sentAt = performance.now();
        this.#command('channel').catch(() => {});
      }
    }, Math.max(probe.everyMs, probe.answerWithinMs / 2));
    // A watchdog must not keep the process alive on its own.
    timer.unref();
    this.#probe = { timer };
  }

  stopProbe(): void {
    if (this.#probe) clearInterval(this.#probe.timer);
    this.#probe = undefined;
  }

  /** Called with every line that was neither a frame nor an answer (the capture logs them as evidence). */
  onUnreadLine(listener: (line: UnreadLine) => void): () => void {
    this.#unreadListeners.add(listener);
    return () => this.#unreadListeners.delete(listener);
  }

  /** The vendor stop: an empty line (ends any half-typed command), then sleep. */
  async stop(): Promise<void> {
    this.#assertUsable();
    await this.#command('');
    await this.#command('sleep');
    this.#state = 'idle';
  }

  /** Stops the radio if it can and closes the line; iterators finish without a fault. */
  async close(): Promise<void> {
    this.stopProbe();
    if (this.#state === 'closed') return;
    if (this.#state === 'receiving') await this.stop().catch(() => {});
    this.#state = this.#fault ? 'stopped' : 'closed';
    await this.link.close();
    this.#reader.end(this.#fault);
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#reader.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#reader.frames();
  }

  onFault(listener: (fault: RigFault) => void): () => void {
    if (this.#fault) queueMicrotask(() => listener(this.#fault!));
    else this.#faultListeners.add(listener);
    return () => this.#faultListeners.delete(listener);
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#reader.toBenchTime(snifferUs);
  }

  /** The virtual clock's drain barrier: see ReceivedLineReader.drain. */
  drain(options?: { receivedBytes?: number }): Promise<void> {
    return this.#reader.drain(options);
  }

  #assertUsable(): void {
    if (this.#fault) throw this.#fault;
    if (this.#state === 'closed') throw new Error(`${this.where}: sniffer is closed`);
  }

  #command(text: string): Promise<void> {
    if (this.#state !== 'receiving') this.#echoes.add(text.trim());
    return this.link.write(`${text}\r\n`);
  }

  /** Commands sent outside receiving (the start and stop sequences): their echoes are expected lines. */
  readonly #echoes = new Set<string>();

  /** The probe's answer: the bare channel number (after a prompt, if the shell prints one). */
  #onProbeAnswer(text: string): boolean {
    const p = this.#probe;
    const m = /^(?:.*[$>#]\s*)?(\d{1,2})\s*$/.exec(text);
    if (!p || p.sentAt === undefined || !m) return false;
    p.sentAt = undefined;
    this.#garbageRun = 0;
    const heard = Number(m[1]);
    if (this.#state === 'receiving' && heard !== this.#channel) {
      this.#failWith(new RigFault('sniffer-stopped', this.where, `answered the "channel" probe with channel ${heard} while tuned to ${this.#channel}: it restarted and lost its settings`,
        'Check the sniffer\'s USB power and cable (it rebooted); frames may have been missed, so re-run the test.'));
    }
    return true;
  }

  #onUnreadLine(line: UnreadLine): void {
    // The shell echoing our own start commands (echo is on until `shell echo off` lands) loses no frame.
    if (this.#echoes.has(line.text.replace(/^.*?[$>#]\s*/, '').trim())) return;
    for (const listener of this.#unreadListeners) listener(line);
    if (this.#state !== 'receiving' || this.#fault) return;
    if (++this.#garbageRun >= GARBAGE_LINE_LIMIT) {
      this.#failWith(new RigFault('sniffer-garbled', this.where, `sent ${this.#garbageRun} lines in a row that are neither frames nor answers (last: ${line.preview})`,
        'Check the sniffer runs the nRF Sniffer for 802.15.4 firmware and its USB link is sound (re-plug, another cable or port); frames were lost, so re-run the test.'));
    }
  }

  #onLinkLost(lost: RigFault): void {
    const wasReceiving = this.#state === 'receiving';
    this.#failWith(wasReceiving
      ? new RigFault('sniffer-stopped', this.where, `stopped while receiving on channel ${this.#channel}: ${lost.message}`,
        'Frames after this point were not captured: re-plug or replace the sniffer and re-run the test.', { cause: lost })
      : lost);
  }

  /** The first fault stops the sniffer for good: a reopened driver is a new one. */
  #failWith(fault: RigFault): void {
    if (this.#fault) return;
    this.#fault = fault;
    this.stopProbe();
    this.#state = 'stopped';
    this.#reader.end(this.#fault);
    for (const listener of this.#faultListeners) listener(this.#fault);
    this.#faultListeners.clear();
  }
}
