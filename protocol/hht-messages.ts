// The HHT side of the CH inter-PAN join (DOMAIN.md §A, PROTOCOL.md §8 "HHT over inter-PAN") as
// pure functions: the harness builds these frames, the virtual CH reads them with the same code.
// Also the HAN read (ZCL Basic Read Attributes) that shows whether an HHT is still on the HAN (IPAN-4).
import { DecodeError, EncodeError, Reader, Writer, fromHex, hex, hex16, hexN } from './bytes.ts';
import type { DecodedFrame } from './decoded.ts';
import { HanDecoder } from './decoder.ts';
import { encodeFrame } from './encoder.ts';
import { NWK_REJOIN_REQUEST, NWK_REJOIN_RESPONSE } from './nwk.ts';
import type { KeyTable } from './security.ts';
import { buildGbcs, parseGbcs, readDerLength, type GbcsCra, type GbcsMessage } from './gbcs.ts';
import { TUNNELING, encodeZcl, findCommandByName } from './zcl/index.ts';
import { PROFILE_SMART_ENERGY } from './aps.ts';
import type { Direction } from './zcl/index.ts';

// ---------------------------------------------------------------------------------------
// Tables.

/** Which ZigBee command carries a GBCS message over inter-PAN, and how. */
export interface InterPanCarrier {
  cluster: number;
  profile: number;
  /** ZCL command name per direction (client→server: HHT to CH). */
  commands: Readonly<Record<Direction, string>>;
  tunnelId: number;
  /** GB-HGRP tunnel header byte before the GBCS message (03 PUT). */
  tunnelHeader: number;
}

/**
 * UNCONFIRMED (PROTOCOL.md §8): the ZigBee command that carries CCS01 over inter-PAN. Modelled as
 * Tunneling Transfer Data with a PUT header and tunnel id 0 (no tunnel is ever requested over
 * inter-PAN). A lab that learns otherwise changes this one entry.
 */
export const CCS01_INTER_PAN_CARRIER: InterPanCarrier = {
  cluster: TUNNELING.id,
  profile: PROFILE_SMART_ENERGY,
  commands: { 'client-to-server': 'Transfer Data', 'server-to-client': 'Transfer Data' },
  tunnelId: 0x0000,
  tunnelHeader: 0x03,
};

export const CCS01_MESSAGE_CODE = 0x0001;

/** DLMS result codes a CCS01 response carries (PROTOCOL.md §8). */
export const DLMS_RESULT = { success: 0, hardwareFault: 1, temporaryFailure: 2, readWriteDenied: 3, otherReason: 250 } as const;

/** Ways the harness breaks a CCS01 on purpose (IPAN-5), each kept as data. */
export type Ccs01Malformation = 'truncated' | 'bad-length' | 'wrong-use-case';

const MALFORMATIONS: Readonly<
  Record<Ccs01Malformation, { messageCode?: number; mangle?: (gbcs: Uint8Array, payloadLength: number) => Uint8Array }>
> = {
  // The last 8 bytes lost: the lengths promise more than follows.
  truncated: { mangle: (g) => g.slice(0, g.length - 8) },
  // The content length (one byte: payloads here are < 128 bytes) claims 4 bytes more than follow.
  'bad-length': {
    mangle: (g, n) => {
      const c = g.slice();
      c[c.length - n - 2] += 4;
      return c;
    },
  },
  // Well-formed GBCS, but CCS02: not the one use case the CH takes over inter-PAN.
  'wrong-use-case': { messageCode: 0x0002 },
};

/**
 * The originator the `unauthorised` option puts in a CCS01: an entity id that no virtual CH lists
 * in its authorised HHTs. (The rig holds no signing keys: authorisation is by originator here.)
 */
export const UNAUTHORISED_ORIGINATOR = '90:b3:d5:1f:30:ff:ff:fe';

/** ZigBee Network Control (class 0x0068, OBIS 0-0:30.3.0.255), method 1 register_device (RTDS CCS01). */
const ZIGBEE_NETWORK_CONTROL = { classId: 0x0068, obis: Uint8Array.of(0x00, 0x00, 0x1e, 0x03, 0x00, 0xff), registerDevice: 1 } as const;

