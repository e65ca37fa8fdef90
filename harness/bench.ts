// Opens one bench of a rig for a worker: the same drivers whether the hardware is real or the
// virtual bench below the wire. Only this file knows that a virtual bench has to be started, and
// only here are the driver registries (drivers/) joined to their virtual twins (sim/).
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { RigFault } from '../drivers/faults.ts';
import { ObservationPort } from '../drivers/observe/serial-port.ts';
import { connectStation } from '../drivers/power/mqtt.ts';
import { relayVendorNamed } from '../drivers/power/registry.ts';
import { wallClock, type PowerSwitch } from '../drivers/power/types.ts';
import type { RelayVendor } from '../drivers/power/vendor.ts';
import type { Radio, RadioKind } from '../drivers/radio/radio.ts';
import { radioKindNamed } from '../drivers/radio/registry.ts';
import type { SerialBinding, SerialLocation } from '../drivers/serial.ts';
import { snifferKindNamed } from '../drivers/sniffer/registry.ts';
import type { Sniffer, SnifferKind } from '../drivers/sniffer/sniffer.ts';
import { fromHex } from '../protocol/bytes.ts';
import type { LoadedRig, RigBench, RigDevice, RigRelay } from '../rigs/load.ts';
import { VIRTUAL_INSTALL_CODE, VIRTUAL_NETWORK_KEY, VirtualBench, gpfId, type VirtualBenchSpec } from '../sim/bench.ts';
import { HardwareClock, VirtualBenchClock, type BenchClock, type BenchHealth } from './clock.ts';
import { OperatorObserver, PortObserver, type DeviceObserver } from './observer.ts';
import { reconnectFor, type BenchReconnect } from './reconnect.ts';
import { tenancyTriggerFor, type TenancyTrigger } from './tenancy.ts';
import { otaDeliveryFor, type OtaDelivery } from './ota.ts';

/** A sniffer of the bench; its driver is replaced when reopenLost() finds its device again. */
export interface BenchSniffer {
  readonly id: string;
  readonly channel: number;
  driver: Sniffer;
}

export interface OpenBench {
  readonly id: string;
  readonly rig: LoadedRig;
  readonly spec: RigBench;
  readonly clock: BenchClock;
  /** Relay drivers by relay id. */
  readonly relays: ReadonlyMap<string, PowerSwitch>;
  /** A sniffer's driver is replaced when reopenLost() finds its device again. */
  readonly sniffers: readonly BenchSniffer[];
  /** The rig radio's driver (replaced when reopenLost() reopens it). */
  readonly radio: Radio;
  /** The bench watchdog every wait asks: the first fault of a sniffer, the radio, the broker connection, a relay, or the case's own. */
  health(): RigFault | undefined;
  /** Adds a source the watchdog asks for as long as one case runs (its evidence disk); returns its removal. */
  watchCase(health: BenchHealth): () => void;
  /**
   * Reopens each sniffer and the rig radio that faulted, if its device can be opened again (found
   * again by USB serial number after re-enumeration, or at its path): called before every case.
   * Returns what was reopened; a part that is still gone stays faulted, and the watchdog says so.
   */
  reopenLost(): Promise<string[]>;
  /** How the rig sees what each IHD and PPMID shows, by device id. */
  readonly observers: ReadonlyMap<string, DeviceObserver>;
  /**
   * The rig's HAN keys: from the environment the rig file names, or, on a virtual bench that names
   * none, the published test ones its devices use. Never written to any output.
   */
  readonly keys: { readonly networkKey?: Uint8Array; readonly installCode?: string };
  /** How this bench makes a meter receive a Change of Tenancy; absent when the rig file names no way. */
  readonly tenancy?: TenancyTrigger;
  /** How this bench takes a meter out of reach, cuts the CH's WAN and keys a top-up code into a PPMID (the reconnect suite). */
  readonly reconnect: BenchReconnect;
  /** How this bench sends a device a firmware image over the air (RCN-4). */
  readonly ota: OtaDelivery;
  /** Present on a virtual bench: for the project's own fault-injection tests, never for suites. */
  readonly virtual?: VirtualBench;
  device(role: RigDevice['role']): RigDevice | undefined;
  devices(role: RigDevice['role']): RigDevice[];
  /** The GPF of the bench's CH, as a device the suites can address (its relay is the CH's). */
  gpf(): RigDevice | undefined;
  close(): Promise<void>;
}

