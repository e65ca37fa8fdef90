// Virtual relay devices: the far side of the wire. Each is its own MQTT client on the bench broker,
// answering the vendor's topics the way the firmware does, and switching the virtual devices behind it.
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';

/** Mains to channel `channel` went on or off: power the virtual devices behind it up or down. */
export type PowerListener = (channel: number, on: boolean) => void;

export interface VirtualRelayOptions {
  /** Broker URL, e.g. from startEmbeddedBroker(). */
  readonly url: string;
  readonly onPower?: PowerListener;
  /** Fault: switch, but never report it (nor answer queries). */
  readonly silent?: boolean;
  /** Fault: report this long after switching. */
  readonly confirmDelayMs?: number;
}

/** What every vendor's virtual MQTT relay device shares: its own client, a last will, and the fault knobs. */
export abstract class VirtualMqttRelay {
  /** Fault injection, changeable mid-test. */
  silent: boolean;
  /** Fault injection: the device reports the opposite of its contact's state (a failed sense input, a welded contact). */
  reportsWrongState = false;
  confirmDelayMs: number;
  protected client!: MqttClient;
  protected readonly onPower: PowerListener;
  private readonly replyTimers = new Set<NodeJS.Timeout>();

  protected constructor(options: VirtualRelayOptions) {
    this.silent = options.silent ?? false;
    this.confirmDelayMs = options.confirmDelayMs ?? 0;
    this.onPower = options.onPower ?? (() => {});
  }

  protected async connect(url: string, clientId: string, will: { topic: string; payload: string }, commands: string): Promise<void> {
    const options: IClientOptions = {
      clientId,
      // A real device reconnects; the virtual one stays down so goOffline() means what it says.
      reconnectPeriod: 0,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    };
    this.client = await mqtt.connectAsync(url, options, false);
    // Loopback latency without Nagle's ~40 ms stalls, as a device on a LAN would answer.
    (this.client.stream as { setNoDelay?: (noDelay: boolean) => unknown }).setNoDelay?.(true);
    this.client.on('error', () => {});
    this.client.on('message', (topic, payload) => this.onCommand(topic, payload.toString('utf8')));
    await this.client.subscribeAsync(commands, { qos: 1 });
  }

  protected abstract onCommand(topic: string, payload: string): void;

  /** Someone presses the device's button (or a timer, a rule, another controller switches it): the contact toggles, reported as any change. */
  abstract pressButton(channel: number): void;

  /** Sends the device's report, unless it is silent; after the confirmation delay, if any. */
  protected report(messages: Array<[topic: string, payload: string]>): void {
    if (this.silent) return;
    const send = () => {
      for (const [topic, payload] of messages) this.client.publish(topic, payload, { qos: 1 });
    };
    if (this.confirmDelayMs <= 0) return send();
    const timer = setTimeout(() => {
      this.replyTimers.delete(timer);
      send();
    }, this.confirmDelayMs);
    this.replyTimers.add(timer);
  }

  /** The device drops off the network: no DISCONNECT, so the broker publishes its last will. */
  async goOffline(): Promise<void> {
    this.cancelReports();
    if (this.client.disconnected) return;
    await this.client.endAsync(true);
  }

  /** Clean shutdown for test teardown. */
  async stop(): Promise<void> {
    this.cancelReports();
    if (this.client.connected) await this.client.endAsync();
    else this.client.end(true);
  }

  private cancelReports(): void {
    for (const t of this.replyTimers) clearTimeout(t);
    this.replyTimers.clear();
  }
}

export interface VirtualTasmotaOptions extends VirtualRelayOptions {
  /** Tasmota MQTT Topic. */
  readonly topic: string;
  /** Number of relays; 1 (the default) means a single-relay device that reports bare `POWER`. */
  readonly relays?: number;
}

/** A Tasmota relay device (PROTOCOL.md §9): `cmnd/<topic>/POWER<n>` in, `stat/<topic>/RESULT` and `POWER<n>` out. */
export class VirtualTasmotaRelay extends VirtualMqttRelay {
  readonly topic: string;
  private readonly states: boolean[];

