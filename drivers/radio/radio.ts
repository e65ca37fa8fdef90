// What the harness needs of the rig radio, whatever its kind (drivers/radio/registry.ts): it
// transmits as the HHT and reports what it hears, like a sniffer.
import type { z } from 'zod';
import type { RigFault } from '../faults.ts';
import type { SerialLocation } from '../serial.ts';
import type { Drainable, PartOpening, SniffedFrame } from '../sniffer/sniffer.ts';

export interface Radio extends Drainable {
  /** Names the radio in faults and logs. */
  readonly where: string;
  /** Where its device was opened (e.g. the serial path it was found at). */
  readonly location: string;
  /** Why the radio cannot be used right now (its device gone, a command unanswered), else undefined. */
  readonly fault: RigFault | undefined;
  readonly channel: number | undefined;
  readonly receiving: boolean;
  setChannel(channel: number): Promise<void>;
  /** Its own IEEE address (`00:0d:6f:…` or 16 hex digits, most significant first): address recognition and MAC ACKs. */
  setIeee(ieee: string): Promise<void>;
  setPan(pan: number): Promise<void>;
  /** The HAN's PAN and the HHT's short address once the CH gave it one (a radio that acknowledges in hardware needs them); optional. */
  setHanAddress?(address: { pan: number; short: number }): Promise<void>;
  /** What the device says it runs (e.g. an RCP's NCP_VERSION), for the report's test equipment; optional. */
  readonly firmware?: string;
  /** Asks the radio again who it is (firmware version, protocol, capabilities): `gbcs-rig check`; optional. Throws its RigFault. */
  identify?(): Promise<string>;
  /** Starts or stops reporting received frames (onFrame / frames). */
  receive(on: boolean): Promise<void>;
  /** Puts one PSDU (without FCS) on air; resolves once the radio says it went out. */
  transmit(psdu: Uint8Array): Promise<void>;
  /** Starts the hardware liveness probe every `everyMs` (never on the virtual bench). */
  startProbe(everyMs: number): void;
  onFrame(listener: (frame: SniffedFrame) => void): () => void;
  frames(): AsyncIterableIterator<SniffedFrame>;
  toBenchTime(snifferUs: bigint): number;
  close(): Promise<void>;
}

/** One rig radio kind (drivers/radio/registry.ts); `Fields` is its own zod shape beside `kind`, `channel`, `ieee`, `path` and `usbSerialNumber`. */
export interface RadioKind<Fields extends z.ZodRawShape = z.ZodRawShape> {
  /** The rig file's `kind` value. */
  readonly kind: string;
  /** What it is, for the rig-file hint. */
  readonly title: string;
  readonly fields: Fields;
  /** Opens the radio at its serial location; `radio` holds its own fields. */
  open(location: SerialLocation, radio: z.output<z.ZodObject<Fields>>, how: PartOpening): Promise<Radio>;
  /** The name of its virtual twin in sim/radio-registry.ts. */
  readonly virtualTwin: string;
}

/** Declares a radio kind with its field types inferred from its zod shape. */
export function radioKind<Fields extends z.ZodRawShape>(kind: RadioKind<Fields>): RadioKind<Fields> {
  return kind;
}
