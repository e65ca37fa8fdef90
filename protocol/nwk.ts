// ZigBee NWK layer (ZigBee PRO): header decode/encode, NWK commands, the ZigBee beacon
// payload, and the 2-byte inter-PAN stub header.
import { DecodeError, EncodeError, type Reader, Writer, hex16 } from './bytes.ts';
import type { DecodedNwk } from './decoded.ts';

export const NWK_FRAME_TYPES: Record<number, DecodedNwk['type']> = { 0: 'data', 1: 'command', 3: 'inter-pan' };

/** NWK command ids → names (ZigBee 3.0 table 3-42, Wireshark's wording). */
export const NWK_COMMANDS: Record<number, string> = {
  0x01: 'Route Request',
  0x02: 'Route Reply',
  0x03: 'Network Status',
  0x04: 'Leave',
  0x05: 'Route Record',
  0x06: 'Rejoin Request',
  0x07: 'Rejoin Response',
  0x08: 'Link Status',
  0x09: 'Network Report',
  0x0a: 'Network Update',
  0x0b: 'End Device Timeout Request',
  0x0c: 'End Device Timeout Response',
  0x0d: 'Link Power Delta',
};

export const ZIGBEE_PROTOCOL_VERSIONS = { 2004: 1, PRO: 2 } as const;

export interface NwkParse {
  nwk: DecodedNwk;
  /** Offset of the NWK header in the MAC frame (the start of the authenticated data when secured). */
  headerStart: number;
  /** Offset of the auxiliary security header, when secured. */
  auxStart?: number;
  /** Offset of the NWK payload (after the aux header when secured). */
  payloadStart: number;
  /** IEEE source from the header, bytes LE. */
  src64Bytes?: Uint8Array;
  /** The NWK source as a number (absent for inter-PAN). */
  src?: number;
}

/**
 * Wireshark 4.0's test for "this MAC payload is ZigBee NWK" (checked against tshark): NWK
 * protocol version 1 or 2, and either short MAC source and destination with a data or command
 * frame, or an extended MAC source with an inter-PAN frame (broadcast or unicast to an IEEE address).
 */
export function looksLikeNwk(payload: Uint8Array, start: number, end: number, dstMode: number, srcMode: number): boolean {
  if (end - start < 2) return false;
  const fcf = payload[start] | (payload[start + 1] << 8);
  const version = (fcf >> 2) & 0xf;
  if (version < 1 || version > 2) return false;
  const type = fcf & 3;
  if (srcMode === 2 && dstMode === 2) return type === 0 || type === 1;
  return srcMode === 3 && dstMode !== 0 && type === 3;
}

/** Decodes the NWK header up to its payload (or up to the aux security header, which the caller reads). */
export function decodeNwkHeader(r: Reader): NwkParse {
  const headerStart = r.offset;
  const fcf = r.u16('NWK frame control');
  const typeId = fcf & 3;
  // Every key in the shape's order, absent ones undefined: one hidden class for every frame.
  const nwk: DecodedNwk = {
    type: NWK_FRAME_TYPES[typeId] ?? 'reserved',
    version: (fcf >> 2) & 0xf,
    secured: (fcf & 0x0200) !== 0,
    dst: undefined,
    src: undefined,
    radius: undefined,
    seq: undefined,
    dst64: undefined,
    src64: undefined,
    security: undefined,
    decrypted: undefined,
    commandId: undefined,
    command: undefined,
    commandFields: undefined,
  };
  const out: NwkParse = { nwk, headerStart, auxStart: undefined, payloadStart: r.offset, src64Bytes: undefined, src: undefined };
  if (typeId === 3) return out; // Inter-PAN: the stub header is the frame control alone.
  nwk.dst = hex16(r.u16('NWK destination'));
  nwk.src = hex16((out.src = r.u16('NWK source')));
  nwk.radius = r.u8('NWK radius');
  nwk.seq = r.u8('NWK sequence number');
  if (fcf & 0x0800) nwk.dst64 = r.eui64('NWK extended destination');
  if (fcf & 0x1000) {
    const src = r.eui64Bytes('NWK extended source');
    out.src64Bytes = src.le;
    nwk.src64 = src.text;
  }
  if (fcf & 0x0100) r.u8('NWK multicast control');
  if (fcf & 0x0400) {
    const count = r.u8('NWK source route relay count');
    r.u8('NWK source route relay index');
    r.bytesN(2 * count, 'NWK source route relay list');
  }
  out.payloadStart = r.offset;
  if (nwk.secured) out.auxStart = r.offset;
  return out;
}

export const NWK_REJOIN_REQUEST = 0x06,
  NWK_REJOIN_RESPONSE = 0x07;

