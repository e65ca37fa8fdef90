// Capture files: a streaming pcapng writer (IEEE 802.15.4 TAP, link type 283) and a streaming
// reader of pcapng and classic pcap carrying 802.15.4 (link types 195, 230, 283).
// The codec is pure (functions over Uint8Array chunks); the file adapters are in io/capture-files.ts.

import { EncodeError, Writer, copyBytes } from './bytes.ts';

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
  name: string | undefined;
  /** Ticks → µs: either multiply/divide by a power of ten or shift for power-of-2 resolutions. */
  resol: { pow10: number } | { pow2: number };
  offsetUs: bigint;
  /**
   * The same conversion in Number arithmetic, exact while every value stays a safe integer:
   * µs = floor(ticks × mul / div) + offsetNum. `fast` is false when it cannot be (huge
   * resolutions or offsets); then the bigint path runs.
   */
  fast: boolean;
  mul: number;
  div: number;
  offsetNum: number;
}

function makeInterface(linkType: Ieee802154LinkType, name: string | undefined, resol: Interface['resol'], offsetUs: bigint): Interface {
  let mul = 1;
  let div = 1;
  let fast = true;
  if ('pow2' in resol) {
    mul = 1e6;
    div = 2 ** resol.pow2; // exact for every 7-bit exponent
  } else if (resol.pow10 >= 6) {
    if (resol.pow10 - 6 > 15) fast = false;
    else div = 10 ** (resol.pow10 - 6);
  } else {
    mul = 10 ** (6 - resol.pow10);
  }
  const offsetNum = Number(offsetUs);
  if (!Number.isSafeInteger(offsetNum)) fast = false;
  return { linkType, name, resol, offsetUs, fast, mul, div, offsetNum };
}

type Format = 'unknown' | 'pcapng' | 'pcap';

/** Years 0000–9999 only, where the string is the plain ISO form. */
const ISO_FAST_LIMIT = 253402300800000000n;

let isoSecond = NaN;
let isoPrefix = '';
let isoMinute = NaN;
let isoMinutePrefix = '';

/**
 * isoMicros for a safe, non-negative integer µs count: the last second's prefix is reused, and a
 * new second's is the last minute's prefix and two digits (a sparse capture changes second often).
 */
function isoMicrosNumber(n: number): string {
  // Division and floor, not %: a double modulo is a C call, and n is far above 2^31. The quotient
  // can only round up to the next whole second (never below the true one): then frac is negative.
  let secs = Math.floor(n / 1e6);
  let frac = n - secs * 1e6;
  if (frac < 0) (secs -= 1), (frac += 1e6);
  if (secs !== isoSecond) {
    isoSecond = secs;
    const minute = Math.floor(secs / 60);
    if (minute !== isoMinute) {
      isoMinute = minute;
      isoMinutePrefix = new Date(minute * 60_000).toISOString().slice(0, 17);
    }
    isoPrefix = isoMinutePrefix + SECONDS_DOT[secs - minute * 60];
  }
  const ms = (frac / 1000) | 0;
  return isoPrefix + DIGITS3[ms] + DIGITS3Z[frac - ms * 1000];
}

/** '00.' … '59.', the seconds of a time and the decimal point. */
const SECONDS_DOT: readonly string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0') + '.');

/** '000' … '999' (and with the closing Z), for the fraction without number formatting per packet. */
const DIGITS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DIGITS3Z: readonly string[] = DIGITS3.map((d) => d + 'Z');

