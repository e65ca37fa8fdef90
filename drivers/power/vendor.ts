// What a relay vendor gives the registry (drivers/power/registry.ts): its fields in a rig file,
// its channel rule, how to attach one channel, and the name of its virtual twin in sim/.
import type { MqttClient } from 'mqtt';
import type { z } from 'zod';
import type { Now, PowerSwitch } from './types.ts';

/** What the bench gives a relay channel it attaches. */
export interface RelayAttachment {
  /** The station's one MQTT client, shared by all its relays. */
  readonly station: MqttClient;
  readonly confirmWithinMs: number;
  readonly now: Now;
}

/** The physical contact a relay entry switches: two entries with the same contact switch the same mains. */
export interface RelayContact {
  /** The relay device (e.g. its MQTT topic). */
  readonly device: string;
  /** The contact on it, in the vendor's own numbering, defaults applied. */
  readonly channel: number;
}

/** One relay vendor; `Fields` is its zod shape beside `id` and `vendor`. */
export interface RelayVendor<Fields extends z.ZodRawShape = z.ZodRawShape> {
  /** The rig file's `vendor` value. */
  readonly vendor: string;
  /** How people name it, e.g. `Tasmota`. */
  readonly title: string;
  readonly fields: Fields;
  /** What each field means for this vendor: the rig-file hint. */
  readonly hints?: Readonly<Partial<Record<keyof Fields & string, string>>>;
  /** The field naming the relay device: where a rig-file problem about its contact points. */
  readonly deviceField: keyof Fields & string;
  /** The channel rule: which contact an entry switches, defaults applied. */
  contact(relay: z.output<z.ZodObject<Fields>>): RelayContact;
  /** Attaches one channel, ready to switch; resolves once it listens for the relay's confirmations. */
  attach(relay: z.output<z.ZodObject<Fields>>, on: RelayAttachment): Promise<PowerSwitch>;
  /** The name of its virtual twin in sim/power-registry.ts: the virtual relay device that answers like it. */
  readonly virtualTwin: string;
}

/** Declares a vendor with its field types inferred from its zod shape. */
export function relayVendor<Fields extends z.ZodRawShape>(vendor: RelayVendor<Fields>): RelayVendor<Fields> {
  return vendor;
}
