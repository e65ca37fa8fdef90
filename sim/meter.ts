// The virtual ESME or GPF as a Device Management server of the HAN (DOMAIN.md §B, COT-1, COT-6):
// it takes a Change of Tenancy (ECS12/GCS09), publishes it to its HAN clients, answers their polls,
// and serves the supplier message, top-up log, debt log and consumption its clients show.
import { hex } from '../protocol/bytes.ts';
import type { MeterDataKind, MeterProfile, TenancyDataKind } from '../firmware-images/profiles.ts';
import type { AirAccess } from './air.ts';
import type { CancelEvent, DiscreteEventClock } from './clock.ts';
import { HanJoin, rejoinDelayMs, type JoinEventKind } from './han-join.ts';
import { DeviceJitter } from './jitter.ts';
import { GLOBAL, HanStack, SE_CLUSTER, ZCL, fromZclUtc, toZclUtc, type HanAddress, type HanMessage } from './han-frames.ts';
import { CLEAR_ALL_TENANCY_DATA, kindsClearedBy, publishChangeOfTenancyFields, type ChangeOfTenancy } from './tenancy.ts';
import type { DecodedZcl } from '../protocol/decoded.ts';
import {
  DEVICE_MANAGEMENT_ATTRIBUTE,
  METERING_ATTRIBUTE,
  PREPAYMENT,
  TOP_UP_SETS,
  attributeTypeId,
  globalFieldsOf,
  payloadOf,
  type ZclFrameSpec,
} from '../protocol/zcl/index.ts';

/** The parts of a meter profile the virtual meter runs (ids and descriptions are the manifest's). */
export type MeterBehaviour = Pick<
  MeterProfile,
  | 'meterType'
  | 'publishesChangeOfTenancy'
  | 'answersGetChangeOfTenancy'
  | 'cancelsLastMessageOnTenancyChange'
  | 'clears'
  | 'responseDelayMs'
> &
  Partial<Pick<MeterProfile, 'rejoinDelayMinutes'>>;

export interface SupplierMessage {
  messageId: number;
  message: string;
  /** Bench time the supplier sent it (ms since the Unix epoch). */
  at: number;
}

export interface TopUp {
  /** The top-up code, hex (an octet string on the air). */
  code: string;
  amount: number;
  /** Bench time of the top-up, whole seconds. */
  at: number;
}

export interface DebtCollection {
  /** Bench time of the collection, whole seconds. */
  at: number;
  amountCollected: number;
  /** SE debt type: 0 debt 1, 1 debt 2, 2 debt 3. */
  debtType: number;
  outstandingDebt: number;
}

export interface ConsumptionReading {
  at: number;
  /** Current Summation Delivered (Metering 0x0000), Wh. */
  summationDelivered: number;
}

export type MeterEventKind =
  | 'power-on'
  | 'power-off'
  | 'joined'
  | 'tenancy-set'
  | 'tenancy-missed'
  | 'tenancy-published'
  | 'tenancy-not-published'
  | 'tenancy-implemented'
  | 'message-cancelled'
  | 'message-kept'
  | 'request-answered'
  | 'request-refused'
  | 'frame-sent'
  | JoinEventKind;

/** What the virtual meter did and why: for the project's tests, never evidence. */
export interface MeterEvent {
  at: number;
  kind: MeterEventKind;
  /** The HAN client concerned, as its short address (0x….). */
  client?: string;
  detail?: string;
}

export interface VirtualMeterOptions {
  clock: DiscreteEventClock;
  air: AirAccess;
  profile: MeterBehaviour;
  /** The meter's HAN address. */
  self: HanAddress;
  /** HAN clients bound to it (IHD, PPMID); clients that ask it anything are added as they do. */
  clients?: readonly HanAddress[];
  /** The HAN's PAN id: the virtual CH's. */
  pan: number;
  /** The HAN's network key: every frame NWK-secured with it (absent: an unsecured HAN). */
  networkKey?: Uint8Array;
  /** Default 11. */
  channel?: number;
  /** Provider ID (attribute 0x0100); default 1. */
  providerId?: number;
  /** Its boot time and answers' latency jitter, from the bench seed (default none: nominal timers). */
  jitter?: DeviceJitter;
}

