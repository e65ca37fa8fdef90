// ZCL data types (ZCL rev 6 §2.6.2) as one table; every typed value in the codec goes through it.
// Values: integers are numbers while they fit 2^53, else bigint; octets are lowercase hex;
// char strings are text; UTC is seconds since 2000-01-01T00:00:00Z; IEEE is `00:11:…` text.

import { DecodeError, EncodeError, eui64ToBytes, fromHex, hex } from '../bytes.ts';
import type { Reader, Writer } from '../bytes.ts';

export type ZclTypeName =
  | 'noData'
  | 'data8'
  | 'data16'
  | 'data24'
  | 'data32'
  | 'data40'
  | 'data48'
  | 'data56'
  | 'data64'
  | 'bool'
  | 'bitmap8'
  | 'bitmap16'
  | 'bitmap24'
  | 'bitmap32'
  | 'bitmap40'
  | 'bitmap48'
  | 'bitmap56'
  | 'bitmap64'
  | 'uint8'
  | 'uint16'
  | 'uint24'
  | 'uint32'
  | 'uint40'
  | 'uint48'
  | 'uint56'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int24'
  | 'int32'
  | 'int40'
  | 'int48'
  | 'int56'
  | 'int64'
  | 'enum8'
  | 'enum16'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'octetString'
  | 'charString'
  | 'longOctetString'
  | 'longCharString'
  | 'array'
  | 'struct'
  | 'set'
  | 'bag'
  | 'timeOfDay'
  | 'date'
  | 'utc'
  | 'clusterId'
  | 'attributeId'
  | 'bacnetOid'
  | 'ieeeAddress'
  | 'securityKey';

type Kind = 'none' | 'uint' | 'int' | 'bool' | 'float' | 'octets' | 'chars' | 'array' | 'struct' | 'timeOfDay' | 'date' | 'ieee' | 'key';

export interface ZclTypeDef {
  id: number;
  name: ZclTypeName;
  /** Wireshark's name for the type (zbee_zcl.attr.data.type). */
  label: string;
  kind: Kind;
  /** Fixed size in bytes; for strings the width of the length prefix. */
  size: number;
  /** Analog types carry a reportable change in Configure Reporting (ZCL §2.5.7.1.7). */
  analog: boolean;
}

/** An array, set or bag: all elements of one type; `elements` null for the invalid count 0xFFFF. */
export interface ZclArrayValue {
  elementType: ZclTypeName;
  elements: ZclValue[] | null;
}
/** One structure member. */
export interface ZclStructMember {
  type: ZclTypeName;
  value: ZclValue;
}
/** Time of day / date octets; null stands for 0xFF, "unspecified". */
export interface ZclTimeOfDay {
  hours: number | null;
  minutes: number | null;
  seconds: number | null;
  hundredths: number | null;
}
export interface ZclDate {
  /** Full year (1900 + the octet). */
  year: number | null;
  month: number | null;
  day: number | null;
  weekday: number | null;
}

/** A character string whose octets are not UTF-8, kept as hex so nothing is lost. */
export interface ZclRawChars {
  octets: string;
}

export function isRawChars(v: unknown): v is ZclRawChars {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as ZclRawChars).octets === 'string' && Object.keys(v).length === 1
  );
}

export type ZclValue = ZclRawChars | null | boolean | number | bigint | string | ZclArrayValue | ZclStructMember[] | ZclTimeOfDay | ZclDate;

function row(id: number, name: ZclTypeName, label: string, kind: Kind, size: number, analog = false): ZclTypeDef {
  return { id, name, label, kind, size, analog };
}

