// Capture files: a streaming pcapng writer (IEEE 802.15.4 TAP, link type 283) and a streaming
// reader of pcapng and classic pcap carrying 802.15.4 (link types 195, 230, 283).
// The codec is pure (functions over Uint8Array chunks); the Node file adapters sit at the end.

import { createReadStream, createWriteStream } from 'node:fs';
import { EncodeError, Writer } from './bytes.ts';

// ───────────────────────────── shared definitions ─────────────────────────────

export const LINKTYPE_IEEE802_15_4_WITHFCS = 195;
export const LINKTYPE_IEEE802_15_4_NOFCS = 230;
export const LINKTYPE_IEEE802_15_4_TAP = 283;

/** The link types this module reads and writes: every one carries a bare 802.15.4 frame. */
export type Ieee802154LinkType = 195 | 230 | 283;

export const ACCEPTED_LINK_TYPES: readonly Ieee802154LinkType[] = [195, 230, 283];

/** LINKTYPE_* names from tcpdump.org, for refusals that say what the file actually holds. */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'BSD loopback',
  1: 'Ethernet',
  6: 'IEEE 802.5 Token Ring',
  9: 'PPP',
  101: 'raw IP',
  105: 'IEEE 802.11',
  113: 'Linux SLL cooked capture',
  119: 'Prism 802.11',
  127: 'IEEE 802.11 radiotap',
  187: 'Bluetooth HCI H4',
  189: 'Linux USB',
  191: 'IEEE 802.15.4 Linux',
  195: 'IEEE 802.15.4 with FCS',
  201: 'Bluetooth HCI H4 with pseudo-header',
  215: 'IEEE 802.15.4 non-ASK PHY',
  220: 'Linux USB mmapped',
  228: 'raw IPv4',
  229: 'raw IPv6',
  230: 'IEEE 802.15.4 without FCS',
  249: 'Netlink',
  256: 'Bluetooth LE link layer',
  276: 'Linux SLL2 cooked capture',
  283: 'IEEE 802.15.4 TAP',
};

export function linkTypeName(linkType: number): string {
  if (linkType >= 147 && linkType <= 162) return `user-defined DLT_USER${linkType - 147}`;
  return LINK_TYPE_NAMES[linkType] ?? 'unknown';
}

const ACCEPTED_TEXT = ACCEPTED_LINK_TYPES.map((t) => `${t} (${linkTypeName(t)})`).join(', ');

/** A capture the reader cannot use: names the source, and the byte offset of the bad block when there is one. */
export class CaptureError extends Error {
  constructor(
    readonly source: string,
    /** File offset of the block or record at fault; undefined for whole-file refusals. */
    readonly offset: number | undefined,
    readonly reason: string,
    /** How many good packets were delivered before the fault. */
    readonly packetsBefore = 0,
    /** Set when the refusal is about the link type. */
    readonly linkType?: number,
  ) {
    super(`${source}: ${offset === undefined ? '' : `at byte offset ${offset}: `}${reason}`);
    this.name = 'CaptureError';
  }
}

// pcapng block types and option codes (draft-ietf-opsawg-pcapng).
const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_PB = 0x00000002; // obsolete Packet Block, still found in old files
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;
const BOM = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

// 802.15.4 TAP TLV types (github.com/jkcko/ieee802.15.4-tap).
const TAP_FCS_TYPE = 0;
const TAP_RSS = 1;
const TAP_CHANNEL = 3;
const TAP_LQI = 10;

/** Sanity bound on a block: Wireshark refuses blocks over 16 MiB, and a corrupt length must not make us buffer forever. */
const MAX_BLOCK = 16 * 1024 * 1024;
/** Same for a classic pcap record: 256 KiB is libpcap's largest snaplen. */
const MAX_RECORD = 256 * 1024;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

function pad4(n: number): number {
  return (n + 3) & ~3;
}

// ───────────────────────────────── writer ─────────────────────────────────

export interface InterfaceOptions {
  name?: string;
  description?: string;
  /** 283 (TAP, the default) keeps RSSI, LQI and channel; 195/230 carry only the frame. */
  linkType?: Ieee802154LinkType;
}