/** Formats µs since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, beyond Date's range too. */
export function isoMicros(us: bigint): string {
  // Number arithmetic only where it is exact (below 2^53 µs, about the year 2255).
  if (us >= 0n && us <= 9007199254740991n) return isoMicrosNumber(Number(us));
  if (us >= 0n && us < ISO_FAST_LIMIT) {
    const secs = us / 1_000_000n;
    const frac = Number(us - secs * 1_000_000n);
    return new Date(Number(secs) * 1000).toISOString().slice(0, 20) + String(frac).padStart(6, '0') + 'Z';
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

/** A packet's frame, bytes[start, end) viewed in place: the constructor, not subarray() (no species lookup, once per packet). */
function frameView(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

// Integer reads straight from the bytes: no DataView per field.
function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u16(b: Uint8Array, o: number, little: boolean): number {
  return little ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}
function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function u32(b: Uint8Array, o: number, little: boolean): number {
  return little
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
/** One scratch view for the rare float and 64-bit reads. */
const scratch = new DataView(new ArrayBuffer(8));
function f32le(b: Uint8Array, o: number): number {
  scratch.setUint32(0, u32le(b, o), true);
  return scratch.getFloat32(0, true);
}

export interface CaptureParserOptions {
  /**
   * The caller hands its chunks over and never writes to them again (fresh buffers from a file
   * stream, say): packets may then keep views into them instead of the parser taking a copy of
   * each chunk. Off by default, so a caller may reuse its chunk buffer after push().
   */
  adoptChunks?: boolean;
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

  constructor(
    readonly source = 'capture',
    options: CaptureParserOptions = {},
  ) {
    this.adopt = options.adoptChunks === true;
  }

  push(chunk: Uint8Array): CapturedPacket[] {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error(`${this.source}: push() after end()`);
    this.append(chunk);
    const out: CapturedPacket[] = [];
    try {
      for (;;) {
        if (this.format === 'pcapng') this.pcapngBlocks(out);
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

  /** A packet, `undefined` for a block that carried none, or `null` when more input is needed. */
  private next(): CapturedPacket | undefined | null {
    if (this.format === 'unknown') return this.header();
    return this.format === 'pcapng' ? this.pcapngBlock() : this.pcapRecord();
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
    const p = this.packet(at, this.pcapIface!, BigInt(us), isoMicrosNumber(us), o + 16, o + 16 + incl, orig, undefined, undefined);
    this.pos += 16 + incl;
    return p;
  }

  /**
   * The hot loop: consecutive little- or big-endian EPBs of a known interface, read in place.
   * Anything else (other blocks, faults, a block cut by the chunk end) is left to pcapngBlock().
   */
  private pcapngBlocks(out: CapturedPacket[]): void {
    const b = this.buf;
    const little = this.little;
    const n = b.length;
    let o = this.pos;
    for (;;) {
      if (n - o < 12) break;
      const type = u32(b, o, little);
      if (type !== BT_EPB) break;
      const total = u32(b, o + 4, little);
      if (total < 32 || (total & 3) !== 0 || total > MAX_BLOCK || n - o < total) break;
      if (u32(b, o + total - 4, little) !== total) break;
      this.pos = o;
      const p = this.enhancedPacket(this.base + o, o + 8, o + total - 4, false);
      out.push(p);
      o += total;
      this.pos = o;
    }
  }

  private pcapngBlock(): CapturedPacket | undefined | null {
    if (this.avail() < 12) return null;
    const at = this.base + this.pos;
    const b = this.buf;
    const s = this.pos;
    const typeLE = u32le(b, s);
    if (typeLE === BT_SHB) {
      // Each section states its own byte order in the magic after the length.
      const bom = u32le(b, s + 8);
      if (bom === BOM) this.little = true;
      else if (bom === 0x4d3c2b1a) this.little = false;
      else throw this.fail(at, `section header byte-order magic is 0x${bom.toString(16)}, not 0x1a2b3c4d (corrupt block)`);
    }
    const type = u32(b, s, this.little);
    const total = u32(b, s + 4, this.little);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
      throw this.fail(at, `block type 0x${type.toString(16)} has total length ${total} (corrupt block)`);
    }
    if (this.avail() < total) return null;
    const trailer = u32(b, s + total - 4, this.little);
    if (trailer !== total) {
      throw this.fail(at, `block type 0x${type.toString(16)} length ${total} does not match its trailing length ${trailer} (corrupt block)`);
    }
    let p: CapturedPacket | undefined;
    switch (type) {
      case BT_SHB:
        this.sectionHeader(at, b.subarray(s + 8, s + total - 4));
        break;
      case BT_IDB:
        this.interfaceDescription(at, b.subarray(s + 8, s + total - 4));
        break;
      case BT_EPB:
      case BT_PB:
        p = this.enhancedPacket(at, s + 8, s + total - 4, type === BT_PB);
        break;
      case BT_SPB:
        p = this.simplePacket(at, s + 8, s + total - 4);
        break;
      default:
        // Name resolution, statistics, secrets, custom blocks: nothing for us.
        break;
    }
    this.pos += total;
    // Back on the fast path for the EPBs that follow (usually the rest of the chunk).
    return p;
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
    if (us === us && us >= 0) {
      ts = BigInt(us);
      time = isoMicrosNumber(us);
    } else {
      ts = ticksToMicros((BigInt(hi) << 32n) | BigInt(lo), iface);
      time = isoMicros(ts);
    }
    return this.packet(at, iface, ts, time, o + 20, o + 20 + caplen, orig, comment, ifId);
  }

  private simplePacket(at: number, o: number, end: number): CapturedPacket {
    const iface = this.interfaces[0];
    if (!iface) throw this.fail(at, 'simple packet block before any interface description');
    if (end - o < 4) throw this.fail(at, 'simple packet block too short (corrupt block)');
    const orig = u32(this.buf, o, this.little);
    // A simple packet block has no timestamp: the epoch is the honest answer.
    return this.packet(at, iface, 0n, isoMicrosNumber(0), o + 4, o + 4 + Math.min(orig, end - o - 4), orig, undefined, 0);
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

  private badTap(at: number, why: string): CaptureError {
    return this.fail(at, `packet ${this.count + 1}: 802.15.4 TAP header ${why} (corrupt packet)`);
  }

  /** Strips the TAP header of buf[start, end) into `p`, reading the TLVs we know (all little-endian). */
  private tap(at: number, start: number, end: number, orig: number, p: CapturedPacket): void {
    const b = this.buf;
    const size = end - start;
    if (size < 4) throw this.badTap(at, `needs 4 bytes, packet has ${size}`);
    if (b[start] !== 0) throw this.badTap(at, `version ${b[start]}, only 0 is defined`);
    const len = u16le(b, start + 2);
    if (len < 4 || len > size) throw this.badTap(at, `length ${len} outside 4..${size}`);
    // Without the FCS type TLV, Wireshark 4.0 dissects the frame as having no FCS; so do we.
    let fcsType = 0;
    let o = 4;
    while (o < len) {
      if (o + 4 > len) throw this.badTap(at, `TLV at ${o} runs past the header length ${len}`);
      const type = u16le(b, start + o);
      const tlen = u16le(b, start + o + 2);
      const v = o + 4;
      if (v + tlen > len) throw this.badTap(at, `TLV ${type} of ${tlen} bytes runs past the header length ${len}`);
      if (type === TAP_FCS_TYPE && tlen >= 1) fcsType = b[start + v];
      else if (type === TAP_RSS && tlen >= 4) p.rssi = f32le(b, start + v);
      else if (type === TAP_CHANNEL && tlen >= 3) {
        p.channel = u16le(b, start + v);
        p.page = b[start + v + 2];
      } else if (type === TAP_LQI && tlen >= 1) p.lqi = b[start + v];
      o = v + pad4(tlen);
    }
    if (fcsType !== 0 && fcsType !== 1) throw this.badTap(at, `FCS type ${fcsType}: only none (0) and 16-bit (1) are supported`);
    p.fcsIncluded = fcsType === 1;
    p.frame = frameView(b, start + len, end);
    p.originalLength = orig - len;
  }
}

const EMPTY = new Uint8Array(0);

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
