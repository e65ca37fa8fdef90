// Spinel, the host–co-processor protocol of OpenThread's radio co-processor (RCP) firmware, and
// its HDLC-lite serial framing — as OpenThread's spinel.h and the Spinel draft
// (draft-rquattle-spinel-unified) define them. The rig radio and the `ot-rcp` sniffer speak it to
// nRF52840, CC2652/CC1352 and EFR32 sticks flashed with ot-rcp. Pure: bytes in, values out.
import { DecodeError, EncodeError, Reader, Writer } from './bytes.ts';

// ---------------------------------------------------------------------------------------------
// HDLC-lite (RFC 1662 framing without address/control): 0x7E flags, 0x7D escapes, FCS-16.

export const HDLC_FLAG = 0x7e;
export const HDLC_ESCAPE = 0x7d;
/** Bytes escaped inside a frame: the flag, the escape, XON, XOFF and 0xF8 (OpenThread escapes it too). */
const ESCAPED = new Set([HDLC_FLAG, HDLC_ESCAPE, 0x11, 0x13, 0xf8]);
/** The FCS-16 run over a frame and its own FCS leaves this value when the frame is intact (RFC 1662 §C.2). */
const GOOD_FCS = 0xf0b8;

const FCS_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/X-25 (the PPP FCS-16): reflected 0x1021, initial 0xFFFF, not yet complemented. */
function fcsRun(bytes: Uint8Array, fcs = 0xffff): number {
  for (const b of bytes) fcs = (fcs >>> 8) ^ FCS_TABLE[(fcs ^ b) & 0xff];
  return fcs;
}

/** One frame on the wire: flag, the frame and its FCS (low byte first) escaped, flag. */
export function hdlcEncode(frame: Uint8Array): Uint8Array {
  const fcs = fcsRun(frame) ^ 0xffff;
  const out: number[] = [HDLC_FLAG];
  const put = (b: number) => (ESCAPED.has(b) ? out.push(HDLC_ESCAPE, b ^ 0x20) : out.push(b));
  for (const b of frame) put(b);
  put(fcs & 0xff);
  put(fcs >>> 8);
  out.push(HDLC_FLAG);
  return Uint8Array.from(out);
}

/** What the stream decoder met besides good frames: each is counted and reported, never thrown. */
export type HdlcDefect = 'bad-fcs' | 'too-short' | 'bad-escape' | 'too-long';

export interface HdlcStats {
  frames: number;
  defects: Record<HdlcDefect, number>;
}

/**
 * Splits a serial byte stream into HDLC-lite frames, across reads of any size. A frame with a bad
 * FCS, a dangling escape or under three bytes is dropped and reported with its raw bytes; bytes
 * before the first flag (a port opened mid-frame) are skipped without a defect.
 */
export class HdlcDecoder {
  readonly stats: HdlcStats = { frames: 0, defects: { 'bad-fcs': 0, 'too-short': 0, 'bad-escape': 0, 'too-long': 0 } };
  private buf: number[] = [];
  private escaped = false;
  private synced = false;
  private badEscape = false;

  constructor(
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly onDefect: (defect: HdlcDefect, raw: Uint8Array) => void = () => {},
    /** Longest unescaped frame accepted (OpenThread's RCP frames stay under 1300 bytes). */
    private readonly maxFrame = 2048,
  ) {}

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (b === HDLC_FLAG) {
        this.endFrame();
        this.synced = true;
        continue;
      }
      if (!this.synced) continue;
      if (this.escaped) {
        this.escaped = false;
        this.buf.push(b ^ 0x20);
      } else if (b === HDLC_ESCAPE) {
        this.escaped = true;
      } else {
        this.buf.push(b);
      }
      if (this.buf.length > this.maxFrame) this.defect('too-long');
    }
  }

  private endFrame(): void {
    if (this.escaped) {
      this.escaped = false;
      this.badEscape = true;
    }
    // Back-to-back flags (an empty frame) are idle fill, not a defect.
    if (this.buf.length === 0 && !this.badEscape) return;
    if (this.badEscape) return this.defect('bad-escape');
    if (this.buf.length < 3) return this.defect('too-short');
    const bytes = Uint8Array.from(this.buf);
    if (fcsRun(bytes) !== GOOD_FCS) return this.defect('bad-fcs');
    this.buf = [];
    this.stats.frames++;
    this.onFrame(bytes.subarray(0, bytes.length - 2));
  }

  private defect(kind: HdlcDefect): void {
    const raw = Uint8Array.from(this.buf);
    this.buf = [];
    this.badEscape = false;
    this.escaped = false;
    // A frame too long is dropped whole: wait for the next flag before taking bytes again.
    if (kind === 'too-long') this.synced = false;
    this.stats.defects[kind]++;
    this.onDefect(kind, raw);
  }
}

