// A Tasmota relay channel over the station's MQTT broker (PROTOCOL.md §9), assuming the default
// FullTopic `%prefix%/%topic%/` and the default StateText ON/OFF.
import type { IPublishPacket, MqttClient } from 'mqtt';
import { z } from 'zod';
import { MqttRelay, resolveStationClient, topicField, type RelayCommand, type StationClient } from './mqtt.ts';
import type { PowerSwitchOptions } from './types.ts';
import { relayVendor } from './vendor.ts';

export interface TasmotaRelayOptions extends PowerSwitchOptions {
  /** The device's MQTT Topic (Tasmota `Topic` command), e.g. `bench1-mains`. */
  readonly topic: string;
  /** Relay number 1…n; 0 or undefined for a single-relay device (bare `POWER`). */
  readonly channel?: number;
}

export class TasmotaRelay extends MqttRelay {
  readonly where: string;
  protected readonly unconfirmedFix: string;
  private readonly device: string;
  private readonly power: string;

  /** Subscribes this channel's topics on the station client and returns the relay, ready to switch. */
  static async attach(station: StationClient, options: TasmotaRelayOptions): Promise<TasmotaRelay> {
    const { client, owned } = await resolveStationClient(station);
    const relay = new TasmotaRelay(client, owned, options);
    await relay.start();
    return relay;
  }

  private constructor(client: MqttClient, owned: boolean, options: TasmotaRelayOptions) {
    super(client, owned, options);
    this.device = options.topic;
    this.power = options.channel ? `POWER${options.channel}` : 'POWER';
    this.where = `tasmota ${this.device} ${this.power}`;
    this.unconfirmedFix =
      `Check the Tasmota device '${this.device}' is powered and connected (tele/${this.device}/LWT), that its MQTT Topic is ` +
      `'${this.device}' with the default FullTopic, and that it has relay ${options.channel || 1}.`;
  }

  protected topics(): readonly string[] {
    const stats = [`stat/${this.device}/RESULT`, `stat/${this.device}/${this.power}`];
    // A single-relay Tasmota answers `POWER1` with bare `POWER`; a multi-relay board answers bare `POWER` (relay 1) with `POWER1`.
    if (this.power === 'POWER1') stats.push(`stat/${this.device}/POWER`);
    if (this.power === 'POWER') stats.push(`stat/${this.device}/POWER1`);
    return [...stats, `tele/${this.device}/LWT`];
  }

  protected command(on: boolean | undefined): RelayCommand {
    return { topic: `cmnd/${this.device}/${this.power}`, payload: on === undefined ? '' : on ? 'ON' : 'OFF' };
  }

  protected onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const text = payload.toString('utf8').trim();
    if (topic === `tele/${this.device}/LWT`) {
      if (text === 'Online' || text === 'Offline') this.reportAvailability(text === 'Online');
      return;
    }
    const state = topic.endsWith('/RESULT') ? this.stateInResult(text) : parseOnOff(text);
    if (state !== undefined) this.reportState(state, topic, packet);
  }

  private stateInResult(json: string): boolean | undefined {
    let result: unknown;
    try {
      result = JSON.parse(json);
    } catch {
      return undefined;
    }
    if (typeof result !== 'object' || result === null) return undefined;
    const r = result as Record<string, unknown>;
    const value = r[this.power] ?? (this.power === 'POWER1' ? r.POWER : this.power === 'POWER' ? r.POWER1 : undefined);
    return typeof value === 'string' ? parseOnOff(value) : undefined;
  }
}

function parseOnOff(text: string): boolean | undefined {
  return text === 'ON' ? true : text === 'OFF' ? false : undefined;
}

/** Its row in drivers/power/registry.ts; its virtual twin is sim/tasmota-device.ts's VirtualTasmotaRelay. */
export const tasmota = relayVendor({
  vendor: 'tasmota',
  title: 'Tasmota',
  fields: { topic: topicField, channel: z.int().min(0).optional() },
  deviceField: 'topic',
  hints: { topic: "the device's MQTT Topic", channel: "relay number 1…n (none: a single-relay device's bare POWER)" },
  // The bare POWER and POWER1 are the same relay.
  contact: (r) => ({ device: r.topic, channel: r.channel || 1 }),
  attach: (r, on) =>
    TasmotaRelay.attach(on.station, { topic: r.topic, channel: r.channel, confirmWithinMs: on.confirmWithinMs, now: on.now }),
  virtualTwin: 'tasmota',
});
