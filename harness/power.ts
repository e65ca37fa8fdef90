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

export class BenchPower {
  /** The last confirmed power-on per relay: a device's power period (the GPF shares the CH's relay, and so its period). */
  readonly #lastOn = new Map<string, PowerEdge>();

  constructor(
    private readonly relays: ReadonlyMap<string, PowerSwitch>,
    private readonly evidence: EvidenceLog,
    private readonly clock: BenchClock,
  ) {}

  async set(device: RigDevice, on: boolean): Promise<PowerEdge> {
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

  /** The device's last power-on confirmed in this case; undefined when the case has not powered it (or switched it off since). */
  lastOn(device: RigDevice): PowerEdge | undefined {
    return this.#lastOn.get(device.relay.id);
  }

  /** Off, a pause, on: returns the power-on edge (t0 of everything the device counts from power-on). */
  async cycle(device: RigDevice, offForMs = 5_000): Promise<PowerEdge> {
    await this.set(device, false);
    await this.clock.sleep(offForMs);
    return this.set(device, true);
  }
}
