// The virtual Communications Hub: the CHF side of the inter-PAN join (DOMAIN.md §A, IPAN-1…6) run
// from a behaviour profile on the simulated air, every timer a discrete-event clock event.
import { hex } from '../protocol/bytes.ts';
import { misbehavesOn, type CommsHubProfile } from '../firmware-images/profiles.ts';
import type { AirAccess } from './air.ts';
import { DeviceJitter } from './jitter.ts';
import type { CancelEvent, DiscreteEventClock } from './clock.ts';
import {
  DLMS_RESULT,
  buildHanReadResponse,
  buildInterPanCcs01Response,
  ieeeText,
  readHanRead,
  readInterPanCcs01,
  type HanRead,
  type InterPanCcs01,
} from '../protocol/hht-messages.ts';
import { HanStack, isForDevice, type HanAddress } from './han-frames.ts';
import { OtaServer, type OtaEventKind } from './ota.ts';
import type { OtaHeader } from '../protocol/ota-image.ts';

/** The parts of a comms-hub profile the virtual CH runs (ids and descriptions are the manifest's). */
export type CommsHubBehaviour = Pick<CommsHubProfile, 'interPan' | 'hht'> & Partial<Pick<CommsHubProfile, 'deviceLogSurvivesPowerOn'>>;

export interface DeviceLogEntry {
  ieee: string;
  /** An HHT joined over inter-PAN, or a HAN device (meter, IHD, PPMID) the DCC commissioned. */
  kind: 'hht' | 'han-device';
  /** Bench time (ms since the Unix epoch). */
  addedAt: number;
  /** Null: no time limit (only a power-on can remove it, unless the profile keeps it then too). */
  expiresAt: number | null;
}

export type CommsHubEventKind =
  | 'power-on'
  | 'power-off'
  | 'window-opened'
  | 'window-closed'
  | 'ccs01-accepted'
  | 'ccs01-refused'
  | 'ccs01-ignored'
  | 'hht-added'
  | 'hht-removed'
  | 'device-removed'
  | 'han-read-answered'
  | 'han-read-ignored'
  | 'device-admitted'
  | 'rejoin-ignored'
  | 'frame-sent'
  | OtaEventKind;

/** What the virtual CH did and why: for the project's tests, never evidence (evidence is what the rig sees). */
export interface CommsHubEvent {
  at: number;
  kind: CommsHubEventKind;
  ieee?: string;
  detail?: string;
}

export interface VirtualCommsHubOptions {
  clock: DiscreteEventClock;
  air: AirAccess;
  profile: CommsHubBehaviour;
  /** The CH's HAN IEEE address. */
  ieee: string;
  /** The CHF entity id (GBCS recipient of CCS01); default the IEEE address. */
  chfId?: string;
  /** The HAN's PAN id (the virtual bench takes it from its seed). */
  pan: number;
  /** The HAN's network key: every HAN frame NWK-secured with it (absent: an unsecured HAN). */
  networkKey?: Uint8Array;
  /** The short address the CH assigns the first HHT it admits to the HAN (the virtual bench takes it from its seed); each further HHT gets the next one. */
  hhtShort: number;
  /** Default 0x0000 (the CH is the HAN's coordinator). */
  short?: number;
  /** Default 11. */
  channel?: number;
  /** Entity ids whose CCS01 over inter-PAN the CH accepts (IPAN-5 "authorised"). */
  authorisedHhts?: readonly string[];
  /** HAN devices in the CHF device log (as the DCC commissioned them): the CH admits these to its HAN. */
  hanDevices?: readonly string[];
  /** Its answers' latency jitter, from the bench seed (default none: every answer at its nominal delay). */
  jitter?: DeviceJitter;
}

const BROADCAST = '0xffff';
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** A HAN read or a rejoin is answered at once, give or take the stack's latency. */
export const HAN_READ_ANSWER_DELAY_MS = 20;
const REJOIN_SUCCESS = 0x00;
/** ZigBee reserves short addresses from 0xfff8 up. */
const RESERVED_SHORTS = 0xfff8;
/** A beacon goes out within a few ms of the request (no beacon-enabled PAN, no random back-off modelled). */
const BEACON_ANSWER_DELAY_MS = 5;

