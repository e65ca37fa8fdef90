// GBCS messages (PROTOCOL.md §8): the General-Ciphering MAC header (0xDD) around the
// General-Signing grouping header (0xDF), parsed, recognised, titled and built. Counters
// are bigints inside and decimal strings in DecodedGbcs (the title's `#1302`). EUI-64s on
// this wire are most significant byte first, unlike ZigBee's little-endian IEEE addresses.

import { DecodeError, EncodeError, Reader, Writer, fromHex, hexN } from './bytes.ts';
import type { DecodedGbcs } from './decoded.ts';
import { PROFILE_SMART_ENERGY } from './aps.ts';
import { counted } from './words.ts';

// ---------------------------------------------------------------------------------------
// Tables. Adding a use case, an alert code or a payload kind is one row.

export interface GbcsUseCase {
  name: string;
  title: string;
}

/**
 * Message code (first 2 bytes of other-information) → use case. The first eight rows are
 * PROTOCOL.md §8; the rest agree with the message-code table of the DCC's own parser
 * (SmartDCCInnovation/gbcs-parser src/util.ts), kept to the HAN-facing ones.
 */
export const GBCS_USE_CASES: Readonly<Record<number, GbcsUseCase>> = {
  0x0001: { name: 'CCS01', title: 'Add Device to CHF Device Log' },
  0x0002: { name: 'CCS02', title: 'Remove Device from CHF Device Log' },
  0x0003: { name: 'CCS03', title: 'Restore CHF Device Log' },
  0x0022: { name: 'ECS12', title: 'Set Change of Tenancy date on ESME' },
  0x0072: { name: 'GCS09', title: 'Set Change of Tenancy date on GPF' },
  0x0018: { name: 'CS14', title: 'Device Addition to / Removal from HAN Whitelist Alerts' },
  0x1000: { name: 'Alert', title: 'Generic Critical Alert' },
  0x1001: { name: 'Alert', title: 'Generic Non-Critical Alert' },
  0x000d: { name: 'CS03A1', title: 'Method A Join (Meter)' },
  0x00ab: { name: 'CS03A2', title: 'Method A Join (non Meter)' },
  0x000e: { name: 'CS03B', title: 'Method B Join' },
  0x00af: { name: 'CS03C', title: 'Method C Join' },
  0x000f: { name: 'CS04AC', title: 'Method A or C Unjoin' },
  0x0010: { name: 'CS04B', title: 'Method B Unjoin' },
  0x0013: { name: 'CS07', title: 'Read Device Join Details' },
  0x00fe: { name: 'CCS07', title: 'Read CHF Device Logs' },
  0x010f: { name: 'CCS06', title: 'Read CHF Device Log and Check HAN Communications' },
  0x008c: { name: 'GCS59', title: 'Restore GPF Device Log' },
  0x00b2: { name: 'GCS62', title: 'Backup GPF Device Log' },
};

/** Alert code → title. PROTOCOL.md §8 first; the rest as in gbcs-parser's alert table. */
export const GBCS_ALERTS: Readonly<Record<number, string>> = {
  0x8f12: 'CHF Device Log Changed',
  0x8183: 'Device joined SMHAN',
  0x8071: 'GPF Device Log Changed',
  0x81a2: 'CH Connected to ESME',
  0x81a3: 'CH Disconnected from ESME',
  0x81a4: 'Close Tunnel Command Rejected',
  0x81ba: 'Request Tunnel Command Rejected',
  0x8f48: 'Device joining failed',
  0x8f49: 'Device joining succeeded',
  0x8f4a: 'Device unjoining failed',
  0x8f4b: 'Device unjoining succeeded',
};

export type GbcsEnvelope = DecodedGbcs['envelope'];
export type GbcsCra = DecodedGbcs['cra'];

const CRA_BY_FLAG: Readonly<Record<number, GbcsCra>> = { 1: 'command', 2: 'response', 3: 'alert' };
const FLAG_BY_CRA: Readonly<Record<GbcsCra, number>> = { command: 1, response: 2, alert: 3 };

export type GbcsPayloadKind = 'dlms-access-request' | 'dlms-access-response' | 'dlms-data-notification' | 'gbz' | 'asn1' | 'unknown';

/** Payload kind by its first byte; GBZ is told by two bytes (its profile id, Smart Energy's). */
const PAYLOAD_KIND_BY_TAG: Readonly<Record<number, GbcsPayloadKind>> = {
  0xd9: 'dlms-access-request',
  0xda: 'dlms-access-response',
  0x0f: 'dlms-data-notification',
  0x30: 'asn1',
};
const GBZ_PROFILE = PROFILE_SMART_ENERGY;

