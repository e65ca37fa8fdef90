// TI SmartRF Packet Sniffer 2 firmware (sniffer_fw, on CC26x2/CC13x2 LaunchPads): its UART packet
// framing, commands, command responses and data packets, as TI's user guide ("Packet Sniffer
// Firmware › Command Interface") defines them. The `ti-ps2` sniffer kind and its virtual twin speak
// it. Pure: bytes in, values out. Where the guide and the firmware seen by public hosts disagree,
// or neither says, the choice made here is marked UNCONFIRMED (docs/bench-hardware.md, "TI Packet Sniffer 2").
import { DecodeError, EncodeError } from './bytes.ts';
import { crc16kermit } from './crc.ts';

// ---------------------------------------------------------------------------------------------
// Framing: SOF 40 53 | Info | Length (LE) | Payload | FCS | EOF 40 45.

export const TI_SOF = Uint8Array.of(0x40, 0x53);
export const TI_EOF = Uint8Array.of(0x40, 0x45);
/** The guide's payload limit (a 2047-byte radio frame with its timestamp, RSSI and status). */
export const TI_MAX_PAYLOAD = 2049;

/**
 * The line rate. UNCONFIRMED which one a given firmware uses: the guide says 921600 baud, the hosts
 * that read sniffer_fw 1.9/1.10's source (tuxniffer, CatSniffer tools) use 3 Mbaud.
 */
export const TI_BAUD = { guide: 921_600, firmware: 3_000_000 } as const;

/** Bits 7–6 of the Info byte. */
export const TI_CATEGORY = { COMMAND: 1, RESPONSE: 2, DATA: 3 } as const;

/** Command packets' Info bytes (category 1). */
export const TI_COMMAND = {
  PING: 0x40,
  START: 0x41,
  STOP: 0x42,
  PAUSE: 0x43,
  RESUME: 0x44,
  CFG_FREQUENCY: 0x45,
  CFG_PHY: 0x47,
} as const;

export const TI_COMMAND_NAME: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(TI_COMMAND).map(([k, v]) => [v, k]));

/** A command response's Info byte: every command is answered with it (commands are synchronous, so order pairs them). */
export const TI_RESPONSE_INFO = 0x80;
/** A data streaming packet: one frame heard. */
export const TI_DATA_INFO = 0xc0;
/** An error packet (e.g. the firmware's buffers overflowed). */
export const TI_ERROR_INFO = 0xc1;

export const TI_STATUS = { OK: 0, TIMEOUT: 1, FCS_FAILED: 2, INVALID_COMMAND: 3, INVALID_STATE: 4 } as const;
const STATUS_NAMES = ['OK', 'timeout', 'FCS failed', 'invalid command', 'invalid state'];
export const tiStatusName = (status: number): string => STATUS_NAMES[status] ?? `status ${status}`;

export interface TiPacket {
  info: number;
  payload: Uint8Array;
}

export const tiCategory = (info: number): number => info >> 6;

/** The packet FCS: the sum of Info, both Length bytes and the payload, low 8 bits. */
export function tiFcs(info: number, payload: Uint8Array): number {
  let sum = info + (payload.length & 0xff) + (payload.length >> 8);
  for (const b of payload) sum += b;
  return sum & 0xff;
}

/**
 * One packet on the wire. `fcs` defaults to the firmware's habit: every category but data
 * streaming carries one (UNCONFIRMED: the guide's general format shows an FCS on every packet, but
 * three public hosts read data and error packets without it, as sniffer_fw sends them).
 */