// ---------------------------------------------------------------------------------------------
// Spinel frames: header (FLG = 2, IID, TID), a packed command id, the command's payload.

export const SPINEL_CMD = {
  NOOP: 0,
  RESET: 1,
  PROP_VALUE_GET: 2,
  PROP_VALUE_SET: 3,
  PROP_VALUE_INSERT: 4,
  PROP_VALUE_REMOVE: 5,
  PROP_VALUE_IS: 6,
  PROP_VALUE_INSERTED: 7,
  PROP_VALUE_REMOVED: 8,
} as const;

/** The properties an RCP host uses (spinel.h `SPINEL_PROP_*`). */
export const SPINEL_PROP = {
  LAST_STATUS: 0x00,
  PROTOCOL_VERSION: 0x01,
  NCP_VERSION: 0x02,
  INTERFACE_TYPE: 0x03,
  VENDOR_ID: 0x04,
  CAPS: 0x05,
  HWADDR: 0x08,
  PHY_ENABLED: 0x20,
  PHY_CHAN: 0x21,
  PHY_CHAN_SUPPORTED: 0x22,
  PHY_TX_POWER: 0x25,
  PHY_RSSI: 0x26,
  MAC_15_4_LADDR: 0x34,
  MAC_15_4_SADDR: 0x35,
  MAC_15_4_PANID: 0x36,
  MAC_RAW_STREAM_ENABLED: 0x37,
  MAC_PROMISCUOUS_MODE: 0x38,
  STREAM_DEBUG: 0x70,
  STREAM_RAW: 0x71,
  STREAM_LOG: 0x74,
  RCP_API_VERSION: 0xb0,
  RCP_MIN_HOST_API_VERSION: 0xb1,
} as const;

/** `SPINEL_RESET_*`, the CMD_RESET payload: a STACK reset restarts the radio stack and keeps the USB link up. */
export const SPINEL_RESET = { PLATFORM: 1, STACK: 2, BOOTLOADER: 3 } as const;

/** `SPINEL_PROP_MAC_PROMISCUOUS_MODE` values. */
export const PROMISCUOUS = { OFF: 0, NETWORK: 1, FULL: 2 } as const;

/** Capabilities (`SPINEL_CAP_*`) an RCP host checks in `CAPS`: OpenThread's host refuses a co-processor without the first two. */
export const SPINEL_CAP = { COUNTERS: 5, OQPSK_2450MHZ: 24, CONFIG_RADIO: 34, MAC_RAW: 513, RCP_API_VERSION: 64 } as const;

/** The Spinel protocol version this codec follows (`SPINEL_PROTOCOL_VERSION_THREAD_MAJOR/MINOR`). */
export const SPINEL_PROTOCOL_VERSION = { major: 4, minor: 3 } as const;

/** `SPINEL_STATUS_*` values and their names, for LAST_STATUS and transmit results. */
export const SPINEL_STATUS: Readonly<Record<number, string>> = {
  0: 'OK',
  1: 'FAILURE',
  2: 'UNIMPLEMENTED',
  3: 'INVALID_ARGUMENT',
  4: 'INVALID_STATE',
  5: 'INVALID_COMMAND',
  6: 'INVALID_INTERFACE',
  7: 'INTERNAL_ERROR',
  8: 'SECURITY_ERROR',
  9: 'PARSE_ERROR',
  10: 'IN_PROGRESS',
  11: 'NOMEM',
  12: 'BUSY',
  13: 'PROP_NOT_FOUND',
  14: 'DROPPED',
  15: 'EMPTY',
  16: 'CMD_TOO_BIG',
  17: 'NO_ACK',
  18: 'CCA_FAILURE',
  19: 'ALREADY',
  20: 'ITEM_NOT_FOUND',
  21: 'INVALID_COMMAND_FOR_PROP',
  22: 'UNKNOWN_NEIGHBOR',
  23: 'NOT_CAPABLE',
  24: 'RESPONSE_TIMEOUT',
  112: 'RESET_POWER_ON',
  113: 'RESET_EXTERNAL',
  114: 'RESET_SOFTWARE',
  115: 'RESET_FAULT',
  116: 'RESET_CRASH',
  117: 'RESET_ASSERT',
  118: 'RESET_OTHER',
  119: 'RESET_UNKNOWN',
  120: 'RESET_WATCHDOG',
};
export const STATUS_OK = 0;
/** Status codes 112–127 report a reset of the co-processor (its boot announcement). */
export const isResetStatus = (status: number): boolean => status >= 112 && status <= 127;
export const statusName = (status: number): string => SPINEL_STATUS[status] ?? `status ${status}`;