export interface PacketToWrite {
  interfaceId: number;
  /** Microseconds since the Unix epoch. */
  timestampUs: bigint;
  /** The 802.15.4 MPDU, with its 2-byte FCS at the end when `fcsIncluded`. */
  frame: Uint8Array;
  fcsIncluded: boolean;
  /** Received signal strength, dBm (stored as float32). */
  rssi?: number;
  lqi?: number;
  channel?: number;
  /** Channel page for the channel TLV; 0 (2.4 GHz O-QPSK) unless given. */
  page?: number;
  comment?: string;
}

export interface PcapngWriterOptions {
  /** shb_userappl; `null` leaves it out. */
  userAppl?: string | null;
}

/** Options are code u16, length u16, value padded to 4; the list ends with opt_endofopt. */
function writeOptions(w: Writer, options: Array<[number, Uint8Array]>): void {
  if (options.length === 0) return;
  for (const [code, value] of options) {
    if (value.length > 0xffff) throw new EncodeError(`option ${code}`, `value of ${value.length} bytes exceeds 65535`);
    w.u16(code).u16(value.length).bytes(value);
    for (let i = value.length; i < pad4(value.length); i++) w.u8(0);
  }
  w.u16(OPT_ENDOFOPT).u16(0);
}

/** Wraps a body as a block: type, total length, body, total length again (all little-endian). */
function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + body.length;
  return new Writer(total).u32(type).u32(total).bytes(body).u32(total).finish();
}

export function encodeSectionHeader(options: PcapngWriterOptions = {}): Uint8Array {
  const w = new Writer(64);
  w.u32(BOM).u16(1).u16(0);
  // Section length -1: unknown, as it must be for a stream.
  w.u32(0xffffffff).u32(0xffffffff);
  const userAppl = options.userAppl === undefined ? 'gbcs-rig' : options.userAppl;
  writeOptions(w, userAppl === null ? [] : [[SHB_USERAPPL, utf8.encode(userAppl)]]);
  return block(BT_SHB, w.finish());
}

export function encodeInterfaceDescription(iface: InterfaceOptions): Uint8Array {
  const linkType = iface.linkType ?? LINKTYPE_IEEE802_15_4_TAP;
  if (!ACCEPTED_LINK_TYPES.includes(linkType)) {
    throw new EncodeError('linkType', `${linkType} is not one of ${ACCEPTED_TEXT}`);
  }
  const w = new Writer(64);
  // Snaplen 0 means "no limit" in pcapng.
  w.u16(linkType).u16(0).u32(0);
  const opts: Array<[number, Uint8Array]> = [];
  if (iface.name !== undefined) opts.push([IF_NAME, utf8.encode(iface.name)]);
  if (iface.description !== undefined) opts.push([IF_DESCRIPTION, utf8.encode(iface.description)]);
  opts.push([IF_TSRESOL, Uint8Array.of(6)]);
  writeOptions(w, opts);
  return block(BT_IDB, w.finish());
}

/** TAP header + TLVs for one packet (TLV lengths are unpadded, values padded to 4). */
export function encodeTapHeader(p: Pick<PacketToWrite, 'fcsIncluded' | 'rssi' | 'lqi' | 'channel' | 'page'>): Uint8Array {
  const tlvs = new Writer(48);
  tlvs.u16(TAP_FCS_TYPE).u16(1).u8(p.fcsIncluded ? 1 : 0).u8(0).u16(0);
  if (p.rssi !== undefined) {
    if (!Number.isFinite(p.rssi)) throw new EncodeError('rssi', `${p.rssi} is not a finite number`);
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, p.rssi, true);
    tlvs.u16(TAP_RSS).u16(4).bytes(f);
  }
  if (p.channel !== undefined) {
    tlvs.u16(TAP_CHANNEL).u16(3).u16(p.channel, 'channel').u8(p.page ?? 0, 'page').u8(0);
  } else if (p.page !== undefined) {
    throw new EncodeError('page', 'a channel page needs a channel');
  }
  if (p.lqi !== undefined) tlvs.u16(TAP_LQI).u16(1).u8(p.lqi, 'lqi').u8(0).u16(0);
  const body = tlvs.finish();
  return new Writer(4 + body.length).u8(0).u8(0).u16(4 + body.length).bytes(body).finish();
}

