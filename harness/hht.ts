// The hand held terminal, played by the rig radio: inter-PAN CCS01 to the Communications Hub
// and HAN reads once joined. Every transmission is logged as evidence and must be heard by the
// bench's sniffer — a transmission the sniffer missed proves nothing about the device.
import { RigFault } from '../drivers/faults.ts';
import type { RigRadio } from '../drivers/radio/rig-radio.ts';
import { buildBeaconRequest } from '../protocol/beacons.ts';
import { hex16 } from '../protocol/bytes.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import { encodeFrame } from '../protocol/encoder.ts';
import { buildHanRead, buildInterPanCcs01, readHanRead, readInterPanCcs01, type Ccs01Malformation } from '../protocol/hht-messages.ts';
import { encodeZcl, type ZclFrameSpec } from '../protocol/zcl/index.ts';
import type { Capture, HeardFrame } from './capture.ts';
import type { BenchClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';

export interface HhtIdentity {
  /** The rig radio's IEEE address. */
  ieee: string;
  /** The entity id its CCS01 carries as originator (the authorised HHT). */
  entityId: string;
  /** Its short address on the HAN once joined. */
  short: number;
}

export interface CommsHubTarget {
  ieee: string;
  pan: number;
  short: number;
}

/** What came back for one CCS01. */
export interface JoinAttempt {
  sentAtMs: number;
  counter: bigint;
  outcome: 'accepted' | 'refused' | 'no answer';
  answeredAtMs?: number;
  results?: number[];
}

/** How long a transmission may take to appear on the sniffer before the rig is at fault. */
const HEARD_WITHIN_MS = 2_000;

export class HandHeldTerminal {
  private counter = 0x1000n;
  private seq = 0;

  constructor(
    private readonly radio: RigRadio,
    private readonly capture: Capture,
    private readonly evidence: EvidenceLog,
    private readonly clock: BenchClock,
    readonly identity: HhtIdentity,
    readonly ch: CommsHubTarget,
    private readonly answerWithinMs: number,
  ) {}

  /** Sends a CCS01 over inter-PAN and waits for the CH's answer (or its absence). */
  async join(options: { malformed?: Ccs01Malformation; unauthorised?: boolean } = {}): Promise<JoinAttempt> {
    const counter = ++this.counter;
    const psdu = buildInterPanCcs01({
      hhtIeee: this.identity.ieee, chIeee: this.ch.ieee, seq: this.nextSeq(), counter,
      originator: this.identity.entityId, malformed: options.malformed, unauthorised: options.unauthorised,
    });
    const what = `GBCS CCS01 Add Device to CHF Device Log over inter-PAN, counter ${counter}${options.malformed ? `, malformed (${options.malformed})` : ''}${options.unauthorised ? ', unauthorised originator' : ''}`;
    const sent = await this.transmit(psdu, what, (h) => {
      const m = readInterPanCcs01(h.psdu);
      return m?.kind === 'command' && m.counter === counter && m.hht === this.identity.ieee;
    });
    const answer = await this.capture.waitFor((_d, h) => {
      const m = readInterPanCcs01(h.psdu);
      return m?.kind === 'response' && m.counter === counter && m.hht === this.identity.ieee;
    }, this.answerWithinMs, sent.atMs);
    if (!answer) {
      this.evidence.event('hht-join', { counter, outcome: 'no answer' });
      return { sentAtMs: sent.atMs, counter, outcome: 'no answer' };
    }
    const results = readInterPanCcs01(answer.psdu)!.results ?? [];
    const outcome = results.length > 0 && results.every((r) => r === 0) ? 'accepted' : 'refused';
    this.evidence.event('hht-join', { counter, outcome, results });
    return { sentAtMs: sent.atMs, counter, outcome, answeredAtMs: answer.atMs, results };
  }

  /** Reads the CH's Basic cluster over the HAN: answered only while the CH keeps the HHT in its device log. */
  async readOnHan(): Promise<{ sentAtMs: number; answered: boolean; answeredAtMs?: number }> {
    const seq = this.nextSeq();
    const psdu = buildHanRead({ hhtShort: this.identity.short, chShort: this.ch.short, pan: this.ch.pan, seq, ieee: this.identity.ieee });
    const sent = await this.transmit(psdu, `ZCL Basic Read Attributes from the HHT over the HAN, transaction ${seq}`, (h) => readHanRead(h.psdu)?.kind === 'read' && readHanRead(h.psdu)?.transaction === seq);
    const answer = await this.capture.waitFor((_d, h) => {
      const r = readHanRead(h.psdu);
      return r?.kind === 'response' && r.transaction === seq && r.dst === this.identity.short;
    }, this.answerWithinMs, sent.atMs);
    this.evidence.event('hht-han-read', { transaction: seq, answered: !!answer });
    return { sentAtMs: sent.atMs, answered: !!answer, answeredAtMs: answer?.atMs };
  }

  /**
   * Asks a HAN device a ZCL question as an IHD would (Smart Energy profile, endpoint 1) and waits
   * for its answer: the rig radio as an IHD-like client, e.g. Get Last Message to the ESME.
   * `answers` says how many frames the first answer announces (a log comes one record a frame);
   * the rest are waited for as long as the first. Unsecured, like the HHT's HAN read (the virtual
   * HAN carries no network key yet).
   */
  async askOverHan(
    target: { short: number; ieee: string },
    cluster: number,
    question: Omit<ZclFrameSpec, 'seq'>,
    title: string,
    answers: (first: DecodedFrame) => number = () => 1,
  ): Promise<{ sentAtMs: number; answer?: DecodedFrame; answers: DecodedFrame[]; answeredAtMs?: number }> {
    const seq = this.nextSeq();
    const pan = hex16(this.ch.pan);
    const psdu = encodeFrame({
      mac: { type: 'data', seq, dstPan: pan, srcPan: pan, dst: hex16(target.short), src: hex16(this.identity.short) },
      nwk: { type: 'data', dst: hex16(target.short), src: hex16(this.identity.short), seq, radius: 30, src64: this.identity.ieee },
      aps: { type: 'data', dstEp: 1, srcEp: 1, cluster, profile: 0x0109, counter: seq },
      payload: encodeZcl(cluster, { ...question, seq }),
    }, false);
    const sent = await this.transmit(psdu, `${title} to ${target.ieee} over the HAN, transaction ${seq}`, (h) => h.decoded.zcl?.seq === seq && h.decoded.nwk?.src === hex16(this.identity.short));
    const isAnswer = (f: DecodedFrame) => f.zcl?.seq === seq && f.nwk?.dst === hex16(this.identity.short) && this.capture.isFrom(f, target.ieee);
    const answer = await this.capture.waitFor(isAnswer, this.answerWithinMs, sent.atMs);
    let all = answer ? [answer] : [];
    const expected = answer ? answers(answer.decoded) : 0;
    if (expected > 1) {
      await this.clock.waitFor(() => (all = this.capture.all(isAnswer, sent.atMs)).length >= expected || this.capture.faulted() !== undefined, this.answerWithinMs);
      this.capture.assertHealthy();
    }
    this.evidence.event('hht-han-question', { title, to: target.ieee, transaction: seq, answer: answer?.decoded.summary ?? 'no answer', ...(all.length > 1 && { frames: all.length }) });
    return { sentAtMs: sent.atMs, answer: answer?.decoded, answers: all.map((h) => h.decoded), answeredAtMs: answer?.atMs };
  }

  /** A MAC Beacon Request: every coordinator and router in range answers with its beacon (liveness, the HAN's PAN). */
  async requestBeacons(): Promise<HeardFrame[]> {
    const seq = this.nextSeq();
    const sent = await this.transmit(buildBeaconRequest(seq), `MAC Beacon Request, sequence ${seq}`, (h) => h.decoded.mac.command === 'Beacon Request' && h.decoded.mac.seq === seq);
    await this.clock.sleep(this.answerWithinMs);
    const beacons = this.capture.all((f) => f.mac.type === 'beacon', sent.atMs);
    this.evidence.event('beacons', { count: beacons.length, from: beacons.map((b) => b.decoded.summary) });
    return beacons;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xff;
    return this.seq;
  }

  private async transmit(psdu: Uint8Array, what: string, isIt: (h: HeardFrame) => boolean): Promise<HeardFrame> {
    const from = this.clock.now();
    this.evidence.event('radio-tx', { title: what, originator: 'rig radio (HHT)', bytes: psdu.length });
    await this.radio.transmit(psdu);
    const heard = await this.capture.waitFor((_d, h) => isIt(h), HEARD_WITHIN_MS, from);
    if (!heard) {
      throw new RigFault('radio-unavailable', 'rig radio', `the sniffer did not hear the HHT's transmission (${what}) within ${HEARD_WITHIN_MS} ms`,
        'check that the rig radio and the sniffer are on the same channel, powered and within range');
    }
    return heard;
  }
}
