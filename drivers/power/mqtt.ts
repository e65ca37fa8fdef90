// The station's MQTT connection and what every MQTT relay driver shares: topic routing,
// one command in flight with its timeout, availability, and the rig faults they raise.
import mqtt from 'mqtt';
import type { IPublishPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import { z } from 'zod';
import { RigFault } from '../faults.ts';
import {
  DEFAULT_CONFIRM_WITHIN_MS,
  wallClock,
  type AvailabilityListener,
  type Now,
  type PowerConfirmation,
  type PowerSwitch,
  type PowerSwitchOptions,
} from './types.ts';

export interface StationBroker {
  /** e.g. `mqtt://10.0.0.5:1883`, `mqtts://broker.lab:8883`. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** CA certificate(s) for mqtts. */
  readonly ca?: string | Buffer | string[] | Buffer[];
  readonly clientId?: string;
  /** Give up connecting after this long. Default 5000 ms. */
  readonly connectWithinMs?: number;
  /** Pause between reconnect attempts once connected. Default 1000 ms. */
  readonly reconnectPeriodMs?: number;
}

const TOPIC = 'an MQTT topic without spaces, "+" or "#"';
/** A rig-file field naming an MQTT topic (or topic prefix) to publish under. */
export const topicField = z.string({ error: TOPIC }).regex(/^[^\s+#]+$/, { error: TOPIC });

/** The broker URL without user name or password; undefined when it is not a URL (e.g. `embedded`). */
export function brokerUrlWithoutCredentials(url: string): string | undefined {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return undefined;
  }
}

/** The broker URL as it may appear in evidence and reports: no user, no password. */
export const redactedBrokerUrl = (url: string): string => brokerUrlWithoutCredentials(url) ?? 'MQTT broker (unparseable URL)';

/** Connects the station's one MQTT client, shared by all its relays, or throws RigFault 'broker-unreachable'. */
export async function connectStation(broker: StationBroker): Promise<MqttClient> {
  const where = redactedBrokerUrl(broker.url);
  const within = broker.connectWithinMs ?? 5_000;
  const client = mqtt.connect(broker.url, {
    username: broker.username,
    password: broker.password,
    ca: broker.ca,
    clientId: broker.clientId ?? `gbcs-rig-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    connectTimeout: within,
    reconnectPeriod: broker.reconnectPeriodMs ?? 1_000,
  });
  // Reconnect errors reach pending commands as 'close'; an unhandled 'error' event would kill the worker.
  client.on('error', () => {});
  client.on('connect', () => sendPromptly(client));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no CONNACK within ${within} ms`)), within);
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onConnect = () => done();
      const onError = (err: Error) => done(err);
      client.once('connect', onConnect);
      client.once('error', onError);
    });
  } catch (cause) {
    client.end(true);
    throw new RigFault(
      'broker-unreachable',
      where,
      `cannot connect to the station MQTT broker: ${(cause as Error).message}`,
      'Check the broker is running and reachable from this host (address, port, TLS CA) and that the station credentials in the environment are valid.',
      { cause },
    );
  }
  return client;
}

/** Nagle would hold a command back for the broker's delayed ACK (~40 ms), skewing `publishedAt`. */
export function sendPromptly(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (noDelay: boolean) => unknown };
  stream.setNoDelay?.(true);
}

type TopicHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/** Routes one client's messages by exact topic; many relays share a client, so unsubscribing is reference-counted. */
export class StationSubscriptions {
  private static readonly byClient = new WeakMap<MqttClient, StationSubscriptions>();
  private readonly handlers = new Map<string, Set<TopicHandler>>();

  static of(client: MqttClient): StationSubscriptions {
    let subs = StationSubscriptions.byClient.get(client);
    if (!subs) StationSubscriptions.byClient.set(client, (subs = new StationSubscriptions(client)));
    return subs;
  }

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      for (const h of this.handlers.get(topic) ?? []) h(topic, payload, packet);
    });
  }

  /** Subscribes (again, so retained messages are replayed to this handler too) and returns the undo. */
  async listen(topics: readonly string[], handler: TopicHandler): Promise<() => Promise<void>> {
    for (const t of topics) {
      if (!this.handlers.has(t)) this.handlers.set(t, new Set());
      this.handlers.get(t)!.add(handler);
    }
    // Only a SUBSCRIBE makes the broker send the retained messages again (MQTT 3.1.1 §3.8.4), and mqtt.js sends none for
    // a topic it already holds unless told to: the third relay of a board would never hear the board's retained LWT.
    const subscriptions: ISubscriptionMap = Object.assign(Object.fromEntries(topics.map((t) => [t, { qos: 1 as const }])), {
      resubscribe: true,
    });
    await this.client.subscribeAsync(subscriptions);
    return async () => {
      const last = topics.filter((t) => {
        const set = this.handlers.get(t);
        set?.delete(handler);
        if (set?.size !== 0) return false;
        this.handlers.delete(t);
        return true;
      });
      if (last.length === 0 || this.client.disconnecting) return;
      if (this.client.connected) await this.client.unsubscribeAsync(last).catch(() => {});
      else this.client.unsubscribe(last, () => {});
    };
  }
}