/** UNCONFIRMED: CCS01's device-type enum for an HHT; 6 (Type 2) borrowed from CS03's enum (PROTOCOL.md §8). */
export const CCS01_HHT_DEVICE_TYPE = 6;

/** An HHT that has not joined any PAN sends from PAN 0xffff. */
const NO_PAN = 0xffff;
const BROADCAST = 0xffff;
/** aMaxPHYPacketSize 127 less the 2-byte FCS. */
const MAX_PSDU_WITHOUT_FCS = 125;
/** GBCS's long-invoke-id as the RTDS vectors carry it: 0x20 then the counter's low 24 bits. */
const invokeId = (counter: bigint) => (0x20000000 | Number(counter & 0xffffffn)) >>> 0;

const DLMS_ACCESS_REQUEST = 0xd9;
const DLMS_ACCESS_RESPONSE = 0xda;
const DLMS_DATE_TIME_LENGTH = 12;
const REQUEST_SPEC_KIND: Readonly<Record<number, 'get' | 'set' | 'action'>> = { 1: 'get', 2: 'set', 3: 'action' };

/** SE endpoint on both sides of the HAN read. */
const SE_ENDPOINT = 1;
const BASIC_CLUSTER = 0x0000;
/** The HAN read asks the CH's Basic cluster for its ZCL Version (uint8). */
const HAN_READ_ATTRIBUTE = { id: 0x0000, dataType: 0x20, value: 3 } as const;
const READ_ATTRIBUTES = 0x00;
const READ_ATTRIBUTES_RESPONSE = 0x01;

// ---------------------------------------------------------------------------------------
// Small helpers.