export interface SpinelFrame {
  /** Interface id, 0–3. */
  iid: number;
  /** Transaction id, 0–15: 0 for unsolicited frames; a reply carries its command's. */
  tid: number;
  command: number;
  payload: Uint8Array;
}

const MAX_PACKED = 2_097_151;

/** A packed unsigned integer (EXI-style, 7 bits a byte, low first, at most three bytes). */
export function writePacked(w: Writer, value: number, field: string): Writer {
  if (!Number.isInteger(value) || value < 0 || value > MAX_PACKED)
    throw new EncodeError(field, `${value} is not a packed unsigned integer (0–${MAX_PACKED})`);
  do {
    const low = value & 0x7f;
    value >>>= 7;
    w.u8(value > 0 ? low | 0x80 : low, field);
  } while (value > 0);
  return w;
}

export function readPacked(r: Reader, field: string): number {
  let value = 0;
  for (let i = 0; i < 3; i++) {
    const b = r.u8(field);
    value |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return value;
  }
  throw new DecodeError(field, r.position - 3, 'a packed unsigned integer longer than three bytes');
}

export function encodeSpinel(f: SpinelFrame): Uint8Array {
  if (f.iid < 0 || f.iid > 3) throw new EncodeError('spinel.iid', `${f.iid} is not 0–3`);
  if (f.tid < 0 || f.tid > 15) throw new EncodeError('spinel.tid', `${f.tid} is not 0–15`);
  const w = new Writer(f.payload.length + 4).u8(0x80 | (f.iid << 4) | f.tid, 'spinel.header');
  return writePacked(w, f.command, 'spinel.command').bytes(f.payload).finish();
}

export function decodeSpinel(bytes: Uint8Array): SpinelFrame {
  const r = new Reader(bytes);
  const header = r.u8('spinel.header');
  if (header >> 6 !== 2)
    throw new DecodeError('spinel.header', 0, `flag bits ${(header >> 6).toString(2).padStart(2, '0')}, not 10: not a Spinel frame`);
  const command = readPacked(r, 'spinel.command');
  return { iid: (header >> 4) & 3, tid: header & 0x0f, command, payload: r.rest() };
}

/** A property command's payload: the packed property id, then its value. */
export function propertyPayload(prop: number, value: Uint8Array = new Uint8Array(0)): Uint8Array {
  return writePacked(new Writer(value.length + 3), prop, 'spinel.property')
    .bytes(value)
    .finish();
}

/** Splits a PROP_VALUE_* payload into the property id and its value bytes. */
export function readProperty(payload: Uint8Array): { prop: number; value: Uint8Array } {
  const r = new Reader(payload);
  const prop = readPacked(r, 'spinel.property');
  return { prop, value: r.rest() };
}

/** A UTF-8 string value (`U`), up to its zero byte. */
export function readUtf8(value: Uint8Array): string {
  const end = value.indexOf(0);
  return Buffer.from(value.buffer, value.byteOffset, end < 0 ? value.length : end).toString('utf8');
}