export function encodeEnhancedPacket(p: PacketToWrite, linkType: Ieee802154LinkType): Uint8Array {
  if (p.timestampUs < 0n || p.timestampUs >= 1n << 64n) {
    throw new EncodeError('timestampUs', `${p.timestampUs} is outside 0..2^64-1`);
  }
  let data: Uint8Array;
  if (linkType === LINKTYPE_IEEE802_15_4_TAP) {
    const tap = encodeTapHeader(p);
    data = new Uint8Array(tap.length + p.frame.length);
    data.set(tap);
    data.set(p.frame, tap.length);
  } else {
    // 195/230 say in the link type whether the FCS is there, so the flag must agree with it.
    const wantFcs = linkType === LINKTYPE_IEEE802_15_4_WITHFCS;
    if (p.fcsIncluded !== wantFcs) {
      throw new EncodeError('fcsIncluded', `link type ${linkType} carries frames ${wantFcs ? 'with' : 'without'} FCS`);
    }
    if (p.rssi !== undefined || p.lqi !== undefined || p.channel !== undefined) {
      throw new EncodeError('rssi/lqi/channel', `link type ${linkType} cannot carry them; use 283 (TAP)`);
    }
    data = p.frame;
  }
  const w = new Writer(32 + pad4(data.length) + (p.comment ? pad4(utf8.encode(p.comment).length) + 8 : 0));
  w.u32(p.interfaceId, 'interfaceId')
    .u32(Number(p.timestampUs >> 32n))
    .u32(Number(p.timestampUs & 0xffffffffn))
    .u32(data.length)
    .u32(data.length)
    .bytes(data);
  for (let i = data.length; i < pad4(data.length); i++) w.u8(0);
  writeOptions(w, p.comment === undefined ? [] : [[OPT_COMMENT, utf8.encode(p.comment)]]);
  return block(BT_EPB, w.finish());
}

/**
 * Writes one pcapng section to `sink`, block by block as packets arrive: nothing is kept
 * but the interface list, so memory stays flat. The section header goes out at construction.
 */
export class PcapngWriter {
  private readonly linkTypes: Ieee802154LinkType[] = [];

  constructor(
    protected readonly sink: (chunk: Uint8Array) => void,
    options: PcapngWriterOptions = {},
  ) {
    this.sink(encodeSectionHeader(options));
  }

  /** Adds an interface and returns its id for `writePacket`. */
  addInterface(iface: InterfaceOptions = {}): number {
    this.sink(encodeInterfaceDescription(iface));
    this.linkTypes.push(iface.linkType ?? LINKTYPE_IEEE802_15_4_TAP);
    return this.linkTypes.length - 1;
  }

  writePacket(p: PacketToWrite): void {
    const linkType = this.linkTypes[p.interfaceId];
    if (linkType === undefined) {
      throw new EncodeError('interfaceId', `${p.interfaceId} is not an interface added to this writer (${this.linkTypes.length} so far)`);
    }
    this.sink(encodeEnhancedPacket(p, linkType));
  }
}

// ───────────────────────────────── reader ─────────────────────────────────

export interface CapturedPacket {
  /** 1-based position in the file, counting every packet of every section. */
  n: number;
  /** Microseconds since the Unix epoch (finer resolutions are truncated). */
  timestampUs: bigint;
  /** ISO 8601 UTC with 6 fractional digits. */
  time: string;
  linkType: Ieee802154LinkType;
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

interface Interface {
  linkType: Ieee802154LinkType;
  name?: string;
  /** Ticks → µs: either multiply/divide by a power of ten or shift for power-of-2 resolutions. */
  resol: { pow10: number } | { pow2: number };
  offsetUs: bigint;
}

type Format = 'unknown' | 'pcapng' | 'pcap';

let isoSecond = NaN;
let isoPrefix = '';

/** Formats µs since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, beyond Date's range too. */
export function isoMicros(us: bigint): string {
  // Fast path for ordinary capture times: Number arithmetic and the last second's prefix reused.
  if (us >= 0n && us < 253402300800000000n) {
    const n = Number(us);
    const secs = Math.floor(n / 1e6);
    const frac = n - secs * 1e6;
    if (secs !== isoSecond) {
      isoSecond = secs;
      isoPrefix = new Date(secs * 1000).toISOString().slice(0, 20);
    }
    return isoPrefix + String(frac).padStart(6, '0') + 'Z';
  }
  return isoMicrosAnyYear(us);
}

function isoMicrosAnyYear(us: bigint): string {
  let secs = us / 1_000_000n;
  let frac = us % 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000n;
    secs -= 1n;
  }
  let days = secs / 86400n;
  let sod = secs % 86400n;
  if (sod < 0n) {
    sod += 86400n;
    days -= 1n;
  }
  // Days → civil date (H. Hinnant's algorithm), in Number: |days| stays far below 2^53.
  const z = Number(days) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const s = Number(sod);
  const p2 = (v: number) => String(v).padStart(2, '0');
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0');
  return `${year}-${p2(m)}-${p2(d)}T${p2(Math.floor(s / 3600))}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}.${String(frac).padStart(6, '0')}Z`;
}

