// The ZCL frame (ZCL rev 6 §2.4): header, then a payload laid out by the command's table row.
//
// Errors: only the header throws (DecodeError: truncated, or a reserved frame type). A payload
// that ends inside a field does not throw: the frame comes back titled, with the fields read
// so far and `error: { offset, message }` (frame offsets, the shape of DecodedFrame.error), so a
// frame is never left nameless. Bytes left over after the last field are kept as
// `fields.trailing` (hex) and written back by encodeZcl.

import { DecodeError, EncodeError, Reader, Writer, hex, hex16, hexN } from '../bytes.ts';
import type { DecodedZcl } from '../decoded.ts';
import { getCluster } from './clusters/index.ts';
import { GLOBAL_COMMANDS } from './global.ts';
import { decodeFields, encodeFields } from './schema.ts';
import type { CommandDef, Direction, Fields } from './schema.ts';
import { octets } from './types.ts';

export type ZclFrameType = DecodedZcl['type'];

export interface ZclHeader {
  type: ZclFrameType;
  dir: Direction;
  mfr?: number;
  disableDefaultResponse: boolean;
  seq: number;
  cmd: number;
  /** Header length in bytes: 3, or 5 with a manufacturer code. */
  length: number;
}

/**
 * DecodedZcl plus what it lacks, each present only when it applies (otherwise the object has
 * exactly the DecodedZcl shape): the header's disable-default-response bit, and the payload
 * error.
 */
export interface ZclDecoded extends DecodedZcl {
  disableDefaultResponse?: true;
  /** The payload ended inside a field (or held an unknown data type): where, and what. */
  error?: { offset: number; message: string };
}

const FC_CLUSTER = 0x01;
const FC_MANUFACTURER = 0x04;
const FC_SERVER_TO_CLIENT = 0x08;
const FC_DISABLE_DEFAULT_RESPONSE = 0x10;

export function decodeZclHeader(payload: Uint8Array, base = 0): ZclHeader {
  return readZclHeader(new Reader(payload, 0, base));
}

/** Reads the header from `r` (at the frame's start), leaving it at the payload. */
function readZclHeader(r: Reader): ZclHeader {
  const start = r.offset;
  const base = r.position;
  const fc = r.u8('ZCL frame control');
  const frameType = fc & 0x03;
  if (frameType > 1) throw new DecodeError('ZCL frame control', base, `reserved frame type ${frameType}`);
  const mfr = fc & FC_MANUFACTURER ? r.u16('ZCL manufacturer code') : undefined;
  const seq = r.u8('ZCL transaction sequence number');
  const cmd = r.u8('ZCL command id');
  const h: ZclHeader = {
    type: frameType === FC_CLUSTER ? 'cluster' : 'global',
    dir: fc & FC_SERVER_TO_CLIENT ? 'server-to-client' : 'client-to-server',
    disableDefaultResponse: (fc & FC_DISABLE_DEFAULT_RESPONSE) !== 0,
    seq,
    cmd,
    length: r.offset - start,
  };
  if (mfr !== undefined) h.mfr = mfr;
  return h;
}

export function encodeZclHeader(w: Writer, h: Omit<ZclHeader, 'length'>): void {
  let fc = h.type === 'cluster' ? FC_CLUSTER : 0;
  if (h.mfr !== undefined) fc |= FC_MANUFACTURER;
  if (h.dir === 'server-to-client') fc |= FC_SERVER_TO_CLIENT;
  if (h.disableDefaultResponse) fc |= FC_DISABLE_DEFAULT_RESPONSE;
  w.u8(fc, 'ZCL frame control');
  if (h.mfr !== undefined) w.u16(h.mfr, 'ZCL manufacturer code');
  w.u8(h.seq, 'ZCL transaction sequence number');
  w.u8(h.cmd, 'ZCL command id');
}

/** findCommand's answers by (cluster, type, direction, id): table rows are fixed once loaded. */
const commandCache = new Map<number, CommandDef | null>();

/**
 * The table row for a command: global commands are the same in every cluster and direction;
 * a manufacturer-specific cluster command is the manufacturer's, so no row matches it.
 */
export function findCommand(cluster: number, type: ZclFrameType, dir: Direction, cmd: number, mfr?: number): CommandDef | undefined {
  if (type === 'cluster' && mfr !== undefined) return undefined;
  // Every frame asks (decode and summary): a packed key instead of scanning the tables each time.
  const key = type === 'global' ? cmd & 0xff : 0x2000000 + (cluster & 0xffff) * 512 + (dir === 'server-to-client' ? 256 : 0) + (cmd & 0xff);
  let def = commandCache.get(key);
  if (def === undefined) {
    def =
      (type === 'global'
        ? GLOBAL_COMMANDS.find((c) => c.id === cmd)
        : getCluster(cluster)?.commands.find((c) => c.id === cmd && c.dir === dir)) ?? null;
    commandCache.set(key, def);
  }
  return def ?? undefined;
}

/** The name of a command: its row's, or what Wireshark calls one without a row. */
function commandName(def: CommandDef | undefined, type: ZclFrameType, cmd: number, mfr?: number): string {
  if (def) return def.name;
  if (type === 'cluster' && mfr !== undefined) return `Manufacturer Specific Command ${hexN(cmd, 2)}`;
  return `Unknown Command ${hexN(cmd, 2)}`;
}

export function zclCommandName(cluster: number, type: ZclFrameType, dir: Direction, cmd: number, mfr?: number): string {
  return commandName(findCommand(cluster, type, dir, cmd, mfr), type, cmd, mfr);
}

