// The streaming capture reader: pcapng (any number of sections, either byte order) and classic
// pcap carrying 802.15.4 (link types 195, 230, 283), from chunks of any size — and, when asked,
// the link layers a remote (ZEP) sniffer's capture comes in, whose packets protocol/link-layers.ts
// unwraps. Pure: the file reader over it is io/capture-files.ts.

import { copyBytes } from '../bytes.ts';
import { IsoTimeFormatter } from '../iso-time.ts';
import {
  BOM,
  BOM_SWAPPED,
  BT_EPB,
  BT_IDB,
  BT_PB,
  BT_SHB,
  BT_SPB,
  IF_NAME,
  IF_TSOFFSET,
  IF_TSRESOL,
  MAX_BLOCK,
  MAX_RECORD,
} from './blocks.ts';
import { OPT_COMMENT, OPT_ENDOFOPT, pad4 } from './blocks.ts';
import { CaptureError } from './capture-error.ts';
import { makeInterface, ticksToMicros, type Interface } from './interfaces.ts';
import { u16, u32, u32le } from './ints.ts';
import {
  ACCEPTED_LINK_TYPES_TEXT,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  isAcceptedLinkType,
  linkTypeName,
} from './link-types.ts';
import { IP_LINK_TYPES } from '../link-layers.ts';
import { TapFault, readTapHeader } from './tap.ts';

export interface CapturedPacket {
  /** 1-based position in the file, counting every packet of every section. */
  n: number;
  /** Microseconds since the Unix epoch (finer resolutions are truncated). */
  timestampUs: bigint;
  /** ISO 8601 UTC with 6 fractional digits. */
  time: string;
  /** One of ACCEPTED_LINK_TYPES; or of IP_LINK_TYPES when the parser was asked for link layers (`frame` is then that layer's). */
  linkType: number;
  /** The 802.15.4 frame, TAP header stripped; ends with the FCS when `fcsIncluded`. */
  frame: Uint8Array;
  fcsIncluded: boolean;
  /** Original length of the 802.15.4 frame on air; more than `frame.length` when the capture was cut by a snaplen. */
  originalLength: number;
  rssi?: number;
  lqi?: number;
  channel?: number;
  page?: number;
  comment?: string;
  interfaceId?: number;
  interfaceName?: string;
}

type Format = 'unknown' | 'pcapng' | 'pcap';