/** Waits (wall time, briefly) until a driver reports a fault injected below the wire; a driver that never does is a rig defect. */
async function noticed(faulted: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !faulted(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!faulted()) throw new Error(`${what}, but no driver noticed within 5 s`);
}

/** How long a part has to answer the hardware liveness probe. */
const PROBE_ANSWER_MS = 2_000;

/** A registry row the rig loader has already checked exists; missing here, a registration was lost in between. */
function registered<T>(row: T | undefined, what: string): T {
  if (!row) throw new Error(`${what} is not registered (drivers/*/registry.ts, or a module named in GBCS_RIG_REGISTER)`);
  return row;
}

const vendorOf = (relay: RigRelay): RelayVendor => registered(relayVendorNamed(relay.vendor), `relay vendor "${relay.vendor}"`);
const snifferKindOf = (kind: string): SnifferKind => registered(snifferKindNamed(kind), `sniffer kind "${kind}"`);
const radioKindOf = (kind: string): RadioKind => registered(radioKindNamed(kind), `radio kind "${kind}"`);

/** Closes what was opened, last first, best effort: a part that already failed has nothing left to close. */
class Closers {
  readonly #closers: (() => Promise<unknown> | unknown)[] = [];

  push(close: () => Promise<unknown> | unknown): void {
    this.#closers.push(close);
  }

  async close(): Promise<void> {
    for (const c of this.#closers.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Best effort.
      }
    }
  }
}

/** The virtual bench for a rig bench: each relay, sniffer and radio joined to its vendor's or kind's virtual twin. */
function virtualSpec(rig: LoadedRig, spec: RigBench, fromMs: number | undefined): VirtualBenchSpec {
  const twinContact = (relay: RigRelay) => {
    const vendor = vendorOf(relay);
    return { twin: vendor.virtualTwin, ...vendor.contact(relay) };
  };
  return {
    id: spec.id,
    seed: spec.virtual!.seed,
    transport: spec.virtual!.transport,
    brokerUrl: rig.station.mqtt.url,
    devices: spec.devices.map((d) => ({
      id: d.id,
      role: d.role,
      ieee: d.ieee,
      relay: twinContact(d.relay),
      behaviour: d.behaviour,
      ...(d.gpf && { gpf: { ieee: d.gpf.ieee, behaviour: d.gpf.behaviour } }),
    })),
    sniffers: spec.sniffers.map((s) => ({ id: s.id, channel: s.channel, twin: snifferKindOf(s.kind).virtualTwin })),
    radio: { channel: spec.radio.channel, ieee: spec.radio.ieee, twin: radioKindOf(spec.radio.kind).virtualTwin },
    authorisedHhts: [spec.radio.ieee],
    networkKey: fromHex(VIRTUAL_NETWORK_KEY),
    faults: spec.virtual!.faults,
    epochMs: fromMs,
  };
}

/** Where the drivers find the bench's broker and serial devices: the rig file's, or the virtual bench's. */
interface Wiring {
  brokerUrl: string;
  binding?: SerialBinding;
  sniffers: ReadonlyMap<string, SerialLocation>;
  radio: SerialLocation;
}

function wiringOf(rig: LoadedRig, spec: RigBench, virtual: VirtualBench | undefined): Wiring {
  if (virtual) {
    const w = virtual.wiring;
    return { brokerUrl: w.brokerUrl, binding: w.binding, sniffers: w.snifferLocations, radio: w.radioLocation };
  }
  return { brokerUrl: rig.station.mqtt.url, sniffers: new Map(spec.sniffers.map((s) => [s.id, s.location!])), radio: spec.radio.location! };
}