type Refusal = 'malformed' | 'unauthorised';

/** One inter-PAN join window (IPAN-1): from a power-on, for the profile's minutes. */
interface InterPanWindow {
  openedAt: number;
  closesAt: number | null;
  cancelClose?: CancelEvent;
}

/**
 * How a CCS01 over inter-PAN is refused (IPAN-5), unless the profile accepts it. A malformed one is
 * discarded unanswered: nothing in it can be trusted, not even the counter a response would echo.
 * An unauthorised but well-formed one gets a CCS01 response with DLMS result 3 (read/write
 * denied), so the refusal is visible on the sniffer. Neither changes the device log, unless the
 * profile's refusalSideEffect makes it (a non-conformant CH).
 */
const REFUSALS: Readonly<Record<Refusal, { acceptedBy: 'acceptsMalformed' | 'acceptsUnauthorised'; answer: number | null }>> = {
  malformed: { acceptedBy: 'acceptsMalformed', answer: null },
  unauthorised: { acceptedBy: 'acceptsUnauthorised', answer: DLMS_RESULT.readWriteDenied },
};

export class VirtualCommsHub {
  readonly ieee: string;
  readonly chfId: string;
  readonly pan: number;
  readonly short: number;
  readonly channel: number;
  readonly hhtShort: number;
  readonly profile: CommsHubBehaviour;
  readonly #clock: DiscreteEventClock;
  readonly #air: AirAccess;
  readonly #authorised: ReadonlySet<string>;
  readonly #jitter: DeviceJitter;

  #powered = false;
  /** Power-ons since the device was made: the first opens the first window, each later one is a power cycle (IPAN-3). */
  #powerOns = 0;
  /** The current window; with reopensOnPowerOn false, the one from the first power-on, for ever. */
  #window: InterPanWindow | undefined;
  readonly #log = new Map<string, { entry: DeviceLogEntry; cancelExpiry?: CancelEvent }>();
  /** The short address each HHT was given, kept for its next admission: two HHTs on the HAN never share one. */
  readonly #hhtShorts = new Map<string, number>();
  readonly #events: CommsHubEvent[] = [];
  #detach: (() => void) | undefined;
  /** Answers still to be sent: a power-off loses them. */
  readonly #pendingAnswers = new Set<CancelEvent>();
  #macSeq = 0;
  readonly #han: HanStack;
  /** RCN-4: the OTA Upgrade server, holding the images the DCC sent for its HAN devices. */
  readonly #ota: OtaServer;