/** One command awaiting the relay's own confirmation: settles once, on a reply, a timeout or a lost broker. */
export class CommandInFlight<T> {
  readonly result: Promise<T>;
  private resolve!: (value: T) => void;
  private reject!: (err: unknown) => void;
  private done = false;
  private readonly timer: NodeJS.Timeout;
  private messageId: number | undefined;
  private publishCallback: ((err?: Error) => void) | undefined;
  private readonly onClose = () => this.fail(this.brokerLost());

  constructor(
    private readonly client: MqttClient,
    withinMs: number,
    onTimeout: () => RigFault,
    private readonly brokerLost: (cause?: unknown) => RigFault,
  ) {
    this.result = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(() => this.fail(onTimeout()), withinMs);
    client.on('close', this.onClose);
  }

  get pending(): boolean {
    return !this.done;
  }

  /** QoS 1, never retained: a retained command would re-switch the relay whenever it reconnects (PROTOCOL.md §9). */
  publish(topic: string, payload: string): void {
    if (!this.client.connected || this.client.disconnecting) return this.fail(this.brokerLost());
    const cb = (err?: Error) => {
      if (err) this.fail(this.brokerLost(err));
    };
    this.publishCallback = cb;
    this.client.publish(topic, payload, { qos: 1, retain: false }, cb);
    const id = this.client.getLastMessageId();
    if (this.client.outgoing[id]?.cb === cb) this.messageId = id;
  }

  settle(value: T): void {
    if (this.finish()) this.resolve(value);
  }

  fail(err: unknown): void {
    if (!this.finish()) return;
    this.withdraw();
    this.reject(err);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    clearTimeout(this.timer);
    this.client.off('close', this.onClose);
    return true;
  }

  // An abandoned QoS 1 command must not be re-sent after a reconnect: it would switch the relay behind the test's back.
  private withdraw(): void {
    const id = this.messageId;
    if (id !== undefined && this.client.outgoing[id]?.cb === this.publishCallback) this.client.removeOutgoingMessage(id);
  }
}

/** An MQTT client, or a factory for one that the relay then owns and ends on close. */
export type StationClient = MqttClient | (() => Promise<MqttClient>);

export async function resolveStationClient(station: StationClient): Promise<{ client: MqttClient; owned: boolean }> {
  return typeof station === 'function' ? { client: await station(), owned: true } : { client: station, owned: false };
}

/** A command as the vendor spells it on the wire. */
export interface RelayCommand {
  readonly topic: string;
  readonly payload: string;
}

/**
 * A stopping broker publishes every client's will (each relay's Offline), then drops the station a
 * few ms later; on reconnect it may replay retained wills. An Offline this close to the station's own
 * loss or reconnection is the broker's doing: broker-unreachable, not relay-offline.
 */
export const BROKER_WILL_GRACE_MS = 500;

/** Wall time (ms) for the broker-will grace: the bench clock may be virtual, the MQTT connection is not. */
const wallMs = () => performance.now();

