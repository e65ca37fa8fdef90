// The virtual IHD or PPMID as a HAN client of the meters (DOMAIN.md §B, COT-2…COT-9, PWR-3): it
// records what the meters send, polls Get Change of Tenancy, and clears the previous occupier's
// data as its profile says — every poll and every clearing a discrete-event clock event.
import { hex } from '../protocol/bytes.ts';
import type { DecodedZcl } from '../protocol/decoded.ts';
import {
  RECONNECT_DEFAULTS,
  TENANCY_DATA_KINDS,
  misbehavesOn,
  type HanClientProfile,
  type TenancyDataKind,
} from '../firmware-images/profiles.ts';
import type { AirAccess } from './air.ts';
import type { CancelEvent, DiscreteEventClock } from './clock.ts';
import {
  DEVICE_MANAGEMENT,
  MESSAGING,
  METERING,
  METERING_ATTRIBUTE,
  PREPAYMENT,
  globalCommandId,
  globalFieldsOf,
  payloadOf,
  type ZclFrameSpec,
  type ClusterDef,
  type CommandName,
  type CommandPayload,
} from '../protocol/zcl/index.ts';
import { HanStack, fromZclUtc, toZclUtc, type HanAddress, type HanMessage } from './han-frames.ts';
import { HanJoin, rejoinDelayMs, type JoinEventKind } from './han-join.ts';
import { DeviceJitter } from './jitter.ts';
import { OtaClient, type OtaEventKind } from './ota.ts';
import { VIRTUAL_OTA_FILE_VERSION, VIRTUAL_OTA_IMAGE_TYPE, VIRTUAL_OTA_MANUFACTURER_CODE } from '../firmware-images/ota.ts';
import { changeOfTenancyOf, kindsClearedBy, type ChangeOfTenancy } from './tenancy.ts';

/** The parts of a han-client profile the virtual client runs (ids and descriptions are the manifest's). */
export type HanClientBehaviour = Omit<
  HanClientProfile,
  'id' | 'kind' | 'description' | 'breaks' | 'rejoinDelayMinutes' | 'reconnect' | 'localTopUp' | 'ota'
> &
  Partial<Pick<HanClientProfile, 'rejoinDelayMinutes' | 'reconnect' | 'localTopUp' | 'ota'>>;

/** Every entry carries the bench time the client recorded it: what COT-5/COT-7 are judged on. */
export interface Recorded {
  /** Bench time (ms since the Unix epoch) the client stored it. */
  recordedAt: number;
  /** The short address of the meter it came from; undefined for data the device made itself. */
  from?: number;
}
export interface ConsumptionEntry extends Recorded {
  summationDelivered: number;
}
export interface TopUpEntry extends Recorded {
  code: string;
  amount: number;
  /** When the top-up was made (bench time). */
  topUpAt: number;
}
export interface DebtRecoveryEntry extends Recorded {
  collectedAt: number;
  amountCollected: number;
  outstandingDebt: number;
  debtType: number;
}
export interface SupplierMessageEntry extends Recorded {
  messageId: number;
  message: string;
}

export interface HeldData {
  consumptionHistory: ConsumptionEntry[];
  topUpHistory: TopUpEntry[];
  debtRecovery: DebtRecoveryEntry[];
  supplierMessages: SupplierMessageEntry[];
}

/** One kind of data as the observation port reports it. */
export interface HeldSummary {
  count: number;
  /** Bench time of the oldest and newest entry held; null when none. */
  earliestRecordedAt: number | null;
  latestRecordedAt: number | null;
}

/** The device observation port's answer (DOMAIN.md §B "Observable"): what the device holds now. */
export type Observation = Record<TenancyDataKind, HeldSummary> & {
  at: number;
  powered: boolean;
  onHan: boolean;
  /** The last Change of Tenancy the device took in, if any. */
  tenancy: (ChangeOfTenancy & { receivedAt: number; from: number }) | null;
  /** When a clearing is due, if one is pending. */
  clearingDueAt: number | null;
};

export type PollReason = 'power-up' | 'rejoin' | 'server-returned' | 'periodic' | 'reconnected';

