// Byte reading and writing shared by every codec: little-endian by default (ZigBee, ZCL),
// and every read past the end is a DecodeError that names the field and the offset.
import { counted } from './words.ts';

/** A decode failure: what was being read and at which byte offset of the frame. */
export class DecodeError extends Error {
  readonly field: string;
  readonly offset: number;
  readonly reason: string;

  constructor(field: string, offset: number, reason: string) {
    // A malformed frame is data, not a bug: its stack would cost more than decoding the frame.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${field} at offset ${offset}: ${reason}`);
    Error.stackTraceLimit = limit;
    this.name = 'DecodeError';
    this.field = field;
    this.offset = offset;
    this.reason = reason;
  }
}

/** An encode failure: a value that the wire format cannot carry. */
export class EncodeError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'EncodeError';
  }
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parses hex with optional spaces or colons; throws a plain Error naming the bad input. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new Error(`not hex bytes: "${text.length > 40 ? text.slice(0, 40) + '…' : text}"`);
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

const HEX16: string[] = new Array(0x10000);

/** 16-bit short address / PAN / cluster ids as the decoded shape writes them: `0x1234`. */
export function hex16(n: number): string {
  // Interned per value: a capture repeats the same few addresses and ids millions of times.
  return (HEX16[n & 0xffff] ??= '0x' + (n & 0xffff).toString(16).padStart(4, '0'));
}