export function encodeTiPacket(p: TiPacket, options: { fcs?: boolean } = {}): Uint8Array {
  if (!Number.isInteger(p.info) || p.info < 0 || p.info > 0xff) throw new EncodeError('TI packet info', `${p.info} is not a byte`);
  if (p.payload.length > TI_MAX_PAYLOAD)
    throw new EncodeError('TI packet payload', `${p.payload.length} bytes, more than ${TI_MAX_PAYLOAD}`);
  const fcs = options.fcs ?? tiCategory(p.info) !== TI_CATEGORY.DATA;
  const out = new Uint8Array(5 + p.payload.length + (fcs ? 1 : 0) + 2);
  out.set(TI_SOF, 0);
  out[2] = p.info;
  out[3] = p.payload.length & 0xff;
  out[4] = p.payload.length >> 8;
  out.set(p.payload, 5);
  if (fcs) out[5 + p.payload.length] = tiFcs(p.info, p.payload);
  out.set(TI_EOF, out.length - 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The stream decoder.

/** What went wrong with bytes that were not a packet. */
export type TiDefect = 'bad-sof' | 'bad-length' | 'bad-fcs' | 'bad-eof';

export interface TiDecoderStats {
  packets: number;
  /** Data or error packets that came with an FCS byte (the guide's format) rather than without (the firmware's). */
  dataWithFcs: number;
  defects: Record<TiDefect, number>;
}

/** Noise longer than this, with no SOF in it, is reported without waiting for the next SOF. */
const NOISE_LIMIT = 4096;

/**
 * Cuts packets out of a byte stream across reads. Bytes before a SOF, a length over the limit, a
 * wrong FCS and a missing EOF are each one defect, reported with their bytes; the decoder then
 * resynchronises on the next SOF. It never throws on input.
 */
export class TiPacketDecoder {
  readonly stats: TiDecoderStats = { packets: 0, dataWithFcs: 0, defects: { 'bad-sof': 0, 'bad-length': 0, 'bad-fcs': 0, 'bad-eof': 0 } };
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly onPacket: (packet: TiPacket, raw: Uint8Array) => void,
    private readonly onDefect: (defect: TiDefect, raw: Uint8Array, reason: string) => void = () => {},
  ) {}

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let at = 0;
    for (;;) {
      const sof = findSof(joined, at);
      if (sof < 0) {
        // A trailing 0x40 may be the first half of the next SOF.
        const keep = joined.length > at && joined[joined.length - 1] === TI_SOF[0] ? 1 : 0;
        if (joined.length - keep - at > NOISE_LIMIT) {
          this.#defect('bad-sof', joined.subarray(at, joined.length - keep), 'bytes with no start of frame (40 53)');
          at = joined.length - keep;
        }
        break;
      }
      if (sof > at) this.#defect('bad-sof', joined.subarray(at, sof), 'bytes before a start of frame (40 53)');
      at = sof;
      const used = this.#packetAt(joined, at);
      if (used === 0) break;
      at += used;
    }
    this.#buffer = joined.slice(at);
  }

  /** Bytes held for an unfinished packet or noise: reported as a defect (at the end of a stream). */
  flush(): void {
    if (this.#buffer.length)
      this.#defect(startsWithSof(this.#buffer, 0) ? 'bad-eof' : 'bad-sof', this.#buffer, 'the stream ended inside a packet');
    this.#buffer = new Uint8Array(0);
  }

  /** Parses the packet whose SOF is at `at`: the bytes it consumed (packet or defect), or 0 to wait for more. */
  #packetAt(b: Uint8Array, at: number): number {
    if (b.length - at < 5) return 0;
    const info = b[at + 2];
    const length = b[at + 3] | (b[at + 4] << 8);
    if (length > TI_MAX_PAYLOAD) {
      // Not a packet's header: skip the SOF and look for the next one.
      this.#defect('bad-length', b.subarray(at, at + 5), `length ${length} is over the ${TI_MAX_PAYLOAD}-byte limit`);
      return 2;
    }
    const end = at + 5 + length;
    const data = tiCategory(info) === TI_CATEGORY.DATA;
    if (b.length < end + 2) return 0;
    const payload = b.subarray(at + 5, end);
    if (data && isEof(b, end)) return this.#deliver(info, payload, b.subarray(at, end + 2));
    if (b.length < end + 3) return 0;
    if (!isEof(b, end + 1)) {
      // The length was wrong or bytes were lost: resynchronise after this SOF.
      this.#defect('bad-eof', b.subarray(at, end + 3), `no end of frame (40 45) after a ${length}-byte payload`);
      return 2;
    }
    const raw = b.subarray(at, end + 3);
    if (b[end] !== tiFcs(info, payload)) {
      this.#defect('bad-fcs', raw, `FCS ${hexByte(b[end])}, expected ${hexByte(tiFcs(info, payload))}`);
      return raw.length;
    }
    if (data) this.stats.dataWithFcs++;
    return this.#deliver(info, payload, raw);
  }

  #deliver(info: number, payload: Uint8Array, raw: Uint8Array): number {
    this.stats.packets++;
    this.onPacket({ info, payload: payload.slice() }, raw.slice());
    return raw.length;
  }

  #defect(defect: TiDefect, raw: Uint8Array, reason: string): void {
    this.stats.defects[defect]++;
    this.onDefect(defect, raw.slice(), reason);
  }
}

const hexByte = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
const startsWithSof = (b: Uint8Array, at: number) => b[at] === TI_SOF[0] && b[at + 1] === TI_SOF[1];
const isEof = (b: Uint8Array, at: number) => b[at] === TI_EOF[0] && b[at + 1] === TI_EOF[1];

