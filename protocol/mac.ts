// IEEE 802.15.4 MAC (2003/2006, with the 2015 addressing table for frame version 2):
// decode and encode, FCS, every address mode, PAN ID compression, beacons, commands, acks.
import { DecodeError, EncodeError, Reader, Writer, hex16, hex16Fresh } from './bytes.ts';
import { crc16kermit, withFcs } from './crc.ts';
import type { DecodedMac } from './decoded.ts';

export const MAC_FRAME_TYPES = ['beacon', 'data', 'ack', 'command'] as const;
export type MacFrameType = DecodedMac['type'];

/** MAC command ids → names (IEEE 802.15.4-2006 table 82, Wireshark's wording). */
export const MAC_COMMANDS: Record<number, string> = {
  0x01: 'Association Request',
  0x02: 'Association Response',
  0x03: 'Disassociation Notification',
  0x04: 'Data Request',
  0x05: 'PAN ID Conflict',
  0x06: 'Orphan Notification',
  0x07: 'Beacon Request',
  0x08: 'Coordinator Realignment',
  0x09: 'GTS Request',
};

/** Fixed payload length of each MAC command after its id, where the standard fixes it. */
const MAC_COMMAND_LENGTH: Record<number, number> = {
  0x01: 1,
  0x02: 3,
  0x03: 1,
  0x04: 0,
  0x05: 0,
  0x06: 0,
  0x07: 0,
  0x09: 1,
};

const ADDR_NONE = 0,
  ADDR_SHORT = 2,
  ADDR_EXT = 3;

/** What the upper layers need besides the decoded shape: where the payload is and how it was addressed. */
export interface MacParse {
  mac: DecodedMac;
  dstMode: number;
  srcMode: number;
  /** Source IEEE address bytes (LE) when the MAC source is extended. */
  src64?: Uint8Array;
  /** The destination PAN and short source as numbers, when present (for address tables). */
  dstPanId?: number;
  srcShort?: number;
  payloadStart: number;
  /** End of the MAC payload (before the FCS when there is one). */
  payloadEnd: number;
  /** The payload is MAC-secured and was not decrypted. */
  encrypted: boolean;
  /** At the MAC payload, ending where it ends: the next layer reads on from here. */
  reader: Reader;
  commandId?: number;
}

const DST_PAN = 1,
  SRC_PAN = 2;

/** Which PAN ids are present (DST_PAN | SRC_PAN bits), by frame version, address modes and PAN ID compression. */
function panPresence(version: number, dstMode: number, srcMode: number, compress: boolean): number {
  if (version < 2) {
    const dstPan = dstMode !== ADDR_NONE;
    const srcPan = srcMode !== ADDR_NONE && !(compress && dstMode !== ADDR_NONE);
    return (dstPan ? DST_PAN : 0) | (srcPan ? SRC_PAN : 0);
  }
  // IEEE 802.15.4-2015 table 7-2.
  if (dstMode === ADDR_NONE && srcMode === ADDR_NONE) return compress ? DST_PAN : 0;
  if (srcMode === ADDR_NONE) return compress ? 0 : DST_PAN;
  if (dstMode === ADDR_NONE) return compress ? 0 : SRC_PAN;
  if (dstMode === ADDR_EXT && srcMode === ADDR_EXT) return compress ? 0 : DST_PAN;
  return DST_PAN | (compress ? 0 : SRC_PAN);
}

/**
 * A MacParse for decodeMac to fill frame after frame (its `into`), reader included: a hot loop
 * then allocates neither per frame. Nothing of it may be kept past the next call but `mac`.
 */
export function scratchMacParse(): MacParse {
  return emptyMacParse(new Reader(new Uint8Array(0)));
}

/** A MacParse over `reader` with every key present (decodeMac fills them). */
function emptyMacParse(reader: Reader): MacParse {
  return {
    mac: undefined!,
    dstMode: 0,
    srcMode: 0,
    src64: undefined,
    dstPanId: undefined,
    srcShort: undefined,
    payloadStart: 0,
    payloadEnd: 0,
    encrypted: false,
    reader,
    commandId: undefined,
  };
}

/**
 * Decodes the MAC header of a frame. `fcsIncluded` says whether the last two bytes are an FCS.
 * Throws DecodeError (with the offset) when the header itself is cut short. With `into` (from
 * scratchMacParse) the answer is written there instead of into a new MacParse.
 */