/**
 * Incremental capture parser: push chunks of any size (blocks may straddle them), get back
 * the packets completed so far. On a bad block, push returns the packets before it and the
 * error is thrown by the next push() or end(); end() also reports a truncated last block.
 */
export class CaptureParser {
  private buf: Uint8Array = new Uint8Array(0);
  /** False while `buf` is the caller's chunk, which we must not keep past push(). */
  private owned = true;
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

  constructor(readonly source = 'capture') {}

  push(chunk: Uint8Array): CapturedPacket[] {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error(`${this.source}: push() after end()`);
    this.append(chunk);
    const out: CapturedPacket[] = [];
    try {
      for (;;) {
        const p = this.next();
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
      throw this.fail(0, left === 0 ? 'empty file, not a pcap or pcapng capture' : `only ${left} bytes, too short for a capture file header`);
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

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
      this.owned = false;
      this.pos = 0;
      return;
    }
    const left = this.buf.subarray(this.pos);
    const next = new Uint8Array(left.length + chunk.length);
    next.set(left);
    next.set(chunk, left.length);
    this.base += this.pos;
    this.buf = next;
    this.owned = true;
    this.pos = 0;
  }

  /** Keeps only the partial block left over, in our own copy (the caller may reuse its chunk). */
  private compact(): void {
    if (this.pos === 0 && this.owned) return;
    this.base += this.pos;
    this.buf = this.buf.slice(this.pos);
    this.owned = true;
    this.pos = 0;
  }

  private avail(): number {
    return this.buf.length - this.pos;
  }

  private view(at: number, len: number): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, len);
  }

  /** A packet, `undefined` for a block that carried none, or `null` when more input is needed. */
  private next(): CapturedPacket | undefined | null {
    if (this.format === 'unknown') return this.header();
    return this.format === 'pcapng' ? this.pcapngBlock() : this.pcapRecord();
  }

  private header(): undefined | null {
    if (this.avail() < 4) return null;
    const magicLE = this.view(this.pos, 4).getUint32(0, true);
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
    const v = this.view(this.pos, 24);
    const major = v.getUint16(4, this.little);
    if (major !== 2) throw this.fail(0, `classic pcap version ${major}.${v.getUint16(6, this.little)} is not 2.x`);
    // The upper bits of the link-type word hold FCS-length flags; the type is the low 16 bits.
    const linkType = this.acceptLinkType(v.getUint32(20, this.little) & 0xffff, undefined);
    this.pcapIface = { linkType, resol: { pow10: this.pcapNanos ? 9 : 6 }, offsetUs: 0n };
    this.format = 'pcap';
    this.pos += 24;
    return undefined;
  }

  private acceptLinkType(linkType: number, offset: number | undefined): Ieee802154LinkType {
    if ((ACCEPTED_LINK_TYPES as readonly number[]).includes(linkType)) return linkType as Ieee802154LinkType;
    throw this.fail(
      offset,
      `link type ${linkType} (${linkTypeName(linkType)}) is not IEEE 802.15.4; accepted link types are ${ACCEPTED_TEXT}`,
      linkType,
    );
  }

  private pcapRecord(): CapturedPacket | null {
    if (this.avail() < 16) return null;
    const at = this.base + this.pos;
    const v = this.view(this.pos, 16);
    const sec = v.getUint32(0, this.little);
    const frac = v.getUint32(4, this.little);
    const incl = v.getUint32(8, this.little);
    const orig = v.getUint32(12, this.little);
    if (incl > MAX_RECORD) throw this.fail(at, `packet record claims ${incl} captured bytes (corrupt record header)`);
    if (this.avail() < 16 + incl) return null;
    const data = this.buf.subarray(this.pos + 16, this.pos + 16 + incl);
    const ts = BigInt(sec) * 1_000_000n + BigInt(this.pcapNanos ? Math.floor(frac / 1000) : frac);
    const p = this.packet(at, this.pcapIface!, ts, data, orig, undefined, undefined);
    this.pos += 16 + incl;
    return p;
  }

  private pcapngBlock(): CapturedPacket | undefined | null {
    if (this.avail() < 12) return null;
    const at = this.base + this.pos;
    const typeLE = this.view(this.pos, 4).getUint32(0, true);
    if (typeLE === BT_SHB) {
      // Each section states its own byte order in the magic after the length.
      const bom = this.view(this.pos + 8, 4).getUint32(0, true);
      if (bom === BOM) this.little = true;
      else if (bom === 0x4d3c2b1a) this.little = false;
      else throw this.fail(at, `section header byte-order magic is 0x${bom.toString(16)}, not 0x1a2b3c4d (corrupt block)`);
    }
    const type = this.view(this.pos, 4).getUint32(0, this.little);
    const total = this.view(this.pos + 4, 4).getUint32(0, this.little);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
      throw this.fail(at, `block type 0x${type.toString(16)} has total length ${total} (corrupt block)`);
    }
    if (this.avail() < total) return null;
    const trailer = this.view(this.pos + total - 4, 4).getUint32(0, this.little);
    if (trailer !== total) {
      throw this.fail(at, `block type 0x${type.toString(16)} length ${total} does not match its trailing length ${trailer} (corrupt block)`);
    }
    const body = this.buf.subarray(this.pos + 8, this.pos + total - 4);
    let p: CapturedPacket | undefined;
    switch (type) {
      case BT_SHB:
        this.sectionHeader(at, body);
        break;
      case BT_IDB:
        this.interfaceDescription(at, body);
        break;
      case BT_EPB:
      case BT_PB:
        p = this.enhancedPacket(at, body, type === BT_PB);
        break;
      case BT_SPB:
        p = this.simplePacket(at, body);
        break;
      default:
        // Name resolution, statistics, secrets, custom blocks: nothing for us.
        break;
    }
    this.pos += total;
    return p;
  }

  private sectionHeader(at: number, body: Uint8Array): void {
    if (body.length < 16) throw this.fail(at, `section header body of ${body.length} bytes is too short (corrupt block)`);
    const major = new DataView(body.buffer, body.byteOffset, 16).getUint16(4, this.little);
    if (major !== 1) throw this.fail(at, `pcapng version ${major}.x is not 1.x`);
    this.interfaces = [];
  }

  private interfaceDescription(at: number, body: Uint8Array): void {
    if (body.length < 8) throw this.fail(at, `interface description body of ${body.length} bytes is too short (corrupt block)`);
    const dv = new DataView(body.buffer, body.byteOffset, body.length);
    const linkType = this.acceptLinkType(dv.getUint16(0, this.little), at);
    const iface: Interface = { linkType, resol: { pow10: 6 }, offsetUs: 0n };
    let tsoffset = 0n;
    for (const [code, value] of this.options(at, body, 8)) {
      if (code === IF_NAME) iface.name = text(value);
      else if (code === IF_TSRESOL && value.length >= 1) {
        const r = value[0];
        iface.resol = r & 0x80 ? { pow2: r & 0x7f } : { pow10: r };
      } else if (code === IF_TSOFFSET && value.length >= 8) {
        tsoffset = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, this.little);
      }
    }
    iface.offsetUs = tsoffset * 1_000_000n;
    this.interfaces.push(iface);
  }

  private enhancedPacket(at: number, body: Uint8Array, obsolete: boolean): CapturedPacket {
    if (body.length < 20) throw this.fail(at, `packet block body of ${body.length} bytes is too short (corrupt block)`);
    const dv = new DataView(body.buffer, body.byteOffset, body.length);
    // The obsolete Packet Block has a u16 interface id and a u16 drop count where the EPB has a u32 id.
    const ifId = obsolete ? dv.getUint16(0, this.little) : dv.getUint32(0, this.little);
    const ticks = (BigInt(dv.getUint32(4, this.little)) << 32n) | BigInt(dv.getUint32(8, this.little));
    const caplen = dv.getUint32(12, this.little);
    const orig = dv.getUint32(16, this.little);
    if (20 + caplen > body.length) {
      throw this.fail(at, `packet block claims ${caplen} captured bytes but holds ${body.length - 20} (corrupt block)`);
    }
    const iface = this.interfaces[ifId];
    if (!iface) throw this.fail(at, `packet block refers to interface ${ifId}, but the section describes ${this.interfaces.length}`);
    const comments: string[] = [];
    for (const [code, value] of this.options(at, body, 20 + pad4(caplen))) {
      if (code === OPT_COMMENT) comments.push(text(value));
    }
    const ts = ticksToMicros(ticks, iface);
    const comment = comments.length > 0 ? comments.join('\n') : undefined;
    return this.packet(at, iface, ts, body.subarray(20, 20 + caplen), orig, comment, ifId);
  }

  private simplePacket(at: number, body: Uint8Array): CapturedPacket {
    const iface = this.interfaces[0];
    if (!iface) throw this.fail(at, 'simple packet block before any interface description');
    if (body.length < 4) throw this.fail(at, 'simple packet block too short (corrupt block)');
    const orig = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, this.little);
    // A simple packet block has no timestamp: the epoch is the honest answer.
    return this.packet(at, iface, 0n, body.subarray(4, 4 + Math.min(orig, body.length - 4)), orig, undefined, 0);
  }

  /** Option list from `start` of a block body to its end; tolerates a list without opt_endofopt. */
  private options(at: number, body: Uint8Array, start: number): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = [];
    let o = start;
    while (o + 4 <= body.length) {
      const dv = new DataView(body.buffer, body.byteOffset + o, 4);
      const code = dv.getUint16(0, this.little);
      const len = dv.getUint16(2, this.little);
      if (code === OPT_ENDOFOPT) break;
      if (o + 4 + len > body.length) {
        throw this.fail(at, `option ${code} of ${len} bytes runs past the end of its block (corrupt block)`);
      }
      out.push([code, body.subarray(o + 4, o + 4 + len)]);
      o += 4 + pad4(len);
    }
    return out;
  }

  private packet(
    at: number,
    iface: Interface,
    timestampUs: bigint,
    data: Uint8Array,
    orig: number,
    comment: string | undefined,
    interfaceId: number | undefined,
  ): CapturedPacket {
    const p: CapturedPacket = {
      n: this.count + 1,
      timestampUs,
      time: isoMicros(timestampUs),
      linkType: iface.linkType,
      frame: data,
      fcsIncluded: iface.linkType === LINKTYPE_IEEE802_15_4_WITHFCS,
      originalLength: orig,
    };
    if (iface.linkType === LINKTYPE_IEEE802_15_4_TAP) this.tap(at, data, orig, p);
    // Copy out so a held packet does not pin the whole input chunk.
    p.frame = p.frame.slice();
    if (comment !== undefined) p.comment = comment;
    if (interfaceId !== undefined) p.interfaceId = interfaceId;
    if (iface.name !== undefined) p.interfaceName = iface.name;
    this.count++;
    return p;
  }

  /** Strips the TAP header into `p`, reading the TLVs we know (all little-endian). */
  private tap(at: number, data: Uint8Array, orig: number, p: CapturedPacket): void {
    const bad = (why: string) => this.fail(at, `packet ${this.count + 1}: 802.15.4 TAP header ${why} (corrupt packet)`);
    if (data.length < 4) throw bad(`needs 4 bytes, packet has ${data.length}`);
    const dv = new DataView(data.buffer, data.byteOffset, data.length);
    if (data[0] !== 0) throw bad(`version ${data[0]}, only 0 is defined`);
    const len = dv.getUint16(2, true);
    if (len < 4 || len > data.length) throw bad(`length ${len} outside 4..${data.length}`);
    // Without the FCS type TLV, Wireshark 4.0 dissects the frame as having no FCS; so do we.
    let fcsType = 0;
    let o = 4;
    while (o < len) {
      if (o + 4 > len) throw bad(`TLV at ${o} runs past the header length ${len}`);
      const type = dv.getUint16(o, true);
      const tlen = dv.getUint16(o + 2, true);
      const v = o + 4;
      if (v + tlen > len) throw bad(`TLV ${type} of ${tlen} bytes runs past the header length ${len}`);
      if (type === TAP_FCS_TYPE && tlen >= 1) fcsType = data[v];
      else if (type === TAP_RSS && tlen >= 4) p.rssi = dv.getFloat32(v, true);
      else if (type === TAP_CHANNEL && tlen >= 3) {
        p.channel = dv.getUint16(v, true);
        p.page = data[v + 2];
      } else if (type === TAP_LQI && tlen >= 1) p.lqi = data[v];
      o = v + pad4(tlen);
    }
    if (fcsType !== 0 && fcsType !== 1) throw bad(`FCS type ${fcsType}: only none (0) and 16-bit (1) are supported`);
    p.fcsIncluded = fcsType === 1;
    p.frame = data.subarray(len);
    p.originalLength = orig - len;
  }
}