// Fixed bytes of the two headers: GBCS leaves every DLMS field they duplicate empty.
const GENERAL_CIPHERING = 0xdd;
const GENERAL_SIGNING = 0xdf;
const CIPHERING_EMPTY_FIELDS = 6; // transaction id, system titles, date-time, other info, key info
const SECURITY_HEADER = Uint8Array.of(0x11, 0, 0, 0, 0); // security control, invocation counter 0
const TRANSACTION_ID_LENGTH = 9; // CRA flag + 8-byte originator counter
const EUI_LENGTH = 8;
const DATE_TIME_LENGTH = 12;
const MAC_LENGTH = 12;
const SIGNATURE_LENGTHS: readonly number[] = [0, 64];
// Other-information: message code, then each 8-byte supplementary field in turn; longer ones carry a certificate.
const OI_SUPPLEMENTARY_LENGTHS: readonly number[] = [2, 10, 18, 26];

// GBZ extended-header control field bits (as gbcs-parser reads them).
const GBZ_ENCRYPTED = 0x02;
const GBZ_FROM_DATE_TIME = 0x10;
const ZIGBEE_EPOCH_MS = Date.UTC(2000, 0, 1);

// ---------------------------------------------------------------------------------------
// Shapes.

export interface GbzComponent {
  /** Frame offset of the component's control field. */
  offset: number;
  control: number;
  cluster: number;
  /** Extended-header GBZ command length: bytes after the length field. */
  length: number;
  encrypted: boolean;
  /** ZigBee UTC time (s since 2000) when the control field says a from-date-time precedes the ZCL. */
  fromDateTime?: number;
  /** The ZCL frame (header + payload) for a plaintext component; the ciphered block otherwise. */
  zcl: Uint8Array;
}

export interface GbzPayload {
  profile: number;
  count: number;
  components: GbzComponent[];
  /** GBZ alerts (CRA 3) put an alert code and a timestamp before the use-case-specific part. */
  alert?: { code: number; time: number; rest: Uint8Array };
}

export interface GbcsSupplementary {
  /** Supplementary remote party id (EUI-64, colon form). */
  remoteParty: string;
  remotePartyCounter?: bigint;
  originatorCounter?: bigint;
}

export interface GbcsMessage {
  envelope: GbcsEnvelope;
  cra: GbcsCra;
  counter: bigint;
  originator: string;
  recipient: string;
  /** The 12-byte DLMS date-time when present, and its ISO form when fully specified. */
  dateTime?: Uint8Array;
  dateTimeIso?: string;
  messageCode: number;
  useCase?: GbcsUseCase;
  /** Other-information bytes after the message code, as on the wire. */
  otherInfoExtra: Uint8Array;
  supplementary?: GbcsSupplementary;
  /** Supplementary remote party key agreement certificate (other-information longer than 26). */
  certificate?: Uint8Array;
  payload: Uint8Array;
  payloadKind: GbcsPayloadKind;
  /** Frame offset of the payload's first byte. */
  payloadOffset: number;
  /** Empty when absent. */
  signature: Uint8Array;
  /** The 12-byte GMAC, for General-Ciphering. */
  mac?: Uint8Array;
  alertCode?: number;
  gbz?: GbzPayload;
}

// ---------------------------------------------------------------------------------------
// DER-like lengths.

/** Reads `< 0x80`, `81 xx` or `82 xx xx`; a non-minimal form is accepted, indefinite or longer is not. */
export function readDerLength(r: Reader, field: string): number {
  const at = r.position;
  const first = r.u8(field);
  if (first < 0x80) return first;
  if (first === 0x81) return r.u8(field);
  if (first === 0x82) return r.u16be(field);
  throw new DecodeError(field, at, `length form 0x${first.toString(16)} is not < 0x80, 0x81 or 0x82`);
}

/** The minimal DER length form. */
export function derLength(n: number, field = 'length'): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new EncodeError(field, `${n} is not a length in 0..65535`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  return Uint8Array.of(0x82, n >>> 8, n & 0xff);
}

// ---------------------------------------------------------------------------------------
// Small field codecs.