/** The vendor-neutral half of an MQTT relay channel; a vendor file supplies topics, payloads and parsing. */
export abstract class MqttRelay implements PowerSwitch {
  abstract readonly where: string;
  private availability: boolean | undefined;
  /** When (wallMs) the last Offline arrived, and when the station last lost and regained its connection. */
  private offlineAt: number | undefined;
  private stationLostAt: number | undefined;
  private stationBackAt: number | undefined;
  private readonly onStationClose = () => {
    if (this.stationLostAt === undefined || (this.stationBackAt ?? -Infinity) > this.stationLostAt) this.stationLostAt = wallMs();
  };
  private readonly onStationConnect = () => {
    if (this.stationLostAt !== undefined) this.stationBackAt = wallMs();
  };
  private readonly availabilityListeners = new Set<AvailabilityListener>();
  /** What the command in flight waits for: a state, or `undefined` for any state (a query). */
  private inFlight:
    | { want: boolean | undefined; command: CommandInFlight<{ on: boolean; at: number; topic: string }>; contrary?: boolean }
    | undefined;
  private lastReported: boolean | undefined;
  /** The state the rig last switched the relay to, confirmed; undefined before its first switch and after one that failed. */
  private commanded: boolean | undefined;
  /** A state the relay reported that no command asked for: the device's power is not the rig's until its next switch. */
  private unbidden: { on: boolean; topic: string; at: number } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private unlisten: (() => Promise<void>) | undefined;
  protected readonly now: Now;
  protected readonly confirmWithinMs: number;

  protected constructor(
    protected readonly client: MqttClient,
    private readonly ownsClient: boolean,
    options: PowerSwitchOptions,
  ) {
    this.now = options.now ?? wallClock;
    this.confirmWithinMs = options.confirmWithinMs ?? DEFAULT_CONFIRM_WITHIN_MS;
  }

  /** Topics this channel listens to (confirmations, availability, RPC replies). */
  protected abstract topics(): readonly string[];
  protected abstract onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void;
  /** The wire command that sets `on`, or asks for the state when `on` is undefined. */
  protected abstract command(on: boolean | undefined): RelayCommand;
  /** What a person at the bench should check when this vendor's relay does not confirm. */
  protected abstract readonly unconfirmedFix: string;

  /** Subscribes; vendor `attach()` factories call this before handing the relay out. */
  protected async start(): Promise<void> {
    if (!this.client.connected) throw this.brokerLost('attaching the relay');
    this.client.on('close', this.onStationClose);
    this.client.on('connect', this.onStationConnect);
    this.unlisten = await StationSubscriptions.of(this.client).listen(this.topics(), (t, p, pk) => this.onMessage(t, p, pk));
  }

  get online(): boolean | undefined {
    return this.availability;
  }

  get fault(): RigFault | undefined {
    if (!this.client.connected) return this.brokerLost('watching the relay');
    if (this.unbidden) return this.changed(this.unbidden);
    if (this.availability !== false) return undefined;
    // Just gone Offline with the station still up: wait the grace out before blaming the relay.
    if (this.offlineAt !== undefined && wallMs() - this.offlineAt < BROKER_WILL_GRACE_MS && !this.willOfBroker()) return undefined;
    return this.offline();
  }

  onAvailability(cb: AvailabilityListener): () => void {
    this.availabilityListeners.add(cb);
    return () => this.availabilityListeners.delete(cb);
  }

  switch(on: boolean): Promise<PowerConfirmation> {
    return this.serially(async () => {
      this.commanded = undefined;
      const reply = await this.exchange(on, on ? 'ON' : 'OFF');
      // The rig's own switch, confirmed: the relay's state is the rig's again.
      [this.commanded, this.unbidden] = [reply.on, undefined];
      return { where: this.where, on: reply.on, publishedAt: reply.publishedAt, confirmedAt: reply.at, confirmedBy: reply.topic };
    });
  }

  private changed(u: { on: boolean; topic: string; at: number }): RigFault {
    const word = (on: boolean) => (on ? 'ON' : 'OFF');
    return new RigFault(
      'relay-changed',
      this.where,
      `reported ${word(u.on)} (${u.topic}) at ${new Date(u.at).toISOString()} though the rig last switched it ${word(!u.on)}:` +
        ' something other than the rig switched the device (its button, a timer or rule, another controller, a supply cut)',
      'make the rig the relay’s only controller (no button presses, no Tasmota timers or rules, no home-automation integration), check its supply, and repeat the cases',
    );
  }

  async restore(): Promise<PowerConfirmation | undefined> {
    if (!this.unbidden || this.commanded === undefined) return undefined;
    return this.switch(this.commanded);
  }

  query(): Promise<boolean> {
    return this.serially(async () => (await this.exchange(undefined, 'state query')).on);
  }

  async close(): Promise<void> {
    this.inFlight?.command.fail(new Error(`${this.where}: relay driver closed while a command was in flight`));
    await this.unlisten?.();
    this.unlisten = undefined;
    this.availabilityListeners.clear();
    this.client.off('close', this.onStationClose);
    this.client.off('connect', this.onStationConnect);
    // A graceful end waits for the broker; with the broker gone that would never come.
    if (this.ownsClient) await this.client.endAsync(!this.client.connected);
  }