/** What ECS12 (ESME) or GCS09 (GPF) tells the meter. */
export interface ChangeOfTenancyCommand {
  /** The Implementation Date/Time, bench time (ms since the Unix epoch); rounded down to whole seconds. */
  implementationUtc: number;
  /** Proposed tenancy change control; default everything a HAN client holds (0x4700). */
  control?: number;
  issuerEventId?: number;
  providerId?: number;
  tariffType?: number;
}

const SECOND_MS = 1000;
/** What the virtual meter credits for a top-up code entered on a PPMID (pence). */
export const TOP_UP_CREDIT = 1000;
/** Consumer Top Up Response result types (SE 1.4 D.7.2.4.2): accepted, rejected as invalid, rejected as a duplicate. */
export const TOP_UP_RESULT = { accepted: 0x00, invalid: 0x01, duplicate: 0x02 } as const;
const UNTIL_CHANGED = 0xffff;
const ZCL_INVALID_TIME = 0xffffffff;
const SUMMATION = METERING_ATTRIBUTE.currentSummationDelivered;

/** The meter's own stores a Change of Tenancy clears, by the kind of client data they feed. */
type OwnStore = 'consumption' | 'topUps' | 'debts';
const OWN_STORE: Readonly<Record<MeterDataKind, OwnStore>> = {
  consumptionHistory: 'consumption',
  topUpHistory: 'topUps',
  debtRecovery: 'debts',
};

type Handler = (m: Extract<HanMessage, { kind: 'zcl' }>) => void;

export class VirtualMeter {
  readonly profile: MeterBehaviour;
  readonly channel: number;
  readonly #clock: DiscreteEventClock;
  readonly #air: AirAccess;
  readonly #han: HanStack;
  readonly #clients = new Map<number, HanAddress>();
  readonly #events: MeterEvent[] = [];
  /** Sends still to come: a power-off loses them. */
  readonly #pending = new Set<CancelEvent>();
  readonly #handlers: ReadonlyMap<string, Handler>;
  readonly #jitter: DeviceJitter;

  #powered = false;
  #onHan = false;
  #detach: (() => void) | undefined;
  readonly #join: HanJoin;
  #providerId: number;
  #tenancy: ChangeOfTenancy | undefined;
  /** The tenancy change whose implementation time has not yet been acted on by the meter itself. */
  #unimplemented: ChangeOfTenancy | undefined;
  #cancelImplementation: CancelEvent | undefined;
  #nextIssuerEventId = 1;
  #lastMessage: SupplierMessage | undefined;
  readonly #topUps: TopUp[] = [];
  readonly #debts: DebtCollection[] = [];
  readonly #consumption: ConsumptionReading[] = [];

