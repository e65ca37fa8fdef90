// The virtual bench: everything below the wire for one bench of a rig file. Virtual relays
// answer real MQTT topics on a real broker (in-process aedes, or a URL such as mosquitto);
// virtual sniffer and rig-radio firmware speak their serial protocols on MockBinding ports or
// socat ptys; virtual devices run their firmware profiles on a simulated air, on virtual time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingInterface } from '../types/serialport.ts';
import { Air, attachRadio, attachSniffer, silenced, type AirAccess } from './air.ts';
import { startEmbeddedBroker } from './broker.ts';
import { DEFAULT_BENCH_EPOCH_MS, DiscreteEventClock } from './clock.ts';
import { VirtualCommsHub, type CommsHubBehaviour } from './comms-hub.ts';
import type { VirtualFaultKind } from '../rigs/schema.ts';
import type { DeviceRole } from '../firmware-images/manifest.ts';
import type { HanAddress } from './han-frames.ts';
import { VirtualHanClient, type HanClientBehaviour } from './han-client.ts';
import { DeviceJitter } from './jitter.ts';
import { relayTwinNamed, type VirtualRelayDevice } from './power-registry.ts';
import { VirtualMeter, type MeterBehaviour } from './meter.ts';
import { VirtualObservationFirmware } from './observation-port.ts';
import { createPtyPair, type PtyPair } from './pty.ts';
import { radioTwinNamed, type VirtualRadioFirmware, type VirtualRadioTwin } from './radio-registry.ts';
import { VirtualUsbHub, openPtyDeviceLine, type DeviceLine, type MockDeviceLine } from './serial-devices.ts';
import { snifferTwinNamed, type VirtualSnifferFirmware, type VirtualSnifferTwin } from './sniffer-registry.ts';

export interface VirtualDeviceSpec {
  id: string;
  role: DeviceRole;
  ieee: string;
  /** The relay contact that powers it: its vendor's virtual twin (sim/power-registry.ts), relay device and contact. */
  relay: { twin: string; device: string; channel: number };
  /** The device's firmware behaviour profile. */
  behaviour: unknown;
  /** A CH's gas proxy function: a meter on the CH's power and radio, with its own IEEE address. */
  gpf?: { ieee: string; behaviour: unknown };
}

/** The id the virtual bench gives a CH's GPF among its meters. */
export const gpfId = (chId: string) => `${chId}-gpf`;

export interface VirtualBenchSpec {
  id: string;
  /** Gives the HAN's PAN, the HHT's short address and, with the start time, every device's timer jitter (sim/jitter.ts; 0: no jitter). */
  seed: number;
  transport: 'mock' | 'pty';
  /** `embedded` (or absent): an in-process aedes broker; otherwise the URL of a running broker. */
  brokerUrl?: string;
  devices: VirtualDeviceSpec[];
  /** Each sniffer with its kind's virtual twin (sim/sniffer-registry.ts). */
  sniffers: { id: string; channel: number; twin: string }[];
  /** The rig radio with its kind's virtual twin (sim/radio-registry.ts). */
  radio: { channel: number; ieee: string; twin: string };
  /** Entity ids the virtual CH accepts CCS01 from over inter-PAN (the rig radio's HHT identity). */
  authorisedHhts: string[];
  /** Bench time the clock starts at: where the bench's previous case ended (default DEFAULT_BENCH_EPOCH_MS). */
  epochMs?: number;
  /** When the campaign started on this bench: faults count their afterSeconds from it (default DEFAULT_BENCH_EPOCH_MS). */
  campaignStartMs?: number;
  /** The network key every virtual device secures the HAN with (absent: an unsecured HAN). */
  networkKey?: Uint8Array;
  /** Rig faults to inject, at virtual seconds after the start (rehearsing INCONCLUSIVE, never a device fault). */
  faults?: readonly VirtualFault[];
}

/** A fault the virtual bench injects; `device` (device-dead only) names the one that dies, else every device does. */
export interface VirtualFault {
  kind: VirtualFaultKind;
  afterSeconds: number;
  device?: string;
}

/** A serial device as the host names it: by path (ptys) or, as a lab would, by USB serial number (the mock hub). */
export type VirtualSerialLocation = { path: string } | { serialNumber: string };

