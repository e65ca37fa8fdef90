// The HAN decoder: one captured 802.15.4 frame → the DecodedFrame shape, layer by layer
// (MAC → NWK → APS → ZDP / ZCL → GBCS), decrypting with the key table and learning network
// keys from decrypted APS Transport Key commands.
import { DecodeError, Reader, copyBytes, eui64, fromHex } from './bytes.ts';
import type { DecodedAps, DecodedFrame, DecodedNwk, DecodedRadio, DecodedSecurity } from './decoded.ts';
import { decodeMac, scratchMacParse } from './mac.ts';
import { decodeNwkCommand, decodeNwkHeader, decodeZigbeeBeacon, looksLikeNwk, type NwkParse } from './nwk.ts';
import { PROFILE_ZDP, ZDP_DEVICE_ANNCE, decodeApsCommand, decodeApsHeader, zdpServiceName } from './aps.ts';
import { Ccm, KeyTable, decodeAuxHeader, unsecure, unsecureMany, type AuxHeader, type SecuredFrame } from './security.ts';
import { decodeZclAt } from './zcl/frame.ts';
import { TUNNELING } from './zcl/clusters/tunneling.ts';
import { recogniseGbcs } from './gbcs.ts';
import { summarise } from './summary.ts';
import { IsoTimeFormatter } from './iso-time.ts';

/** One frame as a capture source hands it over. */
export interface CapturedFrame {
  n: number;
  timestampUs: bigint;
  /** The timestamp already formatted (as the capture reader gives it), to save formatting it twice. */
  time?: string;
  frame: Uint8Array;
  fcsIncluded: boolean;
  /** The radio's own FCS verdict when metadata took the FCS's place (TI CC24xx): the frame then has no FCS. */
  fcsOk?: boolean;
  /** Reception details to carry into the decoded frame (protocol/link-layers.ts ieee802154Of). */
  radio?: DecodedRadio;
}

const ZCL_TUNNELING = TUNNELING.id;

/**
 * A frame with every key of the shape in its order, absent ones undefined (JSON.stringify
 * leaves them out): one hidden class for every frame keeps the layers' and the summary's
 * property reads monomorphic.
 */
function newFrame(n: number, time: string, radio: DecodedRadio | undefined): DecodedFrame {
  return {
    n,
    time,
    radio,
    mac: undefined!,
    nwk: undefined,
    aps: undefined,
    zcl: undefined,
    gbcs: undefined,
    error: undefined,
    summary: '',
  };
}

/** A frame decoded up to its NWK payload (decodeToNwkPayload), waiting for the rest. */
interface NwkStage {
  /** The MAC source, short or IEEE (LE), when the MAC header has one. */
  macSrcShort: number | undefined;
  macSrc64: Uint8Array | undefined;
  n: NwkParse;
  /** At the NWK payload (the ciphertext, when secured). */
  payload: Reader;
  /** The destination PAN, shifted to key the short → IEEE table. */
  panKey: number;
  /** What unsecure needs besides keys and sender, when the NWK frame is secured. */
  sealed: Omit<SecuredFrame, 'key' | 'sourceLE'> | undefined;
}

function securityOf(aux: AuxHeader): DecodedSecurity {
  // In the shape's key order, absent ones undefined: one hidden class for every frame.
  return {
    level: aux.level,
    keyId: aux.keyId,
    frameCounter: aux.frameCounter,
    source: aux.source ? eui64(aux.source) : undefined,
    keySeq: aux.keySeq,
  };
}

/**
 * GB-HGRP tunnel data (as Wireshark's gbcs_tunnel reads it): an optional header — 01 GET (no
 * message), 02 n GET-RESPONSE, 03 PUT — then the GBCS message.
 */
function gbcsInTunnel(data: Uint8Array) {
  const skip = data[0] === 0x02 ? 2 : data[0] === 0x03 ? 1 : data[0] === 0x01 ? -1 : 0;
  return skip < 0 ? undefined : recogniseGbcs(data.subarray(skip));
}