  constructor(options: VirtualMeterOptions) {
    this.#clock = options.clock;
    this.#air = options.air;
    this.profile = options.profile;
    this.channel = options.channel ?? 11;
    this.#jitter = options.jitter ?? DeviceJitter.none();
    this.#han = new HanStack(options.self, options.pan, options.networkKey);
    this.#join = new HanJoin(
      this.#clock,
      this.#han,
      this.#name,
      (f) => this.#transmit(f),
      () => this.#joined(),
      (k, d) => this.#record(k, undefined, d),
    );
    this.#providerId = options.providerId ?? 1;
    for (const c of options.clients ?? []) this.addClient(c);
    // What the meter serves, by cluster and command: one row per request it understands.
    this.#handlers = new Map<string, Handler>([
      [key(SE_CLUSTER.deviceManagement, 'Get Change of Tenancy'), (m) => this.#onGetChangeOfTenancy(m)],
      [key(SE_CLUSTER.messaging, 'Get Last Message'), (m) => this.#onGetLastMessage(m)],
      [key(SE_CLUSTER.prepayment, 'Get Top Up Log'), (m) => this.#onGetTopUpLog(m)],
      [key(SE_CLUSTER.prepayment, 'Get Debt Repayment Log'), (m) => this.#onGetDebtRepaymentLog(m)],
      [key(SE_CLUSTER.prepayment, 'Consumer Top Up'), (m) => this.#onConsumerTopUp(m)],
      ...[SE_CLUSTER.deviceManagement, SE_CLUSTER.prepayment, SE_CLUSTER.metering].map(
        (c) => [key(c, 'Read Attributes'), (m: Extract<HanMessage, { kind: 'zcl' }>) => this.#onReadAttributes(m)] as const,
      ),
    ]);
  }

  get self(): HanAddress {
    return { ...this.#han.self };
  }

  get pan(): number {
    return this.#han.pan;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** Powered and joined: it hears and is heard. */
  get onHan(): boolean {
    return this.#onHan;
  }

  get clients(): readonly HanAddress[] {
    return [...this.#clients.values()].map((c) => ({ ...c }));
  }

  /** The current Change of Tenancy (attributes 0x0200 and 0x0201), if any was ever set. */
  get tenancy(): ChangeOfTenancy | undefined {
    return this.#tenancy && { ...this.#tenancy };
  }

  get lastMessage(): SupplierMessage | undefined {
    return this.#lastMessage && { ...this.#lastMessage };
  }

  get topUpLog(): readonly TopUp[] {
    return this.#topUps.map((t) => ({ ...t }));
  }

  get debtLog(): readonly DebtCollection[] {
    return this.#debts.map((d) => ({ ...d }));
  }

  get consumptionHistory(): readonly ConsumptionReading[] {
    return this.#consumption.map((c) => ({ ...c }));
  }

  get events(): readonly MeterEvent[] {
    return this.#events;
  }

  addClient(client: HanAddress): void {
    if (!this.#clients.has(client.short)) this.#clients.set(client.short, { short: client.short, ieee: client.ieee });
  }

  /** Mains on or off: the bench wires this to the virtual relay's onPower. */
  power(on: boolean): void {
    if (on === this.#powered) return;
    if (on) {
      this.#powered = true;
      this.#record('power-on');
      // The radio listens from power-on (the CH's answer must reach it); ZCL waits until the CH admits it.
      this.#detach = this.#air.attach({ id: this.#han.self.ieee, channel: this.channel, receive: (frame) => this.#receive(frame) });
      this.#join.start(this.#jitter.bootMs());
    } else {
      this.#powered = false;
      this.#onHan = false;
      this.#join.stop();
      this.#detach?.();
      this.#detach = undefined;
      for (const cancel of this.#pending) cancel();
      this.#pending.clear();
      this.#cancelImplementation?.();
      this.#record('power-off');
    }
  }

  /** The CH (the HAN's coordinator) lost power: once the meter notices, it is off the HAN and asks to rejoin (PWR-1). */
  coordinatorLost(): void {
    if (!this.#powered) return;
    this.#join.coordinatorLost(this.#jitter.coordinatorLossMs(), rejoinDelayMs(this.profile.rejoinDelayMinutes), () => {
      if (!this.#onHan) return false;
      this.#onHan = false;
      return true;
    });
  }

  /** Admitted by the CH. */
  #joined(): void {
    this.#onHan = true;
    this.#record('joined');
    // PWR-3: its clients learn it is back and re-establish communication.
    this.#send(this.#han.announce());
    // Its own clock ran while it was off: an implementation time that passed meanwhile is acted on now.
    if (this.#unimplemented) this.#scheduleImplementation(this.#unimplemented);
  }

  /**
   * ECS12 (ESME) / GCS09 (GPF): sets the Change of Tenancy date. Sets attributes 0x0200/0x0201; a
   * publishing meter sends Publish Change of Tenancy to every client it knows (COT-1); at the
   * implementation time it clears its own stores and, if its profile does, the last message (COT-6).
   * Undefined when the meter is off or not yet back on the HAN (ECS12/GCS09 reach it through the CH).
   */
  changeOfTenancy(command: ChangeOfTenancyCommand): ChangeOfTenancy | undefined {
    if (!this.#onHan) {
      this.#record('tenancy-missed', undefined, this.#powered ? 'not yet on the HAN' : 'meter off');
      return undefined;
    }
    const tenancy: ChangeOfTenancy = {
      providerId: command.providerId ?? this.#providerId,
      issuerEventId: command.issuerEventId ?? this.#nextIssuerEventId++,
      tariffType: command.tariffType ?? 0,
      implementationAt: Math.floor(command.implementationUtc / SECOND_MS) * SECOND_MS,
      control: command.control ?? CLEAR_ALL_TENANCY_DATA,
    };
    this.#providerId = tenancy.providerId;
    this.#tenancy = tenancy;
    this.#record('tenancy-set', undefined, `implementation ${iso(tenancy.implementationAt)}, control 0x${tenancy.control.toString(16)}`);
    if (this.profile.publishesChangeOfTenancy) {
      this.#later(() => {
        for (const c of this.#clients.values()) {
          this.#record('tenancy-published', hexShort(c.short), `issuer event ${tenancy.issuerEventId}`);
          this.#send(this.#han.zcl(c.short, SE_CLUSTER.deviceManagement, publishSpec(tenancy, this.#han.nextZclSeq())));
        }
      }, 'publishes Change of Tenancy');
    } else {
      this.#record('tenancy-not-published', undefined, 'profile does not publish (COT-1)');
    }
    this.#unimplemented = tenancy;
    this.#scheduleImplementation(tenancy);
    return { ...tenancy };
  }

  /** The supplier's message for the consumer: kept as the last message and shown on every client. */
  displayMessage(input: { messageId: number; message: string }): void {
    this.#lastMessage = { ...input, at: this.#clock.now() };
    for (const c of this.#clients.values())
      this.#send(this.#han.zcl(c.short, SE_CLUSTER.messaging, displayMessageSpec(this.#lastMessage, this.#han.nextZclSeq())));
  }

  /** A top-up applied to the meter: logged and published to every client (Publish Top Up Log). */
  topUp(input: { code: string; amount: number }): TopUp {
    const t: TopUp = { code: input.code, amount: input.amount, at: wholeSeconds(this.#clock.now()) };
    this.#topUps.push(t);
    for (const c of this.#clients.values())
      this.#send(this.#han.zcl(c.short, SE_CLUSTER.prepayment, topUpLogSpec(t, 0, 1, this.#han.nextZclSeq())));
    return { ...t };
  }

  /** A debt recovery collection: logged and published to every client (Publish Debt Log). */
  collectDebt(input: { amountCollected: number; outstandingDebt: number; debtType?: number }): DebtCollection {
    const d: DebtCollection = {
      at: wholeSeconds(this.#clock.now()),
      amountCollected: input.amountCollected,
      outstandingDebt: input.outstandingDebt,
      debtType: input.debtType ?? 0,
    };
    this.#debts.push(d);
    for (const c of this.#clients.values())
      this.#send(this.#han.zcl(c.short, SE_CLUSTER.prepayment, debtLogSpec(d, 0, 1, this.#han.nextZclSeq())));
    return { ...d };
  }

  /** A consumption reading: kept and reported to every client (Report Attributes, Current Summation Delivered). */
  recordConsumption(summationDelivered: number): void {
    this.#consumption.push({ at: this.#clock.now(), summationDelivered });
    const spec: ZclFrameSpec = {
      type: 'global',
      cmd: GLOBAL.reportAttributes,
      dir: 'server-to-client',
      seq: this.#han.nextZclSeq(),
      disableDefaultResponse: true,
      fields: {
        records: [{ attributeId: SUMMATION, dataType: attributeTypeId(SE_CLUSTER.metering, SUMMATION), value: summationDelivered }],
      },
    };
    for (const c of this.#clients.values()) this.#send(this.#han.zcl(c.short, SE_CLUSTER.metering, { ...spec }));
  }

  #scheduleImplementation(tenancy: ChangeOfTenancy): void {
    this.#cancelImplementation?.();
    this.#cancelImplementation = this.#clock.at(
      Math.max(tenancy.implementationAt, this.#clock.now()),
      () => {
        if (this.#onHan) this.#implement(tenancy);
      },
      `${this.#name} tenancy change takes effect`,
    );
  }

  /** At the implementation time: the previous occupier's data goes from the meter itself. */
  #implement(tenancy: ChangeOfTenancy): void {
    this.#unimplemented = undefined;
    const clears = this.profile.clears as Partial<Record<TenancyDataKind, boolean>>;
    const cleared = kindsClearedBy(tenancy.control).flatMap((k) => (clears[k] ? [OWN_STORE[k as MeterDataKind]] : []));
    const stores: Record<OwnStore, { at: number }[]> = { consumption: this.#consumption, topUps: this.#topUps, debts: this.#debts };
    // What the new occupier brought after the implementation time stays (COT-7 holds for the meter too).
    for (const s of cleared) retain(stores[s], (e) => e.at >= tenancy.implementationAt);
    this.#record('tenancy-implemented', undefined, cleared.length ? `cleared ${cleared.join(', ')}` : 'nothing to clear');
    const last = this.#lastMessage;
    if (!last || last.at >= tenancy.implementationAt) return;
    if (!this.profile.cancelsLastMessageOnTenancyChange) {
      this.#record('message-kept', undefined, `message ${last.messageId} stays the last message (COT-6)`);
      return;
    }
    this.#lastMessage = undefined;
    this.#record('message-cancelled', undefined, `message ${last.messageId}`);
    for (const c of this.#clients.values()) {
      this.#send(
        this.#han.zcl(c.short, SE_CLUSTER.messaging, {
          name: 'Cancel Message',
          dir: 'server-to-client',
          seq: this.#han.nextZclSeq(),
          fields: { messageId: last.messageId, messageControl: 0 },
        }),
      );
    }
  }

  #receive(frame: Uint8Array): void {
    const m = this.#han.read(frame);
    if (m?.kind === 'rejoin-response') return this.#join.answered(m.status);
    if (!this.#onHan || m?.kind !== 'zcl' || m.zcl.dir !== 'client-to-server') return;
    if (m.ieee) this.addClient({ short: m.src, ieee: m.ieee });
    const handler = this.#handlers.get(key(m.cluster, m.zcl.name));
    if (handler) return handler(m);
    if (m.zcl.type === 'cluster') this.#answer(m, 'unsupported command', () => [defaultResponse(m.zcl, ZCL.unsupportedClusterCommand)]);
  }

  #onGetChangeOfTenancy(m: Extract<HanMessage, { kind: 'zcl' }>): void {
    const tenancy = this.#tenancy;
    if (!this.profile.answersGetChangeOfTenancy)
      return this.#answer(m, 'Get Change of Tenancy refused (profile)', () => [defaultResponse(m.zcl, ZCL.unsupportedClusterCommand)]);
    if (!tenancy) return this.#answer(m, 'Get Change of Tenancy: none set', () => [defaultResponse(m.zcl, ZCL.notFound)]);
    this.#answer(m, 'Get Change of Tenancy', () => [publishSpec(tenancy, m.zcl.seq)]);
  }

  /**
   * A top-up code entered on a PPMID (RCN-3): credited locally, WAN or not, and answered with Consumer Top Up
   * Response; a code already used is refused as a duplicate. The virtual meter credits every new code with TOP_UP_CREDIT.
   */
  #onConsumerTopUp(m: Extract<HanMessage, { kind: 'zcl' }>): void {
    const ask = payloadOf(m.zcl, PREPAYMENT, 'Consumer Top Up');
    const code = String(ask?.topUpCode ?? '');
    const duplicate = this.#topUps.some((t) => t.code === code);
    const credited = code && !duplicate ? this.topUp({ code, amount: TOP_UP_CREDIT }) : undefined;
    const credit = this.#topUps.reduce((sum, t) => sum + t.amount, 0);
    this.#answer(m, credited ? 'Consumer Top Up: credited' : 'Consumer Top Up: refused', () => [
      {
        name: 'Consumer Top Up Response',
        dir: 'server-to-client',
        seq: m.zcl.seq,
        fields: {
          resultType: credited ? TOP_UP_RESULT.accepted : duplicate ? TOP_UP_RESULT.duplicate : TOP_UP_RESULT.invalid,
          topUpValue: credited?.amount ?? 0,
          sourceOfTopUp: Number(ask?.originatingDevice ?? 2),
          creditRemaining: credit,
        },
      },
    ]);
  }

  #onGetLastMessage(m: Extract<HanMessage, { kind: 'zcl' }>): void {
    const last = this.#lastMessage;
    this.#answer(m, 'Get Last Message', () => [last ? displayMessageSpec(last, m.zcl.seq) : defaultResponse(m.zcl, ZCL.notFound)]);
  }

  #onGetTopUpLog(m: Extract<HanMessage, { kind: 'zcl' }>): void {
    const ask = payloadOf(m.zcl, PREPAYMENT, 'Get Top Up Log');
    const found = latest(this.#topUps, ask?.latestEndTime, ask?.numberOfRecords);
    this.#answer(m, 'Get Top Up Log', () =>
      found.length ? found.map((t, i) => topUpLogSpec(t, i, found.length, m.zcl.seq)) : [defaultResponse(m.zcl, ZCL.notFound)],
    );
  }

  #onGetDebtRepaymentLog(m: Extract<HanMessage, { kind: 'zcl' }>): void {
    const ask = payloadOf(m.zcl, PREPAYMENT, 'Get Debt Repayment Log');
    const found = latest(this.#debts, ask?.latestEndTime, ask?.numberOfDebts);
    this.#answer(m, 'Get Debt Repayment Log', () =>
      found.length ? found.map((d, i) => debtLogSpec(d, i, found.length, m.zcl.seq)) : [defaultResponse(m.zcl, ZCL.notFound)],
    );
  }

  #onReadAttributes(m: Extract<HanMessage, { kind: 'zcl' }>): void {
    const ids = globalFieldsOf(m.zcl, 'Read Attributes')?.attributes ?? [];
    this.#answer(m, 'Read Attributes', () => [
      {
        type: 'global',
        cmd: GLOBAL.readAttributesResponse,
        dir: 'server-to-client',
        seq: m.zcl.seq,
        fields: {
          records: ids.map((id) => {
            const a = this.#attribute(m.cluster, id);
            return a
              ? { attributeId: id, status: ZCL.success, dataType: a.dataType, value: a.value }
              : { attributeId: id, status: ZCL.unsupportedAttribute };
          }),
        },
      },
    ]);
  }

  /** The server attributes a client (or the rig radio as one) may read, with their ZCL type as the cluster table gives it. */
  #attribute(cluster: number, id: number): { dataType: number; value: unknown } | undefined {
    const value = this.#attributeValue(cluster, id);
    return value === undefined ? undefined : { dataType: attributeTypeId(cluster, id), value };
  }