export function decodeMac(frame: Uint8Array, fcsIncluded: boolean, sink?: { mac?: DecodedMac }, into?: MacParse): MacParse {
  const end = fcsIncluded ? frame.length - 2 : frame.length;
  if (end < 2) throw new DecodeError('MAC frame control', 0, `frame of ${frame.length} bytes is too short`);
  const r = into ? into.reader.reset(frame, 0, 0, end) : new Reader(frame, 0, 0, end);
  const fcf = r.u16('MAC frame control');
  const typeId = fcf & 0x7;
  const version = (fcf >> 12) & 0x3;
  const security = (fcf & 0x08) !== 0;
  const compress = (fcf & 0x40) !== 0;
  // Wireshark honours sequence number suppression (a 2015 bit) in every frame version; so do we.
  const seqSuppressed = (fcf & 0x100) !== 0;
  const dstMode = (fcf >> 10) & 0x3;
  const srcMode = (fcf >> 14) & 0x3;
  // Every key in the shape's order, absent ones undefined: one hidden class for every frame.
  const mac: DecodedMac = {
    type: typeId < 4 ? MAC_FRAME_TYPES[typeId] : 'reserved',
    security,
    framePending: (fcf & 0x10) !== 0,
    ackRequest: (fcf & 0x20) !== 0,
    panIdCompression: compress,
    version,
    fcs: undefined,
    fcsOk: undefined,
    seq: undefined,
    dstPan: undefined,
    dst: undefined,
    srcPan: undefined,
    src: undefined,
    command: undefined,
    beacon: undefined,
  };
  // The caller sees whatever was decoded, even when a later field is cut short.
  if (sink) sink.mac = mac;
  if (fcsIncluded) {
    const fcs = frame[end] | (frame[end + 1] << 8);
    mac.fcs = hex16Fresh(fcs);
    mac.fcsOk = crc16kermit(frame, 0, end) === fcs;
  }
  const out = into ?? emptyMacParse(r);
  out.mac = mac;
  out.dstMode = dstMode;
  out.srcMode = srcMode;
  out.src64 = out.dstPanId = out.srcShort = out.commandId = undefined;
  out.payloadStart = out.payloadEnd = end;
  out.encrypted = false;
  if (!seqSuppressed) mac.seq = r.u8('MAC sequence number');
  if (version === 3) throw new DecodeError('MAC frame control', 0, 'frame version 3 is reserved');
  if (dstMode === 1 || srcMode === 1) throw new DecodeError('MAC frame control', 0, 'reserved address mode 1');
  if (version < 2 && compress && (dstMode === ADDR_NONE || srcMode === ADDR_NONE)) {
    throw new DecodeError('MAC frame control', 0, 'PAN ID compression needs both addresses before 802.15.4-2015');
  }
  const pans = panPresence(version, dstMode, srcMode, compress);
  const dstPanPresent = (pans & DST_PAN) !== 0,
    srcPanPresent = (pans & SRC_PAN) !== 0;
  if (dstPanPresent) mac.dstPan = hex16((out.dstPanId = r.u16('MAC destination PAN')));
  if (dstMode === ADDR_SHORT) mac.dst = hex16(r.u16('MAC destination address'));
  else if (dstMode === ADDR_EXT) mac.dst = r.eui64('MAC destination address');
  if (srcPanPresent) mac.srcPan = hex16(r.u16('MAC source PAN'));
  if (srcMode === ADDR_SHORT) mac.src = hex16((out.srcShort = r.u16('MAC source address')));
  else if (srcMode === ADDR_EXT) {
    const src = r.eui64Bytes('MAC source address');
    out.src64 = src.le;
    mac.src = src.text;
  }
  if (typeId >= 4) {
    out.payloadStart = r.offset;
    return out; // Reserved frame types: the header is all we can read.
  }
  if (security && version >= 1) {
    // Auxiliary security header (802.15.4-2006 7.6.2); ZigBee does not use MAC security, so the payload stays encrypted.
    const control = r.u8('MAC security control');
    if (!(version === 2 && control & 0x20)) r.u32('MAC frame counter');
    const keyIdMode = (control >> 3) & 0x3;
    r.bytesN([0, 1, 5, 9][keyIdMode], 'MAC key identifier');
    out.encrypted = true;
  } else if (security) {
    out.encrypted = true;
  }
  if (version === 2 && fcf & 0x200) {
    throw new DecodeError('MAC header IEs', r.position, 'information elements (802.15.4-2015) are not decoded');
  }
  if (!out.encrypted) {
    if (typeId === 0) mac.beacon = decodeBeacon(r);
    else if (typeId === 3) {
      const id = r.u8('MAC command id');
      out.commandId = id;
      mac.command = MAC_COMMANDS[id] ?? `Unknown Command 0x${id.toString(16).padStart(2, '0')}`;
      const need = MAC_COMMAND_LENGTH[id];
      if (need !== undefined) r.need(need, `MAC ${mac.command} payload`);
      if (id === 0x08) r.need(7, 'MAC Coordinator Realignment payload');
    }
  }
  out.payloadStart = r.offset;
  return out;
}

