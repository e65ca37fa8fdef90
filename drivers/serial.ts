// A serial line to one bench device (sniffer or rig radio): opened by path or by USB serial
// number, DTR asserted, and a port that vanishes mid-run (USB re-enumeration) reported as a
// RigFault, never as a device failure. The binding is injectable so the virtual bench can put
// serialport's MockBinding, or a pty, below the very same code.
import { SerialPort } from 'serialport';
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface, PortInfo } from '../types/serialport.ts';
import { RigFault, type RigFaultKind } from './faults.ts';

/** A serialport binding: bindings-cpp on hardware, MockBinding or similar on the virtual bench. */
export type SerialBinding = BindingInterface;

/** Where drivers write what they saw that is not evidence proper (stray lines, link trouble). */
export interface DriverLog {
  info(message: string, detail?: Record<string, unknown>): void;
  warn(message: string, detail?: Record<string, unknown>): void;
}

export const silentLog: DriverLog = { info() {}, warn() {} };

/** Which bench device sits on the line: it picks the fault kind when the device is missing. */
export type SerialDeviceRole = 'sniffer' | 'radio';

/** A device is named by its path or, when several identical dongles are plugged in, by USB serial number. */
export type SerialLocation = { readonly path: string } | { readonly serialNumber: string };

export interface OpenSerialOptions {
  role: SerialDeviceRole;
  /** Names the device in faults and logs, e.g. `sniffer "han-a"`; defaults to role + path. */
  where?: string;
  /** Real bindings (bindings-cpp) unless the virtual bench injects MockBinding or similar. */
  binding?: SerialBinding;
  /** Ignored by USB CDC devices, which is what the nRF dongle is; real UARTs need it. */
  baudRate?: number;
  log?: DriverLog;
  /** How often to ask the tty whether it was hung up (see SerialLink); default 250 ms. */
  hangupCheckMs?: number;
}

/** How DTR ended up: a pty has no modem lines, so there it is not applicable rather than a fault. */
export type DtrState = 'asserted' | 'not-applicable';

const unavailableKind: Record<SerialDeviceRole, RigFaultKind> = {
  sniffer: 'sniffer-unavailable',
  radio: 'radio-unavailable',
};

function describePort(p: PortInfo): string {
  const usb = p.vendorId && p.productId ? ` ${p.vendorId}:${p.productId}` : '';
  const maker = p.manufacturer ? ` ${p.manufacturer}` : '';
  return `${p.path} (serial ${p.serialNumber ? `"${p.serialNumber}"` : 'none'}${usb}${maker})`;
}

/** Lists ports through the binding and returns the path of the one with that USB serial number. */
export async function findPortBySerialNumber(
  serialNumber: string,
  options: { role: SerialDeviceRole; where?: string; binding?: SerialBinding },
): Promise<string> {
  const binding = options.binding ?? (SerialPort.binding as SerialBinding);
  const where = options.where ?? `${options.role} with USB serial number "${serialNumber}"`;
  const kind = unavailableKind[options.role];
  let ports: PortInfo[];
  try {
    ports = await binding.list();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    // bindings-cpp lists Linux ports by spawning `udevadm`, which containers usually lack.
    const reason =
      code === 'ENOENT'
        ? `cannot list serial ports to find USB serial number "${serialNumber}": ${(cause as Error).message} (udevadm is not installed)`
        : `cannot list serial ports to find USB serial number "${serialNumber}": ${(cause as Error).message}`;
    throw new RigFault(
      kind,
      where,
      reason,
      'Install udev (udevadm) on the bench host, or name the port by path in the rig file (e.g. /dev/serial/by-id/usb-…, which also survives re-enumeration).',
      { cause },
    );
  }
  const match = ports.filter((p) => p.serialNumber === serialNumber);
  if (match.length === 1) return match[0].path;
  const found = ports.length ? ports.map(describePort).join(', ') : 'no serial ports at all';
  if (match.length > 1) {
    throw new RigFault(
      kind,
      where,
      `${match.length} ports report USB serial number "${serialNumber}": ${match.map(describePort).join(', ')}`,
      'Two devices share a serial number (cloned dongles?): name the port by path in the rig file.',
    );
  }
  throw new RigFault(
    kind,
    where,
    `no serial port has USB serial number "${serialNumber}"; found ${found}`,
    'Check the device is plugged in and powered, and that the serial number in the rig file matches the one listed.',
  );
}

