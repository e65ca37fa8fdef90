// The virtual twin of every sniffer kind (drivers/sniffer/registry.ts names each kind's twin): the
// firmware the virtual bench boots on each sniffer's serial line. sim/ never imports drivers/;
// only harness/bench.ts joins a kind to its twin.
import type { AirReception, DeviceLine, UsbIdentity } from './serial-devices.ts';
import { VirtualNrfSnifferFirmware } from './serial-devices.ts';
import { VirtualTiSnifferFirmware } from './ti-sniffer.ts';
import { otRcpTwin } from './ot-rcp-firmware.ts';

/** A virtual sniffer's firmware as the virtual bench drives it: air in, bytes out, faults injected. */
export interface VirtualSnifferFirmware {
  /** The channel its host tuned it to; undefined: none yet (it hears nothing). */
  readonly channel: number | undefined;
  /** Bytes written to its line so far: what the drain barrier waits for. */
  readonly bytesWritten: number;
  /** A frame on air (no FCS); true if the sniffer reported it to its host. */
  deliver(frame: Uint8Array, reception: AirReception): boolean;
  /** Fault: from now on its output arrives mangled. */
  garble(): void;
  /** Fault: 'unplug' makes the host's port vanish; 'silent' hangs the firmware. */
  stop(mode?: 'unplug' | 'silent'): Promise<void>;
}

export interface VirtualSnifferTwin {
  /** Its name, as a kind's `virtualTwin` gives it. */
  readonly twin: string;
  /** The USB identity its dongle shows on the mock hub, beside the serial number the bench gives it. */
  readonly usb?: UsbIdentity;
  /** Boots the firmware on the device side of a serial line. */
  boot(line: DeviceLine): VirtualSnifferFirmware;
}

const nrf802154: VirtualSnifferTwin = {
  twin: 'nrf802154',
  usb: { vendorId: '1915', productId: '154b' },
  boot: (line) => new VirtualNrfSnifferFirmware(line),
};

// TI's XDS110 debug probe carries the LaunchPad's UART.
const tiPs2: VirtualSnifferTwin = {
  twin: 'ti-ps2',
  usb: { vendorId: '0451', productId: 'bef3' },
  boot: (line) => new VirtualTiSnifferFirmware(line),
};

/** One row per twin. */
const TWINS = new Map<string, VirtualSnifferTwin>([nrf802154, tiPs2, otRcpTwin].map((t) => [t.twin, t]));

export function snifferTwinNamed(twin: string): VirtualSnifferTwin | undefined {
  return TWINS.get(twin);
}

/** Adds a twin that is not a row above (a lab's own kind, or a test's). */
export function registerSnifferTwin(twin: VirtualSnifferTwin): void {
  if (TWINS.has(twin.twin)) throw new Error(`virtual sniffer twin "${twin.twin}" is registered already`);
  TWINS.set(twin.twin, twin);
}