export class HanDecoder {
  /** NWK short address (with PAN) → IEEE address bytes LE, learned from headers, aux headers and Device_annce. */
  private readonly ieeeByShort = new Map<number, Uint8Array>();
  /** decodeMac's answer for the frame in hand (refilled per frame; stages keep what they need). */
  private readonly macScratch = scratchMacParse();
  /** Formats the times of frames whose source gave none. */
  private readonly iso = new IsoTimeFormatter();
  /** This decoder's CCM* engine: its per-key ciphers and scratch buffers outlive a frame. */
  private readonly ccm = new Ccm();
  /** Set by decode(): the frame stayed encrypted because no known key opened it. */
  lackedKey = false;
  /** Set by decode(): the frame taught the key table a new network key. */
  learnedKey = false;

  /** Partial APS messages by sender and APS counter; bounded so a lost fragment cannot grow it. */
  private readonly partial = new Map<string, { total: number; blocks: (Uint8Array | undefined)[]; frames: number[]; seen: number }>();

  constructor(readonly keys: KeyTable = new KeyTable()) {}

  /** Adds a fragment; returns a reader over the whole payload when this fragment completes it. */
  private reassemble(n: number, nwk: DecodedNwk, aps: DecodedAps, payload: Reader): Reader | undefined {
    const fragment = aps.fragment!;
    const key = `${nwk.src}/${nwk.dst}/${aps.counter}`;
    let m = this.partial.get(key);
    if (fragment.first) {
      m = { total: fragment.block, blocks: new Array(fragment.block), frames: [], seen: 0 };
      this.partial.set(key, m);
      if (this.partial.size > 64) this.partial.delete(this.partial.keys().next().value!);
    }
    const index = fragment.first ? 0 : fragment.block;
    if (!m || index >= m.total || m.blocks[index]) return undefined;
    m.blocks[index] = copyBytes(payload.bytes, payload.offset, payload.end);
    m.frames.push(n);
    if (++m.seen < m.total) return undefined;
    this.partial.delete(key);
    fragment.reassembled = m.frames;
    const whole = new Uint8Array(m.blocks.reduce((sum, b) => sum + b!.length, 0));
    let o = 0;
    for (const b of m.blocks) {
      whole.set(b!, o);
      o += b!.length;
    }
    // Offsets in a reassembled payload are offsets in that payload: there is no one frame to point into.
    return new Reader(whole, 0, 0);
  }

  private remember(panKey: number, short: number, ieeeLE: Uint8Array): void {
    this.ieeeByShort.set(panKey | short, ieeeLE);
  }

  /** The short address a device was last seen with (from NWK headers, aux headers, Device_annce), by its IEEE text. */
  shortOf(ieee: string): number | undefined {
    let found: number | undefined;
    for (const [key, le] of this.ieeeByShort) if (eui64(le) === ieee) found = key & 0xffff;
    return found;
  }

  decode(p: CapturedFrame): DecodedFrame {
    const out = this.frameFor(p);
    return this.complete(out, this.decodeToNwkPayload(p, out), undefined);
  }

  /**
   * decode() for a batch, frame after frame with the same results, but with every NWK
   * decryption under the likeliest key done up front in a few AES calls (unsecureMany).
   * `each` sees every frame as soon as it is decoded, with lackedKey / learnedKey set for
   * it, before the next frame is touched — so a caller can act on a learned key in order.
   */
  decodeBatch(frames: readonly CapturedFrame[], each: (p: CapturedFrame, d: DecodedFrame) => void): void {
    // Stage 1 is pure (no address or key learning), so running it ahead changes nothing.
    const outs: DecodedFrame[] = new Array(frames.length);
    const stages: (NwkStage | undefined)[] = new Array(frames.length);
    const jobs: SecuredFrame[] = [];
    const jobOf: number[] = [];
    for (let i = 0; i < frames.length; i++) {
      const p = frames[i];
      const out = (outs[i] = this.frameFor(p));
      const stage = (stages[i] = this.decodeToNwkPayload(p, out));
      const sealed = stage?.sealed;
      // Frames without the sender's IEEE in the aux header need addresses learned from earlier frames: decoded in turn.
      if (!sealed?.aux.source) continue;
      const key = this.keys.candidates(sealed.aux, 'nwk')[0];
      if (key === undefined) continue;
      jobOf[jobs.length] = i;
      jobs.push({ frame: sealed.frame, end: sealed.end, headerStart: sealed.headerStart, auxStart: sealed.auxStart, aux: sealed.aux, key });
    }
    const opened: (Uint8Array | null | undefined)[] = new Array(frames.length);
    if (jobs.length > 0) {
      const plain = unsecureMany(jobs, this.ccm);
      for (let j = 0; j < jobs.length; j++) opened[jobOf[j]] = plain[j];
    }
    for (let i = 0; i < frames.length; i++) each(frames[i], this.complete(outs[i], stages[i], opened[i]));
  }