/** Superframe, GTS and pending address fields; the beacon payload is left to the NWK layer. */
function decodeBeacon(r: Reader): Record<string, unknown> {
  const superframe = r.u16('beacon superframe specification');
  const gts = r.u8('beacon GTS specification');
  const gtsCount = gts & 0x7;
  if (gtsCount > 0) r.bytesN(1 + 3 * gtsCount, 'beacon GTS list');
  const pending = r.u8('beacon pending address specification');
  const shortCount = pending & 0x7,
    extCount = (pending >> 4) & 0x7;
  r.bytesN(shortCount * 2 + extCount * 8, 'beacon pending addresses');
  return {
    beaconOrder: superframe & 0xf,
    superframeOrder: (superframe >> 4) & 0xf,
    panCoordinator: (superframe & 0x4000) !== 0,
    associationPermit: (superframe & 0x8000) !== 0,
  };
}

/** Input for encodeMac. Addresses: `0x1234` (short) or `00:11:…:77` (extended); absent means mode none. */
export interface MacFrameSpec {
  type: 'beacon' | 'data' | 'ack' | 'command';
  seq: number;
  security?: boolean;
  framePending?: boolean;
  ackRequest?: boolean;
  /** Defaults to true when both addresses are present and the PANs are equal. */
  panIdCompression?: boolean;
  version?: 0 | 1;
  dstPan?: string;
  dst?: string;
  srcPan?: string;
  src?: string;
  payload?: Uint8Array;
}

function addressMode(a: string | undefined): number {
  if (a === undefined) return ADDR_NONE;
  return /^0x[0-9a-f]{1,4}$/i.test(a) ? ADDR_SHORT : ADDR_EXT;
}

function writeAddress(w: Writer, a: string, field: string): void {
  if (addressMode(a) === ADDR_SHORT) w.u16(parseInt(a, 16), field);
  else w.eui64(a, field);
}

/** Encodes a MAC frame; `fcs` appends the CRC-16/KERMIT FCS (default true). */
export function encodeMac(spec: MacFrameSpec, fcs = true): Uint8Array {
  const dstMode = addressMode(spec.dst),
    srcMode = addressMode(spec.src);
  const compress = spec.panIdCompression ?? (dstMode !== ADDR_NONE && srcMode !== ADDR_NONE && spec.srcPan === spec.dstPan);
  const version = spec.version ?? 0;
  const typeId = MAC_FRAME_TYPES.indexOf(spec.type);
  if (typeId < 0) throw new EncodeError('MAC frame type', `unknown type ${spec.type}`);
  const fcf =
    typeId |
    (spec.security ? 0x08 : 0) |
    (spec.framePending ? 0x10 : 0) |
    (spec.ackRequest ? 0x20 : 0) |
    (compress ? 0x40 : 0) |
    (dstMode << 10) |
    (version << 12) |
    (srcMode << 14);
  const w = new Writer(128);
  w.u16(fcf, 'MAC frame control').u8(spec.seq, 'MAC sequence number');
  const pans = panPresence(version, dstMode, srcMode, compress);
  const dstPanPresent = (pans & DST_PAN) !== 0,
    srcPanPresent = (pans & SRC_PAN) !== 0;
  if (dstPanPresent) {
    if (spec.dstPan === undefined) throw new EncodeError('MAC destination PAN', 'required with a destination address');
    w.u16(parseInt(spec.dstPan, 16), 'MAC destination PAN');
  }
  if (spec.dst !== undefined) writeAddress(w, spec.dst, 'MAC destination address');
  if (srcPanPresent) {
    if (spec.srcPan === undefined) throw new EncodeError('MAC source PAN', 'required with a source address');
    w.u16(parseInt(spec.srcPan, 16), 'MAC source PAN');
  }
  if (spec.src !== undefined) writeAddress(w, spec.src, 'MAC source address');
  if (spec.payload) w.bytes(spec.payload);
  const body = w.finish();
  if (body.length + (fcs ? 2 : 0) > 127) throw new EncodeError('MAC frame', `PSDU of ${body.length + 2} bytes exceeds 127`);
  return fcs ? withFcs(body) : body;
}
