// The virtual twin of every rig radio kind (drivers/radio/registry.ts names each kind's twin): the
// firmware the virtual bench boots on the radio's serial line. sim/ never imports drivers/; only
// harness/bench.ts joins a kind to its twin.
import type { AirReception, DeviceLine, UsbIdentity } from './serial-devices.ts';
import { VirtualRigRadioFirmware } from './serial-devices.ts';
import { otRcpTwin } from './ot-rcp-firmware.ts';

/** A virtual rig radio's firmware as the virtual bench drives it. */
export interface VirtualRadioFirmware {
  /** The channel its host tuned it to; undefined: none yet (it hears nothing). */
  readonly channel: number | undefined;
  /** Bytes written to its line so far: what the drain barrier waits for. */
  readonly bytesWritten: number;
  /** A frame on air (no FCS); true if the radio reported it to its host. */
  deliver(frame: Uint8Array, reception: AirReception): boolean;
  /** Called with each PSDU (no FCS) the host transmits, and its channel; returns the unsubscribe. */
  onTransmit(listener: (psdu: Uint8Array, channel: number) => void): () => void;
  /** Fault: stop answering the host (frames still flow). */
  mute(): void;
}

export interface VirtualRadioTwin {
  /** Its name, as a kind's `virtualTwin` gives it. */
  readonly twin: string;
  readonly usb?: UsbIdentity;
  boot(line: DeviceLine): VirtualRadioFirmware;
}

const gbcsRigRadio: VirtualRadioTwin = {
  twin: 'gbcs-rig-radio',
  boot: (line) => new VirtualRigRadioFirmware(line),
};

/** One row per twin. */
const TWINS = new Map<string, VirtualRadioTwin>([gbcsRigRadio, otRcpTwin].map((t) => [t.twin, t]));

export function radioTwinNamed(twin: string): VirtualRadioTwin | undefined {
  return TWINS.get(twin);
}

/** Adds a twin that is not a row above (a lab's own kind, or a test's). */
export function registerRadioTwin(twin: VirtualRadioTwin): void {
  if (TWINS.has(twin.twin)) throw new Error(`virtual radio twin "${twin.twin}" is registered already`);
  TWINS.set(twin.twin, twin);
}