/** The bodies of the commands a device joins by (ZigBee 3.0 §3.4.6, §3.4.7): one row a command. */
const NWK_COMMAND_FIELDS: Readonly<Record<number, (r: Reader) => Record<string, number | string>>> = {
  [NWK_REJOIN_REQUEST]: (r) => ({ capability: r.u8('NWK Rejoin Request capability information') }),
  [NWK_REJOIN_RESPONSE]: (r) => ({
    address: hex16(r.u16('NWK Rejoin Response network address')),
    status: r.u8('NWK Rejoin Response status'),
  }),
};

/** Names an NWK command from its (plaintext) payload, and decodes the body of those in NWK_COMMAND_FIELDS. */
export function decodeNwkCommand(nwk: DecodedNwk, r: Reader): void {
  const id = r.u8('NWK command id');
  nwk.commandId = id;
  nwk.command = NWK_COMMANDS[id] ?? `Unknown NWK command 0x${id.toString(16).padStart(2, '0')}`;
  const body = NWK_COMMAND_FIELDS[id];
  if (body) nwk.commandFields = body(r);
}

/** The ZigBee beacon payload (protocol id 0) carried in a MAC beacon. */
export function decodeZigbeeBeacon(r: Reader): Record<string, unknown> {
  const protocolId = r.u8('ZigBee beacon protocol id');
  if (protocolId !== 0) throw new DecodeError('ZigBee beacon protocol id', r.position - 1, `${protocolId} is not ZigBee (0)`);
  const info = r.u16('ZigBee beacon stack profile');
  const extPanId = r.eui64('ZigBee beacon extended PAN id');
  const out: Record<string, unknown> = {
    stackProfile: info & 0xf,
    protocolVersion: (info >> 4) & 0xf,
    routerCapacity: (info & 0x0400) !== 0,
    depth: (info >> 11) & 0xf,
    endDeviceCapacity: (info & 0x8000) !== 0,
    extendedPanId: extPanId,
  };
  if (r.remaining >= 4) {
    r.bytesN(3, 'ZigBee beacon tx offset');
    out.updateId = r.u8('ZigBee beacon update id');
  }
  return out;
}

export interface NwkHeaderSpec {
  type: 'data' | 'command' | 'inter-pan';
  version?: number;
  discoverRoute?: number;
  security?: boolean;
  dst?: string;
  src?: string;
  radius?: number;
  seq?: number;
  dst64?: string;
  src64?: string;
  endDeviceInitiator?: boolean;
}

/** Encodes an NWK header (without aux security header or payload). */
export function encodeNwkHeader(spec: NwkHeaderSpec, w = new Writer(32)): Writer {
  const typeId = spec.type === 'data' ? 0 : spec.type === 'command' ? 1 : 3;
  const version = spec.version ?? 2;
  const fcf =
    typeId |
    (version << 2) |
    ((spec.discoverRoute ?? 0) << 6) |
    (spec.security ? 0x0200 : 0) |
    (spec.dst64 ? 0x0800 : 0) |
    (spec.src64 ? 0x1000 : 0) |
    (spec.endDeviceInitiator ? 0x2000 : 0);
  w.u16(fcf, 'NWK frame control');
  if (typeId === 3) return w;
  if (spec.dst === undefined || spec.src === undefined) throw new EncodeError('NWK header', 'dst and src are required');
  w.u16(parseInt(spec.dst, 16), 'NWK destination').u16(parseInt(spec.src, 16), 'NWK source');
  w.u8(spec.radius ?? 30, 'NWK radius').u8(spec.seq ?? 0, 'NWK sequence number');
  if (spec.dst64) w.eui64(spec.dst64, 'NWK extended destination');
  if (spec.src64) w.eui64(spec.src64, 'NWK extended source');
  return w;
}

/** What a ZigBee router or coordinator advertises in its beacon payload (protocol id 0). */
export interface ZigbeeBeaconSpec {
  extendedPanId: string;
  /** 2: ZigBee PRO. */
  stackProfile?: number;
  depth?: number;
  routerCapacity?: boolean;
  endDeviceCapacity?: boolean;
  updateId?: number;
}

/** Encodes the ZigBee beacon payload that follows the MAC beacon fields (the inverse of decodeZigbeeBeacon). */
export function encodeZigbeeBeacon(spec: ZigbeeBeaconSpec, w = new Writer(15)): Writer {
  const info =
    ((spec.stackProfile ?? 2) & 0xf) |
    (2 << 4) |
    (spec.routerCapacity ? 0x0400 : 0) |
    (((spec.depth ?? 0) & 0xf) << 11) |
    (spec.endDeviceCapacity ? 0x8000 : 0);
  w.u8(0, 'ZigBee beacon protocol id').u16(info, 'ZigBee beacon stack profile').eui64(spec.extendedPanId, 'ZigBee beacon extended PAN id');
  // Tx offset 0xffffff (no beacon-enabled network), then the NWK update id.
  return w
    .u8(0xff)
    .u8(0xff)
    .u8(0xff)
    .u8(spec.updateId ?? 0, 'ZigBee beacon update id');
}