  /** The frame's DecodedFrame, empty, with its time (as the source gave it, or formatted here). */
  private frameFor(p: CapturedFrame): DecodedFrame {
    return newFrame(p.n, p.time ?? this.iso.format(p.timestampUs), p.radio);
  }

  /**
   * The rest of decode() and decodeBatch() alike, after stage 1: `opened` is the NWK plaintext
   * decrypted up front, if any; otherwise (or when that key failed) every candidate is tried.
   */
  private complete(out: DecodedFrame, stage: NwkStage | undefined, opened: Uint8Array | null | undefined): DecodedFrame {
    // A key that failed up front may have been learned since (or another candidate fits): try them all in turn.
    const plain = stage?.sealed ? (opened ?? this.openNwk(stage)) : undefined;
    return this.finish(out, stage, plain);
  }

  /**
   * Stage 1: MAC, NWK header and NWK aux header. Returns what stage 2 needs, or undefined when
   * the frame is done (not NWK, or an error, recorded in `out`).
   */
  private decodeToNwkPayload(p: CapturedFrame, out: DecodedFrame): NwkStage | undefined {
    try {
      const m = decodeMac(p.frame, p.fcsIncluded, out, this.macScratch);
      if (!p.fcsIncluded && p.fcsOk !== undefined) m.mac.fcsOk = p.fcsOk;
      // Like Wireshark: a frame whose FCS is wrong is not dissected beyond the MAC header.
      if (m.mac.fcsOk === false || m.encrypted) return undefined;
      const frame = p.frame;
      if (m.mac.type === 'beacon') {
        const r = m.reader;
        if (r.remaining > 0 && frame[r.offset] === 0 && m.mac.beacon) Object.assign(m.mac.beacon, decodeZigbeeBeacon(r));
        return undefined;
      }
      if (m.mac.type !== 'data' || !looksLikeNwk(frame, m.payloadStart, m.payloadEnd, m.dstMode, m.srcMode)) return undefined;
      // The scratch MacParse is reused by the next frame: the stage keeps a reader and the MAC source of its own.
      const r = new Reader(frame, m.payloadStart, 0, m.payloadEnd);
      const n = decodeNwkHeader(r);
      out.nwk = n.nwk;
      const stage: NwkStage = {
        macSrcShort: m.srcShort,
        macSrc64: m.src64,
        n,
        payload: r,
        panKey: (m.dstPanId ?? 0) << 16,
        sealed: undefined,
      };
      if (n.nwk.secured) {
        const aux = decodeAuxHeader(r);
        n.nwk.security = securityOf(aux);
        // The MIC ends where the MAC payload ends (before the FCS).
        stage.sealed = { frame, end: m.payloadEnd, headerStart: n.headerStart, auxStart: n.auxStart!, aux };
      }
      return stage;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      out.error = { offset: e.offset, message: e.message };
      return undefined;
    }
  }

  /** Decrypts a stage's NWK payload with every candidate key, in turn; null when none opens it. */
  private openNwk(stage: NwkStage): Uint8Array | null {
    const s = stage.sealed!;
    // Without an extended nonce the sender is the MAC source: its IEEE must have been learned.
    const sender = s.aux.source ?? (stage.macSrcShort !== undefined ? this.ieeeByShort.get(stage.panKey | stage.macSrcShort) : undefined);
    if (!sender) return null;
    const candidates = this.keys.candidates(s.aux, 'nwk');
    return unsecure(s.frame.subarray(0, s.end), s.headerStart, s.aux, s.auxStart, candidates, sender, this.ccm)?.plaintext ?? null;
  }

