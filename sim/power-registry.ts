// The virtual twin of every relay vendor (drivers/power/registry.ts names each vendor's twin): the
// virtual bench starts one virtual relay device per relay device the rig file uses. sim/ never
// imports drivers/; only harness/bench.ts joins a vendor to its twin.
import { VirtualShellyGen2, VirtualTasmotaRelay, type PowerListener } from './tasmota-device.ts';

/** A virtual relay device on the bench broker, with the fault knobs the virtual bench turns. */
export interface VirtualRelayDevice {
  /** Fault: switch, but never report it. */
  silent: boolean;
  /** Fault: report the opposite of the contact's state. */
  reportsWrongState: boolean;
  /** Fault: its button pressed (a contact toggled by no command of the rig's), in the vendor's channel numbering. */
  pressButton(channel: number): void;
  stop(): Promise<void>;
}

export interface VirtualRelayTwin {
  /** Its name, as a vendor's `virtualTwin` gives it. */
  readonly twin: string;
  /**
   * Starts the relay device `device` on the broker at `url`, with at least the contacts the rig
   * uses (`channels`, in the vendor's numbering); `onPower` gets a contact in that same numbering.
   */
  start(options: { url: string; device: string; channels: readonly number[]; onPower: PowerListener }): Promise<VirtualRelayDevice>;
}

const tasmota: VirtualRelayTwin = {
  twin: 'tasmota',
  start: (o) => VirtualTasmotaRelay.start({ url: o.url, topic: o.device, relays: Math.max(1, ...o.channels), onPower: o.onPower }),
};

const shellyGen2: VirtualRelayTwin = {
  twin: 'shelly-gen2',
  start: (o) => VirtualShellyGen2.start({ url: o.url, prefix: o.device, switches: Math.max(...o.channels) + 1, onPower: o.onPower }),
};

/** One row per twin. */
const TWINS = new Map<string, VirtualRelayTwin>([tasmota, shellyGen2].map((t) => [t.twin, t]));

export function relayTwinNamed(twin: string): VirtualRelayTwin | undefined {
  return TWINS.get(twin);
}

/** Adds a twin that is not a row above (a lab's own vendor, or a test's). */
export function registerRelayTwin(twin: VirtualRelayTwin): void {
  if (TWINS.has(twin.twin)) throw new Error(`virtual relay twin "${twin.twin}" is registered already`);
  TWINS.set(twin.twin, twin);
}
