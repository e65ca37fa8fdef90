// The `received:` frame line (PROTOCOL.md §1): the nRF Sniffer for 802.15.4 prints it, and the
// gbcs-rig radio protocol reuses it, so both drivers read their serial lines with this one reader.
import { DelimiterParser } from '@serialport/parser-delimiter';
import type { RigFault } from './faults.ts';
import type { DriverLog, SerialLink } from './serial.ts';
import { FrameFeed } from './sniffer/frame-feed.ts';
import type { SniffedFrame, SnifferTimeAnchor, UnreadInput } from './sniffer/sniffer.ts';

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
  if (!m)
    return /received:/i.test(text)
      ? { kind: 'malformed', reason: 'a "received:" line that does not match the frame line format' }
      : { kind: 'other' };
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
  unreadLine?: (line: UnreadInput) => void;
}

const preview = (text: string): string => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

/**
 * Reads `received:` lines off a serial line: splits lines, parses frames, unwraps time, counts and
 * logs everything else, and feeds the frames to a FrameFeed (listeners, time anchor, drain barrier).
 */
export class ReceivedLineReader {
  readonly stats: ReceivedLineStats = {
    lines: 0,
    frames: 0,
    nonFrameLines: 0,
    malformedLines: 0,
    backwardsTimes: 0,
    timeWraps: 0,
    bytesReceived: 0,
  };
  readonly #feed: FrameFeed;
  #clock = new SnifferClock();
  #throughLastNewline = 0;
  #consumed = 0;

  constructor(
    link: SerialLink,
    private readonly options: ReceivedLineReaderOptions,
  ) {
    this.#feed = new FrameFeed({
      where: options.where,
      log: options.log,
      now: options.now,
      // A trailing partial line cannot be parsed until its newline comes: only bytes through the last newline count.
      position: () => ({ received: this.stats.bytesReceived, caughtUp: this.#consumed >= this.#throughLastNewline }),
    });
    // Counted before the parser sees the chunk, so drain() knows which bytes complete a line.
    link.port.on('data', (chunk: Buffer) => {
      const newline = chunk.lastIndexOf(0x0a);
      if (newline >= 0) this.#throughLastNewline = this.stats.bytesReceived + newline + 1;
      this.stats.bytesReceived += chunk.length;
      this.#feed.settleDrains();
    });
    const lines = link.port.pipe(new DelimiterParser({ delimiter: '\n' }));
    lines.on('data', (line: Buffer) => this.#onLine(line));
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#feed.anchor;
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#feed.toBenchTime(snifferUs);
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#feed.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#feed.frames();
  }

  /** The drain barrier (see Drainable): lines received so far, parsed and delivered. */
  drain(options: { receivedBytes?: number } = {}): Promise<void> {
    return this.#feed.drain(options);
  }

  /** Ends iterators and pending drains: with a fault they reject, without one they finish. */
  end(fault?: RigFault): void {
    this.#feed.end(fault);
  }

  #onLine(raw: Buffer): void {
    const lineNo = ++this.stats.lines;
    // latin1 keeps one char per byte, so garbage never throws and previews stay faithful.
    const text = raw.toString('latin1').replace(/\r+$/, '');
    try {
      this.#handle(text, lineNo);
    } finally {
      this.#consumed += raw.length + 1;
      this.#feed.settleDrains();
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
        log.warn('sniffer time stepped backwards (not a wrap): kept as printed', {
          where,
          line: lineNo,
          printedTime: String(parsed.printedTime),
        });
      }
      this.stats.frames++;
      this.#feed.publish({
        frame: parsed.psdu,
        rssi: parsed.rssi,
        lqi: parsed.lqi,
        channel: this.options.channel(),
        snifferUs: us,
        line: lineNo,
      });
      return;
    }
    if (parsed.kind === 'other' && this.options.claimLine?.(text, lineNo)) return;
    this.stats.nonFrameLines++;
    const unread: UnreadInput =
      parsed.kind === 'malformed'
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