/**
 * A real bench's relays alone, on the station broker, with no serial part opened: `check` asks them when a sniffer or the
 * radio stops the bench opening (neither needs the other). Throws the broker's fault as openBench would.
 */
export async function openRelaysAlone(
  rig: LoadedRig,
  spec: RigBench,
): Promise<{ relays: Map<string, PowerSwitch>; close: () => Promise<void> }> {
  const closers = new Closers();
  try {
    const relays = await attachRelays(rig, spec, rig.station.mqtt.url, wallClock, closers);
    return { relays, close: () => closers.close() };
  } catch (e) {
    await closers.close();
    throw e;
  }
}

/** Connects the station's MQTT client and attaches every relay of the bench through its vendor's row. */
async function attachRelays(
  rig: LoadedRig,
  spec: RigBench,
  brokerUrl: string,
  now: () => number,
  closers: Closers,
): Promise<Map<string, PowerSwitch>> {
  const secrets = rig.secrets.mqtt;
  const station: MqttClient = await connectStation({
    url: brokerUrl,
    username: secrets.username,
    password: secrets.password,
    ca: secrets.caFile ? readFileSync(secrets.caFile) : undefined,
    // The lab's client id (brokers often key ACLs on it), made unique per bench and process: a second client with the same id would push the first off.
    clientId: `${rig.station.mqtt.clientId ?? 'gbcs-rig'}-${spec.id}-${process.pid}`,
  });
  closers.push(() => new Promise<void>((done) => station.end(true, {}, () => done())));
  const confirmWithinMs = rig.settings.relayConfirmSeconds * 1000;
  const relays = new Map<string, PowerSwitch>();
  for (const r of spec.relays) {
    const relay = await vendorOf(r).attach(r, { station, confirmWithinMs, now });
    relays.set(r.id, relay);
    closers.push(() => relay.close());
  }
  return relays;
}

/** One relay of a real bench, attached on its own (`gbcs-rig power`): the switch, and how to let it go. */
export async function attachRelay(
  rig: LoadedRig,
  spec: RigBench,
  relayId: string,
): Promise<{ relay: PowerSwitch; close(): Promise<void> }> {
  const closers = new Closers();
  try {
    const only = { ...spec, relays: spec.relays.filter((r) => r.id === relayId) };
    const relays = await attachRelays(rig, only, rig.station.mqtt.url, wallClock, closers);
    return { relay: registered(relays.get(relayId), `relay "${relayId}" of bench ${spec.id}`), close: () => closers.close() };
  } catch (e) {
    await closers.close();
    throw e;
  }
}

/**
 * The bench's sniffers and rig radio, each opened through its kind's row: opened, then started
 * once the bench clock exists (a frame is stamped with it), and reopened when found again after a fault.
 */
class SerialParts {
  readonly sniffers: BenchSniffer[] = [];
  radio!: Radio;

  constructor(
    private readonly spec: RigBench,
    private readonly wiring: Wiring,
    private readonly now: () => number,
    /** Hardware liveness probe period; 0 on the virtual bench, whose faults are injected below the wire. */
    private readonly probeMs: number,
  ) {}

  async open(): Promise<void> {
    for (const s of this.spec.sniffers) this.sniffers.push({ id: s.id, channel: s.channel, driver: await this.openSniffer(s.id) });
    this.radio = await this.openRadio();
  }

  async start(): Promise<void> {
    for (const s of this.sniffers) await this.startSniffer(s);
    await this.startRadio();
  }

  /** The first fault of a sniffer or the radio. */
  fault(): RigFault | undefined {
    return this.sniffers.map((s) => s.driver.fault).find((f) => f !== undefined) ?? this.radio.fault;
  }