  /** Stage 2: learns addresses, decodes the NWK payload (`plain` when it was secured) and up, and summarises. */
  private finish(out: DecodedFrame, stage: NwkStage | undefined, plain: Uint8Array | null | undefined): DecodedFrame {
    this.lackedKey = false;
    this.learnedKey = false;
    if (stage) {
      try {
        this.decodeNwkPayload(stage, out, plain);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        out.error = { offset: e.offset, message: e.message };
      }
    }
    out.summary = summarise(out);
    return out;
  }

  private decodeNwkPayload(stage: NwkStage, out: DecodedFrame, plain: Uint8Array | null | undefined): void {
    const { n, panKey } = stage;
    const nwk = n.nwk;
    if (n.src64Bytes && n.src !== undefined) this.remember(panKey, n.src, n.src64Bytes);
    let payload = stage.payload;
    if (stage.sealed) {
      const aux = stage.sealed.aux;
      // The NWK aux source is the hop that secured the frame: the MAC source.
      if (aux.source && stage.macSrcShort !== undefined) this.remember(panKey, stage.macSrcShort, aux.source);
      nwk.decrypted = !!plain;
      if (!plain) {
        this.lackedKey = true;
        return;
      }
      payload = new Reader(plain, 0, payload.offset);
    }
    if (nwk.type === 'command') {
      decodeNwkCommand(nwk, payload);
      return;
    }
    if (nwk.type !== 'data' && nwk.type !== 'inter-pan') return;
    this.decodeAps(payload, out, stage);
  }

  private decodeAps(r: Reader, out: DecodedFrame, stage: NwkStage): void {
    const { panKey, n } = stage;
    const nwk = out.nwk!;
    const a = decodeApsHeader(r);
    const aps = a.aps;
    out.aps = aps;
    let payload = r;
    if (aps.secured) {
      const aux = decodeAuxHeader(r);
      aps.security = securityOf(aux);
      const sender = aux.source ?? (n.src !== undefined ? this.ieeeByShort.get(panKey | n.src) : stage.macSrc64);
      const sealed = r.bytes.subarray(0, r.end);
      const opened = sender
        ? unsecure(sealed, a.headerStart, aux, a.auxStart!, this.keys.candidates(aux, 'aps', sender), sender, this.ccm)
        : null;
      aps.decrypted = opened !== null;
      if (!opened) {
        // Only a network key is ever learned, so only a frame under a network key waits for one.
        if (aux.keyId === 'network') this.lackedKey = true;
        return;
      }
      payload = new Reader(opened.plaintext, 0, r.position);
    }
    if (aps.fragment) {
      const whole = this.reassemble(out.n, nwk, aps, payload);
      if (!whole) return; // A fragment's payload is only meaningful once reassembled.
      payload = whole;
    }
    if (aps.type === 'command') {
      const learned = decodeApsCommand(aps, payload);
      if (learned.networkKey && this.keys.learnNetworkKey(learned.networkKey, learned.keySeq)) this.learnedKey = true;
      return;
    }
    if (aps.type === 'ack' || a.cluster === undefined || a.profile === undefined) return;
    if (a.profile === PROFILE_ZDP && aps.type !== 'inter-pan') {
      aps.zdp = zdpServiceName(a.cluster);
      // Device_annce: sequence, NWK address, IEEE address — a short→long mapping for APS nonces.
      if (a.cluster === ZDP_DEVICE_ANNCE && payload.remaining >= 11) {
        const b = payload.bytes,
          o = payload.offset;
        this.remember(panKey, b[o + 1] | (b[o + 2] << 8), copyBytes(b, o + 3, o + 11));
      }
      return;
    }
    const zcl = decodeZclAt(payload, a.cluster);
    if (zcl.error) {
      out.error = zcl.error;
      zcl.error = undefined;
    }
    out.zcl = zcl;
    // GBCS messages ride in Tunneling Transfer Data, on the HAN and over inter-PAN (PROTOCOL.md §8).
    const data = a.cluster === ZCL_TUNNELING ? zcl.fields?.data : undefined;
    if (typeof data === 'string') {
      const g = gbcsInTunnel(fromHex(data));
      if (g) out.gbcs = g;
    }
  }
}

