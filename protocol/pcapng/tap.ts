// The IEEE 802.15.4 TAP header (link type 283): a version, a length, then TLVs (all
// little-endian) — the FCS type, RSSI, channel and LQI are the ones read.

import { TAP_CHANNEL, TAP_FCS_TYPE, TAP_LQI, TAP_RSS, pad4 } from './blocks.ts';
import { u16le, u32le } from './ints.ts';

/** What the TAP header tells about its packet. */
export interface TapFields {
  fcsIncluded: boolean;
  rssi?: number;
  lqi?: number;
  channel?: number;
  page?: number;
}

/** A TAP header that cannot be read; the reader names the packet and block. */
export class TapFault extends Error {}

/**
 * Reads the TAP header at the start of b[start, end) into `into` and returns its length (the
 * frame follows it). `float` is the caller's 4-byte scratch view for the RSSI's float32.
 */
export function readTapHeader(b: Uint8Array, start: number, end: number, into: TapFields, float: DataView): number {
  const size = end - start;
  if (size < 4) throw new TapFault(`needs 4 bytes, packet has ${size}`);
  if (b[start] !== 0) throw new TapFault(`version ${b[start]}, only 0 is defined`);
  const len = u16le(b, start + 2);
  if (len < 4 || len > size) throw new TapFault(`length ${len} outside 4..${size}`);
  // Without the FCS type TLV, Wireshark 4.0 dissects the frame as having no FCS; so do we.
  let fcsType = 0;
  let o = 4;
  while (o < len) {
    if (o + 4 > len) throw new TapFault(`TLV at ${o} runs past the header length ${len}`);
    const type = u16le(b, start + o);
    const tlen = u16le(b, start + o + 2);
    const v = o + 4;
    if (v + tlen > len) throw new TapFault(`TLV ${type} of ${tlen} bytes runs past the header length ${len}`);
    if (type === TAP_FCS_TYPE && tlen >= 1) fcsType = b[start + v];
    else if (type === TAP_RSS && tlen >= 4) {
      float.setUint32(0, u32le(b, start + v), true);
      into.rssi = float.getFloat32(0, true);
    } else if (type === TAP_CHANNEL && tlen >= 3) {
      into.channel = u16le(b, start + v);
      into.page = b[start + v + 2];
    } else if (type === TAP_LQI && tlen >= 1) into.lqi = b[start + v];
    o = v + pad4(tlen);
  }
  if (fcsType !== 0 && fcsType !== 1) throw new TapFault(`FCS type ${fcsType}: only none (0) and 16-bit (1) are supported`);
  into.fcsIncluded = fcsType === 1;
  return len;
}