/** `00:11:…:77`, lower case, most significant byte first: the one form compared everywhere. */
export function ieeeText(ieee: string): string {
  const b = fromHex(ieee);
  if (b.length !== 8) throw new EncodeError('ieee', `an IEEE address has 8 bytes, "${ieee}" has ${b.length}`);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

function tooLong(psdu: Uint8Array, what: string): Uint8Array {
  if (psdu.length > MAX_PSDU_WITHOUT_FCS) throw new EncodeError(what, `PSDU of ${psdu.length} bytes + FCS exceeds 127`);
  return psdu;
}

const commandId = (dir: Direction) => {
  const found = findCommandByName(CCS01_INTER_PAN_CARRIER.cluster, CCS01_INTER_PAN_CARRIER.commands[dir], dir);
  if (!found)
    throw new Error(
      `CCS01_INTER_PAN_CARRIER names "${CCS01_INTER_PAN_CARRIER.commands[dir]}", which cluster ${hex16(CCS01_INTER_PAN_CARRIER.cluster)} lacks`,
    );
  return found;
};

function decodePsdu(psdu: Uint8Array, keys?: KeyTable): DecodedFrame {
  // A fresh decoder: a reader must not learn from earlier frames. NWK-secured HAN frames carry their sender's IEEE (extended nonce).
  return new HanDecoder(keys).decode({ n: 1, timestampUs: 0n, frame: psdu, fcsIncluded: false });
}

/**
 * How a device NWK-secures a HAN frame (the field's SMHAN): the network key, and its own frame
 * counter, one up for every secured frame it sends; the source is the frame's NWK extended source.
 */
export interface HanSecurity {
  networkKey: Uint8Array;
  frameCounter: number;
}

const nwkSecurity = (s: HanSecurity | undefined, ieee: string) =>
  s && { key: s.networkKey, frameCounter: s.frameCounter, source: ieeeText(ieee) };

// ---------------------------------------------------------------------------------------
// DLMS, as little of it as CCS01 needs (A-XDR data, ACCESS request and response).

export interface DlmsData {
  type: number;
  /** array / structure members. */
  items?: DlmsData[];
  /** octet / visible / UTF-8 strings, bit strings. */
  bytes?: Uint8Array;
  /** Fixed-size values, big-endian. */
  value?: bigint;
}

/** Fixed sizes of A-XDR data types by tag. */
const DLMS_FIXED_SIZE: Readonly<Record<number, number>> = {
  0x00: 0,
  0x03: 1,
  0x05: 4,
  0x06: 4,
  0x0f: 1,
  0x10: 2,
  0x11: 1,
  0x12: 2,
  0x14: 8,
  0x15: 8,
  0x16: 1,
  0x17: 4,
  0x18: 8,
  0x19: 12,
  0x1a: 5,
  0x1b: 4,
};
const DLMS_COUNTED = new Set([0x01, 0x02]);
const DLMS_STRINGS = new Set([0x09, 0x0a, 0x0c]);
const DLMS_BIT_STRING = 0x04;
const DLMS_MAX_DEPTH = 8;

function readDlmsData(r: Reader, depth = 0): DlmsData {
  const at = r.position;
  const type = r.u8('DLMS data type');
  if (DLMS_COUNTED.has(type)) {
    if (depth >= DLMS_MAX_DEPTH) throw new DecodeError('DLMS data', at, `nested deeper than ${DLMS_MAX_DEPTH}`);
    const n = readDerLength(r, 'DLMS element count');
    const items: DlmsData[] = [];
    for (let i = 0; i < n; i++) items.push(readDlmsData(r, depth + 1));
    return { type, items };
  }
  if (DLMS_STRINGS.has(type)) return { type, bytes: r.bytesN(readDerLength(r, 'DLMS string length'), 'DLMS string') };
  if (type === DLMS_BIT_STRING)
    return { type, bytes: r.bytesN(Math.ceil(readDerLength(r, 'DLMS bit string length') / 8), 'DLMS bit string') };
  const size = DLMS_FIXED_SIZE[type];
  if (size === undefined) throw new DecodeError('DLMS data type', at, `0x${type.toString(16).padStart(2, '0')} is not a type CCS01 uses`);
  let value = 0n;
  for (const b of r.bytesN(size, 'DLMS value')) value = (value << 8n) | BigInt(b);
  return { type, value };
}

interface RequestSpec {
  kind: 'get' | 'set' | 'action';
  classId: number;
  obis: Uint8Array;
  id: number;
}

function readInvokeAndDateTime(r: Reader): number {
  const id = r.u32be('DLMS long-invoke-id');
  const at = r.position;
  const dt = r.u8('DLMS date-time length');
  if (dt !== 0 && dt !== DLMS_DATE_TIME_LENGTH) throw new DecodeError('DLMS date-time length', at, `${dt} is neither 0 nor 12`);
  r.bytesN(dt, 'DLMS date-time');
  return id;
}

function readRequestSpecs(r: Reader): RequestSpec[] {
  const n = readDerLength(r, 'DLMS request specification count');
  const specs: RequestSpec[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.position;
    const tag = r.u8('DLMS request specification');
    const kind = REQUEST_SPEC_KIND[tag];
    if (!kind) throw new DecodeError('DLMS request specification', at, `tag ${tag} is not 1 get, 2 set or 3 action`);
    specs.push({ kind, classId: r.u16be('DLMS class id'), obis: r.bytesN(6, 'DLMS OBIS code'), id: r.u8('DLMS attribute/method id') });
  }
  return specs;
}

/** An ACCESS request: the specs and their data, one data item per spec. */
function readAccessRequest(payload: Uint8Array): { specs: RequestSpec[]; data: DlmsData[] } {
  const r = new Reader(payload);
  const at = r.position;
  if (r.u8('DLMS tag') !== DLMS_ACCESS_REQUEST) throw new DecodeError('DLMS tag', at, 'not an ACCESS request (0xd9)');
  readInvokeAndDateTime(r);
  const specs = readRequestSpecs(r);
  const n = readDerLength(r, 'DLMS data count');
  const data: DlmsData[] = [];
  for (let i = 0; i < n; i++) data.push(readDlmsData(r));
  if (r.remaining !== 0) throw new DecodeError('DLMS ACCESS request', r.position, `${r.remaining} trailing bytes`);
  if (data.length !== specs.length)
    throw new DecodeError('DLMS data count', r.position, `${data.length} data items for ${specs.length} request specifications`);
  return { specs, data };
}

/** An ACCESS response: one result per request specification. */
function readAccessResponse(payload: Uint8Array): number[] {
  const r = new Reader(payload);
  const at = r.position;
  if (r.u8('DLMS tag') !== DLMS_ACCESS_RESPONSE) throw new DecodeError('DLMS tag', at, 'not an ACCESS response (0xda)');
  readInvokeAndDateTime(r);
  if (r.u8('DLMS access-request-specification present') !== 0) readRequestSpecs(r);
  const n = readDerLength(r, 'DLMS data count');
  for (let i = 0; i < n; i++) readDlmsData(r);
  const m = readDerLength(r, 'DLMS response specification count');
  const results: number[] = [];
  for (let i = 0; i < m; i++) {
    const tagAt = r.position;
    const tag = r.u8('DLMS response specification');
    if (!REQUEST_SPEC_KIND[tag]) throw new DecodeError('DLMS response specification', tagAt, `tag ${tag} is not 1 get, 2 set or 3 action`);
    results.push(r.u8('DLMS result'));
  }
  if (r.remaining !== 0) throw new DecodeError('DLMS ACCESS response', r.position, `${r.remaining} trailing bytes`);
  return results;
}

/**
 * CCS01's DLMS payload for one device: the register_device action only. The RTDS vector also
 * sets join_timeout and enable_disable_joining, but with those three specs a CCS01 no longer
 * fits one 127-byte inter-PAN frame (inter-PAN has no APS fragmentation).
 */
function registerDevicePayload(counter: bigint, deviceEui: string, installCode: Uint8Array): Uint8Array {
  const c = ZIGBEE_NETWORK_CONTROL;
  return (
    new Writer(64)
      .u8(DLMS_ACCESS_REQUEST)
      .u32be(invokeId(counter))
      .u8(0)
      .u8(1)
      .u8(3)
      .u16be(c.classId)
      .bytes(c.obis)
      .u8(c.registerDevice)
      .u8(1)
      // structure { EUI-64 (most significant byte first, as GBCS writes EUIs), device type, install code, 0 as RTDS }
      .u8(0x02)
      .u8(4)
      .u8(0x09)
      .u8(8)
      .bytes(fromHex(ieeeText(deviceEui)))
      .u8(0x16)
      .u8(CCS01_HHT_DEVICE_TYPE)
      .u8(0x09)
      .u8(installCode.length, 'install code length')
      .bytes(installCode)
      .u8(0x16)
      .u8(0)
      .finish()
  );
}

/** The ACCESS response to one spec: no data, one result (the RTDS response's layout). */
function accessResponsePayload(counter: bigint, result: number): Uint8Array {
  return new Writer(16)
    .u8(DLMS_ACCESS_RESPONSE)
    .u32be(invokeId(counter))
    .u8(0)
    .u8(0)
    .u8(1)
    .u8(0x00)
    .u8(1)
    .u8(3)
    .u8(result, 'result')
    .finish();
}

/** The register_device device: first element of the action's structure is its EUI-64. */
function registeredDevice(req: { specs: RequestSpec[]; data: DlmsData[] }): { ieee: string; installCode: string } | string {
  const c = ZIGBEE_NETWORK_CONTROL;
  const i = req.specs.findIndex(
    (s) => s.kind === 'action' && s.classId === c.classId && s.id === c.registerDevice && hex(s.obis) === hex(c.obis),
  );
  if (i < 0) return 'no register_device action on ZigBee Network Control';
  const [eui, , key] = req.data[i].items ?? [];
  if (req.data[i].type !== 0x02 || eui?.bytes?.length !== 8)
    return 'register_device data is not a structure starting with an 8-byte EUI-64';
  return { ieee: ieeeText(hex(eui.bytes)), installCode: key?.bytes ? hex(key.bytes) : '' };
}

// ---------------------------------------------------------------------------------------
// Inter-PAN CCS01: building.

export interface InterPanCcs01Input {
  hhtIeee: string;
  /** The CH's HAN IEEE, which is also the CHF entity id (the GBCS recipient). */
  chIeee: string;
  /** Given: unicast to chIeee on this PAN. Absent: broadcast (0xffff on PAN 0xffff). */
  chPan?: number;
  /** MAC sequence number and ZCL transaction sequence number. */
  seq: number;
  counter: bigint;
  /** The HHT's (authorised entity's) id, EUI-64 text. */
  originator: string;
  /** The HHT's install code, hex, as the RTDS key field carries it: the rig's (keys.installCodeEnv), never a built-in one. */
  installCode: string;
  malformed?: Ccs01Malformation;
  /** Replaces the originator with UNAUTHORISED_ORIGINATOR. */
  unauthorised?: boolean;
}

/** The tunnel data, ZCL, APS and NWK inter-PAN, and MAC layers around one GBCS message. */
function interPanFrame(
  gbcs: Uint8Array,
  dir: Direction,
  seq: number,
  mac: { dstPan: number; dst: string; srcPan: number; src: string },
  transaction: number,
  broadcast: boolean,
): Uint8Array {
  const carrier = CCS01_INTER_PAN_CARRIER;
  const tunnelData = new Uint8Array(gbcs.length + 1);
  tunnelData[0] = carrier.tunnelHeader;
  tunnelData.set(gbcs, 1);
  const { type, def } = commandId(dir);
  const zcl = encodeZcl(carrier.cluster, {
    type,
    cmd: def.id,
    dir,
    seq: transaction & 0xff,
    fields: { tunnelId: carrier.tunnelId, data: hex(tunnelData) },
  });
  return tooLong(
    encodeFrame(
      {
        mac: {
          type: 'data',
          seq: seq & 0xff,
          dstPan: hex16(mac.dstPan),
          dst: mac.dst,
          srcPan: hex16(mac.srcPan),
          src: mac.src,
          panIdCompression: false,
        },
        nwk: { type: 'inter-pan' },
        aps: { type: 'inter-pan', delivery: broadcast ? 'broadcast' : 'unicast', cluster: carrier.cluster, profile: carrier.profile },
        payload: zcl,
      },
      false,
    ),
    'inter-PAN CCS01',
  );
}

/** The HHT's CCS01 "Add Device to CHF Device Log" over inter-PAN, as a PSDU without FCS. */
export function buildInterPanCcs01(input: InterPanCcs01Input): Uint8Array {
  const broken = input.malformed ? MALFORMATIONS[input.malformed] : {};
  const payload = registerDevicePayload(input.counter, input.hhtIeee, fromHex(input.installCode));
  let gbcs = buildGbcs({
    envelope: 'general-signing',
    cra: 'command',
    counter: input.counter,
    originator: ieeeText(input.unauthorised ? UNAUTHORISED_ORIGINATOR : input.originator),
    recipient: ieeeText(input.chIeee),
    messageCode: broken.messageCode ?? CCS01_MESSAGE_CODE,
    payload,
  });
  if (broken.mangle) gbcs = broken.mangle(gbcs, payload.length);
  const broadcast = input.chPan === undefined;
  return interPanFrame(
    gbcs,
    'client-to-server',
    input.seq,
    {
      dstPan: input.chPan ?? BROADCAST,
      dst: broadcast ? hex16(BROADCAST) : ieeeText(input.chIeee),
      srcPan: NO_PAN,
      src: ieeeText(input.hhtIeee),
    },
    input.seq,
    broadcast,
  );
}

export interface InterPanCcs01ResponseInput {
  chIeee: string;
  chPan: number;
  hhtIeee: string;
  /** The PAN the HHT sent from (default 0xffff). */
  hhtPan?: number;
  /** MAC sequence number. */
  seq: number;
  /** The command's ZCL transaction sequence number, echoed (default seq). */
  transaction?: number;
  /** The command's counter, echoed. */
  counter: bigint;
  /** The CHF entity id (default chIeee). */
  chf?: string;
  /** The command's originator: the response's recipient. */
  recipient: string;
  /** DLMS result of register_device: 0 success (default), else 1, 2, 3 or 250. */
  result?: number;
}

/** The CH's CCS01 response (CRA 2) over inter-PAN, unicast to the HHT, as a PSDU without FCS. */
export function buildInterPanCcs01Response(input: InterPanCcs01ResponseInput): Uint8Array {
  const gbcs = buildGbcs({
    envelope: 'general-signing',
    cra: 'response',
    counter: input.counter,
    originator: ieeeText(input.chf ?? input.chIeee),
    recipient: ieeeText(input.recipient),
    messageCode: CCS01_MESSAGE_CODE,
    payload: accessResponsePayload(input.counter, input.result ?? DLMS_RESULT.success),
  });
  return interPanFrame(
    gbcs,
    'server-to-client',
    input.seq,
    {
      dstPan: input.hhtPan ?? NO_PAN,
      dst: ieeeText(input.hhtIeee),
      srcPan: input.chPan,
      src: ieeeText(input.chIeee),
    },
    input.transaction ?? input.seq,
    false,
  );
}

// ---------------------------------------------------------------------------------------
// Inter-PAN CCS01: reading.

export interface InterPanCcs01 {
  /** By ZCL direction: client→server is the HHT's command, server→client the CH's response. */
  kind: 'command' | 'response';
  /** The HHT's IEEE: MAC source of a command, MAC destination of a response. */
  hht: string;
  /** The PAN the HHT is on: MAC source PAN of a command, destination PAN of a response. */
  hhtPan: number;
  /** MAC destination as decoded: `0xffff` (broadcast) or an IEEE address. */
  dst: string;
  /** ZCL transaction sequence number. */
  transaction: number;
  counter: bigint;
  originator: string;
  recipient: string;
  messageCode?: number;
  /** Parses as GBCS, is CCS01, its CRA fits the direction, and its DLMS payload reads. */
  wellFormed: boolean;
  /** The first thing wrong, when not well-formed. */
  problem?: string;
  /** Responses: DLMS result per request specification. */
  results?: number[];
  /** Commands: the device register_device adds. */
  device?: { ieee: string; installCode: string };
}

/** The grouping header's fixed fields (offsets from DF, PROTOCOL.md §8), read even when later bytes are broken. */
function peekGroupingHeader(g: Uint8Array): { cra?: GbcsCra; counter: bigint; originator: string; recipient: string } | undefined {
  if (g.length < 29 || g[0] !== 0xdf || g[1] !== 0x09 || g[11] !== 0x08 || g[20] !== 0x08) return undefined;
  let counter = 0n;
  for (const b of g.subarray(3, 11)) counter = (counter << 8n) | BigInt(b);
  const eui = (o: number) => ieeeText(hex(g.subarray(o, o + 8)));
  const cra = ({ 1: 'command', 2: 'response', 3: 'alert' } as const)[g[2] as 1 | 2 | 3];
  return { cra, counter, originator: eui(12), recipient: eui(21) };
}

/**
 * Reads an inter-PAN CCS01 command or response with the project's decoder and GBCS parser.
 * Undefined when the frame is not inter-PAN Tunneling data on the carrier, or its GBCS grouping
 * header cannot be read (nothing in it could be answered).
 */
export function readInterPanCcs01(psdu: Uint8Array): InterPanCcs01 | undefined {
  const carrier = CCS01_INTER_PAN_CARRIER;
  const d = decodePsdu(psdu);
  if (d.nwk?.type !== 'inter-pan' || d.aps?.type !== 'inter-pan' || !d.zcl || !d.mac.src || !d.mac.dst) return undefined;
  if (Number(d.aps.cluster) !== carrier.cluster || Number(d.aps.profile) !== carrier.profile) return undefined;
  const z = d.zcl;
  const { type, def } = commandId(z.dir);
  if (z.type !== type || z.cmd !== def.id || typeof z.fields?.data !== 'string') return undefined;
  const data = fromHex(z.fields.data);
  const kind = z.dir === 'client-to-server' ? 'command' : 'response';
  const gbcs = data[0] === carrier.tunnelHeader ? data.subarray(1) : data;
  let msg: GbcsMessage | undefined;
  let problem: string | undefined =
    data[0] === carrier.tunnelHeader ? undefined : `tunnel data does not start with the ${hexN(carrier.tunnelHeader, 2)} header`;
  try {
    msg = parseGbcs(gbcs);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    problem ??= `GBCS: ${e.message}`;
  }
  const header = msg ?? peekGroupingHeader(gbcs);
  if (!header) return undefined;
  const hhtPan = kind === 'command' ? d.mac.srcPan : d.mac.dstPan;
  const out: InterPanCcs01 = {
    kind,
    hht: kind === 'command' ? d.mac.src : d.mac.dst,
    hhtPan: hhtPan === undefined ? NO_PAN : Number(hhtPan),
    dst: d.mac.dst,
    transaction: z.seq,
    counter: header.counter,
    originator: header.originator,
    recipient: header.recipient,
    wellFormed: false,
  };
  if (msg) {
    out.messageCode = msg.messageCode;
    if (msg.messageCode !== CCS01_MESSAGE_CODE) problem ??= `message code ${hexN(msg.messageCode, 4)} is not CCS01`;
    if (msg.cra !== kind) problem ??= `CRA ${msg.cra} in a ${kind} direction frame`;
    try {
      if (kind === 'command') {
        const device = registeredDevice(readAccessRequest(msg.payload));
        if (typeof device === 'string') problem ??= device;
        else out.device = device;
      } else {
        out.results = readAccessResponse(msg.payload);
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      problem ??= `DLMS: ${e.message}`;
    }
  }
  out.wellFormed = problem === undefined;
  if (problem !== undefined) out.problem = problem;
  return out;
}

// ---------------------------------------------------------------------------------------
// The HHT's join to the HAN after its CCS01: an NWK Rejoin Request, answered with its short address.

/** Rejoin Request capability: receiver on when idle, allocate an address (an HHT has none yet). */
const HHT_CAPABILITY = 0x88;
/** The NWK source of a device without a short address. */
export const NO_SHORT = 0xfffe;
const COORDINATOR = 0x0000;

export interface HhtRejoinInput {
  pan: number;
  /** The HHT's IEEE: the NWK extended source, by which the CH knows it (it has no short address yet). */
  ieee: string;
  seq: number;
  /** Absent: unsecured (a HAN without a network key). */
  security?: HanSecurity;
}

/**
 * The HHT's NWK Rejoin Request to the CH (the coordinator), from no short address (0xfffe at MAC
 * and NWK: NWK frames carry short MAC addresses) with its IEEE as NWK extended source; the
 * Rejoin Response comes back to 0xfffe with the HHT's IEEE as NWK extended destination.
 */
export function buildHhtRejoinRequest(input: HhtRejoinInput): Uint8Array {
  const pan = hex16(input.pan);
  return tooLong(
    encodeFrame(
      {
        mac: { type: 'data', seq: input.seq & 0xff, dstPan: pan, dst: hex16(COORDINATOR), srcPan: pan, src: hex16(NO_SHORT) },
        nwk: {
          type: 'command',
          dst: hex16(COORDINATOR),
          src: hex16(NO_SHORT),
          radius: 1,
          seq: input.seq & 0xff,
          src64: ieeeText(input.ieee),
          security: nwkSecurity(input.security, input.ieee),
        },
        payload: Uint8Array.of(NWK_REJOIN_REQUEST, HHT_CAPABILITY),
      },
      false,
    ),
    'HHT Rejoin Request',
  );
}

/** A Rejoin Response to the device with this IEEE address: the short address it gives and its status (0 admitted). */
export function rejoinResponseTo(d: DecodedFrame, ieee: string): { short: number; status: number } | undefined {
  const n = d.nwk;
  if (n?.type !== 'command' || n.commandId !== NWK_REJOIN_RESPONSE || n.dst64 !== ieeeText(ieee) || !n.commandFields) return undefined;
  return { short: Number(n.commandFields.address), status: Number(n.commandFields.status) };
}

// ---------------------------------------------------------------------------------------
// The HAN read (IPAN-4): is the HHT still on the HAN?

export interface HanReadInput {
  hhtShort: number;
  chShort: number;
  pan: number;
  /** MAC, NWK and APS sequence numbers and the ZCL transaction sequence number. */
  seq: number;
  /** The HHT's IEEE, sent as the NWK extended source: the CH's device log is keyed by IEEE. */
  ieee: string;
  /** Absent: unsecured (a HAN without a network key). */
  security?: HanSecurity;
}

export interface HanReadResponseInput {
  chShort: number;
  hhtShort: number;
  pan: number;
  seq: number;
  /** The read's ZCL transaction sequence number, echoed (default seq). */
  transaction?: number;
  /** The CH's IEEE (NWK extended source). */
  ieee: string;
  security?: HanSecurity;
}

/** NWK data on the HAN: NWK-secured with the network key when `security` is given, as on a field HAN. */
function hanFrame(src: number, dst: number, pan: number, seq: number, ieee: string, zcl: Uint8Array, security?: HanSecurity): Uint8Array {
  return tooLong(
    encodeFrame(
      {
        mac: { type: 'data', seq: seq & 0xff, dstPan: hex16(pan), dst: hex16(dst), srcPan: hex16(pan), src: hex16(src) },
        nwk: {
          type: 'data',
          dst: hex16(dst),
          src: hex16(src),
          radius: 30,
          seq: seq & 0xff,
          src64: ieeeText(ieee),
          security: nwkSecurity(security, ieee),
        },
        aps: {
          type: 'data',
          delivery: 'unicast',
          dstEp: SE_ENDPOINT,
          srcEp: SE_ENDPOINT,
          cluster: BASIC_CLUSTER,
          profile: CCS01_INTER_PAN_CARRIER.profile,
          counter: seq & 0xff,
        },
        payload: zcl,
      },
      false,
    ),
    'HAN read',
  );
}

/** ZCL Basic Read Attributes (ZCL Version) from the HHT to the CH over the HAN. */
export function buildHanRead(input: HanReadInput): Uint8Array {
  const zcl = encodeZcl(BASIC_CLUSTER, {
    type: 'global',
    cmd: READ_ATTRIBUTES,
    dir: 'client-to-server',
    seq: input.seq & 0xff,
    fields: { attributes: [HAN_READ_ATTRIBUTE.id] },
  });
  return hanFrame(input.hhtShort, input.chShort, input.pan, input.seq, input.ieee, zcl, input.security);
}

/** The CH's Read Attributes Response to buildHanRead. */
export function buildHanReadResponse(input: HanReadResponseInput): Uint8Array {
  const a = HAN_READ_ATTRIBUTE;
  const zcl = encodeZcl(BASIC_CLUSTER, {
    type: 'global',
    cmd: READ_ATTRIBUTES_RESPONSE,
    dir: 'server-to-client',
    seq: (input.transaction ?? input.seq) & 0xff,
    fields: { records: [{ attributeId: a.id, status: 0, dataType: a.dataType, value: a.value }] },
  });
  return hanFrame(input.chShort, input.hhtShort, input.pan, input.seq, input.ieee, zcl, input.security);
}

export interface HanRead {
  kind: 'read' | 'response';
  /** NWK extended source, when the frame carries it. */
  ieee?: string;
  src: number;
  dst: number;
  pan: number;
  transaction: number;
}

/** Reads a HAN Basic Read Attributes or its response (NWK-secured ones with `keys`); undefined for anything else. */
export function readHanRead(psdu: Uint8Array, keys?: KeyTable): HanRead | undefined {
  return hanReadOf(decodePsdu(psdu, keys));
}

/** A decoded HAN Basic Read Attributes or its response; undefined for anything else. */
export function hanReadOf(d: DecodedFrame): HanRead | undefined {
  const z = d.zcl;
  if (d.error || d.nwk?.type !== 'data' || d.aps?.type !== 'data' || Number(d.aps.cluster) !== BASIC_CLUSTER || !z || z.type !== 'global')
    return undefined;
  const kind =
    z.cmd === READ_ATTRIBUTES && z.dir === 'client-to-server'
      ? 'read'
      : z.cmd === READ_ATTRIBUTES_RESPONSE && z.dir === 'server-to-client'
        ? 'response'
        : undefined;
  if (!kind || d.nwk.src === undefined || d.nwk.dst === undefined || d.mac.dstPan === undefined) return undefined;
  const out: HanRead = { kind, src: Number(d.nwk.src), dst: Number(d.nwk.dst), pan: Number(d.mac.dstPan), transaction: z.seq };
  if (d.nwk.src64) out.ieee = d.nwk.src64;
  return out;
}
