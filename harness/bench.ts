// Opens one bench of a rig for a worker: the same drivers whether the hardware is real or the
// virtual bench below the wire. Only this file knows that a virtual bench has to be started.
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { connectStation } from '../drivers/power/mqtt.ts';
import { ShellyGen2Switch } from '../drivers/power/shelly-gen2.ts';
import { TasmotaRelay } from '../drivers/power/tasmota.ts';
import type { PowerSwitch } from '../drivers/power/types.ts';
import { ObservationPort } from '../drivers/observe/serial-port.ts';
import type { Radio } from '../drivers/radio/radio.ts';
import { RigRadio } from '../drivers/radio/rig-radio.ts';
import type { SerialBinding, SerialLocation } from '../drivers/serial.ts';
import { Nrf802154Sniffer } from '../drivers/sniffer/nrf802154.ts';
import type { Sniffer } from '../drivers/sniffer/sniffer.ts';
import type { LoadedRig, RigBench, RigDevice } from '../rigs/load.ts';
import { VIRTUAL_INSTALL_CODE, VIRTUAL_NETWORK_KEY, VirtualBench, gpfId } from '../sim/bench.ts';
import { fromHex } from '../protocol/bytes.ts';
import type { RigFault } from '../drivers/faults.ts';
import { HardwareClock, VirtualBenchClock, type BenchClock, type BenchHealth } from './clock.ts';
import { OperatorObserver, PortObserver, type DeviceObserver } from './observer.ts';
import { tenancyTriggerFor, type TenancyTrigger } from './tenancy.ts';