/** A packet's frame, bytes[start, end) viewed in place: the constructor, not subarray() (no species lookup, once per packet). */
function frameView(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

export interface CaptureParserOptions {
  /**
   * The caller hands its chunks over and never writes to them again (fresh buffers from a file
   * stream, say): packets may then keep views into them instead of the parser taking a copy of
   * each chunk. Off by default, so a caller may reuse its chunk buffer after push().
   */
  adoptChunks?: boolean;
  /**
   * Also accept the link types a remote sniffer's ZEP capture comes in (Ethernet, raw IP, Linux
   * SLL/SLL2: IP_LINK_TYPES); their packets carry the link-layer frame for protocol/link-layers.ts
   * to unwrap. Off by default: a consumer that wants bare 802.15.4 gets the refusal.
   */
  linkLayers?: boolean;
}

/**
 * Incremental capture parser: push chunks of any size (blocks may straddle them), get back
 * the packets completed so far. On a bad block, push returns the packets before it and the
 * error is thrown by the next push() or end(); end() also reports a truncated last block.
 *
 * Packet frames are views into the parser's copy of the input (or into the adopted chunks),
 * so a packet kept alive keeps its chunk alive: read in modest chunks.
 */
export class CaptureParser {
  private buf: Uint8Array = new Uint8Array(0);
  /** Read position in `buf`, and the file offset of buf[0]. */
  private pos = 0;
  private base = 0;
  private format: Format = 'unknown';
  private little = true;
  private interfaces: Interface[] = [];
  /** Classic pcap: one interface for the whole file, and ns or µs fractions. */
  private pcapIface?: Interface;
  private pcapNanos = false;
  private count = 0;
  private failure?: CaptureError;
  private ended = false;
  private readonly adopt: boolean;
  private readonly linkLayers: boolean;
  /** This reader's ISO time cache (capture timestamps come in runs of the same second). */
  private readonly iso = new IsoTimeFormatter();
  /** Scratch for the TAP header's float32 RSSI. */
  private readonly float = new DataView(new ArrayBuffer(4));

  constructor(
    readonly source = 'capture',
    options: CaptureParserOptions = {},
  ) {
    this.adopt = options.adoptChunks === true;
    this.linkLayers = options.linkLayers === true;
  }

  push(chunk: Uint8Array): CapturedPacket[] {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error(`${this.source}: push() after end()`);
    this.append(chunk);
    const out: CapturedPacket[] = [];
    try {
      for (;;) {
        if (this.format === 'pcapng') {
          this.pcapngBlocks(out);
          break;
        }
        const p = this.format === 'unknown' ? this.header() : this.pcapRecord();
        if (p === null) break;
        if (p !== undefined) out.push(p);
      }
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      this.failure = e;
      // With no packets to hand back first, there is no reason to defer the error.
      if (out.length === 0) throw e;
    }
    this.compact();
    return out;
  }

  /** Call after the last chunk: throws if the input stopped inside a block (or was empty). */
  end(): void {
    if (this.failure) throw this.failure;
    this.ended = true;
    const left = this.buf.length - this.pos;
    if (this.format === 'unknown') {
      throw this.fail(
        0,
        left === 0 ? 'empty file, not a pcap or pcapng capture' : `only ${left} bytes, too short for a capture file header`,
      );
    }
    if (left > 0) {
      const what = this.format === 'pcapng' ? 'block' : 'packet record';
      throw this.fail(this.base + this.pos, `truncated ${what}: file ends ${left} bytes into it`);
    }
  }

  private fail(offset: number | undefined, reason: string, linkType?: number): CaptureError {
    this.failure = new CaptureError(this.source, offset, reason, this.count, linkType);
    return this.failure;
  }

  /** Makes `buf` hold the unread bytes then `chunk`, in memory nobody else writes to. */
  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length) {
      this.base += this.buf.length;
      // One copy of the whole chunk (not one per packet) unless the caller handed it over.
      this.buf = this.adopt ? chunk : copyBytes(chunk);
      this.pos = 0;
      return;
    }
    const left = this.buf.subarray(this.pos);
    const next = new Uint8Array(left.length + chunk.length);
    next.set(left);
    next.set(chunk, left.length);
    this.base += this.pos;
    this.buf = next;
    this.pos = 0;
  }

  /** Keeps only the partial block left over, in a buffer of its own so the spent part can go. */
  private compact(): void {
    if (this.pos === 0) return;
    this.base += this.pos;
    this.buf = this.pos === this.buf.length ? new Uint8Array(0) : this.buf.slice(this.pos);
    this.pos = 0;
  }

  private avail(): number {
    return this.buf.length - this.pos;
  }

  private header(): undefined | null {
    if (this.avail() < 4) return null;
    const magicLE = u32le(this.buf, this.pos);
    if (magicLE === BT_SHB) {
      this.format = 'pcapng';
      return undefined;
    }
    const pcapMagics: Record<number, [boolean, boolean]> = {
      // magic as read little-endian → [little-endian file, nanosecond fractions]
      0xa1b2c3d4: [true, false],
      0xd4c3b2a1: [false, false],
      0xa1b23c4d: [true, true],
      0x4d3cb2a1: [false, true],
    };
    const kind = pcapMagics[magicLE];
    if (!kind) {
      const hexMagic = Array.from(this.buf.subarray(this.pos, this.pos + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw this.fail(0, `not a pcap or pcapng capture (starts with ${hexMagic})`);
    }
    if (this.avail() < 24) return null;
    [this.little, this.pcapNanos] = kind;
    const b = this.buf;
    const o = this.pos;
    const major = u16(b, o + 4, this.little);
    if (major !== 2) throw this.fail(0, `classic pcap version ${major}.${u16(b, o + 6, this.little)} is not 2.x`);
    // The upper bits of the link-type word hold FCS-length flags; the type is the low 16 bits.
    const linkType = this.acceptLinkType(u32(b, o + 20, this.little) & 0xffff, undefined);
    this.pcapIface = makeInterface(linkType, undefined, { pow10: this.pcapNanos ? 9 : 6 }, 0n);
    this.format = 'pcap';
    this.pos += 24;
    return undefined;
  }

  private acceptLinkType(linkType: number, offset: number | undefined): number {
    if (isAcceptedLinkType(linkType) || (this.linkLayers && IP_LINK_TYPES.includes(linkType))) return linkType;
    const accepted = this.linkLayers ? `${ACCEPTED_LINK_TYPES_TEXT}, and ZEP over ${IP_LINK_TYPES_TEXT}` : ACCEPTED_LINK_TYPES_TEXT;
    throw this.fail(
      offset,
      `link type ${linkType} (${linkTypeName(linkType)}) is not IEEE 802.15.4; accepted link types are ${accepted}`,
      linkType,
    );
  }

  private pcapRecord(): CapturedPacket | null {
    if (this.avail() < 16) return null;
    const at = this.base + this.pos;
    const b = this.buf;
    const o = this.pos;
    const little = this.little;
    const sec = u32(b, o, little);
    const frac = u32(b, o + 4, little);
    const incl = u32(b, o + 8, little);
    const orig = u32(b, o + 12, little);
    if (incl > MAX_RECORD) throw this.fail(at, `packet record claims ${incl} captured bytes (corrupt record header)`);
    if (this.avail() < 16 + incl) return null;
    // sec < 2^32 and the fraction < 2^32 µs: the sum stays far below 2^53.
    const us = sec * 1e6 + (this.pcapNanos ? Math.floor(frac / 1000) : frac);
    const p = this.packet(at, this.pcapIface!, BigInt(us), this.iso.micros(us), o + 16, o + 16 + incl, orig, undefined, undefined);
    this.pos += 16 + incl;
    return p;
  }

  /**
   * The one block reader, for every block type and byte order: reads the complete blocks from
   * `pos` into `out` and stops where more input is needed (a block cut by the chunk's end).
   */
  private pcapngBlocks(out: CapturedPacket[]): void {
    for (;;) {
      const b = this.buf;
      const s = this.pos;
      if (b.length - s < 12) return;
      const at = this.base + s;
      if (u32le(b, s) === BT_SHB) {
        // Each section states its own byte order in the magic after the length.
        const bom = u32le(b, s + 8);
        if (bom === BOM) this.little = true;
        else if (bom === BOM_SWAPPED) this.little = false;
        else throw this.fail(at, `section header byte-order magic is 0x${bom.toString(16)}, not 0x1a2b3c4d (corrupt block)`);
      }
      const little = this.little;
      const type = u32(b, s, little);
      const total = u32(b, s + 4, little);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
        throw this.fail(at, `block type 0x${type.toString(16)} has total length ${total} (corrupt block)`);
      }
      if (b.length - s < total) return;
      const trailer = u32(b, s + total - 4, little);
      if (trailer !== total) {
        throw this.fail(
          at,
          `block type 0x${type.toString(16)} length ${total} does not match its trailing length ${trailer} (corrupt block)`,
        );
      }
      switch (type) {
        case BT_EPB:
        case BT_PB:
          out.push(this.enhancedPacket(at, s + 8, s + total - 4, type === BT_PB));
          break;
        case BT_SHB:
          this.sectionHeader(at, b.subarray(s + 8, s + total - 4));
          break;
        case BT_IDB:
          this.interfaceDescription(at, b.subarray(s + 8, s + total - 4));
          break;
        case BT_SPB:
          out.push(this.simplePacket(at, s + 8, s + total - 4));
          break;
        default:
          // Name resolution, statistics, secrets, custom blocks: nothing for us.
          break;
      }
      this.pos = s + total;
    }
  }

  private sectionHeader(at: number, body: Uint8Array): void {
    if (body.length < 16) throw this.fail(at, `section header body of ${body.length} bytes is too short (corrupt block)`);
    const major = u16(body, 4, this.little);
    if (major !== 1) throw this.fail(at, `pcapng version ${major}.x is not 1.x`);
    this.interfaces = [];
  }

  private interfaceDescription(at: number, body: Uint8Array): void {
    if (body.length < 8) throw this.fail(at, `interface description body of ${body.length} bytes is too short (corrupt block)`);
    const linkType = this.acceptLinkType(u16(body, 0, this.little), at);
    let name: string | undefined;
    let resol: Interface['resol'] = { pow10: 6 };
    let tsoffset = 0n;
    for (const [code, value] of this.options(at, body, 8, body.length)) {
      if (code === IF_NAME) name = text(value);
      else if (code === IF_TSRESOL && value.length >= 1) {
        const r = value[0];
        resol = r & 0x80 ? { pow2: r & 0x7f } : { pow10: r };
      } else if (code === IF_TSOFFSET && value.length >= 8) {
        tsoffset = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, this.little);
      }
    }
    this.interfaces.push(makeInterface(linkType, name, resol, tsoffset * 1_000_000n));
  }

  /** An EPB (or obsolete PB) whose body is buf[o, end). */
  private enhancedPacket(at: number, o: number, end: number, obsolete: boolean): CapturedPacket {
    const b = this.buf;
    const little = this.little;
    const bodyLength = end - o;
    if (bodyLength < 20) throw this.fail(at, `packet block body of ${bodyLength} bytes is too short (corrupt block)`);
    // The obsolete Packet Block has a u16 interface id and a u16 drop count where the EPB has a u32 id.
    const ifId = obsolete ? u16(b, o, little) : u32(b, o, little);
    const hi = u32(b, o + 4, little);
    const lo = u32(b, o + 8, little);
    const caplen = u32(b, o + 12, little);
    const orig = u32(b, o + 16, little);
    if (20 + caplen > bodyLength) {
      throw this.fail(at, `packet block claims ${caplen} captured bytes but holds ${bodyLength - 20} (corrupt block)`);
    }
    const iface = this.interfaces[ifId];
    if (!iface) throw this.fail(at, `packet block refers to interface ${ifId}, but the section describes ${this.interfaces.length}`);
    // Options only when there is room for one after the padded data.
    const optStart = o + 20 + ((caplen + 3) & ~3);
    const comment = optStart + 4 <= end ? this.comments(at, optStart, end) : undefined;
    let us = NaN;
    if (iface.fast && hi < 0x200000) {
      // ticks < 2^53: Number arithmetic is exact while the values stay safe integers.
      const t = (hi * 4294967296 + lo) * iface.mul;
      if (t <= Number.MAX_SAFE_INTEGER) {
        const div = iface.div;
        us = div === 1 ? t : (t - (t % div)) / div;
        us += iface.offsetNum;
        if (!Number.isSafeInteger(us)) us = NaN;
      }
    }
    let ts: bigint;
    let time: string;
    if (!Number.isNaN(us) && us >= 0) {
      ts = BigInt(us);
      time = this.iso.micros(us);
    } else {
      ts = ticksToMicros((BigInt(hi) << 32n) | BigInt(lo), iface);
      time = this.iso.format(ts);
    }
    return this.packet(at, iface, ts, time, o + 20, o + 20 + caplen, orig, comment, ifId);
  }

  private simplePacket(at: number, o: number, end: number): CapturedPacket {
    const iface = this.interfaces[0];
    if (!iface) throw this.fail(at, 'simple packet block before any interface description');
    if (end - o < 4) throw this.fail(at, 'simple packet block too short (corrupt block)');
    const orig = u32(this.buf, o, this.little);
    // A simple packet block has no timestamp: the epoch is the honest answer.
    return this.packet(at, iface, 0n, this.iso.micros(0), o + 4, o + 4 + Math.min(orig, end - o - 4), orig, undefined, 0);
  }

  /** The EPB's opt_comment values, joined by newlines; undefined when there are none. */
  private comments(at: number, start: number, end: number): string | undefined {
    let comment: string | undefined;
    for (const [code, value] of this.options(at, this.buf, start, end)) {
      if (code === OPT_COMMENT) comment = comment === undefined ? text(value) : comment + '\n' + text(value);
    }
    return comment;
  }

  /** Option list of bytes[start, end); tolerates a list without opt_endofopt. */
  private options(at: number, bytes: Uint8Array, start: number, end: number): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = [];
    let o = start;
    while (o + 4 <= end) {
      const code = u16(bytes, o, this.little);
      const len = u16(bytes, o + 2, this.little);
      if (code === OPT_ENDOFOPT) break;
      if (o + 4 + len > end) {
        throw this.fail(at, `option ${code} of ${len} bytes runs past the end of its block (corrupt block)`);
      }
      out.push([code, bytes.subarray(o + 4, o + 4 + len)]);
      o += 4 + pad4(len);
    }
    return out;
  }

  /** One packet whose link-layer data is buf[start, end): every packet has the same shape. */
  private packet(
    at: number,
    iface: Interface,
    timestampUs: bigint,
    time: string,
    start: number,
    end: number,
    orig: number,
    comment: string | undefined,
    interfaceId: number | undefined,
  ): CapturedPacket {
    const linkType = iface.linkType;
    const p: CapturedPacket = {
      n: this.count + 1,
      timestampUs,
      time,
      linkType,
      frame: EMPTY,
      fcsIncluded: linkType === LINKTYPE_IEEE802_15_4_WITHFCS,
      originalLength: orig,
      rssi: undefined,
      lqi: undefined,
      channel: undefined,
      page: undefined,
      comment,
      interfaceId,
      interfaceName: iface.name,
    };
    if (linkType === LINKTYPE_IEEE802_15_4_TAP) this.tap(at, start, end, orig, p);
    else p.frame = frameView(this.buf, start, end);
    this.count++;
    return p;
  }

  /** Strips the TAP header of buf[start, end) into `p`. */
  private tap(at: number, start: number, end: number, orig: number, p: CapturedPacket): void {
    let len: number;
    try {
      len = readTapHeader(this.buf, start, end, p, this.float);
    } catch (e) {
      if (!(e instanceof TapFault)) throw e;
      throw this.fail(at, `packet ${this.count + 1}: 802.15.4 TAP header ${e.message} (corrupt packet)`);
    }
    p.frame = frameView(this.buf, start + len, end);
    p.originalLength = orig - len;
  }
}

const EMPTY = new Uint8Array(0);

const IP_LINK_TYPES_TEXT = IP_LINK_TYPES.map((t) => `${t} (${linkTypeName(t)})`).join(', ');

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

function text(value: Uint8Array): string {
  // Options may carry a trailing NUL from C writers.
  const end = value.indexOf(0);
  return utf8Decoder.decode(end === -1 ? value : value.subarray(0, end));
}

/** Reads a whole capture held in memory; throws on the first fault (packets before it are lost — use CaptureParser to keep them). */
export function readCaptureSync(bytes: Uint8Array, source = 'capture'): CapturedPacket[] {
  const parser = new CaptureParser(source);
  const out = parser.push(bytes);
  parser.end();
  return out;
}
