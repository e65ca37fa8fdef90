// Capture: every frame the bench's sniffers hear, decoded, timed in bench time, written to the
// test's pcapng and event log, and queried by suites ("a frame matching … within …").
import { RigFault } from '../drivers/faults.ts';
import type { FrameSource, UnreadInput } from '../drivers/sniffer/sniffer.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import { HanDecoder } from '../protocol/decoder.ts';
import type { KeyTable } from '../protocol/security.ts';
import type { BenchClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';
import { counted } from '../protocol/words.ts';

export interface HeardFrame {
  /** Bench time of the frame's sniffer timestamp, ms since the epoch. */
  atMs: number;
  sniffer: string;
  psdu: Uint8Array;
  decoded: DecodedFrame;
}

export type FrameMatch = (f: DecodedFrame, heard: HeardFrame) => boolean;

/** `b` is `a` heard again (a second sniffer, a MAC retry, a relaying hop): the same NWK and ZCL sequence numbers within a second. */
export function heardAgain(a: HeardFrame, b: HeardFrame): boolean {
  return b.atMs - a.atMs < 1000 && a.decoded.nwk?.seq === b.decoded.nwk?.seq && a.decoded.zcl?.seq === b.decoded.zcl?.seq;
}

/** Each frame of `heard` (in time order, one sender's to one receiver) once: a frame heard again just after is left out. */
export function onceEach(heard: readonly HeardFrame[]): HeardFrame[] {
  return heard.filter((h, i) => i === 0 || !heardAgain(heard[i - 1], h));
}

/** The frames of the busiest minute among `heard` (in time order): a sliding 60-s window, the first fullest one. */
export function busiestMinute(heard: readonly HeardFrame[]): HeardFrame[] {
  let busiest: HeardFrame[] = [];
  for (let i = 0, j = 0; i < heard.length; i++) {
    while (j < heard.length && heard[j].atMs - heard[i].atMs < 60_000) j++;
    if (j - i > busiest.length) busiest = heard.slice(i, j);
  }
  return busiest;
}

/**
 * How far a sniffer timestamp mapped to bench time may be off on hardware: the mapping is
 * anchored when the first frame's line arrives, late by its USB CDC delivery (a few ms; 20 ms
 * bounds it generously). Stamps between frames keep the sniffer's µs resolution.
 */
export const HARDWARE_SNIFFER_ANCHOR_UNCERTAINTY_MS = 20;

export class Capture {
  readonly frames: HeardFrame[] = [];
  /** Lines a sniffer sent that could not be read as frames, in bench time: any may have been a frame. */
  readonly unread: { atMs: number; sniffer: string; where: string; line: UnreadInput }[] = [];
  private readonly detach: (() => void)[] = [];
  private readonly decoder: HanDecoder;

  constructor(
    private readonly sources: { id: string; source: FrameSource; channel: number }[],
    private readonly evidence: EvidenceLog,
    private readonly clock: BenchClock,
    keys?: KeyTable,
  ) {
    this.decoder = new HanDecoder(keys);
  }

  /** The uncertainty of a heard frame's bench time (ms): 0 on the virtual bench, whose clock stamps both. */
  get timeUncertaintyMs(): number {
    return (this.clock.virtual ? 0 : HARDWARE_SNIFFER_ANCHOR_UNCERTAINTY_MS) + 0.001;
  }

  start(): void {
    for (const { id, source, channel } of this.sources) {
      const pcap = this.evidence.capture(id, `${source.where}, channel ${channel}`);
      this.detach.push(
        source.onFrame((f) => {
          const atMs = source.toBenchTime(f.snifferUs);
          const timestampUs = BigInt(Math.round(atMs * 1000));
          const decoded = this.decoder.decode({ n: this.frames.length + 1, timestampUs, frame: f.frame, fcsIncluded: false });
          const heard = { atMs, sniffer: id, psdu: f.frame, decoded };
          this.frames.push(heard);
          try {
            pcap.writePacket({
              interfaceId: 0,
              timestampUs,
              frame: f.frame,
              fcsIncluded: false,
              rssi: f.rssi,
              lqi: f.lqi,
              channel: f.channel,
              comment: decoded.summary,
            });
          } catch (error) {
            // A full disk: the frame is still heard, the evidence says it was lost, the case ends INCONCLUSIVE.
            this.evidence.writeFailed(this.evidence.captureFile(id), error);
          }
          this.evidence.event('frame', { sniffer: id, n: decoded.n, summary: decoded.summary, rssi: f.rssi, lqi: f.lqi }, atMs);
        }),
      );
      const unread = source.onUnread?.((line) => {
        const atMs = this.clock.now();
        this.unread.push({ atMs, sniffer: id, where: source.where, line });
        this.evidence.event('sniffer-line-unread', { sniffer: id, line: line.line, reason: line.reason, preview: line.preview }, atMs);
      });
      if (unread) this.detach.push(unread);
    }
  }

  /** The channel the sniffer that heard a frame listens on. */
  channelOf(heard: HeardFrame): number {
    return this.sources.find((s) => s.id === heard.sniffer)!.channel;
  }

  /** The short address the device with this IEEE address was last seen with on the HAN. */
  shortOf(ieee: string): number | undefined {
    return this.decoder.shortOf(ieee);
  }

  /** True when the NWK layer says the frame comes from the device with this IEEE address (by header, or by the short address it was seen with). */
  isFrom(f: DecodedFrame, ieee: string): boolean {
    if (f.nwk?.src64) return f.nwk.src64 === ieee;
    const short = this.decoder.shortOf(ieee);
    return short !== undefined && f.nwk?.src === '0x' + short.toString(16).padStart(4, '0');
  }

  /** True when the frame is addressed (NWK) to the device with this IEEE address. */
  isTo(f: DecodedFrame, ieee: string): boolean {
    if (f.nwk?.dst64) return f.nwk.dst64 === ieee;
    const short = this.decoder.shortOf(ieee);
    return short !== undefined && f.nwk?.dst === '0x' + short.toString(16).padStart(4, '0');
  }

  /** How many frames it has heard: with heardFrom, a watch reads only what came since it last looked. */
  get heardCount(): number {
    return this.frames.length;
  }

  /** The frames heard from the `index`-th on (in the order heard). */
  heardFrom(index: number): readonly HeardFrame[] {
    return this.frames.slice(index);
  }

  /** The first frame heard since `sinceMs` that matches. */
  find(match: FrameMatch, sinceMs = -Infinity): HeardFrame | undefined {
    return this.frames.find((h) => h.atMs >= sinceMs && match(h.decoded, h));
  }

  all(match: FrameMatch, sinceMs = -Infinity, untilMs = Infinity): HeardFrame[] {
    return this.frames.filter((h) => h.atMs >= sinceMs && h.atMs <= untilMs && match(h.decoded, h));
  }

  /**
   * Waits for a matching frame heard at or after `sinceMs`, at most `withinMs` of bench time.
   * Returns undefined when none came — unless a sniffer failed meanwhile: then the silence
   * proves nothing about the device, and the sniffer's RigFault is thrown (INCONCLUSIVE).
   */
  async waitFor(match: FrameMatch, withinMs: number, sinceMs = this.clock.now()): Promise<HeardFrame | undefined> {
    let found: HeardFrame | undefined;
    await this.clock.waitFor(() => (found = this.find(match, sinceMs)) !== undefined || this.faulted() !== undefined, withinMs);
    if (found) return found;
    this.assertHealthy(sinceMs);
    return undefined;
  }

  /**
   * The NWK-secured frames this capture could not decrypt, as a rig fault: with a wrong or missing
   * network key the rig can neither read the HAN nor be understood on it (the devices drop the rig
   * radio's frames), so no verdict may rest on the HAN's frames or on their absence.
   */
  cannotDecrypt(): RigFault | undefined {
    const sealed = this.frames.filter((h) => h.decoded.nwk?.secured && h.decoded.nwk.decrypted === false);
    if (!sealed.length) return undefined;
    const first = sealed[0];
    return new RigFault(
      'cannot-decrypt',
      `sniffer ${first.sniffer}`,
      `${counted(sealed.length, 'NWK-secured HAN frame')} could not be decrypted with the rig's network key` +
        ` (the first: frame ${first.decoded.n}, ${first.decoded.summary})`,
      "export the network key of the bench's HAN in the environment variable the rig file names under keys.networkKeyEnv",
    );
  }

  /** True once a device other than `rigIeee` (the rig radio, which secures with the rig's own key) sent an NWK-secured frame the rig's key opened. */
  keyConfirmed(rigIeee: string): boolean {
    return this.frames.some(
      (h) => h.decoded.nwk?.secured && h.decoded.nwk.decrypted === true && h.decoded.nwk.security?.source !== rigIeee,
    );
  }

  faulted(): RigFault | undefined {
    return this.sources.map((s) => s.source.fault).find((f) => f !== undefined);
  }

  /**
   * Throws the first sniffer fault: a capture with a dead sniffer cannot prove an absence; nor
   * can one with a line since `sinceMs` (default: the whole case) that might have been the frame.
   */
  assertHealthy(sinceMs = -Infinity): void {
    const fault = this.faulted();
    if (fault) throw fault;
    const lost = this.unread.filter((u) => u.atMs >= sinceMs);
    if (lost.length > 0) {
      const first = lost[0];
      throw new RigFault(
        'sniffer-garbled',
        first.where,
        `${lost.length} line(s) from the sniffer could not be read as frames (first: line ${first.line.line}, ${first.line.reason}, ${first.line.preview}): a frame may have been lost, so its absence proves nothing`,
        'Check the sniffer firmware and its USB link (re-plug, another cable or port), then re-run the test.',
      );
    }
  }

  stop(): void {
    for (const d of this.detach.splice(0)) d();
  }
}