  /** The drain barrier: every driver has parsed what the virtual firmware wrote so far. */
  async drain(written: { sniffers: ReadonlyMap<string, number>; radio: number }): Promise<void> {
    await Promise.all(this.sniffers.map((s) => s.driver.drain({ receivedBytes: written.sniffers.get(s.id) })));
    await this.radio.drain({ receivedBytes: written.radio });
  }

  /** Reopens each faulted part whose device can be opened again; returns what was reopened. */
  async reopenLost(): Promise<string[]> {
    const reopened: string[] = [];
    for (const s of this.sniffers) {
      if (!s.driver.fault) continue;
      await s.driver.close().catch(() => {});
      try {
        s.driver = await this.openSniffer(s.id);
        await this.startSniffer(s);
        reopened.push(`${s.driver.where} at ${s.driver.location}`);
      } catch {
        // Still gone: the old driver's fault (or the new one's) is what the watchdog reports.
      }
    }
    if (this.radio.fault) {
      await this.radio.close().catch(() => {});
      try {
        this.radio = await this.openRadio();
        await this.startRadio();
        reopened.push(`${this.radio.where} at ${this.radio.location}`);
      } catch {
        // The radio opened but does not answer, or is gone: its fault is what the watchdog reports.
      }
    }
    return reopened;
  }

  /** Best effort, the radio first: a part that already failed has nothing left to close. */
  async close(): Promise<void> {
    await this.radio?.close().catch(() => {});
    await Promise.all(this.sniffers.map((s) => s.driver.close().catch(() => {})));
  }

  private openSniffer(id: string): Promise<Sniffer> {
    const s = this.spec.sniffers.find((x) => x.id === id)!;
    return snifferKindOf(s.kind).open(this.wiring.sniffers.get(id)!, s, {
      binding: this.wiring.binding,
      now: this.now,
      where: `sniffer ${id}`,
    });
  }

  private async startSniffer(s: BenchSniffer): Promise<void> {
    await s.driver.start(s.channel);
    if (this.probeMs > 0) s.driver.startProbe({ everyMs: this.probeMs, answerWithinMs: PROBE_ANSWER_MS });
  }

  private openRadio(): Promise<Radio> {
    const r = this.spec.radio;
    return radioKindOf(r.kind).open(this.wiring.radio, r, { binding: this.wiring.binding, now: this.now, where: 'rig radio' });
  }

  private async startRadio(): Promise<void> {
    await this.radio.setChannel(this.spec.radio.channel);
    await this.radio.setIeee(this.spec.radio.ieee);
    if (this.probeMs > 0) this.radio.startProbe(this.probeMs);
  }
}

/** How the rig sees what each IHD and PPMID shows: through its observation port if it has one, else through the operator. */
async function openObservers(
  rig: LoadedRig,
  spec: RigBench,
  virtual: VirtualBench | undefined,
  binding: SerialBinding | undefined,
  closers: Closers,
): Promise<Map<string, DeviceObserver>> {
  const observers = new Map<string, DeviceObserver>();
  for (const d of spec.devices.filter((x) => x.role === 'IHD' || x.role === 'PPMID')) {
    const virtualPath = virtual?.wiring.observePaths.get(d.id);
    const where = virtualPath ? { path: virtualPath } : d.observe;
    if (where) {
      const port = await ObservationPort.open(where, { binding, where: `observation port of ${d.id}` });
      closers.push(() => port.close());
      observers.set(d.id, new PortObserver(port, d));
    } else {
      observers.set(d.id, new OperatorObserver(d, rig.settings.operatorAnswerMinutes * 60_000));
    }
  }
  return observers;
}

/** The virtual bench's drain barrier: virtual time moves on only once the drivers have parsed every byte written so far. */
function drainBarrier(v: VirtualBench, parts: SerialParts, relayFault: () => RigFault | undefined): () => Promise<void> {
  return async () => {
    // An unplugged sniffer or a stopped broker is noticed through real I/O: virtual time waits until its driver knows.
    for (const s of parts.sniffers)
      if (v.unpluggedSniffers.has(s.id)) await noticed(() => !!s.driver.fault, `${s.driver.where} was unplugged`);
    if (v.awaitingNotice.delete('broker-down')) await noticed(() => relayFault() !== undefined, 'the station broker stopped');
    if (v.awaitingNotice.delete('relay-toggled')) await noticed(() => relayFault() !== undefined, "a relay's button was pressed");
    await parts.drain(v.written());
  };
}