  /** Device Management's provider and Change of Tenancy, Prepayment's top-up sets, Metering's summation. */
  #attributeValue(cluster: number, id: number): unknown {
    const t = this.#tenancy;
    if (cluster === SE_CLUSTER.deviceManagement) {
      if (id === DEVICE_MANAGEMENT_ATTRIBUTE.providerId) return this.#providerId;
      if (id === DEVICE_MANAGEMENT_ATTRIBUTE.tenancyImplementation) return t ? toZclUtc(t.implementationAt) : ZCL_INVALID_TIME;
      if (id === DEVICE_MANAGEMENT_ATTRIBUTE.tenancyControl) return t?.control ?? 0;
    }
    const set = cluster === SE_CLUSTER.prepayment ? TOP_UP_SETS.find((s) => s.time === id || s.amount === id) : undefined;
    if (set) {
      // Set #1 is the most recent top-up; an empty set reads as invalid time and zero amount.
      const topUp = this.#topUps[this.#topUps.length - set.n];
      return id === set.time ? (topUp ? toZclUtc(topUp.at) : ZCL_INVALID_TIME) : (topUp?.amount ?? 0);
    }
    if (cluster === SE_CLUSTER.metering && id === SUMMATION) return this.#consumption.at(-1)?.summationDelivered ?? 0;
    return undefined;
  }

  /** Answers after the profile's delay, unless the meter loses power or the HAN first. */
  #answer(m: Extract<HanMessage, { kind: 'zcl' }>, what: string, build: () => ZclFrameSpec[]): void {
    this.#later(() => {
      const specs = build();
      const refused = specs.some((s) => s.type === 'global' && s.cmd === GLOBAL.defaultResponse);
      this.#record(refused ? 'request-refused' : 'request-answered', hexShort(m.src), what);
      for (const s of specs) this.#send(this.#han.zcl(m.src, m.cluster, s));
    }, what);
  }

  #later(action: () => void, label: string): void {
    const cancel = this.#clock.after(
      this.#jitter.latencyMs(this.profile.responseDelayMs),
      () => {
        this.#pending.delete(cancel);
        if (this.#onHan) action();
      },
      `${this.#name} ${label}`,
    );
    this.#pending.add(cancel);
  }

  #send(frame: Uint8Array): void {
    if (this.#onHan) this.#transmit(frame);
  }

  /** On the air whether joined or not: the rejoin handshake goes out before the device is on the HAN. */
  #transmit(frame: Uint8Array): void {
    if (!this.#powered) return;
    this.#record('frame-sent', undefined, hex(frame));
    this.#air.transmit(frame, { channel: this.channel, from: this.#han.self.ieee });
  }

  get #name(): string {
    return `${this.profile.meterType.toUpperCase()} ${this.#han.self.ieee}`;
  }

  #record(kind: MeterEventKind, client?: string, detail?: string): void {
    const e: MeterEvent = { at: this.#clock.now(), kind };
    if (client !== undefined) e.client = client;
    if (detail !== undefined) e.detail = detail;
    this.#events.push(e);
  }
}

