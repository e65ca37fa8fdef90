// The shape of a cluster table, and the one engine that walks a command's field list to
// decode or encode its payload. Adding a command is one table row; nothing here changes.

import { DecodeError, EncodeError, hex, hexN } from '../bytes.ts';
import type { Reader, Writer } from '../bytes.ts';
import type { DecodedZcl } from '../decoded.ts';
import { decodeTyped, decodeValue, encodeTyped, octets, zclType, zclTypeById, zclTypeName } from './types.ts';
import type { ZclTypeName } from './types.ts';

export type Direction = DecodedZcl['dir'];
export type Fields = Record<string, unknown>;

/** One bit (mask with one bit set) or a multi-bit sub-field of a bitmap, for naming set bits. */
export interface FlagDef {
  mask: number;
  name: string;
  /** For a multi-bit sub-field: names of its values (the sub-field is named only when non-zero). */
  values?: Readonly<Record<number, string>>;
}

interface FieldBase {
  name: string;
  /** May be absent at the end of the payload; only trailing fields may be optional. */
  optional?: boolean;
  /** Present on the wire only when this holds for the fields read so far (of this record). */
  when?: (rec: Fields) => boolean;
  /** A typical value, used by sampleFields for canonical samples. */
  sample?: unknown;
  /** Values sampleFields picks from for seeded samples, instead of random ones of the type. */
  samples?: readonly unknown[];
}

/** A plain ZCL-typed value. */
export interface ScalarField extends FieldBase {
  type: ZclTypeName;
  /** Value names; the decoder adds `<name>Name` (…Id → …Name) when the value is listed. */
  values?: Readonly<Record<number, string>>;
  /** Bit names; the decoder adds `<name>Flags`: the names of the set bits. */
  flags?: readonly FlagDef[];
  /** The value is an attribute id of the frame's cluster; the decoder adds its name. */
  attributeId?: boolean;
}

/** A u8 that names the ZCL type of a later `typed` field (attribute records). */
export interface DataTypeField extends FieldBase {
  type: 'dataType';
}

/** A value whose ZCL type is given by an earlier `dataType` field of the same record. */
export interface TypedField extends FieldBase {
  type: 'typed';
  typeFrom: string;
}

/** Raw octets as hex: `length` of them, or the rest of the payload. */
export interface BytesField extends FieldBase {
  type: 'bytes';
  length?: number;
}

/** Repeated values or records: `countFrom` an earlier field, or until the payload ends. */
export interface ListField extends FieldBase {
  type: 'list';
  of: ZclTypeName | readonly FieldDef[];
  countFrom?: string;
}

export type FieldDef = ScalarField | DataTypeField | TypedField | BytesField | ListField;

export interface AttributeDef {
  id: number;
  name: string;
  type: ZclTypeName;
}

export interface CommandDef {
  id: number;
  name: string;
  /** Global commands go either way. */
  dir: Direction | 'either';
  fields: readonly FieldDef[];
  /** Wireshark's name when it is spelled differently (tshark 4.0). */
  wireshark?: string;
  /** Why a layout is as it is, when it is not settled (e.g. unconfirmed widths). */
  note?: string;
  /** The one-line summary's tail after `ZCL 0xcccc Name` (starts with its own separator). */
  summary?: (f: Fields, ctx: FieldContext) => string;
}

export interface ClusterDef {
  id: number;
  name: string;
  attributes: readonly AttributeDef[];
  commands: readonly CommandDef[];
}

/** What the engine knows beyond the payload: the cluster, so attribute ids can be named. */
export interface FieldContext {
  cluster?: ClusterDef;
}

/** The key under which a derived name goes: `attributeId` → `attributeName`, `status` → `statusName`. */
export function derivedKey(name: string, suffix: 'Name' | 'Flags'): string {
  const cache = suffix === 'Name' ? NAME_KEYS : FLAGS_KEYS;
  let key = cache.get(name);
  if (key === undefined) {
    key = (name.endsWith('Id') && suffix === 'Name' ? name.slice(0, -2) : name) + suffix;
    // Field names come from the tables, so the cache stays as small as they are.
    cache.set(name, key);
  }
  return key;
}

const NAME_KEYS = new Map<string, string>();
const FLAGS_KEYS = new Map<string, string>();

/** Names of the set bits of `value`, in table order; multi-bit sub-fields as `name: value`. */
export function flagNames(value: number, flags: readonly FlagDef[]): string[] {
  const out: string[] = [];
  for (const f of flags) {
    const bits = value & f.mask;
    if (!bits) continue;
    if (!f.values) {
      out.push(f.name);
      continue;
    }
    const shift = Math.log2(f.mask & -f.mask);
    const v = (bits >>> shift) >>> 0;
    out.push(`${f.name}: ${f.values[v] ?? v}`);
  }
  return out;
}

export function attributeName(ctx: FieldContext, id: number): string | undefined {
  const cluster = ctx.cluster;
  if (!cluster) return undefined;
  let names = ATTRIBUTE_NAMES.get(cluster);
  if (!names) {
    names = new Map();
    for (const a of cluster.attributes) if (!names.has(a.id)) names.set(a.id, a.name); // the first row wins, as before
    ATTRIBUTE_NAMES.set(cluster, names);
  }
  return names.get(id);
}