  static async start(options: VirtualTasmotaOptions): Promise<VirtualTasmotaRelay> {
    const device = new VirtualTasmotaRelay(options);
    const lwt = `tele/${device.topic}/LWT`;
    await device.connect(options.url, `tasmota-${device.topic}`, { topic: lwt, payload: 'Offline' }, `cmnd/${device.topic}/+`);
    await device.client.publishAsync(lwt, 'Online', { qos: 1, retain: true });
    return device;
  }

  private constructor(options: VirtualTasmotaOptions) {
    super(options);
    this.topic = options.topic;
    this.states = new Array<boolean>(options.relays ?? 1).fill(false);
  }

  /** The relay's actual contact state (1-based channel), whatever it has reported. */
  isOn(channel = 1): boolean {
    return this.states[channel - 1] ?? false;
  }

  protected onCommand(topic: string, payload: string): void {
    const command = topic.slice(`cmnd/${this.topic}/`.length);
    const match = /^POWER(\d*)$/i.exec(command);
    if (!match) return this.report([[`stat/${this.topic}/RESULT`, '{"Command":"Unknown"}']]);
    const channel = match[1] ? Number(match[1]) : 1;
    if (channel < 1 || channel > this.states.length) return this.report([[`stat/${this.topic}/RESULT`, '{"Command":"Unknown"}']]);
    const was = this.states[channel - 1];
    const word = payload.trim().toUpperCase();
    const now = ['ON', '1', 'TRUE'].includes(word)
      ? true
      : ['OFF', '0', 'FALSE'].includes(word)
        ? false
        : ['TOGGLE', '2'].includes(word)
          ? !was
          : was;
    this.setContact(channel, now);
  }

  pressButton(channel: number): void {
    this.setContact(channel, !this.isOn(channel));
  }

  /** The contact to `now`, and the state reported as Tasmota does after any change or command. */
  private setContact(channel: number, now: boolean): void {
    if (now !== this.states[channel - 1]) {
      this.states[channel - 1] = now;
      this.onPower(channel, now);
    }
    // Tasmota names a lone relay `POWER` even when asked as `POWER1`.
    const key = this.states.length === 1 ? 'POWER' : `POWER${channel}`;
    const state = now !== this.reportsWrongState ? 'ON' : 'OFF';
    this.report([
      [`stat/${this.topic}/RESULT`, JSON.stringify({ [key]: state })],
      [`stat/${this.topic}/${key}`, state],
    ]);
  }
}

export interface VirtualShellyGen2Options extends VirtualRelayOptions {
  /** MQTT.Config `topic_prefix`; a real Shelly uses its device id (e.g. `shellyplus1-a8032ab29be0`) when it is null. */
  readonly prefix: string;
  /** Number of switch components; default 1 (`switch:0`). */
  readonly switches?: number;
  /** MQTT.Config `rpc_ntf` (default true): NotifyStatus on `<prefix>/events/rpc`. */
  readonly rpcNtf?: boolean;
  /** MQTT.Config `status_ntf` (default false): each changed component's whole status on `<prefix>/status/switch:<id>`. */
  readonly statusNtf?: boolean;
}

/** A JSON-RPC 2.0 request frame as Shelly reads one (RPC Protocol: "Request Frame"). */
interface RpcRequest {
  id?: unknown;
  src?: unknown;
  method?: unknown;
  params?: { id?: unknown; on?: unknown };
}

/**
 * A Shelly Gen2 switch device as Shelly's public Gen2 API documentation describes it (docs/bench-hardware.md "Power relays" cites the
 * sections): JSON-RPC 2.0 request frames on `<prefix>/rpc`, each answered on `<src>/rpc` with `{id, src, dst,
 * result | error}`; `Switch.Set` answering `{was_on}`, `Switch.Toggle` likewise, `Switch.GetStatus` the switch's
 * status; a changed output notified as `NotifyStatus` on `<prefix>/events/rpc` (rpc_ntf) and, when status_ntf is
 * on, as the whole status on `<prefix>/status/switch:<id>`; `true` retained on `<prefix>/online`, `false` its
 * last will.
 */
export class VirtualShellyGen2 extends VirtualMqttRelay {
  readonly prefix: string;
  private readonly outputs: boolean[];
  private readonly sources: string[] = [];
  private readonly rpcNtf: boolean;
  private readonly statusNtf: boolean;

