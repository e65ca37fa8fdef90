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
    if (now !== was) {
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
  /** MQTT topic prefix (the device id by default on a real Shelly). */
  readonly prefix: string;
  /** Number of switch components; default 1 (`switch:0`). */
  readonly switches?: number;
}

/** A minimal Shelly Gen2: JSON-RPC `Switch.Set` / `Switch.GetStatus` on `<prefix>/rpc`, status notifications on. */
export class VirtualShellyGen2 extends VirtualMqttRelay {
  readonly prefix: string;
  private readonly outputs: boolean[];

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
  }

  /** The switch's actual output (0-based id, as Shelly numbers them). */
  isOn(id = 0): boolean {
    return this.outputs[id] ?? false;
  }

  protected onCommand(_topic: string, payload: string): void {
    let call: { id?: unknown; src?: unknown; method?: unknown; params?: { id?: unknown; on?: unknown } };
    try {
      call = JSON.parse(payload);
    } catch {
      return; // Shelly drops frames it cannot parse
    }
    if (typeof call.src !== 'string') return;
    const replyTopic = `${call.src}/rpc`;
    const answer = (body: object) => JSON.stringify({ id: call.id, src: this.prefix, dst: call.src, ...body });
    const id = typeof call.params?.id === 'number' ? call.params.id : 0;
    if (id < 0 || id >= this.outputs.length) {
      return this.report([[replyTopic, answer({ error: { code: -105, message: `Argument 'id', value ${id} not found!` } })]]);
    }
    const status = () => JSON.stringify({ id, source: 'MQTT', output: this.outputs[id] !== this.reportsWrongState });
    if (call.method === 'Switch.GetStatus') return this.report([[replyTopic, answer({ result: JSON.parse(status()) })]]);
    if (call.method !== 'Switch.Set' || typeof call.params?.on !== 'boolean') {
      return this.report([[replyTopic, answer({ error: { code: -103, message: `Invalid call ${String(call.method)}` } })]]);
    }
    const was = this.outputs[id];
    this.outputs[id] = call.params.on;
    if (was !== call.params.on) this.onPower(id, call.params.on);
    this.report([
      [replyTopic, answer({ result: { was_on: was } })],
      [`${this.prefix}/status/switch:${id}`, status()],
    ]);
  }
}