export type HanClientEventKind =
  | 'power-on'
  | 'power-off'
  | 'joined'
  | 'disconnected'
  | 'poll-sent'
  | 'poll-skipped'
  | 'tenancy-received'
  | 'tenancy-ignored'
  | 'clearing-scheduled'
  | 'data-cleared'
  | 'data-recorded'
  | 'message-cancelled'
  | 'frame-sent'
  | 'read-sent'
  | 'server-lost'
  | 'server-probed'
  | 'server-recovered'
  | 'top-up-entered'
  | 'top-up-refused'
  | 'upgraded'
  | OtaEventKind
  | JoinEventKind;

/** What the virtual client did and why: for the project's tests, never evidence. */
export interface HanClientEvent {
  at: number;
  kind: HanClientEventKind;
  detail?: string;
}

export interface VirtualHanClientOptions {
  clock: DiscreteEventClock;
  air: AirAccess;
  profile: HanClientBehaviour;
  self: HanAddress;
  /** The meters it is bound to (ESME, GPF): it polls each of them. */
  servers: readonly HanAddress[];
  /** The HAN's PAN id: the virtual CH's. */
  pan: number;
  /** The HAN's network key: every frame NWK-secured with it (absent: an unsecured HAN). */
  networkKey?: Uint8Array;
  /** Default 11. */
  channel?: number;
  /** Its boot time and poll-clock drift, from the bench seed (default none: nominal timers). */
  jitter?: DeviceJitter;
}

const SECOND_MS = 1000;
const HOUR_MS = 3600 * SECOND_MS;

/** A publication taken in, and whether its clearing has been done. */
interface Received {
  tenancy: ChangeOfTenancy;
  from: number;
  receivedAt: number;
  /** When it clears: the implementation time (honour) or the receipt (on-receipt). */
  clearAt: number;
  done: boolean;
  cancel?: CancelEvent;
}

/** Read Attributes of Current Summation Delivered: a client's read of its meter, and its probe of a lost one. */
const readSummation = (seq: number): ZclFrameSpec => ({
  type: 'global',
  cmd: globalCommandId('Read Attributes'),
  dir: 'client-to-server',
  seq,
  fields: { attributes: [METERING_ATTRIBUTE.currentSummationDelivered] },
});

/** Entries that are the same record seen twice (a log published, then read again): kept once. */
const SAME: { [K in TenancyDataKind]: (a: HeldData[K][number], b: HeldData[K][number]) => boolean } = {
  consumptionHistory: () => false,
  topUpHistory: (a, b) => a.code === b.code && a.topUpAt === b.topUpAt && a.from === b.from,
  debtRecovery: (a, b) =>
    a.collectedAt === b.collectedAt && a.amountCollected === b.amountCollected && a.debtType === b.debtType && a.from === b.from,
  supplierMessages: (a, b) => a.messageId === b.messageId && a.from === b.from,
};

/** What the client knows of one meter's reachability (RCN-1): when it last heard it, and its back-off while lost. */
interface ServerLink {
  /** Bench time of the last frame heard from the meter. */
  heardAt: number;
  /** A request awaiting any answer: its answer check. */
  check?: CancelEvent;
  /** Lost: no answer within the timeout; probed with back-off until it answers. */
  lost: boolean;
  probes: number;
  probe?: CancelEvent;
  /** The ZCL sequence number of the last probe: only its answer brings a lost meter back (its unsolicited reports do not). */
  probeSeq?: number;
}

/** How a client reads one server→client command it understands. */
type ZclReader = (from: number, zcl: DecodedZcl) => void;

/** Readers are found by cluster and command name (server→client only: the client reads nothing else). */
const readerKey = (cluster: number, name: string) => `${cluster}/${name}`;

/** A reader of the command `name` of `cluster`, given its fields typed by the cluster table's row. */
function reader<C extends ClusterDef, N extends CommandName<C['commands']>>(
  cluster: C,
  name: N,
  read: (from: number, fields: CommandPayload<C['commands'], N>) => void,
): [string, ZclReader] {
  return [
    readerKey(cluster.id, name),
    (from, zcl) => {
      const fields = payloadOf(zcl, cluster, name);
      if (fields) read(from, fields);
    },
  ];
}