export const ZCL_TYPES: readonly ZclTypeDef[] = [
  row(0x00, 'noData', 'No Data', 'none', 0),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => row(0x07 + n, `data${8 * n}` as ZclTypeName, `${8 * n}-Bit Data`, 'uint', n)),
  row(0x10, 'bool', 'Boolean', 'bool', 1),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => row(0x17 + n, `bitmap${8 * n}` as ZclTypeName, `${8 * n}-Bit Bitmap`, 'uint', n)),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => row(0x1f + n, `uint${8 * n}` as ZclTypeName, `${8 * n}-Bit Unsigned Integer`, 'uint', n, true)),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => row(0x27 + n, `int${8 * n}` as ZclTypeName, `${8 * n}-Bit Signed Integer`, 'int', n, true)),
  row(0x30, 'enum8', '8-Bit Enumeration', 'uint', 1),
  row(0x31, 'enum16', '16-Bit Enumeration', 'uint', 2),
  row(0x38, 'float16', 'Semi-precision Floating Point', 'float', 2, true),
  row(0x39, 'float32', 'Single Precision Floating Point', 'float', 4, true),
  row(0x3a, 'float64', 'Double Precision Floating Point', 'float', 8, true),
  row(0x41, 'octetString', 'Octet String', 'octets', 1),
  row(0x42, 'charString', 'Character String', 'chars', 1),
  row(0x43, 'longOctetString', 'Long Octet String', 'octets', 2),
  row(0x44, 'longCharString', 'Long Character String', 'chars', 2),
  row(0x48, 'array', 'Array', 'array', 0),
  row(0x4c, 'struct', 'Structure', 'struct', 0),
  row(0x50, 'set', 'Set Collection', 'array', 0),
  row(0x51, 'bag', 'Bag Collection', 'array', 0),
  row(0xe0, 'timeOfDay', 'Time of Day', 'timeOfDay', 4, true),
  row(0xe1, 'date', 'Date', 'date', 4, true),
  row(0xe2, 'utc', 'UTC Time', 'uint', 4, true),
  row(0xe8, 'clusterId', 'Cluster ID', 'uint', 2),
  row(0xe9, 'attributeId', 'Attribute ID', 'uint', 2),
  row(0xea, 'bacnetOid', 'BACnet OID', 'uint', 4),
  row(0xf0, 'ieeeAddress', 'IEEE Address', 'ieee', 8),
  row(0xf1, 'securityKey', '128-Bit Security Key', 'key', 16),
];

const byId = new Map(ZCL_TYPES.map((t) => [t.id, t]));
const byName = new Map(ZCL_TYPES.map((t) => [t.name, t]));

export function zclTypeById(id: number): ZclTypeDef | undefined {
  return byId.get(id);
}

export function zclType(name: ZclTypeName): ZclTypeDef {
  const t = byName.get(name);
  if (!t) throw new Error(`no ZCL data type named "${name}"`);
  return t;
}

export function isZclTypeName(name: string): name is ZclTypeName {
  return byName.has(name as ZclTypeName);
}

/** `uint16` for a known id, `unknown 0xNN` otherwise. */
export function zclTypeName(id: number): string {
  return byId.get(id)?.name ?? `unknown 0x${id.toString(16).padStart(2, '0')}`;
}

const ZCL_EPOCH_MS = Date.UTC(2000, 0, 1);