function text(value: Uint8Array): string {
  // Options may carry a trailing NUL from C writers.
  const end = value.indexOf(0);
  return utf8Decoder.decode(end === -1 ? value : value.subarray(0, end));
}

function ticksToMicros(ticks: bigint, iface: Interface): bigint {
  let us: bigint;
  if ('pow2' in iface.resol) us = (ticks * 1_000_000n) >> BigInt(iface.resol.pow2);
  else if (iface.resol.pow10 >= 6) us = ticks / 10n ** BigInt(iface.resol.pow10 - 6);
  else us = ticks * 10n ** BigInt(6 - iface.resol.pow10);
  return us + iface.offsetUs;
}

/** Reads a whole capture held in memory; throws on the first fault (packets before it are lost — use CaptureParser to keep them). */
export function readCaptureSync(bytes: Uint8Array, source = 'capture'): CapturedPacket[] {
  const parser = new CaptureParser(source);
  const out = parser.push(bytes);
  parser.end();
  return out;
}

// ──────────────────────────── Node file adapters ────────────────────────────

/** Where a file writer's stream error waits until the next write, drain or close. */
interface StreamState {
  error?: Error;
}

/** A PcapngWriter over a file write stream: `close()` flushes and reports any write error. */
export class PcapngFileWriter extends PcapngWriter {
  private constructor(
    private readonly stream: ReturnType<typeof createWriteStream>,
    private readonly state: StreamState,
    options: PcapngWriterOptions,
  ) {
    super((chunk) => {
      if (state.error) throw state.error;
      stream.write(chunk);
    }, options);
  }

