// A Shelly Gen2 (Plus/Pro) switch channel over MQTT JSON-RPC (PROTOCOL.md §9), as Shelly's public Gen2 API
// documentation describes it (docs/bench-hardware.md "Power relays" cites the sections): requests on `<prefix>/rpc`, answers on
// `<src>/rpc`, NotifyStatus on `<prefix>/events/rpc`, availability on `<prefix>/online`. A switch is confirmed by
// Switch.Set's success reply (or a NotifyStatus with the asked output), a query by Switch.GetStatus's `output`.
import { randomBytes } from 'node:crypto';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { z } from 'zod';
import { MqttRelay, resolveStationClient, topicField, type RelayCommand, type StationClient } from './mqtt.ts';
import type { PowerSwitchOptions } from './types.ts';
import { relayVendor } from './vendor.ts';

export interface ShellyGen2SwitchOptions extends PowerSwitchOptions {
  /** The device's MQTT topic prefix (MQTT.Config `topic_prefix`, by default its device id). */
  readonly prefix: string;
  /** Switch component id, `switch:<id>`. Default 0. */
  readonly switchId?: number;
  /** RPC `src`; replies come on `<src>/rpc`. Default: unique per driver instance. */
  readonly replyTo?: string;
}

/** A JSON-RPC 2.0 response frame (RPC Protocol: "Response Frame"). */
interface RpcReply {
  id?: unknown;
  result?: { output?: unknown; was_on?: unknown };
  error?: { code?: unknown; message?: unknown };
}

export class ShellyGen2Switch extends MqttRelay {
  readonly where: string;
  protected readonly unconfirmedFix: string;
  private readonly prefix: string;
  private readonly switchId: number;
  private readonly component: string;
  private readonly replyTo: string;
  private nextRpcId = 1;
  /** The RPC call in flight and the state it sets (undefined: Switch.GetStatus). */
  private awaiting: { id: number; on: boolean | undefined } | undefined;

  static async attach(station: StationClient, options: ShellyGen2SwitchOptions): Promise<ShellyGen2Switch> {
    const { client, owned } = await resolveStationClient(station);
    const relay = new ShellyGen2Switch(client, owned, options);
    await relay.start();
    return relay;
  }

  private constructor(client: MqttClient, owned: boolean, options: ShellyGen2SwitchOptions) {
    super(client, owned, options);
    this.prefix = options.prefix;
    this.switchId = options.switchId ?? 0;
    this.component = `switch:${this.switchId}`;
    this.replyTo = options.replyTo ?? `gbcs-rig-${randomBytes(4).toString('hex')}`;
    this.where = `shelly-gen2 ${this.prefix} ${this.component}`;
    this.unconfirmedFix =
      `Check the Shelly '${this.prefix}' is powered and connected (${this.prefix}/online), that its MQTT settings have ` +
      `RPC enabled (enable_rpc) and topic prefix '${this.prefix}', and that it has ${this.component}.`;
  }

  protected topics(): readonly string[] {
    return [`${this.replyTo}/rpc`, `${this.prefix}/events/rpc`, `${this.prefix}/status/${this.component}`, `${this.prefix}/online`];
  }

  protected command(on: boolean | undefined): RelayCommand {
    const id = this.nextRpcId++;
    this.awaiting = { id, on };
    const call =
      on === undefined
        ? { id, src: this.replyTo, method: 'Switch.GetStatus', params: { id: this.switchId } }
        : { id, src: this.replyTo, method: 'Switch.Set', params: { id: this.switchId, on } };
    return { topic: `${this.prefix}/rpc`, payload: JSON.stringify(call) };
  }

  protected onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const text = payload.toString('utf8').trim();
    if (topic === `${this.prefix}/online`) {
      if (text === 'true' || text === 'false') this.reportAvailability(text === 'true');
      return;
    }
    const body = parseObject(text);
    if (!body) return;
    if (topic === `${this.replyTo}/rpc`) return this.onReply(body as RpcReply, topic, packet);
    // NotifyStatus carries the changed part of each component's status, NotifyFullStatus all of it.
    const status = topic === `${this.prefix}/events/rpc` ? notifiedStatus(body, this.component) : body;
    if (typeof status?.output === 'boolean') this.reportState(status.output, topic, packet);
  }

  private onReply(reply: RpcReply, topic: string, packet: IPublishPacket): void {
    const call = this.awaiting;
    if (!call || reply.id !== call.id) return;
    this.awaiting = undefined;
    if (reply.error) return this.reportRefusal(`JSON-RPC error ${String(reply.error.code)}: ${String(reply.error.message)}`);
    // Switch.Set answers `{was_on}` once the output is set: the output is now what was asked. GetStatus answers `output`.
    const on = call.on ?? reply.result?.output;
    if (typeof on === 'boolean') this.reportState(on, topic, packet);
  }
}

/** The status of `component` in a NotifyStatus / NotifyFullStatus frame, if it has one. */
function notifiedStatus(frame: Record<string, unknown>, component: string): Record<string, unknown> | undefined {
  if (frame.method !== 'NotifyStatus' && frame.method !== 'NotifyFullStatus') return undefined;
  const params = frame.params as Record<string, unknown> | undefined;
  const status = params?.[component];
  return typeof status === 'object' && status !== null ? (status as Record<string, unknown>) : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Its row in drivers/power/registry.ts; its virtual twin is sim/tasmota-device.ts's VirtualShellyGen2. */
export const shellyGen2 = relayVendor({
  vendor: 'shelly-gen2',
  title: 'Shelly Gen2',
  fields: { topic: topicField, channel: z.int().min(0).optional() },
  deviceField: 'topic',
  hints: { topic: 'its MQTT topic prefix', channel: 'switch id 0…n (default 0)' },
  contact: (r) => ({ device: r.topic, channel: r.channel ?? 0 }),
  attach: (r, on) =>
    ShellyGen2Switch.attach(on.station, { prefix: r.topic, switchId: r.channel ?? 0, confirmWithinMs: on.confirmWithinMs, now: on.now }),
  virtualTwin: 'shelly-gen2',
});