/** ZCL UTC seconds → `2016-11-22T02:46:56Z`; 0xFFFFFFFF is ZCL's invalid time. */
export function utcToIso(seconds: number): string {
  if (seconds === 0xffffffff) return 'invalid';
  return new Date(ZCL_EPOCH_MS + seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** ISO 8601 (or a Date) → ZCL UTC seconds since 2000-01-01T00:00:00Z. */
export function isoToUtc(iso: string | Date): number {
  const ms = (typeof iso === 'string' ? Date.parse(iso) : iso.getTime()) - ZCL_EPOCH_MS;
  if (!Number.isFinite(ms) || ms < 0 || ms / 1000 > 0xfffffffe) throw new Error(`not a ZCL UTC time: ${String(iso)}`);
  return Math.floor(ms / 1000);
}

// Arrays inside structs inside arrays… are legal; a cap keeps hostile input from blowing the stack.
const MAX_DEPTH = 8;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a value of ZCL type `typeId`; an unknown id is a DecodeError at the value's offset. */
export function decodeValue(r: Reader, typeId: number, field: string, depth = 0): ZclValue {
  const t = byId.get(typeId);
  if (!t) throw new DecodeError(field, r.position, `unknown ZCL data type 0x${typeId.toString(16).padStart(2, '0')}`);
  return decodeTyped(r, t, field, depth);
}

export function decodeTyped(r: Reader, t: ZclTypeDef, field: string, depth = 0): ZclValue {
  switch (t.kind) {
    case 'none':
      return null;
    case 'bool': {
      const v = r.u8(field);
      // 0xFF is ZCL's invalid boolean; anything but 0/1 stays the raw octet so nothing is lost.
      return v === 0 ? false : v === 1 ? true : v;
    }
    case 'uint': {
      if (t.size <= 6) return uintSmall(r, t.size, field);
      const v = r.uintLE(t.size, field);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'int': {
      if (t.size <= 6) {
        const u = uintSmall(r, t.size, field);
        const half = 2 ** (8 * t.size - 1);
        return u >= half ? u - 2 * half : u;
      }
      const u = r.uintLE(t.size, field);
      const bits = BigInt(8 * t.size);
      const v = u >= 1n << (bits - 1n) ? u - (1n << bits) : u;
      const safe = BigInt(Number.MAX_SAFE_INTEGER);
      return v <= safe && v >= -safe ? Number(v) : v;
    }
    case 'float': {
      const b = r.bytesN(t.size, field);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (t.size === 2) return halfToNumber(dv.getUint16(0, true));
      return t.size === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
    }
    case 'octets':
    case 'chars': {
      const n = t.size === 1 ? r.u8(field) : r.u16(field);
      // All-ones length is ZCL's invalid string: null, distinct from the empty string.
      if (n === (t.size === 1 ? 0xff : 0xffff)) return null;
      const b = r.bytesN(n, field);
      if (t.kind === 'octets') return hex(b);
      try {
        return utf8.decode(b);
      } catch {
        // Not UTF-8: keep the exact octets, so the value re-encodes byte for byte.
        return { octets: hex(b) };
      }
    }
    case 'array': {
      if (depth >= MAX_DEPTH) throw new DecodeError(field, r.position, `collections nested deeper than ${MAX_DEPTH}`);
      const elementTypeId = r.u8(field);
      const et = byId.get(elementTypeId);
      if (!et) {
        throw new DecodeError(field, r.position - 1, `unknown ZCL data type 0x${elementTypeId.toString(16).padStart(2, '0')}`);
      }
      const count = r.u16(field);
      if (count === 0xffff) return { elementType: et.name, elements: null };
      const elements: ZclValue[] = [];
      for (let i = 0; i < count; i++) elements.push(decodeTyped(r, et, `${field}[${i}]`, depth + 1));
      return { elementType: et.name, elements };
    }
    case 'struct': {
      if (depth >= MAX_DEPTH) throw new DecodeError(field, r.position, `collections nested deeper than ${MAX_DEPTH}`);
      const count = r.u16(field);
      if (count === 0xffff) return null;
      const members: ZclStructMember[] = [];
      for (let i = 0; i < count; i++) {
        const id = r.u8(`${field}[${i}].type`);
        const mt = byId.get(id);
        if (!mt) throw new DecodeError(`${field}[${i}]`, r.position - 1, `unknown ZCL data type 0x${id.toString(16).padStart(2, '0')}`);
        members.push({ type: mt.name, value: decodeTyped(r, mt, `${field}[${i}]`, depth + 1) });
      }
      return members;
    }
    case 'timeOfDay': {
      const b = r.bytesN(4, field);
      const o = (x: number) => (x === 0xff ? null : x);
      return { hours: o(b[0]), minutes: o(b[1]), seconds: o(b[2]), hundredths: o(b[3]) };
    }
    case 'date': {
      const b = r.bytesN(4, field);
      const o = (x: number) => (x === 0xff ? null : x);
      return { year: b[0] === 0xff ? null : 1900 + b[0], month: o(b[1]), day: o(b[2]), weekday: o(b[3]) };
    }
    case 'ieee':
      return r.eui64(field);
    case 'key':
      return hex(r.bytesN(16, field));
  }
}

// Number arithmetic for widths up to 48 bits: the decoder's hot path, no bigint.
function uintSmall(r: Reader, size: number, field: string): number {
  if (size === 1) return r.u8(field);
  if (size === 2) return r.u16(field);
  if (size === 4) return r.u32(field);
  r.need(size, field);
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + r.bytes[r.offset + i];
  r.offset += size;
  return v;
}

/** Writes `value` as ZCL type `type` (a name or an id); a value the type cannot carry is an EncodeError. */
export function encodeValue(w: Writer, type: ZclTypeName | number, value: unknown, field: string, depth = 0): void {
  const t = typeof type === 'number' ? byId.get(type) : byName.get(type);
  if (!t) throw new EncodeError(field, `unknown ZCL data type ${typeof type === 'number' ? '0x' + type.toString(16) : type}`);
  encodeTyped(w, t, value, field, depth);
}

function toBig(value: unknown, field: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new EncodeError(field, `${String(value)} is not an integer`);
}

/** Hex text or bytes → bytes; anything else is an EncodeError. */
export function octets(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    try {
      return fromHex(value);
    } catch (e) {
      throw new EncodeError(field, (e as Error).message);
    }
  }
  throw new EncodeError(field, 'expected hex text or a Uint8Array');
}

export function encodeTyped(w: Writer, t: ZclTypeDef, value: unknown, field: string, depth = 0): void {
  switch (t.kind) {
    case 'none':
      return;
    case 'bool':
      w.u8(value === true ? 1 : value === false ? 0 : (value as number), field);
      return;
    case 'uint':
      w.uintLE(toBig(value, field), t.size, field);
      return;
    case 'int': {
      const v = toBig(value, field);
      const bits = BigInt(8 * t.size);
      const half = 1n << (bits - 1n);
      if (v < -half || v >= half) throw new EncodeError(field, `${v} does not fit in ${t.name}`);
      w.uintLE(v < 0n ? v + (1n << bits) : v, t.size, field);
      return;
    }
    case 'float': {
      if (typeof value !== 'number') throw new EncodeError(field, `${String(value)} is not a number`);
      const b = new Uint8Array(t.size);
      const dv = new DataView(b.buffer);
      if (t.size === 2) dv.setUint16(0, numberToHalf(value), true);
      else if (t.size === 4) dv.setFloat32(0, value, true);
      else dv.setFloat64(0, value, true);
      w.bytes(b);
      return;
    }
    case 'octets':
    case 'chars': {
      const invalid = t.size === 1 ? 0xff : 0xffff;
      if (value === null) {
        if (t.size === 1) w.u8(invalid, field);
        else w.u16(invalid, field);
        return;
      }
      let b: Uint8Array;
      if (t.kind === 'chars') {
        if (isRawChars(value)) b = octets(value.octets, field);
        else if (typeof value !== 'string') throw new EncodeError(field, 'expected text');
        else b = new TextEncoder().encode(value);
      } else {
        b = octets(value, field);
      }
      if (b.length >= invalid) throw new EncodeError(field, `${b.length} bytes do not fit a ${t.name} (max ${invalid - 1})`);
      if (t.size === 1) w.u8(b.length, field);
      else w.u16(b.length, field);
      w.bytes(b);
      return;
    }
    case 'array': {
      if (depth >= MAX_DEPTH) throw new EncodeError(field, `collections nested deeper than ${MAX_DEPTH}`);
      const a = value as ZclArrayValue;
      const et = a && byName.get(a.elementType);
      if (!et) throw new EncodeError(field, 'expected { elementType, elements }');
      w.u8(et.id, field);
      if (a.elements === null) {
        w.u16(0xffff, field);
        return;
      }
      if (a.elements.length >= 0xffff) throw new EncodeError(field, 'too many elements');
      w.u16(a.elements.length, field);
      a.elements.forEach((e, i) => encodeTyped(w, et, e, `${field}[${i}]`, depth + 1));
      return;
    }
    case 'struct': {
      if (depth >= MAX_DEPTH) throw new EncodeError(field, `collections nested deeper than ${MAX_DEPTH}`);
      if (value === null) {
        w.u16(0xffff, field);
        return;
      }
      if (!Array.isArray(value)) throw new EncodeError(field, 'expected [{ type, value }]');
      w.u16(value.length, field);
      (value as ZclStructMember[]).forEach((m, i) => {
        const mt = byName.get(m.type);
        if (!mt) throw new EncodeError(`${field}[${i}]`, `unknown ZCL data type ${m.type}`);
        w.u8(mt.id, field);
        encodeTyped(w, mt, m.value, `${field}[${i}]`, depth + 1);
      });
      return;
    }
    case 'timeOfDay': {
      const v = value as ZclTimeOfDay;
      for (const k of ['hours', 'minutes', 'seconds', 'hundredths'] as const) w.u8(v[k] ?? 0xff, `${field}.${k}`);
      return;
    }
    case 'date': {
      const v = value as ZclDate;
      w.u8(v.year === null ? 0xff : v.year - 1900, `${field}.year`);
      for (const k of ['month', 'day', 'weekday'] as const) w.u8(v[k] ?? 0xff, `${field}.${k}`);
      return;
    }
    case 'ieee':
      if (typeof value !== 'string') throw new EncodeError(field, 'expected an IEEE address as 00:11:…');
      try {
        w.bytes(eui64ToBytes(value));
      } catch (e) {
        throw new EncodeError(field, (e as Error).message);
      }
      return;
    case 'key': {
      const b = octets(value, field);
      if (b.length !== 16) throw new EncodeError(field, `a 128-bit key has 16 bytes, not ${b.length}`);
      w.bytes(b);
      return;
    }
  }
}

/** IEEE 754 binary16 → number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 0x1f) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** number → IEEE 754 binary16, round to nearest even. */
function numberToHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const s = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity || a >= 65520) return s | 0x7c00;
  if (a < 2 ** -14) return s | Math.round(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return s | ((e + 15) << 10) | m;
}
