// What the harness needs of any sniffer, whatever its kind and wire format (text lines or binary
// frames): frames stamped with the sniffer's clock, its fault, and the drain barrier.
import type { z } from 'zod';
import { RigFault } from '../faults.ts';
import type { SerialBinding, SerialLocation } from '../serial.ts';

/** One frame as heard on air, FCS removed, stamped with the sniffer's own clock. */
export interface SniffedFrame {
  /** The PSDU without FCS. */
  frame: Uint8Array;
  /** dBm, as the radio reported it. */
  rssi: number;
  lqi: number;
  /** The channel the driver had tuned to when the frame arrived. */
  channel: number;
  /** Microseconds on the sniffer's own clock, as one monotonic count. */
  snifferUs: bigint;
  /** 1-based number of the unit (a line, a binary frame) on this device's stream, so evidence can point at the raw input. */
  line: number;
}

/**
 * The one pairing of sniffer time and bench time (ms), taken when the first frame was parsed.
 * The bench time is read after the frame crossed USB and the parser, so every mapped time is late
 * by that same delivery latency (never early); durations between sniffer stamps do not carry it.
 */
export interface SnifferTimeAnchor {
  snifferUs: bigint;
  benchMs: number;
  line: number;
}

/** Input from the device that was neither a frame nor an answer: counted, logged, never a crash; a frame may have been lost in it. */
export interface UnreadInput {
  /** The unit's number on the stream (a line, or a binary frame). */
  line: number;
  /** The input as received (latin1), without its terminator. */
  text: string;
  /** Why it is not a frame (a malformed frame) or `not a frame line`. */
  reason: string;
  preview: string;
  /** True when it looked like a frame: a frame was certainly lost. */
  malformed: boolean;
}

/** The hardware liveness probe: how often to ask the sniffer whether it lives, and how long its answer may take. */
export interface SnifferProbe {
  /** How often to ask, wall time. */
  everyMs: number;
  /** How long the answer may take before the sniffer counts as hung. */
  answerWithinMs: number;
}

/** What a capture reads frames from: a sniffer, or anything else that hears the air. */
export interface FrameSource {
  readonly where: string;
  onFrame(listener: (frame: SniffedFrame) => void): () => void;
  toBenchTime(snifferUs: bigint): number;
  readonly fault: RigFault | undefined;
  /** Input that was neither frames nor answers: each may be a lost frame. */
  onUnread?(listener: (input: UnreadInput) => void): () => void;
}

/** A sniffer's lost serial link as its fault: while it was receiving, the frames after it were not captured. */
export function linkLostFault(where: string, receivingOn: number | undefined, lost: RigFault): RigFault {
  if (receivingOn === undefined) return lost;
  return new RigFault(
    'sniffer-stopped',
    where,
    `stopped while receiving on channel ${receivingOn}: ${lost.message}`,
    'Frames after this point were not captured: re-plug or replace the sniffer and re-run the test.',
    { cause: lost },
  );
}

/** Drain barrier of the virtual clock: what a driver has parsed of what the far side wrote. */
export interface Drainable {
  /**
   * Resolves when every complete unit (line, binary frame) received so far has been parsed and
   * delivered; with `receivedBytes` (the far side's byte count, on the virtual bench) it also waits
   * for those bytes to arrive. Rejects with the fault that ended the stream.
   */
  drain(options?: { receivedBytes?: number }): Promise<void>;
}

/** A sniffer driver of any kind (drivers/sniffer/registry.ts). */
export interface Sniffer extends FrameSource, Drainable {
  /** Where its device was opened (e.g. the serial path it was found at). */
  readonly location: string;
  readonly channel: number | undefined;
  /** The firmware as the device reported itself, for the report's test equipment; absent where its protocol has no way to ask. */
  readonly firmware?: string;
  /** Times its clock counter wrapped (and was unwrapped) so far; absent where the counter cannot wrap in practice. */
  readonly clockWraps?: number;
  /** Tunes to `channel` and starts receiving. */
  start(channel: number): Promise<void>;
  /** Starts the hardware liveness probe (never on the virtual bench, whose faults are injected below the wire). */
  startProbe(probe: SnifferProbe): void;
  frames(): AsyncIterableIterator<SniffedFrame>;
  /** Stops receiving and closes the device; iterators finish, with the fault if it failed. */
  close(): Promise<void>;
}

/** What the bench gives a sniffer or radio it opens. */
export interface PartOpening {
  /** Names the part in faults and logs, e.g. `sniffer han`. */
  readonly where: string;
  /** Bench time in ms: the time anchor reads it on the first frame. */
  readonly now: () => number;
  /** The serial binding (MockBinding on the virtual bench's mock transport); absent: real ports. */
  readonly binding?: SerialBinding;
}

/** One sniffer kind (drivers/sniffer/registry.ts); `Fields` is its own zod shape beside `id`, `kind`, `channel`, `path` and `usbSerialNumber`. */
export interface SnifferKind<Fields extends z.ZodRawShape = z.ZodRawShape> {
  /** The rig file's `kind` value. */
  readonly kind: string;
  /** What it is, for the rig-file hint, e.g. `nRF52840 dongle with the 802.15.4 sniffer firmware`. */
  readonly title: string;
  readonly fields: Fields;
  /** Opens the sniffer at its serial location; `sniffer` holds its own fields. */
  open(location: SerialLocation, sniffer: z.output<z.ZodObject<Fields>>, how: PartOpening): Promise<Sniffer>;
  /** The name of its virtual twin in sim/sniffer-registry.ts: the firmware the virtual bench boots for it. */
  readonly virtualTwin: string;
}

/** Declares a sniffer kind with its field types inferred from its zod shape. */
export function snifferKind<Fields extends z.ZodRawShape>(kind: SnifferKind<Fields>): SnifferKind<Fields> {
  return kind;
}