/** Where the drivers above the wire find this bench's hardware. */
export interface VirtualBenchWiring {
  brokerUrl: string;
  /** The MockBinding hub's binding, when transport is mock (real bindings on ptys). */
  binding?: BindingInterface;
  snifferPaths: Map<string, string>;
  radioPath: string;
  /** Where the host should open each sniffer and the radio: by USB serial number on the mock hub, so a replugged device is found again. */
  snifferLocations: Map<string, VirtualSerialLocation>;
  radioLocation: VirtualSerialLocation;
  /** The observation (debug) port of each simulated IHD and PPMID, by device id. */
  observePaths: Map<string, string>;
}

/** A 32-bit number from the bench seed and a purpose (a murmur3 finaliser): the same seed gives the same bench. */
function seeded(seed: number, purpose: number): number {
  let h = (seed ^ Math.imul(purpose + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The network key of every virtual bench's HAN, published with gbcs-rig for virtual benches only
 * (a real lab's key is never in a repository): the key of the ZigBee specification's CCM* test
 * vectors (C0…CF). A rig that names another key on a virtual bench rehearses a wrong key.
 */
export const VIRTUAL_NETWORK_KEY = 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecf';
/** The install code the rig radio carries as the HHT on a virtual bench when the rig names none: the ZigBee test-vector code (16 bytes, no CRC). */
export const VIRTUAL_INSTALL_CODE = '83fed3407a939723a5c639b26916d505';

/** The PAN the former constant named: no seed gives it, so a leftover constant in the rig fails a test. */
const FORMER_CONSTANT_PAN = 0x1a62;

/** The virtual HAN's PAN id from the bench seed: never 0xffff (broadcast), 0xfffe (none) or the former constant 0x1a62. */
export function seededPan(seed: number): number {
  const pan = seeded(seed, 1) % 0xfffe;
  return pan === FORMER_CONSTANT_PAN ? pan + 1 : pan;
}

/** The short address the virtual CH assigns an HHT it admits, from the bench seed: above every device's (0x0001 + rig order), below 0xfff8 (reserved). */
export function seededHhtShort(seed: number): number {
  return 0x0100 + (seeded(seed, 2) % (0xfff8 - 0x0100));
}

export class VirtualBench {
  readonly clock: DiscreteEventClock;
  readonly air: Air;
  readonly sniffers = new Map<string, VirtualSnifferFirmware>();
  readonly commsHubs = new Map<string, VirtualCommsHub>();
  /** ESMEs by device id: Device Management, Messaging, Prepayment and Metering servers. */
  readonly meters = new Map<string, VirtualMeter>();
  /** IHDs and PPMIDs by device id. */
  readonly hanClients = new Map<string, VirtualHanClient>();
  readonly observationPorts = new Map<string, VirtualObservationFirmware>();
  /** Sniffers a fault unplugged: the drain barrier waits until their drivers have noticed. */
  readonly unpluggedSniffers = new Set<string>();
  /** Faults injected so far whose drivers must notice them before virtual time moves on. */
  readonly awaitingNotice = new Set<VirtualFaultKind>();
  /** Devices a fault killed: their radios no longer transmit (a GPF dies with its CH). */
  private readonly dead = new Set<string>();
  private hub: VirtualUsbHub | undefined;
  private readonly snifferLines = new Map<string, DeviceLine>();
  /** Injected fault: the supplier's Change of Tenancy is lost on its way to the meters (the DCC test access failed). */
  tenancyLost = false;
  /** Meters (ESME, GPF) gone silent for a while (RCN-1), by device id: their radios send nothing, as when out of reach. */
  private readonly silent = new Set<string>();
  #wanUp = true;
  private observeLines = new Map<string, DeviceLine>();
  /** Each device's HAN address: the CH is the coordinator (0x0000), the others are numbered in rig order. */
  readonly hanAddresses = new Map<string, HanAddress>();
  /** The virtual relay device powering each device, by device id. */
  readonly relays = new Map<string, VirtualRelayDevice>();
  radio!: VirtualRadioFirmware;
  wiring!: VirtualBenchWiring;
  /** The HAN's PAN id, from the seed. */
  readonly pan: number;
  /** The short address the CH assigns the rig radio as an HHT, from the seed. */
  readonly hhtShort: number;
  private readonly closers: (() => Promise<void> | void)[] = [];

  private constructor(readonly spec: VirtualBenchSpec) {
    this.clock = new DiscreteEventClock({ epochMs: spec.epochMs });
    this.air = new Air(this.clock);
    this.pan = seededPan(spec.seed);
    this.hhtShort = seededHhtShort(spec.seed);
  }

  static async start(spec: VirtualBenchSpec): Promise<VirtualBench> {
    const bench = new VirtualBench(spec);
    try {
      await bench.build();
    } catch (e) {
      await bench.close();
      throw e;
    }
    return bench;
  }

  private async build(): Promise<void> {
    const spec = this.spec;
    let brokerUrl = spec.brokerUrl;
    let stopBroker: (() => Promise<void>) | undefined;
    if (!brokerUrl || brokerUrl === 'embedded') {
      const broker = await startEmbeddedBroker();
      let stopped: Promise<void> | undefined;
      stopBroker = () => (stopped ??= broker.close());
      this.closers.push(stopBroker);
      brokerUrl = broker.url;
    }
    const lines = await this.serialLines();
    this.observeLines = lines.observeLines;
    for (const s of spec.sniffers) this.connectSniffer(s.id, lines.sniffers.get(s.id)!);
    this.radio = this.radioTwin().boot(lines.radio);
    this.closers.push(attachRadio(this.air, this.radio, spec.radio.ieee));
    await this.startRelays(brokerUrl);
    const byUsb = (serialNumber: string, path: string): VirtualSerialLocation => (lines.binding ? { serialNumber } : { path });
    this.wiring = {
      brokerUrl,
      binding: lines.binding,
      snifferPaths: lines.snifferPaths,
      radioPath: lines.radioPath,
      observePaths: lines.observePaths,
      snifferLocations: new Map(spec.sniffers.map((s) => [s.id, byUsb(this.usbSerial(s.id), lines.snifferPaths.get(s.id)!)])),
      radioLocation: byUsb(this.usbSerial('radio'), lines.radioPath),
    };
    this.supplierActivity();
    for (const f of spec.faults ?? []) {
      if (f.device !== undefined && f.kind !== 'device-dead' && f.kind !== 'relay-toggled')
        throw new Error(`bench ${spec.id}: fault ${f.kind} takes no device (only device-dead and relay-toggled name one)`);
      if (f.kind === 'relay-toggled' && f.device === undefined)
        throw new Error(`bench ${spec.id}: fault relay-toggled names no device: give the device whose relay is toggled`);
      if (f.device !== undefined && !spec.devices.some((d) => d.id === f.device)) {
        throw new Error(
          `bench ${spec.id}: fault ${f.kind} names device "${f.device}", which is not on the bench (devices: ${spec.devices.map((d) => d.id).join(', ')})`,
        );
      }
      // Counted from the campaign's start, not this bench's: a part unplugged stays unplugged for every later case.
      const at = Math.max(this.clock.now(), (spec.campaignStartMs ?? DEFAULT_BENCH_EPOCH_MS) + f.afterSeconds * 1000);
      this.clock.at(at, () => this.inject(f, stopBroker), `fault ${f.kind}`);
    }
  }

  /** One virtual relay device per relay device the rig uses, with the contacts it uses; each contact powers its devices. */
  private async startRelays(url: string): Promise<void> {
    type RelayDevice = {
      twin: string;
      device: string;
      channels: number[];
      powered: { power(channel: number, on: boolean): void }[];
      ids: string[];
    };
    const byDevice = new Map<string, RelayDevice>();
    for (const d of this.spec.devices) {
      const key = `${d.relay.twin} ${d.relay.device}`;
      const r = byDevice.get(key) ?? { twin: d.relay.twin, device: d.relay.device, channels: [], powered: [], ids: [] };
      r.channels.push(d.relay.channel);
      r.powered.push(this.device(d));
      r.ids.push(d.id);
      byDevice.set(key, r);
    }
    for (const r of byDevice.values()) {
      const twin = relayTwinNamed(r.twin);
      if (!twin)
        throw new Error(`bench ${this.spec.id}: no virtual relay twin "${r.twin}" in sim/power-registry.ts (devices ${r.ids.join(', ')})`);
      const relay = await twin.start({
        url,
        device: r.device,
        channels: r.channels,
        onPower: (channel, on) => r.powered.forEach((p) => p.power(channel, on)),
      });
      for (const id of r.ids) this.relays.set(id, relay);
      this.closers.push(() => relay.stop());
    }
  }

  private usbSerial(part: string): string {
    return `virtual-${this.spec.id}-${part}`;
  }

  private snifferTwin(id: string): VirtualSnifferTwin {
    const name = this.spec.sniffers.find((s) => s.id === id)!.twin;
    const twin = snifferTwinNamed(name);
    if (!twin) throw new Error(`bench ${this.spec.id}: no virtual sniffer twin "${name}" in sim/sniffer-registry.ts (sniffer ${id})`);
    return twin;
  }

  private radioTwin(): VirtualRadioTwin {
    const twin = radioTwinNamed(this.spec.radio.twin);
    if (!twin) throw new Error(`bench ${this.spec.id}: no virtual radio twin "${this.spec.radio.twin}" in sim/radio-registry.ts`);
    return twin;
  }

  private connectSniffer(id: string, line: DeviceLine): void {
    const firmware = this.snifferTwin(id).boot(line);
    this.sniffers.set(id, firmware);
    this.snifferLines.set(id, line);
    const detach = attachSniffer(this.air, firmware);
    this.closers.push(detach);
    this.detachSniffer.set(id, detach);
  }

  private readonly detachSniffer = new Map<string, () => void>();

  /**
   * Every unplugged sniffer comes back, as after USB re-enumeration: at a new path with the same
   * USB serial number, its firmware freshly booted (mock transport only). Returns their ids.
   */
  replugSniffers(): string[] {
    const hub = this.hub;
    if (!hub) throw new Error(`bench ${this.spec.id}: replugging needs the mock transport's USB hub`);
    const back = [...this.snifferLines].filter(([, line]) => (line as MockDeviceLine).unplugged).map(([id]) => id);
    for (const id of back) {
      this.detachSniffer.get(id)?.();
      this.connectSniffer(id, hub.replug(this.snifferLines.get(id) as MockDeviceLine));
      this.unpluggedSniffers.delete(id);
    }
    return back;
  }

  /** A rig fault, as the bench hardware would produce it. */
  private inject(fault: VirtualFault, stopBroker?: () => Promise<void>): void {
    const { kind } = fault;
    if (kind === 'relay-silent') for (const r of this.relays.values()) r.silent = true;
    else if (kind === 'relay-wrong-state') for (const r of this.relays.values()) r.reportsWrongState = true;
    else if (kind === 'relay-toggled') {
      const d = this.spec.devices.find((x) => x.id === fault.device)!;
      this.awaitingNotice.add('relay-toggled');
      this.relays.get(d.id)!.pressButton(d.relay.channel);
    } else if (kind === 'tenancy-lost') this.tenancyLost = true;
    else if (kind === 'sniffer-unplugged') {
      for (const [id, s] of this.sniffers) {
        this.unpluggedSniffers.add(id);
        void s.stop('unplug');
      }
    } else if (kind === 'sniffer-garbage') for (const s of this.sniffers.values()) s.garble();
    else if (kind === 'radio-silent') this.radio.mute();
    else if (kind === 'device-dead') {
      for (const d of this.spec.devices) if (fault.device === undefined || fault.device === d.id) this.dead.add(d.id);
    } else if (!stopBroker)
      throw new Error(`bench ${this.spec.id}: broker-down needs the embedded broker; stop the external broker instead`);
    else {
      this.awaitingNotice.add('broker-down');
      void stopBroker();
    }
  }

  /** The CH's WAN (RCN-3): while it is down the simulated DCC reaches no meter (supplier top-ups, messages, Change of Tenancy). */
  get wanUp(): boolean {
    return this.#wanUp;
  }

  /** Cuts the CH's WAN or brings it back; the HAN devices learn it as a CH's status would tell them. */
  setWan(up: boolean): void {
    this.#wanUp = up;
    for (const c of this.hanClients.values()) c.wanChanged(up);
  }

  /** A meter (an ESME's id, or a GPF's `gpfId`) goes silent or speaks again (RCN-1): powered and on the HAN, but unheard. */
  silence(meterId: string, silent: boolean): void {
    if (!this.meters.has(meterId))
      throw new Error(`bench ${this.spec.id}: no meter ${meterId} to silence (meters: ${[...this.meters.keys()].join(', ')})`);
    if (silent) this.silent.add(meterId);
    else this.silent.delete(meterId);
  }

  /** A top-up code keyed in on a PPMID (RCN-3), for the meter `meterId` (default its first); false when the device took no code. */
  enterTopUp(clientId: string, code: string, meterId?: string): boolean {
    const client = this.hanClients.get(clientId);
    if (!client) throw new Error(`bench ${this.spec.id}: no IHD or PPMID ${clientId} to enter a top-up code on`);
    const meter = meterId === undefined ? undefined : this.meters.get(meterId)?.self.short;
    return client.enterTopUp(code, meter);
  }

  /** The device behind a relay channel: powered when its channel switches. */
  private device(d: VirtualDeviceSpec): { power(channel: number, on: boolean): void } {
    const self = this.hanAddress(d);
    const common = {
      clock: this.clock,
      air: this.airOf(d.id, d.behaviour),
      channel: this.spec.radio.channel,
      pan: this.pan,
      networkKey: this.spec.networkKey,
      jitter: this.jitterOf(d.id),
    };
    let device: { power(on: boolean): void };
    if (d.role === 'CH') {
      // The DCC commissioned every other device of the bench (and the CH's own GPF) into the CHF device log.
      const hanDevices = [...this.spec.devices.filter((x) => x.role !== 'CH').map((x) => x.ieee), ...(d.gpf ? [d.gpf.ieee] : [])];
      const hub = new VirtualCommsHub({
        ...common,
        profile: d.behaviour as CommsHubBehaviour,
        ieee: d.ieee,
        authorisedHhts: this.spec.authorisedHhts,
        hanDevices,
        hhtShort: this.hhtShort,
      });
      this.commsHubs.set(d.id, hub);
      device = hub;
      if (d.gpf) {
        const gpf = new VirtualMeter({
          ...common,
          air: this.airOf(d.id, d.gpf.behaviour, gpfId(d.id)),
          jitter: this.jitterOf(gpfId(d.id)),
          profile: d.gpf.behaviour as MeterBehaviour,
          self: this.gpfAddress(d),
          clients: this.addressesOf(['IHD', 'PPMID']),
        });
        this.meters.set(gpfId(d.id), gpf);
        // The GPF lives in the CH: one relay powers both.
        device = { power: (on) => (hub.power(on), gpf.power(on)) };
      }
      const chf = device;
      // Every device on its HAN loses the coordinator when the CH goes off (PWR-1), and notices it.
      device = {
        power: (on) => {
          const was = hub.powered;
          chf.power(on);
          if (was && !on) for (const d of [...this.meters.values(), ...this.hanClients.values()]) d.coordinatorLost();
        },
      };
    } else if (d.role === 'ESME') {
      // An ESME serves every HAN client of the bench; a client binds to every meter (PROTOCOL.md §7).
      const meter = new VirtualMeter({
        ...common,
        profile: d.behaviour as MeterBehaviour,
        self,
        clients: this.addressesOf(['IHD', 'PPMID']),
      });
      this.meters.set(d.id, meter);
      device = meter;
    } else if (d.role === 'IHD' || d.role === 'PPMID') {
      const client = new VirtualHanClient({
        ...common,
        profile: d.behaviour as HanClientBehaviour,
        self,
        servers: [...this.addressesOf(['ESME']), ...this.spec.devices.filter((x) => x.gpf).map((x) => this.gpfAddress(x))],
      });
      this.hanClients.set(d.id, client);
      // Its debug port answers from what it holds: the device observation port of a vendor's firmware.
      this.observationPorts.set(
        d.id,
        new VirtualObservationFirmware(this.observeLines.get(d.id)!, () => client.observe(), { description: `virtual ${d.role} ${d.id}` }),
      );
      device = client;
    } else {
      throw new Error(
        `bench ${this.spec.id}: device ${d.id} is a ${d.role}; the virtual bench simulates CH, ESME, IHD and PPMID (a GSME is not simulated yet)`,
      );
    }
    return { power: (channel, on) => (channel === d.relay.channel ? device.power(on) : undefined) };
  }

  /** A device's timer jitter: from the bench seed and this bench's start, so each case's fresh bench lines timers up anew. */
  private jitterOf(deviceId: string): DeviceJitter {
    return DeviceJitter.of(this.spec.seed, this.clock.epochMs, deviceId);
  }

  /** The air as a device's profile has it: silenced when its radio never transmits, or from when a fault kills the device. */
  private airOf(deviceId: string, behaviour: unknown, meterId = deviceId): AirAccess {
    if ((behaviour as { transmits?: boolean }).transmits === false) return silenced(this.air);
    const air = this.air;
    // Out of reach (RCN-1) cuts both ways: a silent meter neither is heard nor hears.
    return {
      attach: (listener) =>
        air.attach({
          id: listener.id,
          get channel() {
            return listener.channel;
          },
          receive: (frame, meta) => (this.silent.has(meterId) ? undefined : listener.receive(frame, meta)),
        }),
      transmit: (frame, tx) => (this.dead.has(deviceId) || this.silent.has(meterId) ? undefined : air.transmit(frame, tx)),
    };
  }

  private hanAddress(d: VirtualDeviceSpec): HanAddress {
    let a = this.hanAddresses.get(d.id);
    if (!a) {
      const index = this.spec.devices.findIndex((x) => x.id === d.id);
      a = { short: d.role === 'CH' ? 0x0000 : 0x0001 + index, ieee: d.ieee };
      this.hanAddresses.set(d.id, a);
    }
    return a;
  }

  /** A GPF's short address: after every rig device's, so none collides. */
  private gpfAddress(ch: VirtualDeviceSpec): HanAddress {
    const key = gpfId(ch.id);
    let a = this.hanAddresses.get(key);
    if (!a) {
      a = { short: 0x0001 + this.spec.devices.length + this.spec.devices.findIndex((x) => x.id === ch.id), ieee: ch.gpf!.ieee };
      this.hanAddresses.set(key, a);
    }
    return a;
  }

  private addressesOf(roles: VirtualDeviceSpec['role'][]): HanAddress[] {
    return this.spec.devices.filter((d) => roles.includes(d.role)).map((d) => this.hanAddress(d));
  }

  private async serialLines(): Promise<{
    sniffers: Map<string, DeviceLine>;
    radio: DeviceLine;
    binding?: BindingInterface;
    snifferPaths: Map<string, string>;
    radioPath: string;
    observeLines: Map<string, DeviceLine>;
    observePaths: Map<string, string>;
  }> {
    const spec = this.spec;
    const sniffers = new Map<string, DeviceLine>();
    const snifferPaths = new Map<string, string>();
    const observeLines = new Map<string, DeviceLine>();
    const observePaths = new Map<string, string>();
    const observed = spec.devices.filter((d) => d.role === 'IHD' || d.role === 'PPMID');
    if (spec.transport === 'mock') {
      const hub = (this.hub = new VirtualUsbHub());
      // MockBinding keeps one table per process: paths carry the bench id and a per-start suffix (no pid: evidence names them).
      const base = `/dev/gbcs-rig-virtual/${spec.id}-${VirtualBench.starts++}`;
      for (const s of spec.sniffers) {
        const path = `${base}/sniffer-${s.id}`;
        sniffers.set(
          s.id,
          hub.plug(path, { ...this.snifferTwin(s.id).usb, serialNumber: this.usbSerial(s.id), manufacturer: 'gbcs-rig virtual' }),
        );
        snifferPaths.set(s.id, path);
      }
      const radioPath = `${base}/radio`;
      const radio = hub.plug(radioPath, {
        ...this.radioTwin().usb,
        serialNumber: this.usbSerial('radio'),
        manufacturer: 'gbcs-rig virtual',
      });
      for (const d of observed) {
        const path = `${base}/observe-${d.id}`;
        observeLines.set(d.id, hub.plug(path, { serialNumber: `virtual-${spec.id}-${d.id}-debug`, manufacturer: 'gbcs-rig virtual' }));
        observePaths.set(d.id, path);
      }
      return { sniffers, radio, binding: hub.binding, snifferPaths, radioPath, observeLines, observePaths };
    }
    const dir = mkdtempSync(join(tmpdir(), `gbcs-rig-${spec.id}-`));
    this.closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const pty = async (name: string): Promise<{ pair: PtyPair; line: DeviceLine }> => {
      const pair = await createPtyPair(join(dir, name));
      this.closers.push(() => pair.close());
      const line = await openPtyDeviceLine(pair.devicePath, () => pair.close());
      return { pair, line };
    };
    for (const s of spec.sniffers) {
      const { pair, line } = await pty(`sniffer-${s.id}`);
      sniffers.set(s.id, line);
      snifferPaths.set(s.id, pair.hostPath);
    }
    const radio = await pty('radio');
    for (const d of observed) {
      const { pair, line } = await pty(`observe-${d.id}`);
      observeLines.set(d.id, line);
      observePaths.set(d.id, pair.hostPath);
    }
    return { sniffers, radio: radio.line, snifferPaths, radioPath: radio.pair.hostPath, observeLines, observePaths };
  }

  private static starts = 0;

  /**
   * What the supplier and the household do on the virtual bench, so the HAN clients have data to
   * show (and to clear): a top-up and a debt collection every 12 hours, a supplier message every six
   * hours, and a meter reading every 30 minutes. Meters pass it on to their clients while both are powered.
   */
  private supplierActivity(): void {
    const start = this.clock.now();
    const readingEvery = 30 * 60_000;
    let reading = 0;
    // A top-up and a debt collection every 12 hours, so a meter has a log to clear whenever a case needs one.
    let topUps = 0;
    const topUp = () => {
      topUps++;
      // The supplier's top-ups and collections come over the WAN: none arrives while it is down.
      for (const m of this.#wanUp ? this.meters.values() : []) {
        m.topUp({ code: String(12345678901234567890n + BigInt(topUps)), amount: 2000 });
        m.collectDebt({ amountCollected: 150, outstandingDebt: Math.max(0, 5000 - 150 * topUps) });
      }
      this.clock.after(12 * 3_600_000, topUp, 'supplier: top-up, debt');
    };
    this.clock.at(start + 60_000, topUp, 'supplier: top-up, debt');
    // A new supplier message every six hours, so an ESME has an active one to clear whenever a case needs it.
    let messageId = 0;
    const message = () => {
      messageId++;
      for (const m of this.#wanUp ? this.meters.values() : []) m.displayMessage({ messageId, message: `Supplier message ${messageId}` });
      this.clock.after(6 * 3_600_000, message, 'supplier message');
    };
    this.clock.at(start + 60_000, message, 'supplier message');
    const read = () => {
      reading += 1000;
      for (const m of this.meters.values()) m.recordConsumption(reading);
      this.clock.after(readingEvery, read, 'meter reading');
    };
    this.clock.at(start + readingEvery, read, 'meter reading');
  }

  /**
   * RCN-4: the simulated DCC sends a firmware image over the WAN to the bench's CH for one of its HAN devices, which the
   * CH then serves over the HAN (ZCL OTA Upgrade). Returns false when nothing reached a powered CH.
   */
  deliverFirmware(deviceId: string, file: Uint8Array): boolean {
    const device = this.spec.devices.find((d) => d.id === deviceId);
    if (!device) throw new Error(`bench ${this.spec.id}: no device ${deviceId} to send firmware to`);
    const to = this.hanAddress(device);
    return [...this.commsHubs.values()].some((ch) => ch.offerFirmware(to, file) !== undefined);
  }

  /** Bytes the virtual firmware has written per serial line: what the drain barrier waits for. */
  written(): { sniffers: Map<string, number>; radio: number; observe: Map<string, number> } {
    return {
      sniffers: new Map([...this.sniffers].map(([id, f]) => [id, f.bytesWritten])),
      radio: this.radio.bytesWritten,
      observe: new Map([...this.observeLines].map(([id, l]) => [id, l.bytesWritten])),
    };
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // Closing is best effort: a part that already failed has nothing left to close.
      }
    }
  }
}