  static open(path: string, options: PcapngWriterOptions = {}): PcapngFileWriter {
    const stream = createWriteStream(path);
    const state: StreamState = {};
    // An 'error' with no listener would crash the process: keep it for the caller instead.
    stream.on('error', (e) => {
      state.error ??= e;
    });
    return new PcapngFileWriter(stream, state, options);
  }

  /** Resolves once the stream's buffer has drained: await it in a tight loop so memory stays flat against a slow disk. */
  drain(): Promise<void> {
    if (this.state.error) return Promise.reject(this.state.error);
    if (!this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        this.stream.off('drain', onDrain);
        reject(e);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.state.error) {
        this.stream.destroy();
        reject(this.state.error);
        return;
      }
      // end()'s callback gets the stream's error, if any, before the 'error' event fires.
      this.stream.end((err?: Error | null) => {
        const e = err ?? this.state.error;
        if (e) reject(e);
        else resolve();
      });
    });
  }
}

export function openPcapngFile(path: string, options: PcapngWriterOptions = {}): PcapngFileWriter {
  return PcapngFileWriter.open(path, options);
}

/**
 * Streams the packets of a pcap/pcapng file in batches (one batch per read chunk), so a consumer
 * pays one await per chunk rather than per packet; memory stays at one chunk plus one block.
 */
export async function* readCaptureBatches(path: string, chunkBytes = 1 << 20): AsyncGenerator<CapturedPacket[]> {
  const parser = new CaptureParser(path);
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      const batch = parser.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      if (batch.length > 0) yield batch;
    }
  } finally {
    stream.destroy();
  }
  parser.end();
}

/** Streams the packets of a pcap/pcapng file one by one. */
export async function* readCapture(path: string): AsyncGenerator<CapturedPacket> {
  for await (const batch of readCaptureBatches(path)) yield* batch;
}