/** Keeps, in place and in order, the entries `keep` accepts. */
function retain<T>(list: T[], keep: (e: T) => boolean): void {
  let w = 0;
  for (const e of list) if (keep(e)) list[w++] = e;
  list.length = w;
}

/** Handlers are found by cluster and command name (client→server only: the meter serves nothing else). */
const key = (cluster: number, name: string) => `${cluster}/${name}`;
const hexShort = (short: number) => `0x${short.toString(16).padStart(4, '0')}`;
const iso = (ms: number) => new Date(ms).toISOString();
const wholeSeconds = (ms: number) => Math.floor(ms / SECOND_MS) * SECOND_MS;

/** The newest `count` entries at or before `latestEndTime` (ZCL UTC; 0 or absent: now), newest first. */
function latest<T extends { at: number }>(log: readonly T[], latestEndTime: unknown, count: unknown): T[] {
  const end =
    typeof latestEndTime === 'number' && latestEndTime !== 0 && latestEndTime !== ZCL_INVALID_TIME ? fromZclUtc(latestEndTime) : Infinity;
  const n = typeof count === 'number' && count > 0 ? count : log.length;
  return log
    .filter((e) => e.at <= end)
    .reverse()
    .slice(0, n);
}

function publishSpec(t: ChangeOfTenancy, seq: number): ZclFrameSpec {
  return { name: 'Publish Change of Tenancy', dir: 'server-to-client', seq, fields: publishChangeOfTenancyFields(t) };
}