/** Opens the device's serial line, asserts DTR and watches for the port going away. */
export async function openSerialLink(location: SerialLocation, options: OpenSerialOptions): Promise<SerialLink> {
  const binding = options.binding ?? (SerialPort.binding as SerialBinding);
  const path = 'path' in location ? location.path : await findPortBySerialNumber(location.serialNumber, options);
  const where = options.where ?? `${options.role} ${path}`;
  const log = options.log ?? silentLog;
  const kind = unavailableKind[options.role];
  const port = new SerialPortStream({ binding, path, baudRate: options.baudRate ?? 115_200, autoOpen: false });
  // Before open: an 'error' without a listener would crash the process.
  port.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (cause) {
    throw new RigFault(
      kind,
      where,
      `cannot open ${path}: ${(cause as Error).message}`,
      'Check the device is plugged in, the path in the rig file, and that no other program (ModemManager, another capture) holds the port.',
      { cause },
    );
  }
  let dtr: DtrState;
  try {
    // The nRF sniffer's CDC ACM firmware stays silent until the host asserts DTR.
    await new Promise<void>((resolve, reject) => port.set({ dtr: true }, (err) => (err ? reject(err) : resolve())));
    dtr = 'asserted';
  } catch (cause) {
    const message = (cause as Error).message;
    if (!/inappropriate ioctl|ENOTTY|EINVAL/i.test(message)) {
      port.close();
      throw new RigFault(
        kind,
        where,
        `cannot assert DTR on ${path}: ${message}`,
        'Unplug and re-plug the device; a CDC ACM device that refuses DTR will not stream.',
        { cause },
      );
    }
    // A pty (virtual bench) has no modem control lines; the far side does not wait for DTR.
    dtr = 'not-applicable';
    log.info('serial line has no modem control lines, DTR not applicable', { where, path });
  }
  return new SerialLink(port, { path, where, dtr, log, hangupCheckMs: options.hangupCheckMs });
}

/**
 * An open serial line. Reads go through `port` (pipe it into a parser); writes through `write`.
 *
 * A hung-up tty (USB unplug, or the far end of a pty gone) reads as end-of-file, and bindings-cpp
 * 13 retries such reads forever instead of reporting a disconnect (serialport/bindings-cpp#162),
 * so the line also asks the tty for its modem status every `hangupCheckMs`: a hung-up tty answers
 * EIO (a live pty answers ENOTTY, a live USB device its modem bits).
 */
export class SerialLink {
  readonly path: string;
  readonly where: string;
  readonly dtr: DtrState;
  #lost: RigFault | undefined;
  #closing = false;
  #lostListeners = new Set<(fault: RigFault) => void>();
  #hangupCheck: NodeJS.Timeout | undefined;
  readonly #log: DriverLog;

  constructor(
    /** The open stream; drivers pipe it into their line parser. */
    readonly port: SerialPortStream,
    options: { path: string; where: string; dtr: DtrState; log?: DriverLog; hangupCheckMs?: number },
  ) {
    this.path = options.path;
    this.where = options.where;
    this.dtr = options.dtr;
    this.#log = options.log ?? silentLog;
    port.on('close', (err: Error | null) => this.#portLost(err ?? new Error('port closed')));
    port.on('error', (err: Error) => this.#portLost(err));
    this.#hangupCheck = setInterval(() => this.#checkHangup(), options.hangupCheckMs ?? 250);
    // A watchdog must not keep the process alive on its own.
    this.#hangupCheck.unref();
  }

  /** The fault that ended this line, if the port went away while in use. */
  get lost(): RigFault | undefined {
    return this.#lost;
  }

  get isOpen(): boolean {
    return this.port.isOpen && !this.#lost;
  }

  /** Called once if the port goes away while in use (not on `close()`); returns an unsubscribe. */
  onLost(listener: (fault: RigFault) => void): () => void {
    if (this.#lost) queueMicrotask(() => listener(this.#lost!));
    else this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Resolves once the binding has taken the bytes; rejects with the fault if the port is gone. */
  write(data: string | Uint8Array): Promise<void> {
    if (this.#lost) return Promise.reject(this.#lost);
    if (this.#closing) return Promise.reject(new Error(`${this.where}: write after close`));
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return new Promise<void>((resolve, reject) => {
      // A stream write queued on a closed port never calls back: the lost fault settles it instead.
      const off = this.onLost(reject);
      this.port.write(bytes, (err) => {
        off();
        if (err) reject(this.#lost ?? err);
        else resolve();
      });
    });
  }

  /** Closes on purpose: no fault is raised. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#hangupCheck);
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  #checkHangup(): void {
    if (this.#closing || this.#lost || !this.port.isOpen) return;
    this.port.get((err) => {
      if (err && /input\/output error|EIO|ENXIO|ENODEV|bad file descriptor/i.test(err.message)) {
        this.#portLost(new Error(`the tty was hung up (${err.message})`, { cause: err }));
      }
    });
  }

  #portLost(cause: Error): void {
    if (this.#closing || this.#lost) return;
    clearInterval(this.#hangupCheck);
    this.#lost = new RigFault(
      'serial-port-lost',
      this.where,
      `serial port ${this.path} went away: ${cause.message}`,
      'The USB device re-enumerated or was unplugged: check the cable, hub and power; name the port by USB serial number or /dev/serial/by-id so it is found again.',
      { cause },
    );
    this.#log.warn('serial port lost', { where: this.where, path: this.path, cause: cause.message });
    if (this.port.isOpen) this.port.close();
    for (const listener of this.#lostListeners) listener(this.#lost);
    this.#lostListeners.clear();
  }
}