/** Any small id with a chosen width in hex digits: `hexN(0x8f12, 4)` → `0x8f12`. */
export function hexN(n: number, digits: number): string {
  return '0x' + n.toString(16).padStart(digits, '0');
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX16_HIGH = BYTE_HEX.map((b) => '0x' + b);

/**
 * hex16 for values that seldom repeat (an FCS): made from two small tables, not interned, so
 * they do not fill (and miss in) the 64 Ki-entry cache.
 */
export function hex16Fresh(n: number): string {
  return HEX16_HIGH[(n >>> 8) & 0xff] + BYTE_HEX[n & 0xff];
}

/** bytes[start, end) in memory of its own, whatever `bytes` is (a Buffer's slice() is a view, not a copy). */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

/** One IEEE address: its bytes (LE, as on air), its text, and its two 32-bit halves. */
interface Eui64Entry {
  le: Uint8Array;
  text: string;
  lo: number;
  hi: number;
}
/** Interned by value (a HAN has few devices): by high then low 32 bits. */
const EUI64_KNOWN = new Map<number, Map<number, Eui64Entry>>();

/** The last entries seen, by a hash of the address: most frames' IEEE is found here, without the maps. */
const EUI64_RECENT: (Eui64Entry | undefined)[] = new Array(256).fill(undefined);

/** The interned entry for the 8 bytes at b[o]; a fresh one once a high word holds 4096 addresses. */
function eui64At(b: Uint8Array, o: number): Eui64Entry {
  const lo = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  const hi = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
  const slot = (lo ^ hi ^ (lo >>> 8)) & 0xff;
  const recent = EUI64_RECENT[slot];
  if (recent !== undefined && recent.lo === lo && recent.hi === hi) return recent;
  return (EUI64_RECENT[slot] = eui64Interned(b, o, lo, hi));
}

function eui64Interned(b: Uint8Array, o: number, lo: number, hi: number): Eui64Entry {
  let byLo = EUI64_KNOWN.get(hi);
  if (!byLo) EUI64_KNOWN.set(hi, (byLo = new Map()));
  const known = byLo.get(lo);
  if (known !== undefined) return known;
  const le = copyBytes(b, o, o + 8);
  const entry = { le, text: eui64Text(le), lo, hi };
  if (byLo.size < 4096) byLo.set(lo, entry);
  return entry;
}

/** An EUI-64 as the decoded shape writes it: most significant byte first, colon separated. */
export function eui64(le: Uint8Array): string {
  // Interned, so decoding allocates no new string per frame.
  return le.length === 8 ? eui64At(le, 0).text : eui64Text(le);
}

function eui64Text(le: Uint8Array): string {
  let out = BYTE_HEX[le[le.length - 1]];
  for (let i = le.length - 2; i >= 0; i--) out += ':' + BYTE_HEX[le[i]];
  return out;
}

/** `00:11:…` (most significant first) or 16 hex digits → 8 bytes little-endian as on air. */
export function eui64ToBytes(text: string): Uint8Array {
  const be = fromHex(text);
  if (be.length !== 8) throw new Error(`an IEEE address has 8 bytes, "${text}" has ${be.length}`);
  return be.reverse();
}

export class Reader {
  offset: number;

  constructor(
    public bytes: Uint8Array,
    offset = 0,
    /** Where this reader's byte 0 sits in the whole frame, so errors name frame offsets. */
    public base = 0,
    public end = bytes.length,
  ) {
    this.offset = offset;
  }

  /** Points this reader at other bytes (a scratch reader reused frame after frame). */
  reset(bytes: Uint8Array, offset: number, base: number, end: number): this {
    this.bytes = bytes;
    this.offset = offset;
    this.base = base;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** The frame offset of the next byte, for error messages. */
  get position(): number {
    return this.base + this.offset;
  }

  need(n: number, field: string): void {
    if (this.offset + n > this.end) {
      throw new DecodeError(field, this.position, `needs ${counted(n, 'byte')}, ${this.remaining} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset++];
  }

  i8(field: string): number {
    const v = this.u8(field);
    return v >= 0x80 ? v - 0x100 : v;
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.bytes,
      o = this.offset;
    this.offset += 2;
    return b[o] | (b[o + 1] << 8);
  }

  u16be(field: string): number {
    this.need(2, field);
    const b = this.bytes,
      o = this.offset;
    this.offset += 2;
    return (b[o] << 8) | b[o + 1];
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes,
      o = this.offset;
    this.offset += 4;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }

  u32be(field: string): number {
    this.need(4, field);
    const b = this.bytes,
      o = this.offset;
    this.offset += 4;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** Unsigned little-endian integer of `n` bytes (1–8), as a bigint when it may exceed 2^53. */
  uintLE(n: number, field: string): bigint {
    this.need(n, field);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[this.offset + i]);
    this.offset += n;
    return v;
  }

  bytesN(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  rest(): Uint8Array {
    const out = this.bytes.subarray(this.offset, this.end);
    this.offset = this.end;
    return out;
  }

  eui64(field: string): string {
    return this.eui64Bytes(field).text;
  }

  /**
   * An IEEE address field: its bytes (LE) and text, interned — the same address gives the same
   * Uint8Array, shared by every frame that carries it: read it, never write to it.
   */
  eui64Bytes(field: string): { readonly le: Uint8Array; readonly text: string } {
    this.need(8, field);
    const entry = eui64At(this.bytes, this.offset);
    this.offset += 8;
    return entry;
  }
}

export class Writer {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 128) {
    this.buf = new Uint8Array(capacity);
  }

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  private checkRange(v: number, max: number, field: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new EncodeError(field, `${v} is not an integer in 0..${max}`);
  }

  u8(v: number, field = 'u8'): this {
    this.checkRange(v, 0xff, field);
    this.grow(1);
    this.buf[this.length++] = v;
    return this;
  }

  i8(v: number, field = 'i8'): this {
    if (!Number.isInteger(v) || v < -128 || v > 127) throw new EncodeError(field, `${v} is not an integer in -128..127`);
    return this.u8(v & 0xff, field);
  }

  u16(v: number, field = 'u16'): this {
    this.checkRange(v, 0xffff, field);
    this.grow(2);
    this.buf[this.length++] = v & 0xff;
    this.buf[this.length++] = v >>> 8;
    return this;
  }

  u16be(v: number, field = 'u16'): this {
    this.checkRange(v, 0xffff, field);
    this.grow(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u32(v: number, field = 'u32'): this {
    this.checkRange(v, 0xffffffff, field);
    this.grow(4);
    for (let i = 0; i < 4; i++) this.buf[this.length++] = (v >>> (8 * i)) & 0xff;
    return this;
  }

  u32be(v: number, field = 'u32'): this {
    this.checkRange(v, 0xffffffff, field);
    this.grow(4);
    for (let i = 3; i >= 0; i--) this.buf[this.length++] = (v >>> (8 * i)) & 0xff;
    return this;
  }

  uintLE(v: bigint, n: number, field = 'uint'): this {
    if (v < 0n || v >= 1n << BigInt(8 * n)) throw new EncodeError(field, `${v} does not fit in ${n} bytes`);
    this.grow(n);
    for (let i = 0; i < n; i++) this.buf[this.length++] = Number((v >> BigInt(8 * i)) & 0xffn);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  eui64(text: string, field = 'eui64'): this {
    try {
      return this.bytes(eui64ToBytes(text));
    } catch (e) {
      throw new EncodeError(field, (e as Error).message);
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