function displayMessageSpec(m: SupplierMessage, seq: number): ZclFrameSpec {
  return {
    name: 'Display Message',
    dir: 'server-to-client',
    seq,
    fields: { messageId: m.messageId, messageControl: 0, startTime: 0, durationInMinutes: UNTIL_CHANGED, message: m.message },
  };
}

function topUpLogSpec(t: TopUp, index: number, total: number, seq: number): ZclFrameSpec {
  return {
    name: 'Publish Top Up Log',
    dir: 'server-to-client',
    seq,
    fields: {
      commandIndex: index,
      totalNumberOfCommands: total,
      topUps: [{ topUpCode: t.code, topUpAmount: t.amount, topUpTime: toZclUtc(t.at) }],
    },
  };
}

function debtLogSpec(d: DebtCollection, index: number, total: number, seq: number): ZclFrameSpec {
  return {
    name: 'Publish Debt Log',
    dir: 'server-to-client',
    seq,
    fields: {
      commandIndex: index,
      totalNumberOfCommands: total,
      debts: [
        { collectionTime: toZclUtc(d.at), amountCollected: d.amountCollected, debtType: d.debtType, outstandingDebt: d.outstandingDebt },
      ],
    },
  };
}

function defaultResponse(request: DecodedZcl, status: number): ZclFrameSpec {
  return {
    type: 'global',
    cmd: GLOBAL.defaultResponse,
    dir: 'server-to-client',
    seq: request.seq,
    disableDefaultResponse: true,
    fields: { commandId: request.cmd, status },
  };
}