function findSof(b: Uint8Array, from: number): number {
  for (let i = b.indexOf(TI_SOF[0], from); i >= 0 && i + 1 < b.length; i = b.indexOf(TI_SOF[0], i + 1)) {
    if (b[i + 1] === TI_SOF[1]) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Commands.

export function encodeTiCommand(command: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (tiCategory(command) !== TI_CATEGORY.COMMAND)
    throw new EncodeError('TI command', `info ${hexByte(command)} is not a command (category 1)`);
  return encodeTiPacket({ info: command, payload });
}

/** The IEEE 802.15.4 2.4 GHz channel's centre frequency: 2405 + 5·(c − 11) MHz. */
export function channelMhz(channel: number): number {
  if (!Number.isInteger(channel) || channel < 11 || channel > 26)
    throw new EncodeError('channel', `${channel} is not a 2.4 GHz 802.15.4 channel (11–26)`);
  return 2405 + 5 * (channel - 11);
}

/** The 2.4 GHz channel at a frequency, if it is one's centre. */
export function mhzChannel(mhz: number): number | undefined {
  const c = (mhz - 2405) / 5 + 11;
  return Number.isInteger(c) && c >= 11 && c <= 26 ? c : undefined;
}

/** CFG_FREQUENCY's payload: integer MHz (u16) and the fraction × 65536 (u16), both little-endian. */
export function encodeFrequency(mhz: number): Uint8Array {
  const whole = Math.floor(mhz);
  const fraction = Math.round((mhz - whole) * 65536);
  if (!(whole >= 0 && whole <= 0xffff) || fraction > 0xffff)
    throw new EncodeError('frequency', `${mhz} MHz does not fit two 16-bit fields`);
  return Uint8Array.of(whole & 0xff, whole >> 8, fraction & 0xff, fraction >> 8);
}

export function decodeFrequency(payload: Uint8Array): number {
  if (payload.length !== 4) throw new DecodeError('CFG_FREQUENCY payload', 0, `${payload.length} bytes, expected 4`);
  return (payload[0] | (payload[1] << 8)) + (payload[2] | (payload[3] << 8)) / 65536;
}

export function decodePhy(payload: Uint8Array): number {
  if (payload.length !== 1) throw new DecodeError('CFG_PHY payload', 0, `${payload.length} bytes, expected 1`);
  return payload[0];
}

/**
 * The CFG_PHY index of IEEE 802.15.4 2.4 GHz O-QPSK. UNCONFIRMED for any one chip and firmware: the
 * index is a position in the firmware's PHY table, which differs by chip (CC26x2 has only 2.4 GHz
 * PHYs, CC1352 lists its sub-GHz ones first) and by firmware version. The guide's CC1352P table
 * gives 0x11; tuxniffer and CatSniffer's tools find 0x12 (18) on CC1352P/P7 with sniffer_fw 1.10
 * (a 915 MHz PHY was added before it); a CC1352R1 host uses 0x0D. 18 is the default; a rig sets `phy`.
 */
export const TI_DEFAULT_PHY_802154 = 18;

// ---------------------------------------------------------------------------------------------
// Command responses: status, then the command's data.

export interface TiResponse {
  status: number;
  data: Uint8Array;
}

export function encodeTiResponse(r: TiResponse): Uint8Array {
  const payload = new Uint8Array(1 + r.data.length);
  payload[0] = r.status;
  payload.set(r.data, 1);
  return encodeTiPacket({ info: TI_RESPONSE_INFO, payload });
}

export function decodeTiResponse(p: TiPacket): TiResponse {
  if (tiCategory(p.info) !== TI_CATEGORY.RESPONSE)
    throw new DecodeError('TI response info', 0, `${hexByte(p.info)} is not a command response (category 2)`);
  if (p.payload.length < 1) throw new DecodeError('TI response status', 0, 'empty payload, expected a status byte');
  return { status: p.payload[0], data: p.payload.slice(1) };
}

/** PING's answer: which chip and which sniffer firmware (the report's test equipment). */
export interface TiPingInfo {
  chipId: number;
  chipRevision: number;
  firmwareId: number;
  firmwareRevision: number;
}

export function encodePingData(p: TiPingInfo): Uint8Array {
  return Uint8Array.of(p.chipId & 0xff, p.chipId >> 8, p.chipRevision, p.firmwareId, p.firmwareRevision & 0xff, p.firmwareRevision >> 8);
}

export function decodePingData(data: Uint8Array): TiPingInfo {
  if (data.length < 6) {
    throw new DecodeError(
      'PING response data',
      0,
      `${data.length} bytes, expected 6 (chip id, chip revision, firmware id, firmware revision)`,
    );
  }
  return { chipId: data[0] | (data[1] << 8), chipRevision: data[2], firmwareId: data[3], firmwareRevision: data[4] | (data[5] << 8) };
}

// ---------------------------------------------------------------------------------------------
// Data streaming packets: Timestamp (6 bytes LE) | frame | RSSI (signed dBm) | status.

/** Status bit 7: the radio found the frame's FCS correct. */
export const TI_STATUS_FCS_OK = 0x80;

export interface TiDataPacket {
  /** The sniffer's receive time (UNCONFIRMED unit: µs, as the guide says; 48 bits, so it wraps after 8.9 years). */
  timestampUs: bigint;
  /** The radio frame as the firmware forwards it (see TiFrameLayout). */
  body: Uint8Array;
  rssi: number;
  status: number;
}

export function encodeTiData(d: TiDataPacket): Uint8Array {
  const payload = new Uint8Array(6 + d.body.length + 2);
  for (let i = 0; i < 6; i++) payload[i] = Number((d.timestampUs >> BigInt(8 * i)) & 0xffn);
  payload.set(d.body, 6);
  payload[6 + d.body.length] = d.rssi & 0xff;
  payload[7 + d.body.length] = d.status;
  return encodeTiPacket({ info: TI_DATA_INFO, payload });
}

export function decodeTiData(p: TiPacket): TiDataPacket {
  if (p.info !== TI_DATA_INFO) throw new DecodeError('TI data info', 0, `${hexByte(p.info)} is not a data packet (0xc0)`);
  const b = p.payload;
  if (b.length < 8) throw new DecodeError('TI data payload', 0, `${b.length} bytes, fewer than timestamp, RSSI and status (8)`);
  let timestampUs = 0n;
  for (let i = 5; i >= 0; i--) timestampUs = (timestampUs << 8n) | BigInt(b[i]);
  const rssi = b[b.length - 2];
  return { timestampUs, body: b.slice(6, b.length - 2), rssi: rssi > 127 ? rssi - 256 : rssi, status: b[b.length - 1] };
}

export const tiFcsOk = (status: number): boolean => (status & TI_STATUS_FCS_OK) !== 0;
/** Status bits 6–0. UNCONFIRMED: read as the radio's correlation value (0–127), as CC24xx metadata carries it; reported as LQI. */
export const tiCorrelation = (status: number): number => status & 0x7f;

/**
 * How the firmware lays out the 802.15.4 frame in a data packet. UNCONFIRMED: the guide says only
 * "the data received from the radio"; tuxniffer found the frame's 2 FCS bytes at its end on
 * sniffer_fw 1.10 and an extra byte after the timestamp (a PHR, i.e. a length byte, by its place);
 * other hosts read the frame right after the timestamp.
 *  - `psdu`: the frame without its FCS;
 *  - `psdu+fcs`: the frame with its 2 FCS bytes (the twin's layout);
 *  - `phr+psdu+fcs`: a length byte (counting frame and FCS), then the frame with its FCS.
 */
export type TiFrameLayout = 'psdu' | 'psdu+fcs' | 'phr+psdu+fcs';
export const TI_FRAME_LAYOUTS: readonly TiFrameLayout[] = ['psdu', 'psdu+fcs', 'phr+psdu+fcs'];

/** The frame (no FCS) in a data packet's body laid out as `layout`. */
export function tiPsdu(body: Uint8Array, layout: TiFrameLayout): Uint8Array {
  if (layout === 'psdu') return body;
  const start = layout === 'phr+psdu+fcs' ? 1 : 0;
  if (body.length < start + 2) throw new DecodeError('TI data frame', 0, `${body.length} bytes, too short for ${layout}`);
  if (start && body[0] !== body.length - 1)
    throw new DecodeError('TI data frame PHR', 0, `length byte ${body[0]}, but ${body.length - 1} bytes follow`);
  return body.slice(start, body.length - 2);
}

/** Lays a frame (no FCS) out as `layout`, for the twin. */
export function tiBody(psdu: Uint8Array, layout: TiFrameLayout): Uint8Array {
  if (layout === 'psdu') return psdu;
  const crc = crc16kermit(psdu);
  const withFcs = Uint8Array.of(...psdu, crc & 0xff, crc >> 8);
  return layout === 'psdu+fcs' ? withFcs : Uint8Array.of(withFcs.length, ...withFcs);
}

/**
 * The layout of a body whose frame the radio found intact: the one whose trailing 2 bytes are the
 * frame's FCS (CRC-16/KERMIT); neither: the firmware strips it (`psdu`). A wrong guess needs a
 * 1-in-65536 coincidence on the one frame it is learned from.
 */
export function detectTiFrameLayout(body: Uint8Array): TiFrameLayout {
  const trailer = body[body.length - 2] | (body[body.length - 1] << 8);
  const fcsAt = (start: number) => body.length >= start + 2 && crc16kermit(body, start, body.length - 2) === trailer;
  if (fcsAt(0)) return 'psdu+fcs';
  if (body.length >= 3 && body[0] === body.length - 1 && fcsAt(1)) return 'phr+psdu+fcs';
  return 'psdu';
}
