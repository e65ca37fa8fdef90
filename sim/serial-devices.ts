// The far side of the serial wire on the virtual bench: firmware that speaks the nRF sniffer
// shell and the gbcs-rig radio line protocol byte for byte, over either a MockBinding port or a
// pty. It is written apart from drivers/ on purpose (sim never imports drivers): two
// implementations of one protocol that must agree, as the real firmware and the driver must.
import type {
  BindingInterface,
  BindingPortInterface,
  MockBindingInterface,
  MockPortBinding,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '../types/serialport.ts';
import { SerialPort, SerialPortMock } from 'serialport';

// The same MockBinding as @serialport/binding-mock exports, reached through serialport so it types.
const MockBinding = SerialPortMock.binding as MockBindingInterface & BindingInterface<MockPortBinding>;

/** The device side of one serial line. */
export interface DeviceLine {
  /** Bytes toward the host. */
  write(data: Uint8Array | string): void;
  /** Bytes the host wrote. */
  onReceive(listener: (bytes: Buffer) => void): void;
  /** DTR as the host set it; undefined where the line has no modem lines (a pty). */
  readonly dtr: boolean | undefined;
  /** Bytes handed toward the host so far: the target of the drivers' drain({ receivedBytes }). */
  readonly bytesWritten: number;
  /** The device disappears: the host's port closes with an error, as on USB re-enumeration. */
  unplug(): Promise<void>;
}

// ——— MockBinding ————————————————————————————————————————————————————————————————

export type UsbIdentity = Partial<Pick<PortInfo, 'serialNumber' | 'vendorId' | 'productId' | 'manufacturer'>>;

/**
 * A USB hub of mock serial devices. Give `binding` to the driver; `plug()` returns the device side.
 * Wraps MockBinding because MockBinding has no hook for host writes nor a way to disconnect.
 */
export class VirtualUsbHub {
  #devices = new Map<string, MockDeviceLine>();

  readonly binding: BindingInterface = {
    list: async () => [...this.#devices.values()].filter((d) => !d.unplugged).map((d) => d.info),
    open: async (options: OpenOptions) => {
      const device = this.#devices.get(options.path);
      if (!device || device.unplugged) throw new Error(`No such file or directory, cannot open ${options.path}`);
      const inner = await MockBinding.open(options);
      return device.attach(inner);
    },
  };

  /**
   * The device comes back after an unplug, as USB re-enumeration brings it: at a new path, with the
   * same USB identity (so a host finds it again by serial number). Returns the new device side.
   */
  replug(device: MockDeviceLine): MockDeviceLine {
    if (!device.unplugged) throw new Error(`${device.info.path} is still plugged in: unplug it before replugging`);
    const { path, ...identity } = device.info;
    return this.plug(`${path}-re${++this.#replugs}`, identity);
  }

  #replugs = 0;

  /** Plugs a device in at `path` (unique per process: MockBinding keeps one global table). */
  plug(path: string, identity: UsbIdentity = {}): MockDeviceLine {
    MockBinding.createPort(path, { echo: false, record: false });
    const info: PortInfo = {
      path,
      manufacturer: identity.manufacturer,
      serialNumber: identity.serialNumber,
      pnpId: undefined,
      locationId: undefined,
      vendorId: identity.vendorId,
      productId: identity.productId,
    };
    const device = new MockDeviceLine(info);
    this.#devices.set(path, device);
    return device;
  }
}

export class MockDeviceLine implements DeviceLine {
  #port: MockWirePort | undefined;
  #listeners: Array<(bytes: Buffer) => void> = [];
  #dtr: boolean | undefined = false;
  #bytesWritten = 0;
  #unplugged = false;

  constructor(readonly info: PortInfo) {}

  get dtr(): boolean | undefined {
    return this.#dtr;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get unplugged(): boolean {
    return this.#unplugged;
  }

  /** True while a host has the port open. */
  get hostConnected(): boolean {
    return !!this.#port?.isOpen;
  }

  write(data: Uint8Array | string): void {
    // Like USB CDC with no host reading: bytes written with nobody attached are lost.
    if (this.#unplugged || !this.#port?.isOpen) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    this.#bytesWritten += bytes.length;
    this.#port.inner.emitData(bytes);
  }

  onReceive(listener: (bytes: Buffer) => void): void {
    this.#listeners.push(listener);
  }

  async unplug(): Promise<void> {
    this.#unplugged = true;
    this.#port?.disconnect();
  }

  attach(inner: MockPortBinding): MockWirePort {
    this.#port = new MockWirePort(inner, this);
    this.#dtr = false;
    return this.#port;
  }

  hostWrote(bytes: Buffer): void {
    for (const listener of this.#listeners) listener(Buffer.from(bytes));
  }

  hostSet(options: SetOptions): void {
    if (options.dtr !== undefined) this.#dtr = options.dtr;
  }
}

/** MockPortBinding plus what a cable has: host writes reach the device, and it can be pulled out. */
class MockWirePort implements BindingPortInterface {
  #unplug: { promise: Promise<never>; reject: (e: Error) => void };

  constructor(
    readonly inner: MockPortBinding,
    private readonly device: MockDeviceLine,
  ) {
    let reject!: (e: Error) => void;
    const promise = new Promise<never>((_, r) => (reject = r));
    promise.catch(() => {});
    this.#unplug = { promise, reject };
  }

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  set isOpen(value: boolean) {
    this.inner.isOpen = value;
  }

  /** A read error that is not `canceled` is how a binding tells the stream the device is gone. */
  disconnect(): void {
    this.#unplug.reject(new Error('device disconnected (virtual USB unplug)'));
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return Promise.race([this.inner.read(buffer, offset, length), this.#unplug.promise]);
  }

  async write(buffer: Buffer): Promise<void> {
    if (this.device.unplugged) throw new Error('device disconnected (virtual USB unplug)');
    await this.inner.write(buffer);
    this.device.hostWrote(buffer);
  }

  async set(options: SetOptions): Promise<void> {
    await this.inner.set(options);
    this.device.hostSet(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
  update(options: UpdateOptions): Promise<void> {
    return this.inner.update(options);
  }
  get(): Promise<PortStatus> {
    return this.inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
}

// ——— pty ———————————————————————————————————————————————————————————————————————

/**
 * Opens the device end of a pty pair (sim/pty.ts) with the real serialport bindings.
 * `unplug` should close the pair (kill socat): closing only this end is invisible to the host.
 */
export async function openPtyDeviceLine(devicePath: string, unplug: () => Promise<void>): Promise<DeviceLine> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p: SerialPort = new SerialPort({ path: devicePath, baudRate: 115_200 }, (err) => (err ? reject(err) : resolve(p)));
  });
  // Unplugging kills socat under this port too; that end of the story is expected, not an error.
  port.on('error', () => {});
  port.on('close', () => {});
  let bytesWritten = 0;
  let gone = false;
  return {
    dtr: undefined,
    get bytesWritten() {
      return bytesWritten;
    },
    write(data) {
      if (gone || !port.isOpen) return;
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
      bytesWritten += bytes.length;
      port.write(bytes);
    },
    onReceive(listener) {
      port.on('data', (chunk: Buffer) => listener(chunk));
    },
    async unplug() {
      gone = true;
      await unplug();
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}

// ——— shared by both firmwares ——————————————————————————————————————————————————

export interface AirReception {
  rssi: number;
  lqi: number;
  channel: number;
  /** Microseconds since the device booted, in the sim's time base. */
  atUs: bigint;
}

/** Assembles command lines as a shell does: "\r", "\n" or "\r\n" ends one. */
class CommandLines {
  #buffer = '';
  #afterCr = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(bytes: Buffer): void {
    for (const ch of bytes.toString('latin1')) {
      if (ch === '\n' && this.#afterCr) {
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = ch === '\r';
      if (ch === '\r' || ch === '\n') {
        const line = this.#buffer;
        this.#buffer = '';
        this.onLine(line);
      } else {
        this.#buffer += ch;
      }
    }
  }
}

const TWO_32 = 1n << 32n;

/** The nRF frame line: PSDU plus 2 link-quality bytes where the FCS was (RSSI and LQI, as the radio stores them). */
function receivedLine(frame: Uint8Array, reception: AirReception, printedTime: bigint): string {
  const trailer = Buffer.from([reception.rssi & 0xff, reception.lqi & 0xff]);
  const hex = Buffer.concat([Buffer.from(frame), trailer]).toString('hex');
  return `received: ${hex} power: ${reception.rssi} lqi: ${reception.lqi} time: ${printedTime}\r\n`;
}

type Waiter = { command: string; nth: number; resolve: () => void };

/** Lets tests and the harness wait for a command to have been handled, without sleeping. */
class CommandLog {
  readonly commands: string[] = [];
  #waiters: Waiter[] = [];

  record(command: string): void {
    this.commands.push(command);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#count(w.command) < w.nth) return true;
      w.resolve();
      return false;
    });
  }

  when(command: string, nth: number): Promise<void> {
    if (this.#count(command) >= nth) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ command, nth, resolve }));
  }

  #count(command: string): number {
    return this.commands.filter((c) => c === command).length;
  }
}

// ——— nRF Sniffer for 802.15.4 ——————————————————————————————————————————————————

export interface VirtualNrfSnifferOptions {
  /** Current firmware prints a 64-bit µs counter; older firmware a 32-bit one that wraps. */
  counter?: '64-bit' | '32-bit';
  /** Zephyr's shell prompt, printed while echo is on. */
  prompt?: string;
}

/** The nRF Sniffer for 802.15.4 firmware, as seen from its USB CDC line (PROTOCOL.md §1). */
export class VirtualNrfSnifferFirmware {
  #log = new CommandLog();
  #echo = true;
  #receiving = false;
  #channel = 11;
  #silent = false;
  #garbled = 0;

  constructor(
    readonly line: DeviceLine,
    private readonly options: VirtualNrfSnifferOptions = {},
  ) {
    const lines = new CommandLines((command) => this.#execute(command));
    line.onReceive((bytes) => lines.push(bytes));
  }

  /** Every command line received, in order (empty lines included). */
  get commands(): readonly string[] {
    return this.#log.commands;
  }

  get receiving(): boolean {
    return this.#receiving;
  }

  get channel(): number {
    return this.#channel;
  }

  get echo(): boolean {
    return this.#echo;
  }

  get bytesWritten(): number {
    return this.line.bytesWritten;
  }

  /** Resolves once this exact command line has been handled `nth` times. */
  whenCommand(command: string, nth = 1): Promise<void> {
    return this.#log.when(command, nth);
  }

  /** A frame on air (no FCS). Written as a `received:` line if the sniffer listens on that channel. */
  deliver(frame: Uint8Array, reception: AirReception): boolean {
    if (!this.#receiving || reception.channel !== this.#channel) return false;
    const printed = this.options.counter === '32-bit' ? reception.atUs % TWO_32 : reception.atUs;
    return this.#write(receivedLine(frame, reception, printed));
  }

  /** Fault injector: raw bytes on the line (noise, a crash dump, a half line). */
  emitGarbage(text: string | Uint8Array): void {
    this.#write(text);
  }

  /**
   * Fault injector: from now on every line the sniffer prints arrives mangled, as from a corrupted
   * USB link or the wrong firmware: by turns line noise and a frame line cut short.
   */
  garble(): void {
    this.#garbled = 1;
  }

  /** Fault injector: 'unplug' makes the host's port vanish; 'silent' hangs the firmware (no more output). */
  async stop(mode: 'unplug' | 'silent' = 'unplug'): Promise<void> {
    this.#silent = true;
    this.#receiving = false;
    if (mode === 'unplug') await this.line.unplug();
  }

  #write(data: string | Uint8Array): boolean {
    // The real firmware does not talk until the host asserts DTR (where the line carries DTR).
    if (this.#silent || this.line.dtr === false) return false;
    this.line.write(this.#garbled ? this.#mangle(data) : data);
    return true;
  }

  /** One mangled line per line: high-bit noise (never a line break) or a frame line cut mid-hex. */
  #mangle(data: string | Uint8Array): string {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    const body = text.replace(/\r?\n$/, '');
    const n = this.#garbled++;
    if (n % 2 === 1 && body.startsWith('received:')) return `${body.slice(0, 17)}\r\n`;
    return `${[...body].map((c, i) => String.fromCharCode(0x80 | ((c.charCodeAt(0) * 31 + i + n) & 0x7f))).join('')}\r\n`;
  }

  #execute(command: string): void {
    if (this.#silent) return;
    if (this.#echo) this.#write(`${command}\r\n`);
    const words = command.trim().split(/\s+/).filter(Boolean);
    const [name, arg] = words;
    if (name === undefined) {
      // An empty line: nothing to do.
    } else if (name === 'sleep') {
      this.#receiving = false;
    } else if (name === 'receive') {
      this.#receiving = true;
    } else if (name === 'shell' && words[1] === 'echo' && (words[2] === 'on' || words[2] === 'off')) {
      this.#echo = words[2] === 'on';
    } else if (name === 'channel' && arg === undefined) {
      this.#write(`${this.#channel}\r\n`);
    } else if (name === 'channel' && /^\d+$/.test(arg) && Number(arg) >= 11 && Number(arg) <= 26) {
      this.#channel = Number(arg);
    } else if (name === 'channel') {
      this.#write(`Invalid channel: ${arg}\r\n`);
    } else {
      this.#write(`${name}: command not found\r\n`);
    }
    if (this.#echo) this.#write(this.options.prompt ?? 'uart:~$ ');
    this.#log.record(command);
  }
}

// ——— gbcs-rig radio ————————————————————————————————————————————————————————————

export interface VirtualRigRadioOptions {
  /** The free text after "gbcs-rig-radio 1" in the version answer. */
  description?: string;
}

/** The gbcs-rig radio firmware (protocol in drivers/radio/line-protocol.ts), as seen from its serial line. */
export class VirtualRigRadioFirmware {
  #log = new CommandLog();
  #transmitListeners: Array<(psdu: Uint8Array, channel: number) => void> = [];
  #channel: number | undefined;
  #receiving = false;
  #ieee: string | undefined;
  #pan: number | undefined;
  #refusals: Array<{ reason: string; matches: (command: string) => boolean }> = [];
  #mute = false;

  constructor(
    readonly line: DeviceLine,
    private readonly options: VirtualRigRadioOptions = {},
  ) {
    const lines = new CommandLines((command) => this.#execute(command));
    line.onReceive((bytes) => lines.push(bytes));
  }

  get commands(): readonly string[] {
    return this.#log.commands;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get receiving(): boolean {
    return this.#receiving;
  }

  /** 16 hex digits, most significant first, as the host set it. */
  get ieee(): string | undefined {
    return this.#ieee;
  }

  get pan(): number | undefined {
    return this.#pan;
  }

  get bytesWritten(): number {
    return this.line.bytesWritten;
  }

  /** Resolves once this exact command line has been handled `nth` times. */
  whenCommand(command: string, nth = 1): Promise<void> {
    return this.#log.when(command, nth);
  }

  /** Called with each PSDU (no FCS) the host transmits, and the channel it goes out on. */
  onTransmit(listener: (psdu: Uint8Array, channel: number) => void): () => void {
    this.#transmitListeners.push(listener);
    return () => {
      this.#transmitListeners = this.#transmitListeners.filter((l) => l !== listener);
    };
  }

  /** A frame on air (no FCS), reported if the radio receives on that channel. Time is 64-bit. */
  deliver(frame: Uint8Array, reception: AirReception): boolean {
    if (!this.#receiving || reception.channel !== this.#channel) return false;
    return this.#write(receivedLine(frame, reception, reception.atUs));
  }

  /** Fault injector: answer `err <reason>` to the next command that matches (all commands by default). */
  refuseNext(reason: string, matches: (command: string) => boolean = () => true): void {
    this.#refusals.push({ reason, matches });
  }

  /** Fault injector: stop answering commands (frames still flow). */
  mute(): void {
    this.#mute = true;
  }

  emitGarbage(text: string | Uint8Array): void {
    this.#write(text);
  }

  async unplug(): Promise<void> {
    await this.line.unplug();
  }

  #write(data: string | Uint8Array): boolean {
    if (this.line.dtr === false) return false;
    this.line.write(data);
    return true;
  }

  #execute(command: string): void {
    const text = command.trim();
    if (text === '') return;
    this.#log.record(text);
    if (this.#mute) return;
    const refusal = this.#refusals.findIndex((r) => r.matches(text));
    if (refusal >= 0) {
      const [{ reason }] = this.#refusals.splice(refusal, 1);
      this.#write(`err ${reason}\r\n`);
      return;
    }
    this.#write(`${this.#answer(text)}\r\n`);
  }

  #answer(text: string): string {
    const [name, arg, extra] = text.split(/\s+/);
    if (extra !== undefined) return `err too many arguments`;
    switch (name) {
      case 'version':
        return `gbcs-rig-radio 1 ${this.options.description ?? 'virtual'}`;
      case 'channel': {
        const channel = Number(arg);
        if (!/^\d+$/.test(arg ?? '') || channel < 11 || channel > 26) return `err channel must be 11..26`;
        this.#channel = channel;
        return 'ok';
      }
      case 'ieee':
        if (!/^[0-9a-fA-F]{16}$/.test(arg ?? '')) return 'err ieee needs 16 hex digits';
        this.#ieee = arg.toLowerCase();
        return 'ok';
      case 'pan':
        if (!/^[0-9a-fA-F]{1,4}$/.test(arg ?? '')) return 'err pan needs 4 hex digits';
        this.#pan = parseInt(arg, 16);
        return 'ok';
      case 'receive':
        if (arg !== 'on' && arg !== 'off') return 'err receive on|off';
        if (arg === 'on' && this.#channel === undefined) return 'err no channel set';
        this.#receiving = arg === 'on';
        return 'ok';
      case 'tx': {
        if (this.#channel === undefined) return 'err no channel set';
        if (!arg || arg.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(arg)) return 'err tx needs hex bytes';
        const psdu = new Uint8Array(Buffer.from(arg, 'hex'));
        if (psdu.length > 125) return 'err frame too long';
        for (const listener of this.#transmitListeners) listener(psdu.slice(), this.#channel);
        return 'ok';
      }
      default:
        return `err unknown command ${name}`;
    }
  }
}