export interface OpenBench {
  readonly id: string;
  readonly rig: LoadedRig;
  readonly spec: RigBench;
  readonly clock: BenchClock;
  /** Relay drivers by relay id. */
  readonly relays: ReadonlyMap<string, PowerSwitch>;
  /** A sniffer's driver is replaced when reopenLost() finds its device again. */
  readonly sniffers: readonly { id: string; channel: number; driver: Sniffer }[];
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

/**
 * Opens a bench. `virtualFromMs`: a virtual bench's clock starts there (where its previous case
 * ended), with devices fresh from their profiles — so a case's verdict never depends on the cases before it.
 */
export async function openBench(rig: LoadedRig, benchId: string, virtualFromMs?: number): Promise<OpenBench> {
  const spec = rig.bench(benchId);
  if (!spec) throw new Error(`rig ${rig.file} has no bench ${benchId}`);
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Best effort: a part that already failed has nothing left to close.
      }
    }
  };
  try {
    let virtual: VirtualBench | undefined;
    let brokerUrl = rig.station.mqtt.url;
    let binding: SerialBinding | undefined;
    const snifferLocation = new Map<string, SerialLocation>();
    let radioLocation: SerialLocation;
    if (spec.virtual) {
      virtual = await VirtualBench.start({
        id: spec.id,
        seed: spec.virtual.seed,
        transport: spec.virtual.transport,
        brokerUrl: rig.station.mqtt.url,
        devices: spec.devices.map((d) => ({ id: d.id, role: d.role, ieee: d.ieee, relay: d.relay, behaviour: d.behaviour, ...(d.gpf && { gpf: { ieee: d.gpf.ieee, behaviour: d.gpf.behaviour } }) })),
        sniffers: spec.sniffers.map((s) => ({ id: s.id, channel: s.channel })),
        radio: { channel: spec.radio.channel, ieee: spec.radio.ieee },
        authorisedHhts: [spec.radio.ieee],
        networkKey: fromHex(VIRTUAL_NETWORK_KEY),
        faults: spec.virtual.faults,
        epochMs: virtualFromMs,
      });
      closers.push(() => virtual!.close());
      brokerUrl = virtual.wiring.brokerUrl;
      binding = virtual.wiring.binding;
      for (const [id, location] of virtual.wiring.snifferLocations) snifferLocation.set(id, location);
      radioLocation = virtual.wiring.radioLocation;
    } else {
      for (const s of spec.sniffers) snifferLocation.set(s.id, s.location!);
      radioLocation = spec.radio.location!;
    }

    // The clock the drivers stamp with: virtual time is read, never waited on, by drivers.
    let clock: BenchClock;
    const now = () => clock.now();
    const secrets = rig.secrets.mqtt;
    const client: MqttClient = await connectStation({
      url: brokerUrl,
      username: secrets.username,
      password: secrets.password,
      ca: secrets.caFile ? readFileSync(secrets.caFile) : undefined,
      clientId: `gbcs-rig-${spec.id}-${process.pid}`,
    });
    closers.push(() => new Promise<void>((done) => client.end(true, {}, () => done())));
    const confirmWithinMs = rig.settings.relayConfirmSeconds * 1000;
    const relays = new Map<string, PowerSwitch>();
    for (const r of spec.relays) {
      const relay = r.vendor === 'tasmota'
        ? await TasmotaRelay.attach(client, { topic: r.topic, channel: r.channel, confirmWithinMs, now })
        : await ShellyGen2Switch.attach(client, { prefix: r.topic, switchId: r.channel ?? 0, confirmWithinMs, now });
      relays.set(r.id, relay);
      closers.push(() => relay.close());
    }
    // On hardware the parts are asked whether they live; on the virtual bench faults are injected below the wire instead.
    const probeMs = spec.virtual ? 0 : rig.settings.partProbeSeconds * 1000;
    const sniffers: { id: string; channel: number; driver: Sniffer }[] = [];
    closers.push(() => Promise.all(sniffers.map((s) => s.driver.close())).then(() => undefined));
    const openSniffer = async (id: string, channel: number) => {
      const driver = await Nrf802154Sniffer.open(snifferLocation.get(id)!, { binding, now, where: `sniffer ${id}` });
      return { driver, start: async () => {
        await driver.start(channel);
        if (probeMs > 0) driver.startProbe({ everyMs: probeMs, answerWithinMs: PROBE_ANSWER_MS });
      } };
    };
    for (const s of spec.sniffers) sniffers.push({ id: s.id, channel: s.channel, driver: (await openSniffer(s.id, s.channel)).driver });
    const openRadio = () => RigRadio.open(radioLocation, { binding, now, where: 'rig radio' });
    const setUpRadio = async (r: Radio) => {
      await r.setChannel(spec.radio.channel);
      await r.setIeee(spec.radio.ieee);
      if (probeMs > 0) r.startProbe(probeMs);
    };
    let radio: Radio = await openRadio();
    closers.push(() => radio.close());
    const relayFault = () => [...relays.values()].map((r) => r.fault).find((f) => f !== undefined);
    const caseHealth = new Set<BenchHealth>();
    const health = (): RigFault | undefined => sniffers.map((s) => s.driver.fault).find((f) => f !== undefined)
      ?? radio.fault ?? relayFault() ?? [...caseHealth].map((h) => h()).find((f) => f !== undefined);
    // A device with an observation port is asked through it; any other IHD or PPMID, through the operator.
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

    if (virtual) {
      const v = virtual;
      // The drain barrier: virtual time moves on only once the drivers have parsed every byte written so far.
      const barrier = async () => {
        // An unplugged sniffer or a stopped broker is noticed through real I/O: virtual time waits until its driver knows.
        for (const s of sniffers) if (v.unpluggedSniffers.has(s.id)) await noticed(() => !!s.driver.fault, `${s.driver.where} was unplugged`);
        if (v.awaitingNotice.delete('broker-down')) await noticed(() => relayFault() !== undefined, 'the station broker stopped');
        const written = v.written();
        await Promise.all(sniffers.map((s) => s.driver.drain({ receivedBytes: written.sniffers.get(s.id) })));
        await radio.drain({ receivedBytes: written.radio });
      };
      clock = new VirtualBenchClock(v.clock, barrier, health);
    } else {
      clock = new HardwareClock(health);
    }
    for (const s of sniffers) {
      await s.driver.start(s.channel);
      if (probeMs > 0) s.driver.startProbe({ everyMs: probeMs, answerWithinMs: PROBE_ANSWER_MS });
    }
    await setUpRadio(radio);

    const reopenLost = async (): Promise<string[]> => {
      const reopened: string[] = [];
      for (const s of sniffers) {
        if (!s.driver.fault) continue;
        await s.driver.close().catch(() => {});
        try {
          const fresh = await openSniffer(s.id, s.channel);
          s.driver = fresh.driver;
          await fresh.start();
          reopened.push(`${s.driver.where} at ${s.driver.location}`);
        } catch {
          // Still gone: the old driver's fault (or the new one's) is what the watchdog reports.
        }
      }
      if (radio.fault) {
        await radio.close().catch(() => {});
        try {
          radio = await openRadio();
          await setUpRadio(radio);
          reopened.push(`${radio.where} at ${radio.location}`);
        } catch {
          // The radio opened but does not answer, or is gone: its fault is what the watchdog reports.
        }
      }
      return reopened;
    };

    const networkKey = rig.secrets.networkKey ?? (virtual ? VIRTUAL_NETWORK_KEY : undefined);
    return {
      id: spec.id,
      rig,
      spec,
      keys: {
        networkKey: networkKey === undefined ? undefined : fromHex(networkKey),
        installCode: rig.secrets.installCode ?? (virtual ? VIRTUAL_INSTALL_CODE : undefined),
      },
      clock: clock!,
      relays,
      sniffers,
      get radio() {
        return radio;
      },
      health,
      watchCase: (h) => {
        caseHealth.add(h);
        return () => caseHealth.delete(h);
      },
      reopenLost,
      virtual,
      tenancy: tenancyTriggerFor(spec, virtual),
      observers,
      device: (role) => spec.devices.find((d) => d.role === role),
      devices: (role) => spec.devices.filter((d) => d.role === role),
      gpf: () => {
        const ch = spec.devices.find((d) => d.role === 'CH' && d.gpf);
        return ch && { ...ch, id: gpfId(ch.id), ieee: ch.gpf!.ieee, firmware: ch.gpf!.firmware, behaviour: ch.gpf!.behaviour };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