  constructor(options: VirtualCommsHubOptions) {
    this.#clock = options.clock;
    this.#air = options.air;
    this.profile = options.profile;
    this.ieee = ieeeText(options.ieee);
    this.chfId = ieeeText(options.chfId ?? options.ieee);
    this.pan = options.pan;
    this.hhtShort = options.hhtShort;
    this.short = options.short ?? 0x0000;
    this.channel = options.channel ?? 11;
    this.#jitter = options.jitter ?? DeviceJitter.none();
    this.#authorised = new Set((options.authorisedHhts ?? []).map(ieeeText));
    this.#han = new HanStack({ short: this.short, ieee: this.ieee }, this.pan, options.networkKey);
    this.#ota = new OtaServer(this.#clock, {
      send: (dst, cluster, spec, delayMs, label) => this.#answerLater(delayMs, () => this.#han.zcl(dst, cluster, spec), label),
      nextSeq: () => this.#han.nextZclSeq(),
      record: (kind, detail) => this.#record(kind, undefined, detail),
    });
    for (const ieee of options.hanDevices ?? [])
      this.#log.set(ieeeText(ieee), { entry: { ieee: ieeeText(ieee), kind: 'han-device', addedAt: this.#clock.now(), expiresAt: null } });
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** IPAN-1/2: powered, and within the window (half-open: closed from the closing instant on). */
  get interPanOpen(): boolean {
    const w = this.#window;
    return this.#powered && w !== undefined && (w.closesAt === null || this.#clock.now() < w.closesAt);
  }

  /** When the current window closes (null: never; undefined: the CH was never powered). */
  get windowClosesAt(): number | null | undefined {
    return this.#window?.closesAt;
  }

  /** The CHF device log, in the order devices were added. */
  get deviceLog(): readonly DeviceLogEntry[] {
    return [...this.#log.values()].map((l) => ({ ...l.entry }));
  }

  get events(): readonly CommsHubEvent[] {
    return this.#events;
  }

  /** On the HAN: in the device log and not yet expired (half-open, like the window). */
  isOnHan(ieee: string): boolean {
    const e = this.#log.get(ieeeText(ieee))?.entry;
    return e !== undefined && (e.expiresAt === null || this.#clock.now() < e.expiresAt);
  }

  /** RCN-4: a firmware image the DCC sends over the WAN for one of its HAN devices; undefined when the CH is off (nothing arrives). */
  offerFirmware(to: HanAddress, file: Uint8Array): OtaHeader | undefined {
    return this.#powered ? this.#ota.offer(to, file) : undefined;
  }

  /** Mains on or off: the bench wires this to the virtual relay's onPower. */
  power(on: boolean): void {
    if (on === this.#powered) return;
    if (on) this.#powerOn();
    else this.#powerOff();
  }

  #powerOn(): void {
    this.#powered = true;
    const cycle = this.#powerOns++;
    // IPAN-3 broken only sometimes: the profile's power cycles open no new window.
    const missed = cycle > 0 && misbehavesOn(this.profile.interPan.missesReopen, cycle);
    this.#record('power-on', undefined, missed ? `power cycle ${cycle}: no new window (profile)` : undefined);
    // IPAN-4: an HHT stays for the lesser of its time and the next power-on.
    if (!this.profile.hht.survivesPowerOn) {
      for (const [ieee, l] of this.#log) if (l.entry.kind === 'hht') this.#remove(ieee, 'power-on');
    }
    // PWR-2: a CH that loses its device log at power-on admits none of its devices until they are recommissioned.
    if (cycle > 0 && this.profile.deviceLogSurvivesPowerOn === false) {
      for (const [ieee, l] of this.#log) if (l.entry.kind === 'han-device') this.#remove(ieee, 'power-on lost the device log (profile)');
    }
    // IPAN-3: each power-on opens a new window, unless the firmware only ever opens the first one.
    if (this.#window === undefined || (this.profile.interPan.reopensOnPowerOn && !missed)) this.#openWindow();
    this.#detach = this.#air.attach({ id: this.ieee, channel: this.channel, receive: (frame) => this.#receive(frame) });
  }

  #powerOff(): void {
    const wasOpen = this.interPanOpen;
    this.#powered = false;
    this.#detach?.();
    this.#detach = undefined;
    for (const cancel of this.#pendingAnswers) cancel();
    this.#pendingAnswers.clear();
    if (wasOpen) this.#record('window-closed', undefined, 'power-off');
    this.#record('power-off');
  }

  #openWindow(): void {
    this.#window?.cancelClose?.();
    const minutes = this.profile.interPan.windowMinutes;
    const openedAt = this.#clock.now();
    const w: InterPanWindow = { openedAt, closesAt: minutes === null ? null : openedAt + minutes * MINUTE_MS };
    this.#window = w;
    this.#record('window-opened', undefined, minutes === null ? 'never closes' : `for ${minutes} min`);
    if (w.closesAt !== null) {
      w.cancelClose = this.#clock.at(
        w.closesAt,
        () => {
          if (this.#window === w && this.#powered) this.#record('window-closed', undefined, `${minutes} min after power-on`);
        },
        `CH ${this.ieee} inter-PAN window closes`,
      );
    }
  }

  #receive(frame: Uint8Array): void {
    if (!this.#powered || !isForDevice(frame, this.#han.self)) return;
    const ccs01 = readInterPanCcs01(frame);
    if (ccs01) return this.#onCcs01(ccs01);
    const read = readHanRead(frame, this.#han.keys);
    if (read) return this.#onHanRead(read);
    const m = this.#han.read(frame);
    if (m?.kind === 'zcl' && this.#ota.receive(m)) return;
    if (m?.kind === 'rejoin-request') this.#onRejoinRequest(m.from);
    // The coordinator answers every beacon request: how a joining device, or the rig, finds the HAN.
    else if (m?.kind === 'beacon-request') this.#answerLater(BEACON_ANSWER_DELAY_MS, () => this.#han.beacon(this.ieee), 'beacon');
  }

  /**
   * A device asking to (re)join: admitted when the CHF device log holds it (an HHT while its entry
   * lasts), ignored otherwise (it keeps asking). A HAN device keeps its short address; an HHT gets
   * the one the CH assigns it.
   */
  #onRejoinRequest(from: HanAddress): void {
    const kind = this.isOnHan(from.ieee) ? this.#log.get(from.ieee)?.entry.kind : undefined;
    if (!kind) return this.#record('rejoin-ignored', from.ieee, 'not in the CHF device log');
    const assigned = kind === 'hht' ? this.#shortOfHht(from.ieee) : from.short;
    this.#answerLater(
      HAN_READ_ANSWER_DELAY_MS,
      () => {
        this.#record('device-admitted', from.ieee, kind === 'hht' ? `HHT, short 0x${assigned.toString(16).padStart(4, '0')}` : undefined);
        return this.#han.rejoinResponse(from, REJOIN_SUCCESS, assigned);
      },
      'Rejoin Response',
    );
  }

  #onCcs01(m: InterPanCcs01): void {
    // Responses (other CHs') and frames for another device are not this CH's to handle.
    if (m.kind !== 'command' || (m.dst !== BROADCAST && m.dst !== this.ieee)) return;
    if (!this.interPanOpen) return this.#record('ccs01-ignored', m.hht, 'inter-PAN window closed');
    if (m.recipient !== this.chfId) return this.#record('ccs01-ignored', m.hht, `recipient ${m.recipient} is not this CHF`);
    const refusal: Refusal | undefined = !m.wellFormed ? 'malformed' : !this.#authorised.has(m.originator) ? 'unauthorised' : undefined;
    const rule = refusal && REFUSALS[refusal];
    if (refusal && rule && !this.profile.interPan[rule.acceptedBy]) {
      this.#record('ccs01-refused', m.hht, refusal === 'malformed' ? `malformed: ${m.problem}` : `unauthorised originator ${m.originator}`);
      if (rule.answer !== null)
        this.#answerLater(this.profile.interPan.responseDelayMs, () => this.#ccs01Response(m, rule.answer!), 'CCS01 refusal');
      return this.#refusalSideEffect(m);
    }
    this.#record('ccs01-accepted', m.hht, refusal ? `${refusal}, accepted by this profile` : undefined);
    const device = m.device?.ieee ?? m.hht;
    this.#answerLater(
      this.profile.interPan.responseDelayMs,
      () => {
        this.#addHht(device);
        return this.#ccs01Response(m, DLMS_RESULT.success);
      },
      'CCS01 response',
    );
  }

  /** A non-conformant CH's refusal that still changes the device log: the device the CCS01 names (else its sender) added or removed. */
  #refusalSideEffect(m: InterPanCcs01): void {
    const device = m.device?.ieee ?? m.hht;
    const effect = this.profile.interPan.refusalSideEffect;
    if (effect === 'adds-sender') this.#addHht(device);
    else if (effect === 'removes-sender') this.#remove(device, 'a refused CCS01 named it');
  }

  /** An HHT's short address: the one it had, else hhtShort for the first and for each further one the n-th after it (before it near the reserved range). */
  #shortOfHht(ieee: string): number {
    let short = this.#hhtShorts.get(ieee);
    if (short === undefined) {
      const n = this.#hhtShorts.size;
      short = this.hhtShort + n < RESERVED_SHORTS ? this.hhtShort + n : this.hhtShort - n;
      this.#hhtShorts.set(ieee, short);
    }
    return short;
  }

  #ccs01Response(m: InterPanCcs01, result: number): Uint8Array {
    return buildInterPanCcs01Response({
      chIeee: this.ieee,
      chPan: this.pan,
      chf: this.chfId,
      hhtIeee: m.hht,
      hhtPan: m.hhtPan,
      seq: this.#nextMacSeq(),
      transaction: m.transaction,
      counter: m.counter,
      recipient: m.originator,
      result,
    });
  }

  #onHanRead(r: HanRead): void {
    if (r.kind !== 'read' || r.dst !== this.short || r.pan !== this.pan) return;
    // The device log is keyed by IEEE; a read without its sender's IEEE cannot be placed.
    if (r.ieee === undefined || !this.isOnHan(r.ieee)) return this.#record('han-read-ignored', r.ieee, 'not in the CHF device log');
    const ieee = r.ieee;
    this.#answerLater(
      HAN_READ_ANSWER_DELAY_MS,
      () => {
        this.#record('han-read-answered', ieee);
        return buildHanReadResponse({
          chShort: this.short,
          hhtShort: r.src,
          pan: this.pan,
          seq: this.#nextMacSeq(),
          transaction: r.transaction,
          ieee: this.ieee,
          security: this.#han.security(),
        });
      },
      'HAN read response',
    );
  }

  #addHht(ieee: string): void {
    const stayHours = this.profile.hht.stayHours;
    const addedAt = this.#clock.now();
    const entry: DeviceLogEntry = { ieee, kind: 'hht', addedAt, expiresAt: stayHours === null ? null : addedAt + stayHours * HOUR_MS };
    this.#log.get(ieee)?.cancelExpiry?.();
    const held: { entry: DeviceLogEntry; cancelExpiry?: CancelEvent } = { entry };
    if (entry.expiresAt !== null) {
      // The CHF's own clock keeps running whether or not it is powered.
      held.cancelExpiry = this.#clock.at(
        entry.expiresAt,
        () => {
          if (this.#log.get(ieee) === held) this.#remove(ieee, `${stayHours} h after joining`);
        },
        `CH ${this.ieee} HHT ${ieee} expires`,
      );
    }
    this.#log.delete(ieee); // Re-adding moves it to the end, as a fresh entry.
    this.#log.set(ieee, held);
    this.#record('hht-added', ieee, entry.expiresAt === null ? 'no time limit' : `until ${new Date(entry.expiresAt).toISOString()}`);
  }

  #remove(ieee: string, why: string): void {
    const l = this.#log.get(ieee);
    if (!l) return;
    l.cancelExpiry?.();
    this.#log.delete(ieee);
    this.#record(l.entry.kind === 'hht' ? 'hht-removed' : 'device-removed', ieee, why);
  }

  /** Builds and sends a frame about `delayMs` from now (within its jitter), unless the CH loses power first. */
  #answerLater(delayMs: number, build: () => Uint8Array, label: string): void {
    const cancel = this.#clock.after(
      this.#jitter.latencyMs(delayMs),
      () => {
        this.#pendingAnswers.delete(cancel);
        this.#send(build());
      },
      `CH ${this.ieee} ${label}`,
    );
    this.#pendingAnswers.add(cancel);
  }

  #send(frame: Uint8Array): void {
    this.#record('frame-sent', undefined, hex(frame));
    this.#air.transmit(frame, { channel: this.channel, from: this.ieee });
  }

  #nextMacSeq(): number {
    const seq = this.#macSeq;
    this.#macSeq = (this.#macSeq + 1) & 0xff;
    return seq;
  }

  #record(kind: CommsHubEventKind, ieee?: string, detail?: string): void {
    const e: CommsHubEvent = { at: this.#clock.now(), kind };
    if (ieee !== undefined) e.ieee = ieee;
    if (detail !== undefined) e.detail = detail;
    this.#events.push(e);
  }
}
