// Bench power for suites: switch a device's relay with confirmation, log it as evidence, and
// report when the device was powered (the confirmation time, with its uncertainty).
import type { PowerConfirmation, PowerSwitch } from '../drivers/power/types.ts';
import type { RigDevice } from '../rigs/load.ts';
import type { BenchClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';

export interface PowerEdge {
  on: boolean;
  /** Bench time the relay confirmed the new state (ms). */
  atMs: number;
  /** The switch happened between command and confirmation: that span is the uncertainty. */
  uncertaintyMs: number;
}

/** A relay something other than the rig had switched, put back by the rig between cases (restoreRelays). */
export interface RelayRestored {
  relay: string;
  /** The relay's fault: what it reported, when, and that the rig had not asked for it. */
  changed: string;
  /** The state the rig switched it back to, confirmed; or why it could not (the fault then stays, and the next cases are INCONCLUSIVE). */
  restored?: 'ON' | 'OFF';
  failed?: string;
}

/**
 * Between cases, switches each relay that something other than the rig switched (relay-changed) back to the state the
 * rig left it in: the fault makes the case it fell in INCONCLUSIVE, and a button pressed once must not do the same to
 * every case after it — on a real bench the relays live from case to case.
 */
export async function restoreRelays(relays: ReadonlyMap<string, PowerSwitch>): Promise<RelayRestored[]> {
  const restored: RelayRestored[] = [];
  for (const relay of relays.values()) {
    const fault = relay.fault;
    if (fault?.kind !== 'relay-changed') continue;
    try {
      const c = await relay.restore();
      if (c) restored.push({ relay: relay.where, changed: fault.message, restored: c.on ? 'ON' : 'OFF' });
    } catch (e) {
      restored.push({ relay: relay.where, changed: fault.message, failed: (e as Error).message });
    }
  }
  return restored;
}

/** A relay as the cases side by side hold it: who needs it on, and its switching on (settled once confirmed or failed). */
interface Held {
  holders: Set<string>;
  on?: { settled: boolean; edge?: PowerEdge };
  /** Its last switch for all the holders (setForAll: a shared act): the device's power period in every holder's case. */
  forAll?: PowerEdge;
}

/** How long a case waits for the relay a case alongside is switching on: its confirmation comes within seconds. */
const SHARED_SWITCH_WAIT_MS = 60_000;

/**
 * Who holds each relay among cases side by side on one bench: a device is switched on by the first case that
 * needs it and off by the last that lets it go, so a case that ends early never cuts the power under another.
 */
export class PowerHolds {
  readonly #relays = new Map<string, Held>();

  of(relayId: string): Held {
    let held = this.#relays.get(relayId);
    if (!held) this.#relays.set(relayId, (held = { holders: new Set() }));
    return held;
  }
}

export class BenchPower {
  /** The last confirmed power-on per relay switched by this case: a device's power period (the GPF shares the CH's relay, and so its period). */
  readonly #lastOn = new Map<string, PowerEdge>();

  constructor(
    private readonly relays: ReadonlyMap<string, PowerSwitch>,
    private readonly evidence: EvidenceLog,
    private readonly clock: BenchClock,
    /** For a case side by side with others: the group's holds, and the case's id in them. */
    private readonly shared?: { holds: PowerHolds; caseId: string },
  ) {}

  async set(device: RigDevice, on: boolean): Promise<PowerEdge> {
    if (!this.shared) return this.switch(device, on);
    const held = this.shared.holds.of(device.relay.id);
    const others = () => [...held.holders].filter((c) => c !== this.shared!.caseId);
    if (on) {
      held.holders.add(this.shared.caseId);
      const switching = held.on;
      // Waited for on the bench clock, not as a promise: time moves for cases side by side only while each waits on it.
      if (switching && !switching.settled) await this.clock.waitFor(() => switching.settled, SHARED_SWITCH_WAIT_MS);
      const edge = switching?.edge;
      if (edge?.on) {
        // Already on for a case alongside: its power period is this case's too.
        this.evidence.event('power-shared', { device: device.id, state: 'ON', since: new Date(edge.atMs).toISOString(), heldBy: others() });
        this.#lastOn.set(device.relay.id, edge);
        return edge;
      }
      const mine: Held['on'] = { settled: false };
      held.on = mine;
      try {
        mine.edge = await this.switch(device, true);
        return mine.edge;
      } finally {
        mine.settled = true;
      }
    }
    held.holders.delete(this.shared.caseId);
    this.#lastOn.delete(device.relay.id);
    if (held.holders.size > 0) {
      this.evidence.event('power-kept', { device: device.id, state: 'ON', heldBy: others() });
      return { on: true, atMs: this.clock.now(), uncertaintyMs: 0 };
    }
    held.on = undefined;
    return this.switch(device, false);
  }

  private async switch(device: RigDevice, on: boolean): Promise<PowerEdge> {
    const relay = this.relays.get(device.relay.id);
    if (!relay) throw new Error(`no relay driver for ${device.relay.id}`);
    this.evidence.event('power-command', { device: device.id, relay: relay.where, state: on ? 'ON' : 'OFF' });
    const c: PowerConfirmation = await relay.switch(on);
    this.evidence.event(
      'power-confirmed',
      { device: device.id, relay: relay.where, state: c.on ? 'ON' : 'OFF', publishedAt: c.publishedAt, confirmedBy: c.confirmedBy },
      c.confirmedAt,
    );
    const edge = { on: c.on, atMs: c.confirmedAt, uncertaintyMs: c.confirmedAt - c.publishedAt };
    if (edge.on) this.#lastOn.set(device.relay.id, edge);
    else this.#lastOn.delete(device.relay.id);
    return edge;
  }

  /**
   * Switches `devices` on in order (the CH first, as a HAN forms), runs `body` with their power-on edges, and switches
   * every one it tried off again in reverse after it, whatever happens: no device talks into the next case.
   */
  async during<T>(devices: readonly RigDevice[], body: (ons: PowerEdge[]) => Promise<T>): Promise<T> {
    const tried: RigDevice[] = [];
    try {
      const ons: PowerEdge[] = [];
      for (const d of devices) {
        tried.push(d);
        ons.push(await this.set(d, true));
      }
      return await body(ons);
    } finally {
      for (const d of tried.reverse()) await this.set(d, false);
    }
  }

  /**
   * The device's last power-on confirmed in this case, or by a case alongside for all that hold it (a shared outage or
   * power cycle: the device's power period is the bench's, whoever switched it); undefined when the case has not powered
   * it, or it was switched off since.
   */
  lastOn(device: RigDevice): PowerEdge | undefined {
    const mine = this.#lastOn.get(device.relay.id);
    const held = this.shared?.holds.of(device.relay.id);
    const forAll = held?.holders.has(this.shared!.caseId) ? held.forAll : undefined;
    if (!forAll || (mine && mine.atMs >= forAll.atMs)) return mine;
    return forAll.on ? forAll : undefined;
  }

  /**
   * Switches the relay whoever else holds it: for the cases alongside that declared they share this act (a power cycle,
   * a meter's outage; harness/shared-act.ts), done once for all. The holds keep a new power-on as the device's period.
   */
  async setForAll(device: RigDevice, on: boolean): Promise<PowerEdge> {
    const edge = await this.switch(device, on);
    if (this.shared) {
      const held = this.shared.holds.of(device.relay.id);
      held.on = on ? { settled: true, edge } : undefined;
      held.forAll = edge;
    }
    return edge;
  }

  /**
   * A power cycle a case alongside made for this one too, in this case's evidence. Its power-on is the device's power
   * period here already: the holds keep it (lastOn).
   */
  adopt(device: RigDevice, edge: PowerEdge, by: string): void {
    this.evidence.event('power-shared', { device: device.id, state: 'ON', since: new Date(edge.atMs).toISOString(), cycledBy: by });
  }

  /**
   * Off, a pause, on: returns the power-on edge (t0 of everything the device counts from power-on). `forAll`: whoever
   * else holds the relay (setForAll), for an act the cases alongside share.
   */
  async cycle(device: RigDevice, { offForMs = 5_000, forAll = false } = {}): Promise<PowerEdge> {
    const set = (on: boolean) => (forAll ? this.setForAll(device, on) : this.set(device, on));
    await set(false);
    await this.clock.sleep(offForMs);
    return set(true);
  }
}