  /** A vendor parsed a state report; it confirms the command in flight if it says what was asked. */
  protected reportState(on: boolean, topic: string, packet: IPublishPacket): void {
    // A retained state is history from the broker's store, not the relay answering now (Tasmota PowerRetain).
    if (packet.retain) return;
    const at = this.now();
    this.lastReported = on;
    const f = this.inFlight;
    if (f && (f.want === undefined || f.want === on)) f.command.settle({ on, at, topic });
    else if (f) f.contrary = on;
    else if (this.commanded !== undefined && on !== this.commanded) this.unbidden ??= { on, topic, at };
  }

  /** A vendor parsed an availability report (LWT / online topic). */
  protected reportAvailability(online: boolean): void {
    this.availability = online;
    if (!online) {
      this.offlineAt = wallMs();
      const command = this.inFlight?.command;
      // A stopping broker drops the station right after the wills: the command then fails as broker-unreachable (its own close handler).
      if (command) setTimeout(() => command.fail(this.offline()), BROKER_WILL_GRACE_MS).unref();
    }
    for (const cb of [...this.availabilityListeners]) cb(online);
  }

  /** The relay refused the command outright (e.g. a JSON-RPC error). */
  protected reportRefusal(reason: string): void {
    this.inFlight?.command.fail(new RigFault('relay-unconfirmed', this.where, `relay refused the command: ${reason}`, this.unconfirmedFix));
  }

  private async exchange(
    want: boolean | undefined,
    what: string,
  ): Promise<{ on: boolean; at: number; topic: string; publishedAt: number }> {
    if (this.availability === false) throw this.offline();
    const command = new CommandInFlight<{ on: boolean; at: number; topic: string }>(
      this.client,
      this.confirmWithinMs,
      () => {
        const contrary = this.inFlight?.contrary;
        if (contrary !== undefined) {
          return new RigFault(
            'relay-unconfirmed',
            this.where,
            `commanded ${what}, the relay reported ${contrary ? 'ON' : 'OFF'} and never ${what} within ${this.confirmWithinMs} ms: its reported state contradicts the command, so the device's power is unknown`,
            'Check the relay: a welded or failed contact, a wrong relay channel in the rig file, or a PowerOnState/interlock rule that overrides commands.',
          );
        }
        const last = this.lastReported === undefined ? '' : ` (last reported ${this.lastReported ? 'ON' : 'OFF'})`;
        return new RigFault(
          'relay-unconfirmed',
          this.where,
          `no confirmation of ${what} within ${this.confirmWithinMs} ms${last}`,
          this.unconfirmedFix,
        );
      },
      (cause) => this.brokerLost(`waiting for ${what}`, cause),
    );
    this.inFlight = { want, command };
    try {
      const { topic, payload } = this.command(want);
      const publishedAt = this.now();
      command.publish(topic, payload);
      return { ...(await command.result), publishedAt };
    } finally {
      this.inFlight = undefined;
    }
  }

  private serially<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => {});
    return run;
  }

  /** The last Offline came with the station's own loss or reconnection: the broker's will, not the relay's word. */
  private willOfBroker(): boolean {
    const at = this.offlineAt;
    if (at === undefined) return false;
    const near = (t: number | undefined) => t !== undefined && Math.abs(t - at) <= BROKER_WILL_GRACE_MS;
    return !this.client.connected || near(this.stationLostAt) || near(this.stationBackAt);
  }

  private offline(): RigFault {
    if (this.willOfBroker()) {
      return new RigFault(
        'broker-unreachable',
        this.where,
        "the relay's last will (Offline) came as the station's own MQTT connection dropped: the broker went down, so the relay state is unknown",
        'Check the station MQTT broker is running and reachable from this host, then re-run the test.',
      );
    }
    return new RigFault(
      'relay-offline',
      this.where,
      'the relay reports itself offline (its MQTT last will)',
      'Check the relay device has mains power and network, and that it reaches the station broker; its state is unknown.',
    );
  }

  private brokerLost(doing: string, cause?: unknown): RigFault {
    return new RigFault(
      'broker-unreachable',
      this.where,
      `the MQTT connection to the station broker is down (${doing}); the relay state is unknown`,
      'Check the station MQTT broker is running and reachable from this host, then re-run the test.',
      { cause },
    );
  }
}