/**
 * Decodes a ZCL frame of `cluster`; `base` is the payload's offset in the whole frame. Throws
 * DecodeError only for the header; payload problems come back in `error`.
 */
export function decodeZcl(payload: Uint8Array, cluster: number, base = 0): ZclDecoded {
  return decodeZclAt(new Reader(payload, 0, base), cluster);
}

/** decodeZcl() of the ZCL frame that `r` is at (to its end), read in place. */
export function decodeZclAt(r: Reader, cluster: number): ZclDecoded {
  const h = readZclHeader(r);
  const def = findCommand(cluster, h.type, h.dir, h.cmd, h.mfr);
  // Every key in the shape's order, absent ones undefined: one hidden class for every frame.
  const out: ZclDecoded = {
    type: h.type,
    cmd: h.cmd,
    dir: h.dir,
    mfr: h.mfr,
    seq: h.seq,
    name: commandName(def, h.type, h.cmd, h.mfr),
    disableDefaultResponse: h.disableDefaultResponse ? true : undefined,
    fields: undefined,
    error: undefined,
  };
  if (!def) return out;
  const fields: Fields = {};
  out.fields = fields;
  try {
    // Manufacturer-specific attribute ids are the manufacturer's: the cluster table must not name them.
    decodeFields(def.fields, r, { cluster: h.mfr === undefined ? getCluster(cluster) : undefined }, '', fields);
    if (r.remaining > 0) fields.trailing = hex(r.rest());
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    out.error = { offset: e.offset, message: e.message };
  }
  return out;
}

/** What encodeZcl needs: the command by `cmd` (with `type`) or by `name`; a decoded frame fits. */
export interface ZclFrameSpec {
  type?: ZclFrameType;
  cmd?: number;
  name?: string;
  dir: Direction;
  mfr?: number;
  seq: number;
  disableDefaultResponse?: boolean;
  fields?: Fields;
  /** Raw payload after the header, instead of fields: for unknown commands and malformed frames. */
  payload?: Uint8Array;
}

/** Finds a command by name (case-insensitive; Wireshark's spelling too) for a direction. */
export function findCommandByName(
  cluster: number,
  name: string,
  dir: Direction,
  type?: ZclFrameType,
): { type: ZclFrameType; def: CommandDef } | undefined {
  const want = name.toLowerCase();
  const matches = (c: CommandDef) => c.name.toLowerCase() === want || c.wireshark?.toLowerCase() === want;
  if (type !== 'global') {
    const def = getCluster(cluster)?.commands.find((c) => c.dir === dir && matches(c));
    if (def) return { type: 'cluster', def };
  }
  if (type !== 'cluster') {
    const def = GLOBAL_COMMANDS.find(matches);
    if (def) return { type: 'global', def };
  }
  return undefined;
}

export function encodeZcl(cluster: number, frame: ZclFrameSpec): Uint8Array {
  let type = frame.type;
  let def: CommandDef | undefined;
  let cmd = frame.cmd;
  if (frame.name !== undefined && !(frame.mfr !== undefined && frame.type === 'cluster')) {
    const found = findCommandByName(cluster, frame.name, frame.dir, frame.type);
    if (found) {
      if (cmd !== undefined && cmd !== found.def.id) {
        throw new EncodeError('cmd', `${hexN(cmd, 2)} is not ${found.def.name} (${hexN(found.def.id, 2)})`);
      }
      ({ type, def } = found);
      cmd = def.id;
    } else if (cmd === undefined) {
      throw new EncodeError('name', `no ${frame.dir} command "${frame.name}" in cluster ${hexN(cluster, 4)}`);
    }
  }
  if (cmd === undefined || type === undefined) throw new EncodeError('cmd', 'give cmd and type, or a known name');
  def ??= findCommand(cluster, type, frame.dir, cmd, frame.mfr);

  const w = new Writer(64);
  const header: Omit<ZclHeader, 'length'> = {
    type,
    dir: frame.dir,
    disableDefaultResponse: frame.disableDefaultResponse === true,
    seq: frame.seq,
    cmd,
  };
  if (frame.mfr !== undefined) header.mfr = frame.mfr;
  encodeZclHeader(w, header);
  if (frame.payload !== undefined) {
    w.bytes(frame.payload);
  } else if (def) {
    const fields = frame.fields ?? {};
    encodeFields(def.fields, w, fields);
    if (fields.trailing !== undefined) w.bytes(octets(fields.trailing, 'trailing'));
  } else if (frame.fields !== undefined && Object.keys(frame.fields).length > 0) {
    throw new EncodeError('fields', `no table row for ${type} command ${hexN(cmd, 2)} of cluster ${hexN(cluster, 4)}; give a payload`);
  }
  return w.finish();
}

/**
 * One line for a ZCL frame: `ZCL 0x0708 Publish Change of Tenancy → 0x1234, implementation
 * 2016-11-22T02:46:56Z, control 0x00000200 (clear IHD data (consumer))`; `dst` is optional.
 */
export function summariseZcl(cluster: number, decoded: DecodedZcl, dst?: string): string {
  const head = `ZCL ${hex16(cluster)} ${decoded.name}${dst ? ` → ${dst}` : ''}`;
  const def = findCommand(cluster, decoded.type, decoded.dir, decoded.cmd, decoded.mfr);
  if (!def?.summary || !decoded.fields || (decoded as ZclDecoded).error) return head;
  try {
    return head + def.summary(decoded.fields, { cluster: getCluster(cluster) });
  } catch {
    // A summary is a convenience: fields it does not expect must never cost the frame its title.
    return head;
  }
}