  static async start(options: VirtualShellyGen2Options): Promise<VirtualShellyGen2> {
    const device = new VirtualShellyGen2(options);
    const online = `${device.prefix}/online`;
    await device.connect(options.url, device.prefix, { topic: online, payload: 'false' }, `${device.prefix}/rpc`);
    await device.client.publishAsync(online, 'true', { qos: 1, retain: true });
    return device;
  }

  private constructor(options: VirtualShellyGen2Options) {
    super(options);
    this.prefix = options.prefix;
    this.outputs = new Array<boolean>(options.switches ?? 1).fill(false);
    this.rpcNtf = options.rpcNtf ?? true;
    this.statusNtf = options.statusNtf ?? false;
  }

  /** The switch's actual output (0-based id, as Shelly numbers them). */
  isOn(id = 0): boolean {
    return this.outputs[id] ?? false;
  }

  protected onCommand(_topic: string, payload: string): void {
    let call: RpcRequest;
    try {
      call = JSON.parse(payload);
    } catch {
      return; // not a frame: nothing to answer
    }
    // Without `src` there is no topic to answer on; without `id` it is a notification: done, but unanswered.
    const replyTo = typeof call.src === 'string' && call.id !== undefined ? `${call.src}/rpc` : undefined;
    const reply: Array<[string, string]> = [];
    const answer = (body: object) => {
      if (replyTo) reply.push([replyTo, JSON.stringify({ id: call.id, src: this.prefix, dst: call.src, ...body })]);
    };
    const outcome = this.call(call);
    if ('error' in outcome) answer({ error: outcome.error });
    else answer({ result: outcome.result });
    this.report([...reply, ...('changed' in outcome && outcome.changed !== undefined ? this.notifications(outcome.changed) : [])]);
  }

  pressButton(id: number): void {
    this.setOutput(id, !this.outputs[id], 'button');
    this.report(this.notifications(id));
  }

  /** The output to `on`, and what switched it last (a status's `source`). */
  private setOutput(id: number, on: boolean, source: string): void {
    this.outputs[id] = on;
    this.sources[id] = source;
    this.onPower(id, on);
  }

  /** Runs one call: its result (and the switch it changed), or its error, as Shelly's error codes go. */
  private call(call: RpcRequest): { result: object; changed?: number } | { error: { code: number; message: string } } {
    const method = String(call.method);
    if (!['Switch.Set', 'Switch.Toggle', 'Switch.GetStatus'].includes(method)) {
      return { error: { code: 404, message: `No handler for ${method}` } };
    }
    const id = call.params?.id;
    if (typeof id !== 'number') return { error: { code: -103, message: "Missing required argument 'id'!" } };
    if (!Number.isInteger(id) || id < 0 || id >= this.outputs.length) {
      return { error: { code: -105, message: `Argument 'id', value ${id} not found!` } };
    }
    if (method === 'Switch.GetStatus') return { result: this.status(id) };
    const on = method === 'Switch.Toggle' ? !this.outputs[id] : call.params?.on;
    if (typeof on !== 'boolean') return { error: { code: -103, message: "Missing required argument 'on'!" } };
    const was = this.outputs[id];
    const wasOn = was !== this.reportsWrongState;
    if (on === was) return { result: { was_on: wasOn } };
    this.setOutput(id, on, 'MQTT');
    return { result: { was_on: wasOn }, changed: id };
  }

  /** Switch.GetStatus's answer (the fields a relay without metering has). */
  private status(id: number): { id: number; source: string; output: boolean } {
    return { id, source: this.sources[id] ?? 'init', output: this.outputs[id] !== this.reportsWrongState };
  }

  /** What a changed output publishes besides the reply: NotifyStatus (rpc_ntf) and the status topic (status_ntf). */
  private notifications(id: number): Array<[string, string]> {
    const status = this.status(id);
    const out: Array<[string, string]> = [];
    if (this.rpcNtf) {
      const params = { ts: Date.now() / 1000, [`switch:${id}`]: { id, output: status.output, source: status.source } };
      out.push([
        `${this.prefix}/events/rpc`,
        JSON.stringify({ src: this.prefix, dst: `${this.prefix}/events`, method: 'NotifyStatus', params }),
      ]);
    }
    if (this.statusNtf) out.push([`${this.prefix}/status/switch:${id}`, JSON.stringify(status)]);
    return out;
  }
}
