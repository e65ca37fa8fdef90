// ZEP, the ZigBee Encapsulation Protocol: remote 802.15.4 sniffers (and Wireshark's own tools)
// send each frame heard in a UDP datagram to port 17754. Versions 1 and 2 as Wireshark's ZEP
// dissector reads them. Pure: bytes in, values out.
import { DecodeError, EncodeError, Reader, Writer } from './bytes.ts';

export const ZEP_PORT = 17754;
const PREAMBLE = [0x45, 0x58]; // "EX"
const V1_HEADER = 16;
const V2_HEADER = 32;
const V2_ACK = 8;
const TYPE_DATA = 1;
const TYPE_ACK = 2;
/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2_208_988_800n;

/**
 * What the last two bytes of the 802.15.4 frame hold: `crc` — the FCS; `lqi` — TI CC24xx
 * metadata (RSSI, then the CRC-OK bit and the correlation value) in place of the FCS.
 */
export type ZepTrailer = 'crc' | 'lqi';

export interface ZepFrame {
  version: 1 | 2;
  kind: 'data';
  channel: number;
  deviceId: number;
  trailer: ZepTrailer;
  lqi: number;
  /** v2: the sniffer's timestamp, in nanoseconds since the Unix epoch (NTP on the wire). */
  timeNs?: bigint;
  /** v2: the sniffer's sequence number. */
  sequence?: number;
  /** The 802.15.4 frame with its last two bytes (FCS or CC24xx metadata, as `trailer` says). */
  psdu: Uint8Array;
}

export interface ZepAck {
  version: 2;
  kind: 'ack';
  sequence: number;
}

export function isZep(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === PREAMBLE[0] && bytes[1] === PREAMBLE[1];
}

export function decodeZep(bytes: Uint8Array): ZepFrame | ZepAck {
  const r = new Reader(bytes);
  if (r.u8('zep.preamble') !== PREAMBLE[0] || r.u8('zep.preamble') !== PREAMBLE[1])
    throw new DecodeError('zep.preamble', 0, 'not "EX": not a ZEP datagram');
  const version = r.u8('zep.version');
  if (version === 1) {
    const channel = r.u8('zep.channel');
    const deviceId = r.u16be('zep.device_id');
    const trailer: ZepTrailer = r.u8('zep.lqi_mode') ? 'crc' : 'lqi';
    const lqi = r.u8('zep.lqi');
    r.bytesN(7, 'zep.reserved');
    const psdu = r.bytesN(r.u8('zep.length') & 0x7f, 'zep.frame');
    return { version: 1, kind: 'data', channel, deviceId, trailer, lqi, psdu };
  }
  if (version !== 2) throw new DecodeError('zep.version', 2, `version ${version}: only ZEP v1 and v2 are read`);
  const type = r.u8('zep.type');
  if (type === TYPE_ACK) return { version: 2, kind: 'ack', sequence: r.u32be('zep.sequence') };
  if (type !== TYPE_DATA) throw new DecodeError('zep.type', 3, `type ${type}: neither data (1) nor ack (2)`);
  const channel = r.u8('zep.channel');
  const deviceId = r.u16be('zep.device_id');
  const trailer: ZepTrailer = r.u8('zep.lqi_mode') ? 'crc' : 'lqi';
  const lqi = r.u8('zep.lqi');
  const seconds = BigInt(r.u32be('zep.ntp_seconds'));
  const fraction = BigInt(r.u32be('zep.ntp_fraction'));
  const sequence = r.u32be('zep.sequence');
  r.bytesN(10, 'zep.reserved');
  const psdu = r.bytesN(r.u8('zep.length') & 0x7f, 'zep.frame');
  // Rounded to the nearest nanosecond both ways (a 2^-32 s fraction is finer), so a time survives a round trip.
  const timeNs = (seconds - NTP_UNIX_OFFSET) * 1_000_000_000n + ((fraction * 1_000_000_000n + (1n << 31n)) >> 32n);
  return { version: 2, kind: 'data', channel, deviceId, trailer, lqi, timeNs, sequence, psdu };
}

export function encodeZep(f: ZepFrame | ZepAck): Uint8Array {
  const w = new Writer(V2_HEADER + 128).u8(PREAMBLE[0]).u8(PREAMBLE[1]).u8(f.version, 'zep.version');
  if (f.kind === 'ack') return w.u8(TYPE_ACK).u32be(f.sequence, 'zep.sequence').finish();
  if (f.psdu.length > 127) throw new EncodeError('zep.frame', `${f.psdu.length} bytes: an 802.15.4 PSDU holds at most 127`);
  if (f.version === 1) {
    w.u8(f.channel, 'zep.channel')
      .u16be(f.deviceId, 'zep.device_id')
      .u8(f.trailer === 'crc' ? 1 : 0)
      .u8(f.lqi, 'zep.lqi')
      .bytes(new Uint8Array(7));
  } else {
    const ns = f.timeNs ?? 0n;
    const unixSeconds = ns / 1_000_000_000n;
    const fraction = (((ns % 1_000_000_000n) << 32n) + 500_000_000n) / 1_000_000_000n;
    w.u8(TYPE_DATA)
      .u8(f.channel, 'zep.channel')
      .u16be(f.deviceId, 'zep.device_id')
      .u8(f.trailer === 'crc' ? 1 : 0)
      .u8(f.lqi, 'zep.lqi')
      .u32be(Number(unixSeconds + NTP_UNIX_OFFSET), 'zep.ntp_seconds')
      .u32be(Number(fraction), 'zep.ntp_fraction')
      .u32be(f.sequence ?? 0, 'zep.sequence')
      .bytes(new Uint8Array(10));
  }
  return w.u8(f.psdu.length, 'zep.length').bytes(f.psdu).finish();
}

/** The header length before the frame, by version and type: where the 802.15.4 frame starts. */
export const zepHeaderLength = (version: number, kind: 'data' | 'ack'): number =>
  version === 1 ? V1_HEADER : kind === 'ack' ? V2_ACK : V2_HEADER;

// ---------------------------------------------------------------------------------------------
// TI CC24xx metadata: radios of TI's CC24xx family (and ZEP in LQI mode) put the RSSI and a
// CRC-OK bit with the correlation value where the FCS would be.

export interface Cc24xxMetadata {
  /** dBm, signed. */
  rssi: number;
  /** The radio's own check of the FCS it did not pass on. */
  fcsOk: boolean;
  /** The correlation value (0–127), TI's link quality figure. */
  correlation: number;
}

export function readCc24xx(lastTwo: Uint8Array): Cc24xxMetadata {
  if (lastTwo.length !== 2) throw new DecodeError('cc24xx', 0, `needs 2 bytes, ${lastTwo.length} given`);
  return { rssi: (lastTwo[0] << 24) >> 24, fcsOk: (lastTwo[1] & 0x80) !== 0, correlation: lastTwo[1] & 0x7f };
}

export function cc24xxBytes(m: Cc24xxMetadata): Uint8Array {
  return Uint8Array.from([m.rssi & 0xff, (m.fcsOk ? 0x80 : 0) | (m.correlation & 0x7f)]);
}