function euiBE(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function counterBE(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function counterBytes(v: bigint | number, field: string): Uint8Array {
  const n = BigInt(v);
  if (n < 0n || n >= 1n << 64n) throw new EncodeError(field, `${v} does not fit in 8 bytes`);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((n >> BigInt(8 * (7 - i))) & 0xffn);
  return out;
}

function euiBytesBE(text: string, field: string): Uint8Array {
  let b: Uint8Array;
  try {
    b = fromHex(text);
  } catch (e) {
    throw new EncodeError(field, (e as Error).message);
  }
  if (b.length !== EUI_LENGTH) throw new EncodeError(field, `an EUI-64 has 8 bytes, "${text}" has ${b.length}`);
  return b;
}

/**
 * A 12-byte DLMS date-time as ISO 8601, or undefined when a field is "not specified" or a
 * wildcard. Deviation 0x8000 (not specified) is read as UTC, GBCS's time base; otherwise
 * the Blue Book rule UTC = local + deviation applies (Paris is −60).
 */
export function dlmsDateTimeIso(b: Uint8Array): string | undefined {
  if (b.length !== DATE_TIME_LENGTH) return undefined;
  const year = (b[0] << 8) | b[1];
  const [month, day, , hour, minute, second, hundredths] = b.subarray(2, 9);
  const deviationRaw = (b[9] << 8) | b[10];
  if (year === 0xffff || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const deviation = deviationRaw === 0x8000 ? 0 : deviationRaw >= 0x8000 ? deviationRaw - 0x10000 : deviationRaw;
  const cs = hundredths === 0xff ? 0 : hundredths;
  if (cs > 99) return undefined;
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second, cs * 10));
  if (local.getUTCDate() !== day) return undefined; // e.g. 31 February
  return new Date(local.getTime() + deviation * 60_000).toISOString().replace('.000Z', 'Z');
}

/** A ZigBee UTC time (seconds since 2000-01-01) as ISO 8601. */
export function zigbeeTimeIso(seconds: number): string {
  return new Date(ZIGBEE_EPOCH_MS + seconds * 1000).toISOString().replace('.000Z', 'Z');
}

// ---------------------------------------------------------------------------------------
// Parsing.

/** Expects one exact byte; the error names what was expected. */
function expectByte(r: Reader, value: number, field: string): void {
  const at = r.position;
  const got = r.u8(field);
  if (got !== value)
    throw new DecodeError(field, at, `expected 0x${value.toString(16).padStart(2, '0')}, got 0x${got.toString(16).padStart(2, '0')}`);
}

/** A reader over the next `n` bytes of `r`, which skips past them. */
function sub(r: Reader, n: number, field: string): Reader {
  r.need(n, field);
  const inner = new Reader(r.bytes, r.offset, r.base, r.offset + n);
  r.offset += n;
  return inner;
}

function expectEnd(r: Reader, field: string): void {
  if (r.remaining !== 0) throw new DecodeError(field, r.position, `${counted(r.remaining, 'unexpected trailing byte')}`);
}

/**
 * Parses one whole GBCS message (DD-wrapped or a bare DF grouping header). Every length
 * must agree with the bytes given: trailing bytes are an error. `base` is where byte 0 sits
 * in the enclosing frame, so DecodeError offsets are frame offsets.
 */
export function parseGbcs(bytes: Uint8Array, base = 0): GbcsMessage {
  const r = new Reader(bytes, 0, base);
  r.need(1, 'GBCS envelope');
  const tag = bytes[0];
  if (tag === GENERAL_SIGNING) {
    const msg = parseGrouping(r, 'general-signing');
    expectEnd(r, 'signature');
    return msg;
  }
  if (tag === GENERAL_CIPHERING) {
    r.offset = 1;
    for (let i = 0; i < CIPHERING_EMPTY_FIELDS; i++) expectByte(r, 0, 'General-Ciphering empty field');
    const len = readDerLength(r, 'ciphered service length');
    if (len !== r.remaining) throw new DecodeError('ciphered service length', r.position, `says ${len} bytes, ${r.remaining} follow`);
    if (len < SECURITY_HEADER.length + MAC_LENGTH)
      throw new DecodeError('ciphered service length', r.position, `${len} is too short for a security header and a MAC`);
    for (const b of SECURITY_HEADER) expectByte(r, b, 'security header');
    const grouping = sub(r, r.remaining - MAC_LENGTH, 'grouping header');
    const msg = parseGrouping(grouping, 'general-ciphering');
    msg.mac = r.bytesN(MAC_LENGTH, 'MAC');
    expectEnd(r, 'MAC');
    return msg;
  }
  throw new DecodeError(
    'GBCS envelope',
    base,
    `0x${tag.toString(16).padStart(2, '0')} is neither General-Ciphering 0xdd nor General-Signing 0xdf`,
  );
}

/** The grouping header from its 0xDF to the end of the signature; `r` must end there. */
function parseGrouping(r: Reader, envelope: GbcsEnvelope): GbcsMessage {
  expectByte(r, GENERAL_SIGNING, 'General-Signing tag');
  expectByte(r, TRANSACTION_ID_LENGTH, 'transaction id length');
  const craAt = r.position;
  const craFlag = r.u8('CRA flag');
  const cra = CRA_BY_FLAG[craFlag];
  if (!cra) throw new DecodeError('CRA flag', craAt, `${craFlag} is not 1 command, 2 response or 3 alert`);
  const counter = counterBE(r.bytesN(8, 'originator counter'));
  expectByte(r, EUI_LENGTH, 'originator id length');
  const originator = euiBE(r.bytesN(EUI_LENGTH, 'originator id'));
  expectByte(r, EUI_LENGTH, 'recipient id length');
  const recipient = euiBE(r.bytesN(EUI_LENGTH, 'recipient id'));

  const dtAt = r.position;
  const dtLen = r.u8('date-time length');
  if (dtLen !== 0 && dtLen !== DATE_TIME_LENGTH) throw new DecodeError('date-time length', dtAt, `${dtLen} is neither 0 nor 12`);
  const dateTime = dtLen ? r.bytesN(DATE_TIME_LENGTH, 'date-time') : undefined;

  const oiAtLen = r.position;
  const oiLen = readDerLength(r, 'other-information length');
  if (oiLen < 2 || (oiLen <= 26 && !OI_SUPPLEMENTARY_LENGTHS.includes(oiLen))) {
    throw new DecodeError('other-information length', oiAtLen, `${oiLen} is not 2, 10, 18, 26 or a certificate's length`);
  }
  const oi = sub(r, oiLen, 'other-information');
  const messageCode = oi.u16be('message code');
  const otherInfoExtra = oi.bytes.subarray(oi.offset, oi.end);
  let supplementary: GbcsSupplementary | undefined;
  let certificate: Uint8Array | undefined;
  if (oiLen >= 10) {
    supplementary = { remoteParty: euiBE(oi.bytesN(EUI_LENGTH, 'supplementary remote party id')) };
    if (oiLen >= 18) supplementary.remotePartyCounter = counterBE(oi.bytesN(8, 'supplementary remote party counter'));
    if (oiLen === 26) supplementary.originatorCounter = counterBE(oi.bytesN(8, 'supplementary originator counter'));
    else if (oiLen > 26) certificate = oi.rest();
  }

  const contentLen = readDerLength(r, 'content length');
  const payloadOffset = r.position;
  const content = sub(r, contentLen, 'content');
  const payload = content.bytes.subarray(content.offset, content.end);

  const sigAt = r.position;
  const sigLen = readDerLength(r, 'signature length');
  if (!SIGNATURE_LENGTHS.includes(sigLen)) throw new DecodeError('signature length', sigAt, `${sigLen} is neither 0 nor 64`);
  const signature = r.bytesN(sigLen, 'signature');

  const msg: GbcsMessage = {
    envelope,
    cra,
    counter,
    originator,
    recipient,
    messageCode,
    otherInfoExtra,
    payload,
    payloadKind: payloadKind(payload),
    payloadOffset,
    signature,
  };
  if (dateTime) {
    msg.dateTime = dateTime;
    const iso = dlmsDateTimeIso(dateTime);
    if (iso) msg.dateTimeIso = iso;
  }
  const useCase = GBCS_USE_CASES[messageCode];
  if (useCase) msg.useCase = useCase;
  if (supplementary) msg.supplementary = supplementary;
  if (certificate) msg.certificate = certificate;
  if (msg.payloadKind === 'gbz') {
    msg.gbz = parseGbz(content, cra);
    if (msg.gbz.alert) msg.alertCode = msg.gbz.alert.code;
  } else if (msg.payloadKind === 'dlms-data-notification') {
    const code = dataNotificationAlertCode(content);
    if (code !== undefined) msg.alertCode = code;
  }
  return msg;
}

export function payloadKind(payload: Uint8Array): GbcsPayloadKind {
  if (payload.length >= 2 && ((payload[0] << 8) | payload[1]) === GBZ_PROFILE) return 'gbz';
  return PAYLOAD_KIND_BY_TAG[payload[0]] ?? 'unknown';
}

/** GBZ content: profile, component count, then per component its extended header and ZCL. */
function parseGbz(r: Reader, cra: GbcsCra): GbzPayload {
  const profile = r.u16be('GBZ profile');
  const count = r.u8('GBZ component count');
  if (cra === 'alert') {
    const code = r.u16be('GBZ alert code');
    const time = r.u32be('GBZ alert timestamp');
    return { profile, count, components: [], alert: { code, time, rest: r.rest() } };
  }
  const components: GbzComponent[] = [];
  for (let i = 0; i < count; i++) {
    const offset = r.position;
    const control = r.u8('GBZ control field');
    const cluster = r.u16be('GBZ cluster');
    const length = r.u16be('GBZ command length');
    const body = sub(r, length, 'GBZ command');
    const encrypted = (control & GBZ_ENCRYPTED) !== 0;
    const c: GbzComponent = { offset, control, cluster, length, encrypted, zcl: new Uint8Array() };
    if (!encrypted && control & GBZ_FROM_DATE_TIME) c.fromDateTime = body.u32be('GBZ from date-time');
    c.zcl = body.rest();
    components.push(c);
  }
  expectEnd(r, 'GBZ content');
  return { profile, count, components };
}

/** DATA-NOTIFICATION: 0F, invoke id, date-time, then a structure whose first item is `12 <alert code>`. */
function dataNotificationAlertCode(r: Reader): number | undefined {
  const b = r.bytes;
  const dt = r.offset + 1 + 4;
  const dtSize = b[dt] === DATE_TIME_LENGTH ? 1 + DATE_TIME_LENGTH : 1;
  const o = dt + dtSize;
  // structure tag 02, element count, long-unsigned tag 12, 2-byte code
  if (o + 5 > r.end || (b[dt] !== 0 && b[dt] !== DATE_TIME_LENGTH)) return undefined;
  if (b[o] !== 0x02 || b[o + 2] !== 0x12) return undefined;
  return (b[o + 3] << 8) | b[o + 4];
}

// ---------------------------------------------------------------------------------------
// Recognising and titling.

/** The DecodedGbcs summary of a parsed message. */
export function summariseGbcs(m: GbcsMessage): DecodedGbcs {
  const d: DecodedGbcs = {
    envelope: m.envelope,
    cra: m.cra,
    messageCode: m.messageCode,
    useCase: m.useCase?.name ?? hexN(m.messageCode, 4),
    title: m.useCase?.title ?? 'Unknown use case',
    originator: m.originator,
    recipient: m.recipient,
    originatorCounter: m.counter.toString(10),
  };
  if (m.alertCode !== undefined) {
    d.alertCode = m.alertCode;
    const alert = GBCS_ALERTS[m.alertCode];
    if (alert) d.alert = alert;
  }
  return d;
}

/**
 * For bytes that might be GBCS (tunnel TransferData, inter-PAN): the summary, or undefined
 * when they are not one whole well-formed GBCS message. Never throws.
 */
export function recogniseGbcs(bytes: Uint8Array): DecodedGbcs | undefined {
  if (bytes.length === 0 || (bytes[0] !== GENERAL_CIPHERING && bytes[0] !== GENERAL_SIGNING)) return undefined;
  try {
    return summariseGbcs(parseGbcs(bytes));
  } catch {
    return undefined;
  }
}

/** `GBCS CCS01 Add Device to CHF Device Log (command) 90:b3:… → 00:db:… #1302`, plus the alert. */
export function gbcsTitle(d: DecodedGbcs): string {
  let s = `GBCS ${d.useCase} ${d.title} (${d.cra}) ${d.originator} → ${d.recipient} #${d.originatorCounter}`;
  if (d.alertCode !== undefined) s += ` alert ${hexN(d.alertCode, 4)}${d.alert ? ' ' + d.alert : ''}`;
  return s;
}

// ---------------------------------------------------------------------------------------
// Building.

export interface GbcsBuildInput {
  envelope: GbcsEnvelope;
  cra: GbcsCra;
  counter: bigint | number;
  originator: string;
  recipient: string;
  messageCode: number;
  /** Other-information after the message code: raw bytes, or the supplementary fields. */
  otherInfoExtra?: Uint8Array | GbcsSupplementary;
  /** 12-byte DLMS date-time; absent by default. */
  dateTime?: Uint8Array;
  payload: Uint8Array;
  /** 0 or 64 bytes; absent by default. */
  signature?: Uint8Array;
  /** General-Ciphering only: the 12-byte GMAC. Zeros by default — the rig holds no keys. */
  mac?: Uint8Array;
}

function otherInfoExtraBytes(x: Uint8Array | GbcsSupplementary | undefined): Uint8Array {
  if (x === undefined) return new Uint8Array();
  if (x instanceof Uint8Array) return x;
  const w = new Writer(24).bytes(euiBytesBE(x.remoteParty, 'supplementary remote party id'));
  if (x.remotePartyCounter !== undefined) w.bytes(counterBytes(x.remotePartyCounter, 'supplementary remote party counter'));
  if (x.originatorCounter !== undefined) {
    if (x.remotePartyCounter === undefined)
      throw new EncodeError('supplementary originator counter', 'needs the remote party counter before it');
    w.bytes(counterBytes(x.originatorCounter, 'supplementary originator counter'));
  }
  return w.finish();
}

/** Builds a GBCS message with the layout parseGbcs reads, lengths in minimal DER form. */
export function buildGbcs(input: GbcsBuildInput): Uint8Array {
  const signature = input.signature ?? new Uint8Array();
  if (!SIGNATURE_LENGTHS.includes(signature.length)) throw new EncodeError('signature', `${signature.length} bytes is neither 0 nor 64`);
  if (input.dateTime && input.dateTime.length !== DATE_TIME_LENGTH)
    throw new EncodeError('dateTime', `${input.dateTime.length} bytes, a DLMS date-time has 12`);
  const extra = otherInfoExtraBytes(input.otherInfoExtra);
  const oiLen = 2 + extra.length;
  if (oiLen <= 26 && !OI_SUPPLEMENTARY_LENGTHS.includes(oiLen))
    throw new EncodeError('otherInfoExtra', `${extra.length} bytes: other-information must be 2, 10, 18, 26 or longer`);

  const g = new Writer(64 + input.payload.length)
    .u8(GENERAL_SIGNING)
    .u8(TRANSACTION_ID_LENGTH)
    .u8(FLAG_BY_CRA[input.cra], 'cra')
    .bytes(counterBytes(input.counter, 'counter'))
    .u8(EUI_LENGTH)
    .bytes(euiBytesBE(input.originator, 'originator'))
    .u8(EUI_LENGTH)
    .bytes(euiBytesBE(input.recipient, 'recipient'));
  if (input.dateTime) g.u8(DATE_TIME_LENGTH).bytes(input.dateTime);
  else g.u8(0);
  g.bytes(derLength(oiLen, 'other-information length')).u16be(input.messageCode, 'messageCode').bytes(extra);
  g.bytes(derLength(input.payload.length, 'content length')).bytes(input.payload);
  g.bytes(derLength(signature.length, 'signature length')).bytes(signature);
  const grouping = g.finish();

  if (input.envelope === 'general-signing') {
    if (input.mac) throw new EncodeError('mac', 'General-Signing carries no MAC');
    return grouping;
  }
  const mac = input.mac ?? new Uint8Array(MAC_LENGTH);
  if (mac.length !== MAC_LENGTH) throw new EncodeError('mac', `${mac.length} bytes, the GMAC has 12`);
  const cipheredLen = SECURITY_HEADER.length + grouping.length + MAC_LENGTH;
  return new Writer(16 + cipheredLen)
    .u8(GENERAL_CIPHERING)
    .bytes(new Uint8Array(CIPHERING_EMPTY_FIELDS))
    .bytes(derLength(cipheredLen, 'ciphered service length'))
    .bytes(SECURITY_HEADER)
    .bytes(grouping)
    .bytes(mac)
    .finish();
}

/** The build input that reproduces a parsed message byte for byte. */
export function gbcsBuildInput(m: GbcsMessage): GbcsBuildInput {
  const input: GbcsBuildInput = {
    envelope: m.envelope,
    cra: m.cra,
    counter: m.counter,
    originator: m.originator,
    recipient: m.recipient,
    messageCode: m.messageCode,
    otherInfoExtra: m.otherInfoExtra,
    payload: m.payload,
    signature: m.signature,
  };
  if (m.dateTime) input.dateTime = m.dateTime;
  if (m.mac) input.mac = m.mac;
  return input;
}