export class VirtualHanClient {
  readonly profile: HanClientBehaviour;
  readonly channel: number;
  readonly servers: readonly HanAddress[];
  readonly #clock: DiscreteEventClock;
  readonly #air: AirAccess;
  readonly #han: HanStack;
  readonly #held: HeldData = { consumptionHistory: [], topUpHistory: [], debtRecovery: [], supplierMessages: [] };
  /** The last publication from each server, by its short address: kept across power cycles (non-volatile). */
  readonly #received = new Map<number, Received>();
  readonly #events: HanClientEvent[] = [];
  readonly #jitter: DeviceJitter;

  #powered = false;
  #poweredAt = 0;
  /** Power-ups since the device was made, and periodic polls due since the last one: what an occasional misbehaviour counts. */
  #powerUps = 0;
  #periodicPolls = 0;
  /** It has cleared for a Change of Tenancy: what its profile's side effects (afterClearing) wait for. */
  #hasCleared = false;
  #onHan = false;
  #disconnected = false;
  #detach: (() => void) | undefined;
  readonly #join: HanJoin;
  /** Why it is asking the CH: its own power-up, or coming back after a drop-out. */
  #joinReason: 'power-up' | 'rejoin' = 'power-up';
  #cancelPoll: CancelEvent | undefined;
  #cancelRead: CancelEvent | undefined;
  /** Each meter's reachability, by short address (RCN-1). */
  readonly #links = new Map<number, ServerLink>();
  /** The CH's WAN as the device knows it (RCN-3; only a non-conformant PPMID cares). */
  #wanUp = true;
  /** How the client reads each server→client command it understands: one row per command. */
  readonly #readers: ReadonlyMap<string, ZclReader>;
  /** Its OTA Upgrade client (RCN-4): the firmware version it runs survives power cycles. */
  readonly #ota: OtaClient;
  /** Rebooted onto an upgrade and not yet back on the HAN: its first poll waits for the profile's delay. */
  #upgradeRejoin = false;
  #cancelDelayedPoll: CancelEvent | undefined;

