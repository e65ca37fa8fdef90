// The hand held terminal, played by the rig radio: inter-PAN CCS01 to the Communications Hub
// and HAN reads once joined. Every transmission is logged as evidence and must be heard by the
// bench's sniffer — a transmission the sniffer missed proves nothing about the device.
import { RigFault } from '../drivers/faults.ts';
import type { Radio } from '../drivers/radio/radio.ts';
import { hex16 } from '../protocol/bytes.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import { encodeFragmentedFrames, encodeFrame } from '../protocol/encoder.ts';
import { buildBeaconRequest } from '../protocol/beacons.ts';
import { NWK_REJOIN_REQUEST } from '../protocol/nwk.ts';
import { PROFILE_SMART_ENERGY } from '../protocol/aps.ts';
import {
  buildHanRead,
  buildHhtRejoinRequest,
  buildInterPanCcs01,
  hanReadOf,
  readInterPanCcs01,
  rejoinResponseTo,
  type Ccs01Malformation,
  type HanSecurity,
} from '../protocol/hht-messages.ts';
import { encodeZcl, type ZclFrameSpec } from '../protocol/zcl/index.ts';
import type { Capture, HeardFrame } from './capture.ts';
import type { BenchClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';
import { MODELLED_FACTS, restsOn } from './modelled-facts.ts';
import { hanFromBeacons, isCoordinatorBeacon, type HanPin, type LearnedHan } from './han.ts';

export interface HhtIdentity {
  /** The rig radio's IEEE address. */
  ieee: string;
  /** The entity id its CCS01 carries as originator (the authorised HHT). */
  entityId: string;
  /** The HAN's network key: what it secures its HAN frames with (the rig's keys.networkKeyEnv). */
  networkKey?: Uint8Array;
  /** The install code its CCS01 carries, hex (the rig's keys.installCodeEnv). */
  installCode?: string;
}

export interface CommsHubTarget {
  ieee: string;
  /** What the rig file pins of the HAN; the rest is learned on air. */
  pin?: HanPin;
}

/** What came back for one CCS01. */
export interface JoinAttempt {
  sentAtMs: number;
  counter: bigint;
  outcome: 'accepted' | 'refused' | 'no answer';
  answeredAtMs?: number;
  results?: number[];
}

/**
 * A payload for one device, as NWK data to its IEEE address (broadcast short, extended
 * destination) in APS fragments of `maxBlock` bytes, from the rig radio's short address.
 */
export function hanDeliveryFrames(f: {
  pan: number;
  short: number;
  seq: number;
  ieee: string;
  cluster: number;
  profile: number;
  payload: Uint8Array;
  maxBlock: number;
  /** The sender's IEEE (NWK extended source) and the first fragment's security (the next take the next counters); absent: unsecured. */
  source?: string;
  security?: HanSecurity;
}): Uint8Array[] {
  const pan = hex16(f.pan);
  const security = f.security && f.source && { key: f.security.networkKey, frameCounter: f.security.frameCounter, source: f.source };
  return encodeFragmentedFrames(
    {
      mac: { type: 'data', seq: f.seq, dstPan: pan, srcPan: pan, dst: '0xffff', src: hex16(f.short) },
      nwk: {
        type: 'data',
        dst: '0xfffd',
        src: hex16(f.short),
        seq: f.seq,
        dst64: f.ieee,
        ...(f.source && { src64: f.source }),
        ...(security && { security }),
      },
      aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: f.cluster, profile: f.profile, counter: f.seq },
      payload: f.payload,
    },
    f.maxBlock,
    false,
  );
}

const COUNTER_EPOCH_MS = Date.UTC(2020, 0, 1);

/** How long the rig still listens for an answer that missed captureWithinSeconds, to tell a slow device from a silent one. */
const LATE_ANSWER_WITHIN_MS = 60_000;

/**
 * What every HHT identity of one rig radio shares: the originator counter (one authorised originator
 * signs every CCS01, and a CH refuses a counter that does not rise), the radio's sequence numbers
 * (answers are matched by them) and the HAN once learned.
 */
export interface RadioShared {
  counter: bigint;
  seq: number;
  han?: LearnedHan;
  /**
   * Cases side by side on one bench share the rig radio as one HAN member: its joins by IEEE address (the short
   * address, once admitted) and its NWK frame counters. Absent for a case that holds the bench alone.
   */
  sideBySide?: { joins: Map<string, { settled: boolean; short?: number }>; frameCounters: Map<string, { value: number }> };
}