/**
 * Decodes frames in order, with the second pass that key learning needs: once a frame stays
 * encrypted for lack of a key, it and the frames after it are held back (at most `holdLimit`);
 * when a later frame teaches a network key, the held encrypted frames are decoded again. Frames
 * pushed out of a full window stay as they were decoded. Memory stays bounded by the window.
 */
export class KeyLearningWindow {
  private held: { p: CapturedFrame; d: DecodedFrame; lacked: boolean }[] = [];
  private head = 0;

  constructor(
    readonly decoder: HanDecoder,
    readonly holdLimit = 10_000,
  ) {}

  /** Decodes one frame; returns the frames (in capture order) that are ready to go out. */
  push(p: CapturedFrame, ready: DecodedFrame[] = []): DecodedFrame[] {
    return this.accept(p, this.decoder.decode(p), ready);
  }

  /** push() for each frame of a batch (decoded with HanDecoder.decodeBatch); appends to `ready`. */
  pushBatch(frames: readonly CapturedFrame[], ready: DecodedFrame[] = []): DecodedFrame[] {
    this.decoder.decodeBatch(frames, (p, d) => this.accept(p, d, ready));
    return ready;
  }

  /** Takes a frame the decoder has just decoded (its lackedKey / learnedKey still about it). */
  private accept(p: CapturedFrame, d: DecodedFrame, ready: DecodedFrame[]): DecodedFrame[] {
    const decoder = this.decoder;
    const lacked = decoder.lackedKey;
    if (decoder.learnedKey) {
      for (let i = this.head; i < this.held.length; i++) {
        const h = this.held[i];
        if (!h.lacked) continue;
        h.d = decoder.decode(h.p);
        h.lacked = decoder.lackedKey;
      }
    }
    if (this.head === this.held.length && !lacked) {
      ready.push(d);
      return ready;
    }
    this.held.push({ p, d, lacked });
    const held = this.held;
    while (this.head < held.length && (!held[this.head].lacked || held.length - this.head > this.holdLimit)) {
      ready.push(held[this.head].d);
      this.head++;
    }
    if (this.head === held.length) {
      this.held = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > held.length) {
      this.held = held.slice(this.head); // Drop the released front now and then, in O(1) amortised.
      this.head = 0;
    }
    return ready;
  }

  /** At the end of the capture: everything still held, as decoded. */
  flush(): DecodedFrame[] {
    const out = this.held.slice(this.head).map((h) => h.d);
    this.held = [];
    this.head = 0;
    return out;
  }
}

/** Batches of frames in, batches of decoded frames out (one await per batch, not per frame). */
export async function* decodeBatches(
  source: AsyncIterable<CapturedFrame[]> | Iterable<CapturedFrame[]>,
  decoder: HanDecoder,
  holdLimit?: number,
): AsyncGenerator<DecodedFrame[]> {
  const window = new KeyLearningWindow(decoder, holdLimit);
  try {
    for await (const batch of source) {
      const ready = window.pushBatch(batch);
      if (ready.length > 0) yield ready;
    }
  } catch (e) {
    // A source that fails (a capture cut mid-block) still gets out every frame read before it.
    const held = window.flush();
    if (held.length > 0) yield held;
    throw e;
  }
  const rest = window.flush();
  if (rest.length > 0) yield rest;
}

/** Frames in, decoded frames out, one at a time (see KeyLearningWindow). */
export async function* decodeFrames(
  source: AsyncIterable<CapturedFrame> | Iterable<CapturedFrame>,
  decoder: HanDecoder,
  holdLimit?: number,
): AsyncGenerator<DecodedFrame> {
  const window = new KeyLearningWindow(decoder, holdLimit);
  try {
    for await (const p of source) yield* window.push(p);
  } catch (e) {
    // As in decodeBatches: the frames read before the source failed come out before its error.
    yield* window.flush();
    throw e;
  }
  yield* window.flush();
}