export function utf8Value(text: string): Uint8Array {
  const b = Buffer.from(text, 'utf8');
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** A list of packed unsigned integers (`A(i)`), e.g. CAPS. */
export function readPackedList(value: Uint8Array, field: string): number[] {
  const r = new Reader(value);
  const out: number[] = [];
  while (r.remaining > 0) out.push(readPacked(r, field));
  return out;
}

// ---------------------------------------------------------------------------------------------
// STREAM_RAW: raw 802.15.4 frames to transmit (PROP_VALUE_SET) and received (PROP_VALUE_IS).

/** How to transmit a frame (the `CMD_PROP_VALUE_SET` metadata of STREAM_RAW). */
export interface RawTransmit {
  channel: number;
  /** Maximum CSMA backoffs before a CCA failure (OpenThread's default 4). */
  maxBackoffs?: number;
  /** Retries after a missing acknowledgement (OpenThread's default 3). */
  maxRetries?: number;
  csmaCa?: boolean;
  headerUpdated?: boolean;
  retransmission?: boolean;
  securityProcessed?: boolean;
  txDelayUs?: number;
  txDelayBaseTimeUs?: number;
  rxChannelAfterTxDone?: number;
}

/** The STREAM_RAW value for transmitting `psdu` (the MAC frame with its two FCS bytes: the radio fills them). */
export function encodeRawTransmit(psdu: Uint8Array, t: RawTransmit): Uint8Array {
  if (psdu.length > 127) throw new EncodeError('stream_raw.frame', `${psdu.length} bytes: an 802.15.4 PSDU holds at most 127`);
  return new Writer(psdu.length + 20)
    .u16(psdu.length, 'stream_raw.length')
    .bytes(psdu)
    .u8(t.channel, 'stream_raw.channel')
    .u8(t.maxBackoffs ?? 4, 'stream_raw.max_backoffs')
    .u8(t.maxRetries ?? 3, 'stream_raw.max_retries')
    .u8(t.csmaCa === false ? 0 : 1)
    .u8(t.headerUpdated ? 1 : 0)
    .u8(t.retransmission ? 1 : 0)
    .u8(t.securityProcessed ? 1 : 0)
    .u32(t.txDelayUs ?? 0, 'stream_raw.tx_delay')
    .u32(t.txDelayBaseTimeUs ?? 0, 'stream_raw.tx_delay_base')
    .u8(t.rxChannelAfterTxDone ?? t.channel, 'stream_raw.rx_channel')
    .finish();
}

export function decodeRawTransmit(value: Uint8Array): { psdu: Uint8Array; transmit: RawTransmit } {
  const r = new Reader(value);
  const psdu = r.bytesN(r.u16('stream_raw.length'), 'stream_raw.frame');
  // Partially given metadata must be accepted (spinel.h): each absent field takes its default.
  const opt = <T>(read: () => T): T | undefined => (r.remaining > 0 ? read() : undefined);
  const channel = r.u8('stream_raw.channel');
  const bool = (field: string) => opt(() => r.u8(field) !== 0);
  return {
    psdu,
    transmit: {
      channel,
      maxBackoffs: opt(() => r.u8('stream_raw.max_backoffs')),
      maxRetries: opt(() => r.u8('stream_raw.max_retries')),
      csmaCa: bool('stream_raw.csma_ca'),
      headerUpdated: bool('stream_raw.header_updated'),
      retransmission: bool('stream_raw.retx'),
      securityProcessed: bool('stream_raw.security_processed'),
      txDelayUs: opt(() => r.u32('stream_raw.tx_delay')),
      txDelayBaseTimeUs: opt(() => r.u32('stream_raw.tx_delay_base')),
      rxChannelAfterTxDone: opt(() => r.u8('stream_raw.rx_channel')),
    },
  };
}

/** OpenThread's `otError` codes (openthread/error.h) an RCP reports as a STREAM_RAW receive error, by name. */
export const OT_RX_ERROR: Readonly<Record<number, string>> = {
  0: 'NONE',
  2: 'DROP',
  3: 'NO_BUFS',
  11: 'ABORT',
  13: 'INVALID_STATE',
  17: 'FCS',
  18: 'NO_FRAME_RECEIVED',
  21: 'ADDRESS_FILTERED',
  22: 'DESTINATION_ADDRESS_FILTERED',
};
export const OT_ERROR_FCS = 17;
export const rxErrorName = (error: number): string => OT_RX_ERROR[error] ?? `otError ${error}`;

/** `SPINEL_MD_FLAG_*` */
export const MD_FLAG = { TX: 0x0001, BAD_FCS: 0x0004, DUPE: 0x0008 } as const;

/** A frame the radio received (or, with MD_FLAG.TX, sent), with what it measured. */
export interface RawReceived {
  /** The PSDU as the radio gives it: the MAC frame and two FCS bytes (which many radios leave unfilled). */
  psdu: Uint8Array;
  rssi: number;
  noiseFloor: number;
  flags: number;
  channel?: number;
  lqi?: number;
  /** The radio's receive timestamp, in microseconds of its own clock. */
  timestampUs?: bigint;
  /** The radio's receive error (an OpenThread error code; 0 = none). */
  rxError?: number;
}

/** A `d` struct inside `r`: its uint16 length, then a reader over just its bytes (r moves past them). */
function struct(r: Reader, field: string): Reader {
  const n = r.u16(`${field}.length`);
  const start = r.offset;
  r.bytesN(n, field);
  return new Reader(r.bytes, start, r.base, start + n);
}

export function decodeRawReceived(value: Uint8Array): RawReceived {
  const r = new Reader(value);
  const psdu = r.bytesN(r.u16('stream_raw.length'), 'stream_raw.frame');
  const out: RawReceived = { psdu, rssi: -128, noiseFloor: -128, flags: 0 };
  if (r.remaining === 0) return out;
  out.rssi = r.i8('stream_raw.rssi');
  if (r.remaining > 0) out.noiseFloor = r.i8('stream_raw.noise_floor');
  if (r.remaining > 0) out.flags = r.u16('stream_raw.flags');
  if (r.remaining > 0) {
    const phy = struct(r, 'stream_raw.phy');
    if (phy.remaining > 0) out.channel = phy.u8('stream_raw.phy.channel');
    if (phy.remaining > 0) out.lqi = phy.u8('stream_raw.phy.lqi');
    if (phy.remaining >= 8) out.timestampUs = phy.uintLE(8, 'stream_raw.phy.timestamp');
  }
  if (r.remaining > 0) {
    const vendor = struct(r, 'stream_raw.vendor');
    if (vendor.remaining > 0) out.rxError = readPacked(vendor, 'stream_raw.vendor.rx_error');
  }
  return out;
}

/** The STREAM_RAW value an RCP sends for a frame it heard (the virtual twin's side). */
export function encodeRawReceived(f: RawReceived): Uint8Array {
  const phy = new Writer(10)
    .u8(f.channel ?? 0, 'stream_raw.phy.channel')
    .u8(f.lqi ?? 0, 'stream_raw.phy.lqi')
    .uintLE(f.timestampUs ?? 0n, 8, 'stream_raw.phy.timestamp')
    .finish();
  const vendor = writePacked(new Writer(3), f.rxError ?? 0, 'stream_raw.vendor.rx_error').finish();
  // OpenThread's RCP also appends a MAC struct (ack key id, ack frame counter): zero here, as for a frame without security.
  const mac = new Writer(5).u8(0).u32(0).finish();
  return new Writer(f.psdu.length + 32)
    .u16(f.psdu.length, 'stream_raw.length')
    .bytes(f.psdu)
    .i8(f.rssi, 'stream_raw.rssi')
    .i8(f.noiseFloor, 'stream_raw.noise_floor')
    .u16(f.flags, 'stream_raw.flags')
    .u16(phy.length)
    .bytes(phy)
    .u16(vendor.length)
    .bytes(vendor)
    .u16(mac.length)
    .bytes(mac)
    .finish();
}

/**
 * The end of a transmission: the RCP answers the STREAM_RAW set with `PROP_VALUE_IS LAST_STATUS`
 * carrying the status (`i`), whether the acknowledgement had frame-pending set (`b`) and whether
 * it updated the header (`b`), then on success the acknowledgement frame as a received frame.
 */
export interface TransmitDone {
  status: number;
  framePending: boolean;
  headerUpdated: boolean;
  ack?: RawReceived;
}

export function decodeTransmitDone(value: Uint8Array): TransmitDone {
  const r = new Reader(value);
  const status = readPacked(r, 'transmit_done.status');
  const framePending = r.remaining > 0 && r.u8('transmit_done.frame_pending') !== 0;
  const headerUpdated = r.remaining > 0 && r.u8('transmit_done.header_updated') !== 0;
  const done: TransmitDone = { status, framePending, headerUpdated };
  if (r.remaining >= 2) {
    const ack = decodeRawReceived(r.rest());
    if (ack.psdu.length > 0) done.ack = ack;
  }
  return done;
}

export function encodeTransmitDone(d: TransmitDone): Uint8Array {
  const w = writePacked(new Writer(48), d.status, 'transmit_done.status')
    .u8(d.framePending ? 1 : 0)
    .u8(d.headerUpdated ? 1 : 0);
  if (d.status === STATUS_OK) w.bytes(d.ack ? encodeRawReceived(d.ack) : new Writer(2).u16(0).finish());
  return w.finish();
}
