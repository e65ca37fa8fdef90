// Sample field values for any command in the tables: canonical ones (no seed) for readable
// fixtures and tshark round trips, seeded random ones (boundaries included) for property tests.
// Every sample encodes, and decodes back to itself.

import { Reader, Writer } from '../bytes.ts';
import { getCluster, CLUSTERS } from './clusters/index.ts';
import type { ZclFrameType } from './frame.ts';
import { GLOBAL_COMMANDS } from './global.ts';
import { decodeFields, encodeFields } from './schema.ts';
import type { ClusterDef, CommandDef, Direction, FieldDef, Fields, ScalarField } from './schema.ts';
import { zclType, zclTypeById } from './types.ts';
import type { ZclTypeName, ZclValue } from './types.ts';

/** Deterministic choices: canonical when there is no seed, mulberry32 otherwise. */
class Chooser {
  private state: number;
  readonly random: boolean;

  constructor(seed?: number) {
    this.random = seed !== undefined;
    this.state = (seed ?? 0) >>> 0;
  }

  /** [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): number[] {
    return Array.from({ length: n }, () => this.int(0, 255));
  }
}

const toHex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, '0')).join('');
const norm = (v: bigint): number | bigint =>
  v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;

// Types that random attribute records and collections use.
const SIMPLE_TYPES: readonly ZclTypeName[] = [
  'bool',
  'bitmap8',
  'bitmap16',
  'bitmap32',
  'bitmap64',
  'uint8',
  'uint16',
  'uint24',
  'uint32',
  'uint48',
  'uint64',
  'int8',
  'int16',
  'int24',
  'int32',
  'int48',
  'int64',
  'enum8',
  'enum16',
  'float32',
  'octetString',
  'charString',
  'utc',
  'ieeeAddress',
  'securityKey',
  'data8',
  'data32',
  'float16',
  'float64',
  'timeOfDay',
  'date',
  'clusterId',
];
const ATTRIBUTE_TYPES: readonly ZclTypeName[] = [...SIMPLE_TYPES, 'longOctetString', 'longCharString', 'array', 'struct', 'set', 'bag'];

const CHARS = 'abcXYZ 019-_/é£€';

function sampleValueWith(type: ZclTypeName, c: Chooser, depth = 0): ZclValue {
  const t = zclType(type);
  switch (t.kind) {
    case 'none':
      return null;
    case 'bool':
      return c.random ? c.chance(0.5) : true;
    case 'uint': {
      if (type === 'utc' && !c.random) return 0x1fc66e20; // 2016-11-22T02:46:56Z, as in GCS09
      const max = (1n << BigInt(8 * t.size)) - 1n;
      if (!c.random) return norm(BigInt('0x' + toHex(Array.from({ length: t.size }, (_, i) => i + 1))));
      const rnd = BigInt('0x' + toHex(c.bytes(t.size))) & max;
      return norm(c.pick([0n, 1n, max, max - 1n, rnd, rnd]));
    }
    case 'int': {
      const half = 1n << BigInt(8 * t.size - 1);
      if (!c.random) return norm(-BigInt('0x' + toHex(Array.from({ length: t.size }, (_, i) => i + 1))));
      const rnd = (BigInt('0x' + toHex(c.bytes(t.size))) % (2n * half)) - half;
      return norm(c.pick([-half, -1n, 0n, 1n, half - 1n, rnd, rnd]));
    }
    case 'float':
      if (t.size === 2) return c.random ? c.pick([0, 1.5, -2, 65504, 2 ** -14, 2 ** -24, -0.0999755859375]) : 1.5;
      if (t.size === 4) return c.random ? Math.fround((c.next() - 0.5) * 2e6) : 3.25;
      return c.random ? (c.next() - 0.5) * 1e12 : Math.PI;
    case 'octets':
      if (!c.random) return '0102030405';
      return c.chance(0.05) ? null : toHex(c.bytes(c.int(0, 12)));
    case 'chars':
      if (!c.random) return 'GBCS rig';
      return c.chance(0.05) ? null : Array.from({ length: c.int(0, 10) }, () => c.pick([...CHARS])).join('');
    case 'array': {
      if (!c.random || depth > 1) return { elementType: 'uint16', elements: [1, 2, 3] };
      const elementType = c.pick(SIMPLE_TYPES);
      if (c.chance(0.05)) return { elementType, elements: null };
      return { elementType, elements: Array.from({ length: c.int(0, 3) }, () => sampleValueWith(elementType, c, depth + 1)) };
    }
    case 'struct': {
      if (!c.random || depth > 1)
        return [
          { type: 'uint8', value: 7 },
          { type: 'charString', value: 'x' },
        ];
      return Array.from({ length: c.int(0, 3) }, () => {
        const mt = c.pick(SIMPLE_TYPES);
        return { type: mt, value: sampleValueWith(mt, c, depth + 1) };
      });
    }
    case 'timeOfDay': {
      if (!c.random) return { hours: 12, minutes: 34, seconds: 56, hundredths: 78 };
      const o = (hi: number) => (c.chance(0.1) ? null : c.int(0, hi));
      return { hours: o(23), minutes: o(59), seconds: o(59), hundredths: o(99) };
    }
    case 'date': {
      if (!c.random) return { year: 2024, month: 11, day: 21, weekday: 4 };
      const o = (lo: number, hi: number) => (c.chance(0.1) ? null : c.int(lo, hi));
      return { year: c.chance(0.1) ? null : c.int(1900, 2154), month: o(1, 12), day: o(1, 31), weekday: o(1, 7) };
    }
    case 'ieee':
      return (c.random ? c.bytes(8) : [0x00, 0xdb, 0x12, 0x34, 0x56, 0x78, 0x90, 0xa3])
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(':');
    case 'key':
      return toHex(c.random ? c.bytes(16) : Array.from({ length: 16 }, (_, i) => i));
  }
}

/** A value of ZCL type `type`: canonical without a seed. */
export function sampleValue(type: ZclTypeName, seed?: number): ZclValue {
  return sampleValueWith(type, new Chooser(seed));
}

function sampleScalar(d: ScalarField, c: Chooser): ZclValue {
  const keys = d.values ? Object.keys(d.values).map(Number) : [];
  if (keys.length && (!c.random || c.chance(0.85))) return c.random ? c.pick(keys) : keys[0];
  if (d.flags && zclType(d.type).size <= 4) {
    if (!c.random) return d.flags[0].mask;
    let v = 0;
    for (const fl of d.flags) if (c.chance(0.5)) v |= fl.mask & (c.int(0, 0xffff) * (fl.mask & -fl.mask));
    return v >>> 0;
  }
  return sampleValueWith(d.type, c);
}

function sampleRecord(defs: readonly FieldDef[], c: Chooser, cluster: ClusterDef | undefined, top: boolean): Fields {
  const rec: Fields = {};
  // The type an attribute-id field chose, so its dataType/value agree with the cluster table.
  let attrType: ZclTypeName | undefined;
  for (const d of defs) {
    if (d.when && !d.when(rec)) continue;
    // Optional fields are trailing: a random sample may stop at any of them (top level only,
    // as inside a list a short record would be read as the next record's start).
    if (d.optional && top && c.random && c.chance(0.3)) break;
    if (!c.random && d.sample !== undefined && d.type !== 'list') {
      rec[d.name] = d.sample;
      continue;
    }
    if (c.random && d.samples?.length && d.type !== 'list') {
      rec[d.name] = c.pick(d.samples);
      continue;
    }
    switch (d.type) {
      case 'dataType':
        rec[d.name] = zclType(attrType ?? (c.random ? c.pick(ATTRIBUTE_TYPES) : 'uint8')).id;
        break;
      case 'typed':
        rec[d.name] = sampleValueWith(zclTypeById(rec[d.typeFrom] as number)!.name, c);
        break;
      case 'bytes':
        rec[d.name] = toHex(c.random ? c.bytes(d.length ?? c.int(0, 16)) : Array.from({ length: d.length ?? 4 }, (_, i) => 0xa0 + i));
        break;
      case 'list': {
        const n = c.random ? c.int(0, 3) : 2;
        rec[d.name] = Array.from({ length: n }, () =>
          typeof d.of === 'string' ? sampleValueWith(d.of, c) : sampleRecord(d.of, c, cluster, false),
        );
        if (d.countFrom !== undefined) rec[d.countFrom] = n;
        break;
      }
      default:
        if (d.attributeId) {
          const attrs = cluster?.attributes ?? [];
          const a = attrs.length ? (c.random ? c.pick(attrs) : attrs[0]) : undefined;
          rec[d.name] = a?.id ?? (c.random ? c.int(0, 0xffff) : 0);
          attrType = a?.type;
        } else {
          rec[d.name] = sampleScalar(d, c);
        }
    }
  }
  return rec;
}

/**
 * Field values for `command` of `cluster` (global commands use the cluster's attribute table):
 * canonical without a seed, varied with one. They come in the decoded shape, derived names
 * (…Name, …Flags) included, so `decodeZcl(encodeZcl(…)).fields` deep-equals them.
 */
export function sampleFields(cluster: number, command: CommandDef, seed?: number): Fields {
  const ctx = { cluster: getCluster(cluster) };
  const raw = sampleRecord(command.fields, new Chooser(seed), ctx.cluster, true);
  const w = new Writer();
  encodeFields(command.fields, w, raw);
  return decodeFields(command.fields, new Reader(w.finish()), ctx);
}

export interface TableCommand {
  cluster: number;
  type: ZclFrameType;
  dir: Direction;
  command: CommandDef;
}

// The direction in which a global command carries the server's attributes (the tables hold
// server attributes only); Default Response goes both ways.
function globalDirections(c: CommandDef): Direction[] {
  if (c.name === 'Default Response') return ['client-to-server', 'server-to-client'];
  return /(?<!No) Response$|^Report Attributes$/.test(c.name) ? ['server-to-client'] : ['client-to-server'];
}

/**
 * Every (cluster, direction, command) in the tables: each cluster-specific command once, and
 * for each cluster with attributes every global command in the direction that carries server
 * attributes (requests client→server, responses and reports server→client).
 */
export function tableCommands(): TableCommand[] {
  const out: TableCommand[] = [];
  for (const cl of CLUSTERS) {
    for (const command of cl.commands) out.push({ cluster: cl.id, type: 'cluster', dir: command.dir as Direction, command });
    if (cl.attributes.length === 0) continue;
    for (const command of GLOBAL_COMMANDS) {
      for (const dir of globalDirections(command)) out.push({ cluster: cl.id, type: 'global', dir, command });
    }
  }
  return out;
}

/** True for a command known by name only: its payload is one opaque `payload` field. */
export function isOpaque(command: CommandDef): boolean {
  return command.fields.length === 1 && command.fields[0].name === 'payload' && command.fields[0].type === 'bytes';
}