  constructor(options: VirtualHanClientOptions) {
    this.#clock = options.clock;
    this.#air = options.air;
    this.profile = options.profile;
    this.channel = options.channel ?? 11;
    this.#jitter = options.jitter ?? DeviceJitter.none();
    this.servers = options.servers.map((s) => ({ ...s }));
    this.#han = new HanStack(options.self, options.pan, options.networkKey);
    this.#join = new HanJoin(
      this.#clock,
      this.#han,
      this.#name,
      (f) => this.#send(f),
      () => this.#joined(this.#joinReason),
      (k, d) => this.#record(k, d),
    );
    this.#ota = new OtaClient(
      this.#clock,
      {
        send: (dst, cluster, spec, delayMs, label) => {
          const go = () => (this.#onHan ? this.#send(this.#han.zcl(dst, cluster, spec)) : undefined);
          if (delayMs === 0) go();
          else this.#clock.after(delayMs, go, `${this.#name} ${label}`);
        },
        nextSeq: () => this.#han.nextZclSeq(),
        record: (k, d) => this.#record(k, d),
      },
      {
        manufacturerCode: VIRTUAL_OTA_MANUFACTURER_CODE,
        imageType: VIRTUAL_OTA_IMAGE_TYPE[this.profile.clientType],
        fileVersion: VIRTUAL_OTA_FILE_VERSION,
      },
      `gbcs-rig virtual ${this.profile.clientType.toUpperCase()}`,
      (version) => this.#rebootOnto(version),
    );
    this.#readers = new Map<string, ZclReader>([
      reader(DEVICE_MANAGEMENT, 'Publish Change of Tenancy', (from, f) => this.#takeChangeOfTenancy(from, changeOfTenancyOf(f))),
      reader(MESSAGING, 'Display Message', (from, f) =>
        this.#store('supplierMessages', { from, messageId: f.messageId, message: String(f.message) }),
      ),
      reader(MESSAGING, 'Cancel Message', (_from, f) => this.#cancelMessage(f.messageId)),
      reader(PREPAYMENT, 'Publish Top Up Log', (from, f) => {
        for (const t of f.topUps)
          this.#store('topUpHistory', { from, code: String(t.topUpCode), amount: t.topUpAmount, topUpAt: fromZclUtc(t.topUpTime) });
      }),
      reader(PREPAYMENT, 'Publish Debt Log', (from, f) => {
        for (const d of f.debts) {
          this.#store('debtRecovery', {
            from,
            collectedAt: fromZclUtc(d.collectionTime),
            amountCollected: d.amountCollected,
            outstandingDebt: d.outstandingDebt,
            debtType: d.debtType,
          });
        }
      }),
      [
        readerKey(METERING.id, 'Report Attributes'),
        (from, z) => {
          for (const r of globalFieldsOf(z, 'Report Attributes')?.records ?? []) {
            if (r.attributeId === METERING_ATTRIBUTE.currentSummationDelivered)
              this.#store('consumptionHistory', { from, summationDelivered: Number(r.value) });
          }
        },
      ],
    ]);
  }

  get self(): HanAddress {
    return { ...this.#han.self };
  }

  get powered(): boolean {
    return this.#powered;
  }

  get onHan(): boolean {
    return this.#onHan;
  }

  get events(): readonly HanClientEvent[] {
    return this.#events;
  }

  /** Copies of what the device holds of one kind, oldest first. */
  held<K extends TenancyDataKind>(kind: K): HeldData[K] {
    return this.#held[kind].map((e) => ({ ...e })) as HeldData[K];
  }

  /** The observation port's answer: counts and bench times of what the device holds now. */
  observe(): Observation {
    // Entries are appended as bench time moves on, so each list is in recording order.
    const summary = (list: readonly Recorded[]): HeldSummary => ({
      count: list.length,
      earliestRecordedAt: list[0]?.recordedAt ?? null,
      latestRecordedAt: list.at(-1)?.recordedAt ?? null,
    });
    const last = [...this.#received.values()].sort((a, b) => a.receivedAt - b.receivedAt).at(-1);
    const due = [...this.#received.values()].filter((r) => !r.done).map((r) => r.clearAt);
    return {
      at: this.#clock.now(),
      powered: this.#powered,
      onHan: this.#onHan,
      ...(Object.fromEntries(TENANCY_DATA_KINDS.map((k) => [k, summary(this.#held[k])])) as Record<TenancyDataKind, HeldSummary>),
      tenancy: last ? { ...last.tenancy, receivedAt: last.receivedAt, from: last.from } : null,
      clearingDueAt: due.length ? Math.min(...due) : null,
    };
  }

  /** Mains on or off: the bench wires this to the virtual relay's onPower. */
  power(on: boolean): void {
    if (on === this.#powered) return;
    if (on) {
      this.#powered = true;
      this.#poweredAt = this.#clock.now();
      this.#powerUps++;
      this.#periodicPolls = 0;
      this.#disconnected = false;
      this.#record('power-on');
      this.#radioOn('power-up', this.#jitter.bootMs());
      this.#schedulePoll();
      // A clearing whose time came while the device was off is done as soon as it runs again.
      for (const r of this.#received.values()) if (!r.done) this.#scheduleClearing(r);
    } else {
      this.#powered = false;
      this.#leave();
      this.#ota.stop();
      this.#upgradeRejoin = false;
      this.#cancelDelayedPoll?.();
      this.#cancelPoll?.();
      for (const r of this.#received.values()) r.cancel?.();
      this.#record('power-off');
    }
  }

  /** Taken off the HAN while powered (a HAN drop-out, COT-8): it hears nothing and its polls go nowhere. */
  disconnect(): void {
    if (!this.#powered || this.#disconnected) return;
    this.#disconnected = true;
    this.#leave();
    this.#record('disconnected');
  }

  /** Back in reach after a disconnect: it asks the CH to readmit it, then polls if its profile does (COT-2). */
  rejoin(): void {
    if (!this.#powered || !this.#disconnected) return;
    this.#disconnected = false;
    this.#radioOn('rejoin', 0);
  }

  /**
   * The CH (the HAN's coordinator) lost power: once the client notices, it is off the HAN (its polls go
   * nowhere) and asks to rejoin, then polls as after any rejoin (PWR-1, COT-2). Its radio keeps listening.
   */
  coordinatorLost(): void {
    if (!this.#powered || this.#disconnected) return;
    this.#join.coordinatorLost(this.#jitter.coordinatorLossMs(), rejoinDelayMs(this.profile.rejoinDelayMinutes), () => {
      if (!this.#onHan) return false;
      this.#onHan = false;
      this.#joinReason = 'rejoin';
      return true;
    });
  }

  /** The radio listens (the CH's answer must reach it) and asks the CH to admit it; ZCL waits until it is admitted. */
  #radioOn(why: 'power-up' | 'rejoin', afterMs: number): void {
    this.#detach = this.#air.attach({ id: this.#han.self.ieee, channel: this.channel, receive: (frame) => this.#receive(frame) });
    this.#joinReason = why;
    this.#join.start(afterMs);
  }

  /** Data the device makes or takes in itself (a PPMID top-up by code, an IHD's own history). */
  record<K extends TenancyDataKind>(kind: K, entry: Omit<HeldData[K][number], 'recordedAt'>): void {
    this.#store(kind, entry);
  }

  /** Stores one entry now (from the air or from record()); nothing while unpowered. */
  #store<K extends TenancyDataKind>(kind: K, entry: Omit<HeldData[K][number], 'recordedAt'>): void {
    if (!this.#powered || this.#sideEffect('stops-recording')) return;
    const e = { ...entry, recordedAt: this.#clock.now() } as HeldData[K][number];
    const list = this.#held[kind] as HeldData[K][number][];
    const same = SAME[kind] as (a: HeldData[K][number], b: HeldData[K][number]) => boolean;
    if (list.some((x) => same(x, e))) return;
    list.push(e);
    this.#record('data-recorded', kind);
  }

  /** Messaging Cancel Message: the message goes, whatever the tenancy. */
  #cancelMessage(messageId: number): void {
    const before = this.#held.supplierMessages.length;
    this.#held.supplierMessages = this.#held.supplierMessages.filter((m) => m.messageId !== messageId);
    if (this.#held.supplierMessages.length !== before) this.#record('message-cancelled', `message ${messageId}`);
  }

  /** A Publish Change of Tenancy, solicited or not (COT-4, COT-5, COT-7). */
  #takeChangeOfTenancy(from: number, tenancy: ChangeOfTenancy): void {
    const now = this.#clock.now();
    const detail = `from 0x${from.toString(16).padStart(4, '0')}, issuer event ${tenancy.issuerEventId}, implementation ${new Date(tenancy.implementationAt).toISOString()}`;
    if (this.profile.implementationTime === 'ignore') return this.#record('tenancy-ignored', detail);
    this.#record('tenancy-received', detail);
    const earlier = this.#received.get(from);
    const repeat =
      earlier?.done &&
      earlier.tenancy.issuerEventId === tenancy.issuerEventId &&
      earlier.tenancy.implementationAt === tenancy.implementationAt;
    earlier?.cancel?.();
    const clearAt =
      this.profile.implementationTime === 'honour'
        ? Math.max(tenancy.implementationAt - (this.profile.clearsMinutesEarly ?? 0) * 60_000, now)
        : now;
    const r: Received = { tenancy, from, receivedAt: now, clearAt, done: false };
    this.#received.set(from, r);
    // A conformant device has nothing left to clear for a publication it already acted on; one that clears new data does it again.
    if (repeat && !this.profile.clearsNewOccupierData) {
      r.done = true;
      return;
    }
    this.#scheduleClearing(r);
  }

  #scheduleClearing(r: Received): void {
    const at = Math.max(r.clearAt, this.#clock.now());
    if (at > this.#clock.now()) this.#record('clearing-scheduled', `at ${new Date(at).toISOString()}`);
    r.cancel = this.#clock.at(
      at,
      () => {
        if (this.#powered) this.#clear(r);
      },
      `${this.#name} clears for the change of tenancy`,
    );
  }

  /** Clears what the publication asks for and the profile clears: data recorded before the implementation time (COT-7). */
  #clear(r: Received): void {
    r.done = true;
    this.#hasCleared = true;
    r.cancel = undefined;
    const cutoff = this.profile.clearsNewOccupierData ? Infinity : r.tenancy.implementationAt;
    const kinds = kindsClearedBy(r.tenancy.control).filter((k) => this.profile.clears[k]);
    const removed: string[] = [];
    for (const k of kinds) {
      const list = this.#held[k] as Recorded[];
      const kept = list.filter((e) => e.recordedAt >= cutoff);
      if (kept.length !== list.length) removed.push(`${k} ${list.length - kept.length}`);
      (this.#held as Record<TenancyDataKind, Recorded[]>)[k] = kept;
    }
    this.#record('data-cleared', removed.length ? removed.join(', ') : 'nothing held to clear');
  }

  /** The firmware it runs, as its OTA client reports it (Current File Version), e.g. after an upgrade. */
  get fileVersion(): number {
    return this.#ota.running.fileVersion;
  }

  /**
   * RCN-4: at the upgrade time it reboots onto the new image: off the HAN, its timers restarted as at a power-up;
   * it asks the CH to rejoin after its boot (unless its profile stays off), and polls when admitted (after the profile's delay).
   */
  #rebootOnto(version: number): void {
    this.#leave();
    this.#cancelPoll?.();
    for (const r of this.#received.values()) r.cancel?.();
    this.#record('upgraded', `now running 0x${version.toString(16).padStart(8, '0')}; rebooting`);
    this.#poweredAt = this.#clock.now();
    this.#periodicPolls = 0;
    if (this.profile.ota?.rejoinsAfterUpgrade === false) return this.#record('rejoin-abandoned', 'after the OTA upgrade (profile)');
    this.#upgradeRejoin = true;
    this.#radioOn('power-up', this.#jitter.bootMs());
    this.#schedulePoll();
    for (const r of this.#received.values()) if (!r.done) this.#scheduleClearing(r);
  }

  /** Admitted by the CH. */
  #joined(why: 'power-up' | 'rejoin'): void {
    this.#onHan = true;
    this.#record('joined', why);
    this.#scheduleRead();
    const delayMinutes = this.#upgradeRejoin ? (this.profile.ota?.pollDelayAfterUpgradeMinutes ?? 0) : 0;
    this.#upgradeRejoin = false;
    if (delayMinutes > 0) {
      this.#cancelDelayedPoll = this.#clock.after(
        delayMinutes * 60_000,
        () => this.#poll(why),
        `${this.#name} polls late after its upgrade`,
      );
      return this.#record('poll-skipped', `${why}: after the OTA upgrade, polls in ${delayMinutes} min (profile)`);
    }
    const polls = why === 'power-up' ? this.profile.pollsAtPowerUp : this.profile.pollsAtRejoin;
    if (polls && why === 'power-up' && misbehavesOn(this.profile.skipsPowerUpPolls, this.#powerUps))
      return this.#record('poll-skipped', `power-up ${this.#powerUps}: skipped (profile)`);
    if (polls) this.#poll(why);
  }

  #leave(): void {
    this.#onHan = false;
    this.#cancelRead?.();
    this.#cancelRead = undefined;
    for (const l of this.#links.values()) l.check?.(), l.probe?.();
    this.#links.clear();
    this.#join.stop();
    this.#detach?.();
    this.#detach = undefined;
  }

  /**
   * The periodic poll (COT-3, COT-9): from power-up, or on the UTC-midnight grid, by the device's
   * own timer (set at power-up, drifting within its jitter). `after`: the device time of the poll just made.
   */
  #schedulePoll(after?: number): void {
    const p = this.profile;
    const period =
      p.pollIntervalSeconds !== undefined
        ? p.pollIntervalSeconds * SECOND_MS
        : p.pollPeriodHours !== null
          ? p.pollPeriodHours * HOUR_MS
          : null;
    if (period === null) return;
    const now = this.#clock.now();
    const deviceNow = after ?? this.#jitter.deviceTimeAt(now, this.#poweredAt);
    // Bench time 0 is 1970-01-01T00:00Z, a UTC midnight: multiples of a period dividing 24 h fall on midnight.
    const origin = p.pollAlignment === 'midnight-utc' ? 0 : this.#poweredAt;
    const next = origin + (Math.floor((deviceNow - origin) / period) + 1) * period;
    this.#cancelPoll = this.#clock.at(
      Math.max(now, this.#jitter.benchTimeOf(next, this.#poweredAt)),
      () => {
        const n = ++this.#periodicPolls;
        if (misbehavesOn(p.skipsPolls, n)) this.#record('poll-skipped', `periodic poll ${n}: skipped (profile)`);
        else if (this.#sideEffect('stops-polling'))
          this.#record('poll-skipped', 'periodic: stopped since clearing for a Change of Tenancy (profile)');
        else this.#poll('periodic');
        this.#schedulePoll(next);
      },
      `${this.#name} periodic Get Change of Tenancy`,
    );
  }

  #poll(reason: PollReason): void {
    if (!this.#onHan) return this.#record('poll-skipped', `${reason}: not on the HAN`);
    this.#record('poll-sent', reason);
    for (const s of this.servers) this.#pollOne(s.short);
  }

  #pollOne(short: number): void {
    this.#request(short, DEVICE_MANAGEMENT.id, { name: 'Get Change of Tenancy', dir: 'client-to-server', seq: this.#han.nextZclSeq() });
  }

  get #reconnect(): HanClientProfile['reconnect'] {
    return this.profile.reconnect ?? RECONNECT_DEFAULTS;
  }

  /** The meter's link, made when first asked. */
  #link(short: number): ServerLink {
    let l = this.#links.get(short);
    if (!l) this.#links.set(short, (l = { heardAt: -Infinity, lost: false, probes: 0 }));
    return l;
  }

  /** A request to a meter: a lost meter gets only probes; one that does not answer in time is lost (RCN-1). */
  #request(short: number, cluster: number, spec: ZclFrameSpec): void {
    const link = this.#link(short);
    if (link.lost) return this.#record('poll-skipped', `0x${short.toString(16).padStart(4, '0')} is lost: probed instead`);
    this.#send(this.#han.zcl(short, cluster, spec));
    if (link.check) return;
    const sentAt = this.#clock.now();
    link.check = this.#clock.after(
      this.#reconnect.answerTimeoutSeconds * SECOND_MS,
      () => {
        link.check = undefined;
        if (link.heardAt < sentAt) this.#lost(short, link);
      },
      `${this.#name} awaits an answer`,
    );
  }

  /** No answer: the meter is probed after the first retry time, then with back-off up to the cap (RCN-1). */
  #lost(short: number, link: ServerLink): void {
    if (link.lost) return;
    link.lost = true;
    link.probes = 0;
    this.#record('server-lost', `0x${short.toString(16).padStart(4, '0')}`);
    const r = this.#reconnect;
    const next = () => {
      const waitS = Math.min(r.retryFirstSeconds * r.retryFactor ** link.probes, r.retryMaxSeconds);
      link.probe = this.#clock.after(
        waitS * SECOND_MS,
        () => {
          link.probes++;
          this.#record('server-probed', `0x${short.toString(16).padStart(4, '0')}, probe ${link.probes}`);
          link.probeSeq = this.#han.nextZclSeq();
          this.#send(this.#han.zcl(short, METERING.id, readSummation(link.probeSeq)));
          next();
        },
        `${this.#name} probes a lost meter`,
      );
    };
    next();
  }

  /** A frame from the meter; the answer to a probe brings a lost one back: the client polls Change of Tenancy and refreshes what it missed (RCN-2). */
  #heardFrom(short: number, seq: number): void {
    const link = this.#links.get(short);
    if (!link) return;
    link.heardAt = this.#clock.now();
    if (!link.lost || seq !== link.probeSeq) return;
    link.lost = false;
    link.probe?.();
    link.probe = undefined;
    this.#record('server-recovered', `0x${short.toString(16).padStart(4, '0')} after ${link.probes} probes`);
    if (!this.#reconnect.refreshesOnRecovery) return;
    this.#record('poll-sent', 'reconnected');
    this.#pollOne(short);
    const now = toZclUtc(this.#clock.now());
    this.#request(short, PREPAYMENT.id, {
      name: 'Get Top Up Log',
      dir: 'client-to-server',
      seq: this.#han.nextZclSeq(),
      fields: { latestEndTime: now, numberOfRecords: 5 },
    });
  }

  /** Its own reads of the meters (RCN-1, RCN-3): Current Summation Delivered, every readPeriodMinutes while on the HAN. */
  #scheduleRead(): void {
    const every = this.profile.readPeriodMinutes;
    if (every === undefined) return;
    this.#cancelRead?.();
    this.#cancelRead = this.#clock.after(
      every * 60_000,
      () => {
        if (!this.#onHan) return;
        this.#record('read-sent');
        for (const s of this.servers) this.#request(s.short, METERING.id, readSummation(this.#han.nextZclSeq()));
        this.#scheduleRead();
      },
      `${this.#name} reads its meters`,
    );
  }

  /** The CH's WAN went down or came back (RCN-3): the bench tells the device, as a CH's status would. */
  wanChanged(up: boolean): void {
    this.#wanUp = up;
  }

  /**
   * A top-up code (UTRN) entered on the device's keypad (RCN-3): sent to the meter `meter` (default its first)
   * as Prepayment Consumer Top Up, unless it is off the HAN or (non-conformant) refuses while the WAN is down.
   */
  enterTopUp(code: string, meter = this.servers[0]?.short): boolean {
    const refuse = (why: string) => (this.#record('top-up-refused', why), false);
    if (!this.#powered || !this.#onHan || meter === undefined) return refuse('not on the HAN');
    if (this.profile.localTopUp === 'needs-wan' && !this.#wanUp) return refuse("the CH's WAN is down (profile)");
    this.#record('top-up-entered', code);
    this.#request(meter, PREPAYMENT.id, {
      name: 'Consumer Top Up',
      dir: 'client-to-server',
      seq: this.#han.nextZclSeq(),
      fields: { originatingDevice: 2, topUpCode: code },
    });
    return true;
  }

  #receive(frame: Uint8Array): void {
    const m: HanMessage | undefined = this.#han.read(frame);
    if (m?.kind === 'rejoin-response') return this.#join.answered(m.status);
    if (!this.#onHan || !m || m.kind === 'rejoin-request') return;
    if (m.kind === 'zcl') this.#heardFrom(m.src, m.zcl.seq);
    if (m.kind === 'zcl' && this.#ota.receive(m)) return;
    if (m.kind === 'announce') {
      // PWR-3: a meter it is bound to is back after a power cycle: communication re-established (no more probes), poll.
      const link = this.#links.get(m.from.short);
      if (link?.lost) {
        link.lost = false;
        link.probe?.();
        link.probe = undefined;
      }
      if (this.profile.pollsAtRejoin && this.servers.some((s) => s.short === m.from.short)) this.#poll('server-returned');
      return;
    }
    if (m.kind !== 'zcl' || m.zcl.dir !== 'server-to-client') return;
    this.#readers.get(readerKey(m.cluster, m.zcl.name))?.(m.src, m.zcl);
  }

  #send(frame: Uint8Array): void {
    this.#record('frame-sent', hex(frame));
    this.#air.transmit(frame, { channel: this.channel, from: this.#han.self.ieee });
  }

  /** A side effect of clearing for a Change of Tenancy the profile has, once it has cleared. */
  #sideEffect(effect: HanClientProfile['afterClearing'][number]): boolean {
    return this.#hasCleared && (this.profile.afterClearing ?? []).includes(effect);
  }

  get #name(): string {
    return `${this.profile.clientType.toUpperCase()} ${this.#han.self.ieee}`;
  }

  #record(kind: HanClientEventKind, detail?: string): void {
    const e: HanClientEvent = { at: this.#clock.now(), kind };
    if (detail !== undefined) e.detail = detail;
    this.#events.push(e);
  }
}