/** What the rig radio's HHTs share: per case, or, for cases side by side, per group (`sideBySide` set). */
export function radioShared(sideBySide: boolean): RadioShared {
  return { counter: 0x1000n, seq: 0, ...(sideBySide && { sideBySide: { joins: new Map(), frameCounters: new Map() } }) };
}

/** What came back for a Rejoin Request: admitted with a short address, refused with a status, or no answer. */
export interface RejoinAttempt {
  sentAtMs: number;
  outcome: 'admitted' | 'refused' | 'no answer';
  status?: number;
  short?: number;
  answeredAtMs?: number;
}

export class HandHeldTerminal {
  readonly #shared: RadioShared;
  /** The short address the CH gave it in its Rejoin Response: none until it has joined the HAN. */
  #short: number | undefined;
  /**
   * Its NWK frame counter: devices drop a frame whose counter is not above the last they saw from
   * the sender, so it starts at the bench's seconds since 2020 and only rises, case after case.
   */
  readonly #frameCounter: { value: number };

  constructor(
    private readonly radio: Radio,
    private readonly capture: Capture,
    private readonly evidence: EvidenceLog,
    private readonly clock: BenchClock,
    readonly identity: HhtIdentity,
    readonly ch: CommsHubTarget,
    /** The lab's captureWithinSeconds in ms: how long any expected frame may take, an answer or the radio's own frame on the sniffer. */
    private readonly answerWithinMs: number,
    shared: RadioShared = radioShared(false),
  ) {
    this.#shared = shared;
    const counters = shared.sideBySide?.frameCounters;
    this.#frameCounter = counters?.get(identity.ieee) ?? { value: Math.max(0, Math.floor((clock.now() - COUNTER_EPOCH_MS) / 1000)) >>> 0 };
    // One IEEE address, one rising counter: the HAN's devices drop a frame whose counter they have seen.
    counters?.set(identity.ieee, this.#frameCounter);
  }

  /**
   * The same rig radio as another HHT (CH-IPAN-006): its own IEEE address (MAC and NWK source, the
   * device its CCS01 asks to add) and NWK frame counter; the same authorised originator, install
   * code and network key, and the shared counters. Recorded in the evidence.
   */
  asAnotherHht(ieee: string, source: string): HandHeldTerminal {
    const identity = { ...this.identity, ieee };
    this.evidence.event('hht-identity', { ieee, entityId: identity.entityId, source, first: this.identity.ieee });
    return new HandHeldTerminal(this.radio, this.capture, this.evidence, this.clock, identity, this.ch, this.answerWithinMs, this.#shared);
  }

  /** Sends a CCS01 over inter-PAN and waits for the CH's answer (or its absence). */
  async join(options: { malformed?: Ccs01Malformation; unauthorised?: boolean } = {}): Promise<JoinAttempt> {
    const installCode = this.identity.installCode;
    if (!installCode) {
      throw new RigFault(
        'radio-refused',
        'rig radio',
        'the rig has no install code for the HHT, so its CCS01 cannot be built',
        "export the rig radio's install code in the environment variable the rig file names under keys.installCodeEnv",
      );
    }
    restsOn(this.evidence, MODELLED_FACTS.ccs01Carrier);
    const counter = ++this.#shared.counter;
    const psdu = buildInterPanCcs01({
      hhtIeee: this.identity.ieee,
      chIeee: this.ch.ieee,
      seq: this.nextSeq(),
      counter,
      installCode,
      originator: this.identity.entityId,
      malformed: options.malformed,
      unauthorised: options.unauthorised,
    });
    const what = `GBCS CCS01 Add Device to CHF Device Log over inter-PAN, counter ${counter}${options.malformed ? `, malformed (${options.malformed})` : ''}${options.unauthorised ? ', unauthorised originator' : ''}`;
    const sent = await this.transmit(psdu, what, (h) => {
      const m = readInterPanCcs01(h.psdu);
      return m?.kind === 'command' && m.counter === counter && m.hht === this.identity.ieee;
    });
    const isResponse = (_d: DecodedFrame, h: HeardFrame) => {
      const m = readInterPanCcs01(h.psdu);
      return m?.kind === 'response' && m.counter === counter && m.hht === this.identity.ieee;
    };
    const answer = await this.capture.waitFor(isResponse, this.answerWithinMs, sent.atMs);
    if (!answer) {
      // A CH that answers after captureWithinSeconds is slow, not silent: neither accepted nor refused can be judged.
      await this.lateAnswer(isResponse, sent.atMs, 'CCS01 over inter-PAN', this.ch.ieee);
      this.evidence.event('hht-join', { counter, outcome: 'no answer' });
      return { sentAtMs: sent.atMs, counter, outcome: 'no answer' };
    }
    const results = readInterPanCcs01(answer.psdu)!.results ?? [];
    const outcome = results.length > 0 && results.every((r) => r === 0) ? 'accepted' : 'refused';
    this.evidence.event('hht-join', { counter, outcome, results });
    // Accepted into the CHF device log, the HHT joins the HAN as a ZigBee device does.
    if (outcome === 'accepted') await this.rejoin(Number(answer.decoded.mac.srcPan));
    return { sentAtMs: sent.atMs, counter, outcome, answeredAtMs: answer.atMs, results };
  }

  /** The HAN as learned on air (after the first accepted join). */
  get han(): LearnedHan | undefined {
    return this.#shared.han;
  }

  /** Its short address on the HAN, from the CH's Rejoin Response; undefined until it joined. */
  get short(): number | undefined {
    return this.#short;
  }

  /**
   * Makes the rig radio a member of the HAN, as an HHT: CCS01 over inter-PAN (the CH's window must
   * be open: just after the case powered the CH), then the rejoin. A rig precondition: failing it is a rig fault.
   */
  async becomeMember(why: string): Promise<void> {
    this.networkKey();
    if (this.#short !== undefined) return;
    const joins = this.#shared.sideBySide?.joins;
    const earlier = joins?.get(this.identity.ieee);
    // Waited for on the bench clock, not as a promise: time moves for cases side by side only while each waits on it.
    if (earlier && (await this.clock.waitFor(() => earlier.settled, 10 * this.answerWithinMs)) && earlier.short !== undefined) {
      // A case alongside already made the rig radio a member: one HHT on the HAN, not a second join.
      this.#short = earlier.short;
      this.evidence.event('hht-member', {
        ieee: this.identity.ieee,
        short: hex16(earlier.short),
        joined: 'by a case running alongside on the bench',
      });
      return;
    }
    const joining = { settled: false, short: undefined as number | undefined };
    joins?.set(this.identity.ieee, joining);
    try {
      await this.joinAsMember(why);
      joining.short = this.#short;
    } finally {
      joining.settled = true;
    }
  }

  private async joinAsMember(why: string): Promise<void> {
    const join = await this.join();
    if (this.#short !== undefined) return;
    if (join.outcome === 'accepted') {
      // A wrong network key also goes unanswered: the HAN's devices (booting up to seconds after the CH) show it once they speak.
      await this.capture.waitFor((d) => d.nwk?.secured === true && d.nwk.decrypted === false, 2 * this.answerWithinMs);
      const sealed = this.capture.cannotDecrypt();
      if (sealed) throw sealed;
    }
    throw new RigFault(
      'radio-refused',
      'rig radio',
      join.outcome !== 'accepted'
        ? `the CH did not accept the rig radio's CCS01 (${join.outcome}), so the rig radio cannot join the HAN to ${why}`
        : `the CH accepted the rig radio's CCS01 but did not admit it to the HAN (no Rejoin Response), so it cannot ${why}`,
      "check that the rig radio's IEEE address is an HHT the CH accepts (authorised), that the CH was powered just before" +
        " (its inter-PAN window is open) and on the HAN's channel",
    );
  }

  /** Learns the HAN once: a Beacon Request, and the coordinators' beacons that answer it. */
  private async learnHan(chPan: number): Promise<LearnedHan> {
    if (this.#shared.han) return this.#shared.han;
    const beacons = (await this.requestBeacons())
      .filter(isCoordinatorBeacon)
      .map((heard) => ({ heard, channel: this.capture.channelOf(heard) }));
    const han = hanFromBeacons(beacons, { ieee: this.ch.ieee, heardOnPan: chPan }, this.ch.pin, 'HAN of the bench');
    this.evidence.event('han-learned', {
      pan: hex16(han.pan),
      channel: han.channel,
      coordinator: hex16(han.coordinator.short),
      coordinatorIeee: han.coordinator.ieee ?? null,
      extendedPanId: han.extendedPanId,
    });
    this.#shared.han = han;
    return han;
  }

  /** NWK Rejoin Request to the CH; its Rejoin Response gives the HHT its short address. Unanswered, the HHT keeps the one it had (if any). */
  private async rejoin(chPan: number): Promise<void> {
    // Without the network key the join stays inter-PAN: what rests on the CCS01 alone can still be judged.
    if (!this.identity.networkKey) {
      this.evidence.event('hht-rejoin', { outcome: 'not attempted: the rig has no HAN network key', short: null });
      return;
    }
    await this.rejoinHan(await this.learnHan(chPan));
  }

  /**
   * Asks the CH to (re)join its HAN without a CCS01 first: admitted only while the CHF device log holds
   * this HHT. Needs the HAN learned by an earlier accepted join (of any identity of the rig radio).
   */
  async askToJoinHan(): Promise<RejoinAttempt> {
    this.networkKey();
    const han = this.#shared.han;
    if (!han) {
      throw new RigFault(
        'radio-refused',
        'rig radio',
        `the rig radio has not learned the HAN yet, so ${this.identity.ieee} cannot ask to join it`,
        "let the rig radio join the HAN with an accepted CCS01 first, while the CH's inter-PAN window is open",
      );
    }
    return this.rejoinHan(han);
  }

  private async rejoinHan(han: LearnedHan): Promise<RejoinAttempt> {
    const seq = this.nextSeq();
    const psdu = buildHhtRejoinRequest({ pan: han.pan, ieee: this.identity.ieee, seq, security: this.security() });
    const sent = await this.transmit(
      psdu,
      `NWK Rejoin Request to the CH on PAN ${hex16(han.pan)}`,
      (h) => h.decoded.nwk?.commandId === NWK_REJOIN_REQUEST && h.decoded.nwk.src64 === this.identity.ieee && h.decoded.nwk.seq === seq,
    );
    const answer = await this.capture.waitFor((d) => rejoinResponseTo(d, this.identity.ieee) !== undefined, this.answerWithinMs, sent.atMs);
    const response = answer && rejoinResponseTo(answer.decoded, this.identity.ieee);
    if (response?.status === 0) {
      this.#short = response.short;
      // A radio that acknowledges in hardware (an OpenThread RCP) must know the address frames to the HHT now carry.
      await this.radio.setHanAddress?.({ pan: han.pan, short: response.short });
    }
    const outcome = !response ? 'no answer' : response.status === 0 ? 'admitted' : 'refused';
    this.evidence.event('hht-rejoin', {
      ieee: this.identity.ieee,
      outcome,
      ...(response && { status: response.status }),
      short: this.#short === undefined ? null : hex16(this.#short),
    });
    return {
      sentAtMs: sent.atMs,
      outcome,
      ...(response && { status: response.status, answeredAtMs: answer.atMs, ...(response.status === 0 && { short: response.short }) }),
    };
  }

  /** The HAN and its short address, for a frame it sends on the HAN; undefined while it is not on the HAN. */
  private member(): { han: LearnedHan; short: number } | undefined {
    const han = this.#shared.han;
    return han && this.#short !== undefined ? { han, short: this.#short } : undefined;
  }

  /** Reads the CH's Basic cluster over the HAN: answered only while the CH keeps the HHT in its device log. */
  async readOnHan(): Promise<{ sentAtMs: number; answered: boolean; answeredAtMs?: number; admitted: boolean }> {
    const m = this.member();
    if (!m) {
      this.networkKey();
      // Never admitted to the HAN: it has no address to read from, and is not on the HAN.
      this.evidence.event('hht-han-read', {
        answered: false,
        why: 'the HHT was never admitted to the HAN (no short address from a Rejoin Response)',
      });
      return { sentAtMs: this.clock.now(), answered: false, admitted: false };
    }
    const seq = this.nextSeq();
    const psdu = buildHanRead({
      hhtShort: m.short,
      chShort: m.han.coordinator.short,
      pan: m.han.pan,
      seq,
      ieee: this.identity.ieee,
      security: this.security(),
    });
    const sent = await this.transmit(
      psdu,
      `ZCL Basic Read Attributes from the HHT over the HAN, transaction ${seq}`,
      (h) => hanReadOf(h.decoded)?.kind === 'read' && hanReadOf(h.decoded)?.transaction === seq,
    );
    const answer = await this.capture.waitFor(
      (d) => {
        const r = hanReadOf(d);
        return r?.kind === 'response' && r.transaction === seq && r.dst === m.short;
      },
      this.answerWithinMs,
      sent.atMs,
    );
    this.evidence.event('hht-han-read', { transaction: seq, answered: !!answer });
    return { sentAtMs: sent.atMs, answered: !!answer, answeredAtMs: answer?.atMs, admitted: true };
  }

  /**
   * Asks a HAN device a ZCL question as an IHD would (Smart Energy profile, endpoint 1) and waits
   * for its answer: the rig radio as an IHD-like client, e.g. Get Last Message to the ESME.
   * `answers` says how many frames the first answer announces (a log comes one record a frame);
   * the rest are waited for as long as the first. The rig radio must be on the HAN (becomeMember).
   */
  async askOverHan(
    target: { short: number; ieee: string },
    cluster: number,
    question: Omit<ZclFrameSpec, 'seq'>,
    title: string,
    answers: (first: DecodedFrame) => number = () => 1,
  ): Promise<{ sentAtMs: number; answer?: DecodedFrame; answers: DecodedFrame[]; answeredAtMs?: number }> {
    const { han, short } = this.memberOrFault(`ask the ${target.ieee} (${title})`);
    const seq = this.nextSeq();
    const pan = hex16(han.pan);
    const psdu = encodeFrame(
      {
        mac: { type: 'data', seq, dstPan: pan, srcPan: pan, dst: hex16(target.short), src: hex16(short) },
        nwk: {
          type: 'data',
          dst: hex16(target.short),
          src: hex16(short),
          seq,
          radius: 30,
          src64: this.identity.ieee,
          security: this.nwkSecurity(),
        },
        aps: { type: 'data', dstEp: 1, srcEp: 1, cluster, profile: PROFILE_SMART_ENERGY, counter: seq },
        payload: encodeZcl(cluster, { ...question, seq }),
      },
      false,
    );
    const sent = await this.transmit(
      psdu,
      `${title} to ${target.ieee} over the HAN, transaction ${seq}`,
      (h) => h.decoded.zcl?.seq === seq && h.decoded.nwk?.src === hex16(short),
    );
    const isAnswer = (f: DecodedFrame) => f.zcl?.seq === seq && f.nwk?.dst === hex16(short) && this.capture.isFrom(f, target.ieee);
    const answer = await this.capture.waitFor(isAnswer, this.answerWithinMs, sent.atMs);
    if (!answer) await this.lateAnswer(isAnswer, sent.atMs, title, target.ieee);
    let all = answer ? [answer] : [];
    const expected = answer ? answers(answer.decoded) : 0;
    if (expected > 1) {
      await this.clock.waitFor(
        () => (all = this.capture.all(isAnswer, sent.atMs)).length >= expected || this.capture.faulted() !== undefined,
        this.answerWithinMs,
      );
      this.capture.assertHealthy();
    }
    this.evidence.event('hht-han-question', {
      title,
      to: target.ieee,
      transaction: seq,
      answer: answer?.decoded.summary ?? 'no answer',
      ...(all.length > 1 && { frames: all.length }),
    });
    return { sentAtMs: sent.atMs, answer: answer?.decoded, answers: all.map((h) => h.decoded), answeredAtMs: answer?.atMs };
  }

  /**
   * A question unanswered within the lab's captureWithinSeconds: an answer that still comes within a
   * minute means the setting is too tight for this device — the case can judge neither way (INCONCLUSIVE),
   * and it must never pass for "nothing to clear".
   */
  private async lateAnswer(
    isAnswer: (f: DecodedFrame, h: HeardFrame) => boolean,
    sentAtMs: number,
    title: string,
    to: string,
  ): Promise<void> {
    const late = await this.capture.waitFor(isAnswer, LATE_ANSWER_WITHIN_MS, sentAtMs);
    if (!late) return;
    const after = ((late.atMs - sentAtMs) / 1000).toFixed(1);
    this.evidence.event('hht-han-question', { title, to, answer: late.decoded.summary, late: true, afterSeconds: Number(after) });
    throw new RigFault(
      'answer-late',
      `device ${to}`,
      `answered ${title} after ${after} s, later than the lab's captureWithinSeconds (${this.answerWithinMs / 1000} s)`,
      `raise captureWithinSeconds in the rig file's labSettings above ${Math.ceil(Number(after))} s, or check why the device answers slowly`,
    );
  }

  /**
   * A MAC Beacon Request: every coordinator and router in range answers with its beacon. Waits for the
   * coordinator's (the CH's liveness, the HAN it runs), then returns every beacon heard since the request.
   */
  async requestBeacons(): Promise<HeardFrame[]> {
    const seq = this.nextSeq();
    const sent = await this.transmit(
      buildBeaconRequest(seq),
      `MAC Beacon Request, sequence ${seq}`,
      (h) => h.decoded.mac.command === 'Beacon Request' && h.decoded.mac.seq === seq,
    );
    await this.capture.waitFor((_d, h) => isCoordinatorBeacon(h), this.answerWithinMs, sent.atMs);
    const beacons = this.capture.all((f) => f.mac.type === 'beacon', sent.atMs);
    this.evidence.event('beacons', { count: beacons.length, from: beacons.map((b) => b.decoded.summary) });
    return beacons;
  }

  /** A prepared payload for a meter, sent on the HAN from the rig radio's short address: the tenancy trigger's radio delivery. */
  async deliverOnHan(
    ieee: string,
    aps: { cluster: number; profile: number },
    payload: Uint8Array,
    maxBlock: number,
    title: string,
  ): Promise<void> {
    const { han, short } = this.memberOrFault(`deliver ${title}`);
    const seq = this.nextSeq();
    const frames = hanDeliveryFrames({
      pan: han.pan,
      short,
      seq,
      ieee,
      ...aps,
      payload,
      maxBlock,
      source: this.identity.ieee,
      security: this.security(),
    });
    // One sequence number and one frame counter per fragment.
    for (let i = 1; i < frames.length; i++) this.nextSeq();
    this.#frameCounter.value = (this.#frameCounter.value + frames.length - 1) >>> 0;
    this.evidence.event('radio-tx', { title: `${title} to ${ieee} over the HAN`, originator: 'rig radio (HHT)', frames: frames.length });
    for (const f of frames) await this.radio.transmit(f);
  }

  /** How its next HAN frame is NWK-secured; without the network key it cannot talk on a secured HAN (a rig fault). */
  private security(): HanSecurity {
    return { networkKey: this.networkKey(), frameCounter: this.#frameCounter.value++ >>> 0 };
  }

  /** The HAN's network key; without it the rig radio can neither join nor talk on the secured HAN (a rig fault). */
  private networkKey(): Uint8Array {
    const networkKey = this.identity.networkKey;
    if (!networkKey) {
      throw new RigFault(
        'cannot-decrypt',
        'rig radio',
        'the rig has no HAN network key, so the rig radio cannot send on the NWK-secured HAN nor the rig read it',
        'export the HAN network key in the environment variable the rig file names under keys.networkKeyEnv',
      );
    }
    return networkKey;
  }

  private nwkSecurity(): { key: Uint8Array; frameCounter: number; source: string } {
    const s = this.security();
    return { key: s.networkKey, frameCounter: s.frameCounter, source: this.identity.ieee };
  }

  private memberOrFault(what: string): { han: LearnedHan; short: number } {
    this.networkKey();
    const m = this.member();
    if (!m) {
      throw new RigFault(
        'radio-refused',
        'rig radio',
        `the rig radio is not on the HAN (it has no short address from a join), so it cannot ${what}`,
        "join the rig radio to the HAN as an HHT first (becomeMember) while the CH's inter-PAN window is open",
      );
    }
    return m;
  }

  private nextSeq(): number {
    this.#shared.seq = (this.#shared.seq + 1) & 0xff;
    return this.#shared.seq;
  }

  private async transmit(psdu: Uint8Array, what: string, isIt: (h: HeardFrame) => boolean): Promise<HeardFrame> {
    const from = this.clock.now();
    this.evidence.event('radio-tx', { title: what, originator: 'rig radio (HHT)', bytes: psdu.length });
    await this.radio.transmit(psdu);
    // The rig radio's own frame is an expected frame like any other: the sniffers have the lab's captureWithinSeconds to hear it.
    const heard = await this.capture.waitFor((_d, h) => isIt(h), this.answerWithinMs, from);
    if (!heard) {
      throw new RigFault(
        'radio-unavailable',
        'rig radio',
        `the sniffer did not hear the HHT's transmission (${what}) within the lab's captureWithinSeconds (${this.answerWithinMs / 1000} s)`,
        'check that the rig radio and the sniffer are on the same channel, powered and within range',
      );
    }
    return heard;
  }
}