/** Attribute names by id, per cluster table (a read of many attributes names each one). */
const ATTRIBUTE_NAMES = new WeakMap<ClusterDef, Map<number, string>>();

function isRecordList(of: ListField['of']): of is readonly FieldDef[] {
  return typeof of !== 'string';
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads `defs` from `r` into a record; the payload's own offsets go into every DecodeError. */
export function decodeFields(defs: readonly FieldDef[], r: Reader, ctx: FieldContext, path = '', rec: Fields = {}): Fields {
  // `rec` may be the caller's, so the fields read before an error survive it.
  // Where each dataType octet sat, so an unknown type id is reported at its own offset.
  let typeOffsets: Record<string, number> | undefined;
  for (const d of defs) {
    if (d.when && !d.when(rec)) continue;
    if (d.optional && r.remaining === 0) break;
    const label = path + d.name;
    switch (d.type) {
      case 'dataType': {
        (typeOffsets ??= {})[d.name] = r.position;
        const id = r.u8(label);
        rec[d.name] = id;
        rec[derivedKey(d.name, 'Name')] = zclTypeName(id);
        break;
      }
      case 'typed': {
        const id = rec[d.typeFrom] as number;
        if (!zclTypeById(id)) {
          throw new DecodeError(path + d.typeFrom, typeOffsets?.[d.typeFrom] ?? r.position, `unknown ZCL data type ${hexN(id, 2)}`);
        }
        rec[d.name] = decodeValue(r, id, label);
        break;
      }
      case 'bytes':
        rec[d.name] = hex(d.length === undefined ? r.rest() : r.bytesN(d.length, label));
        break;
      case 'list': {
        const items: unknown[] = [];
        const one = (i: number) =>
          isRecordList(d.of) ? decodeFields(d.of, r, ctx, `${label}[${i}].`) : decodeTyped(r, zclType(d.of), `${label}[${i}]`);
        if (d.countFrom !== undefined) {
          const n = Number(rec[d.countFrom]);
          for (let i = 0; i < n; i++) items.push(one(i));
        } else {
          for (let i = 0; r.remaining > 0; i++) {
            const before = r.offset;
            items.push(one(i));
            // A row whose record can read nothing would loop for ever: a table defect, not the frame's.
            if (r.offset === before) throw new Error(`${label}: a list item that reads no bytes`);
          }
        }
        rec[d.name] = items;
        break;
      }
      default: {
        const v = decodeTyped(r, zclType(d.type), label);
        rec[d.name] = v;
        if (typeof v === 'number') {
          if (d.values && d.values[v] !== undefined) rec[derivedKey(d.name, 'Name')] = d.values[v];
          if (d.flags) rec[derivedKey(d.name, 'Flags')] = flagNames(v, d.flags);
          if (d.attributeId) {
            const n = attributeName(ctx, v);
            if (n) rec[derivedKey(d.name, 'Name')] = n;
          }
        }
      }
    }
  }
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Writes the record `rec` by `defs`; derived keys (…Name, …Flags) are ignored. */
export function encodeFields(defs: readonly FieldDef[], w: Writer, rec: Fields, path = ''): void {
  let omitted: string | undefined;
  for (const d of defs) {
    if (d.when && !d.when(rec)) continue;
    const label = path + d.name;
    const v = rec[d.name];
    if (v === undefined) {
      if (d.optional) {
        omitted ??= label;
        continue;
      }
      throw new EncodeError(label, 'missing');
    }
    if (omitted !== undefined) throw new EncodeError(label, `cannot follow the omitted optional field ${omitted}`);
    switch (d.type) {
      case 'dataType':
        w.u8(v as number, label);
        break;
      case 'typed': {
        const id = rec[d.typeFrom];
        const t = typeof id === 'number' ? zclTypeById(id) : undefined;
        if (!t) throw new EncodeError(path + d.typeFrom, `unknown ZCL data type ${String(id)}`);
        encodeTyped(w, t, v, label);
        break;
      }
      case 'bytes': {
        const b = octets(v, label);
        if (d.length !== undefined && b.length !== d.length) throw new EncodeError(label, `needs ${d.length} bytes, not ${b.length}`);
        w.bytes(b);
        break;
      }
      case 'list': {
        if (!Array.isArray(v)) throw new EncodeError(label, 'expected a list');
        if (d.countFrom !== undefined && Number(rec[d.countFrom]) !== v.length) {
          throw new EncodeError(label, `has ${v.length} items but ${path + d.countFrom} says ${String(rec[d.countFrom])}`);
        }
        v.forEach((item, i) => {
          if (isRecordList(d.of)) encodeFields(d.of, w, item as Fields, `${label}[${i}].`);
          else encodeTyped(w, zclType(d.of), item, `${label}[${i}]`);
        });
        break;
      }
      default:
        encodeTyped(w, zclType(d.type), v, label);
    }
  }
}