/**
 * Opens a bench. `virtualFromMs`: a virtual bench's clock starts there (where its previous case
 * ended), with devices fresh from their profiles — so a case's verdict never depends on the cases before it.
 */
export async function openBench(
  rig: LoadedRig,
  benchId: string,
  virtualFromMs?: number,
  /** `relays: false`: no broker connection and no relays (`gbcs-rig check` goes on to the serial parts when the broker is unreachable). */
  options: { relays?: boolean } = {},
): Promise<OpenBench> {
  const spec = rig.bench(benchId);
  if (!spec) throw new Error(`rig ${rig.file} has no bench ${benchId}`);
  const closers = new Closers();
  try {
    const virtual = spec.virtual ? await VirtualBench.start(virtualSpec(rig, spec, virtualFromMs)) : undefined;
    if (virtual) closers.push(() => virtual.close());
    const wiring = wiringOf(rig, spec, virtual);
    // The clock the drivers stamp with: virtual time is read, never waited on, by drivers.
    let clock: BenchClock | undefined;
    const now = () => clock!.now();
    const relays =
      options.relays === false ? new Map<string, PowerSwitch>() : await attachRelays(rig, spec, wiring.brokerUrl, now, closers);
    // On hardware the parts are asked whether they live; on the virtual bench faults are injected below the wire instead.
    const parts = new SerialParts(spec, wiring, now, spec.virtual ? 0 : rig.settings.partProbeSeconds * 1000);
    closers.push(() => parts.close());
    await parts.open();
    const observers = await openObservers(rig, spec, virtual, wiring.binding, closers);

    const relayFault = () => [...relays.values()].map((r) => r.fault).find((f) => f !== undefined);
    const caseHealth = new Set<BenchHealth>();
    const health = (): RigFault | undefined =>
      parts.fault() ?? relayFault() ?? [...caseHealth].map((h) => h()).find((f) => f !== undefined);
    clock = virtual ? new VirtualBenchClock(virtual.clock, drainBarrier(virtual, parts, relayFault), health) : new HardwareClock(health);
    await parts.start();

    const networkKey = rig.secrets.networkKey ?? (virtual ? VIRTUAL_NETWORK_KEY : undefined);
    return {
      id: spec.id,
      rig,
      spec,
      keys: {
        networkKey: networkKey === undefined ? undefined : fromHex(networkKey),
        installCode: rig.secrets.installCode ?? (virtual ? VIRTUAL_INSTALL_CODE : undefined),
      },
      clock,
      relays,
      sniffers: parts.sniffers,
      get radio() {
        return parts.radio;
      },
      health,
      watchCase: (h) => {
        caseHealth.add(h);
        return () => caseHealth.delete(h);
      },
      reopenLost: () => parts.reopenLost(),
      virtual,
      tenancy: tenancyTriggerFor(spec, virtual),
      reconnect: reconnectFor(spec, relays, virtual),
      ota: otaDeliveryFor(spec, virtual, rig.settings.operatorAnswerMinutes * 60_000),
      observers,
      device: (role) => spec.devices.find((d) => d.role === role),
      devices: (role) => spec.devices.filter((d) => d.role === role),
      gpf: () => {
        const ch = spec.devices.find((d) => d.role === 'CH' && d.gpf);
        if (!ch) return undefined;
        const { gpf, ...within } = ch;
        return { ...within, id: gpfId(ch.id), inside: ch.id, ieee: gpf!.ieee, firmware: gpf!.firmware, behaviour: gpf!.behaviour };
      },
      close: () => closers.close(),
    };
  } catch (e) {
    await closers.close();
    throw e;
  }
}
