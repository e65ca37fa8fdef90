// The streaming pcapng writer (IEEE 802.15.4 TAP, link type 283, by default): one block at a
// time into a sink, so memory stays flat. The file sink is io/capture-files.ts.

import { EncodeError, Writer } from '../bytes.ts';
import { BOM, BT_EPB, BT_IDB, BT_SHB, IF_DESCRIPTION, IF_NAME, IF_TSRESOL, OPT_COMMENT, OPT_ENDOFOPT, SHB_USERAPPL } from './blocks.ts';
import { TAP_CHANNEL, TAP_FCS_TYPE, TAP_LQI, TAP_RSS, pad4 } from './blocks.ts';
import { ACCEPTED_LINK_TYPES, ACCEPTED_LINK_TYPES_TEXT, LINKTYPE_IEEE802_15_4_TAP, LINKTYPE_IEEE802_15_4_WITHFCS } from './link-types.ts';
import type { Ieee802154LinkType } from './link-types.ts';

const utf8 = new TextEncoder();

export interface InterfaceOptions {
  name?: string;
  description?: string;
  /** 283 (TAP, the default) keeps RSSI, LQI and channel; 195/230 carry only the frame. */
  linkType?: Ieee802154LinkType;
}

export interface PacketToWrite {
  interfaceId: number;
  /** Microseconds since the Unix epoch. */
  timestampUs: bigint;
  /** The 802.15.4 MPDU, with its 2-byte FCS at the end when `fcsIncluded`. */
  frame: Uint8Array;
  fcsIncluded: boolean;
  /** Received signal strength, dBm (stored as float32). */
  rssi?: number;
  lqi?: number;
  channel?: number;
  /** Channel page for the channel TLV; 0 (2.4 GHz O-QPSK) unless given. */
  page?: number;
  comment?: string;
}

export interface PcapngWriterOptions {
  /** shb_userappl; `null` leaves it out. */
  userAppl?: string | null;
}

/** Options are code u16, length u16, value padded to 4; the list ends with opt_endofopt. */
function writeOptions(w: Writer, options: Array<[number, Uint8Array]>): void {
  if (options.length === 0) return;
  for (const [code, value] of options) {
    if (value.length > 0xffff) throw new EncodeError(`option ${code}`, `value of ${value.length} bytes exceeds 65535`);
    w.u16(code).u16(value.length).bytes(value);
    for (let i = value.length; i < pad4(value.length); i++) w.u8(0);
  }
  w.u16(OPT_ENDOFOPT).u16(0);
}

/** Wraps a body as a block: type, total length, body, total length again (all little-endian). */
function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + body.length;
  return new Writer(total).u32(type).u32(total).bytes(body).u32(total).finish();
}

export function encodeSectionHeader(options: PcapngWriterOptions = {}): Uint8Array {
  const w = new Writer(64);
  w.u32(BOM).u16(1).u16(0);
  // Section length -1: unknown, as it must be for a stream.
  w.u32(0xffffffff).u32(0xffffffff);
  const userAppl = options.userAppl === undefined ? 'gbcs-rig' : options.userAppl;
  writeOptions(w, userAppl === null ? [] : [[SHB_USERAPPL, utf8.encode(userAppl)]]);
  return block(BT_SHB, w.finish());
}

export function encodeInterfaceDescription(iface: InterfaceOptions): Uint8Array {
  const linkType = iface.linkType ?? LINKTYPE_IEEE802_15_4_TAP;
  if (!ACCEPTED_LINK_TYPES.includes(linkType)) {
    throw new EncodeError('linkType', `${linkType} is not one of ${ACCEPTED_LINK_TYPES_TEXT}`);
  }
  const w = new Writer(64);
  // Snaplen 0 means "no limit" in pcapng.
  w.u16(linkType).u16(0).u32(0);
  const opts: Array<[number, Uint8Array]> = [];
  if (iface.name !== undefined) opts.push([IF_NAME, utf8.encode(iface.name)]);
  if (iface.description !== undefined) opts.push([IF_DESCRIPTION, utf8.encode(iface.description)]);
  opts.push([IF_TSRESOL, Uint8Array.of(6)]);
  writeOptions(w, opts);
  return block(BT_IDB, w.finish());
}

/** TAP header + TLVs for one packet (TLV lengths are unpadded, values padded to 4). */
export function encodeTapHeader(p: Pick<PacketToWrite, 'fcsIncluded' | 'rssi' | 'lqi' | 'channel' | 'page'>): Uint8Array {
  const tlvs = new Writer(48);
  tlvs
    .u16(TAP_FCS_TYPE)
    .u16(1)
    .u8(p.fcsIncluded ? 1 : 0)
    .u8(0)
    .u16(0);
  if (p.rssi !== undefined) {
    if (!Number.isFinite(p.rssi)) throw new EncodeError('rssi', `${p.rssi} is not a finite number`);
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, p.rssi, true);
    tlvs.u16(TAP_RSS).u16(4).bytes(f);
  }
  if (p.channel !== undefined) {
    tlvs
      .u16(TAP_CHANNEL)
      .u16(3)
      .u16(p.channel, 'channel')
      .u8(p.page ?? 0, 'page')
      .u8(0);
  } else if (p.page !== undefined) {
    throw new EncodeError('page', 'a channel page needs a channel');
  }
  if (p.lqi !== undefined) tlvs.u16(TAP_LQI).u16(1).u8(p.lqi, 'lqi').u8(0).u16(0);
  const body = tlvs.finish();
  return new Writer(4 + body.length)
    .u8(0)
    .u8(0)
    .u16(4 + body.length)
    .bytes(body)
    .finish();
}

export function encodeEnhancedPacket(p: PacketToWrite, linkType: Ieee802154LinkType): Uint8Array {
  if (p.timestampUs < 0n || p.timestampUs >= 1n << 64n) {
    throw new EncodeError('timestampUs', `${p.timestampUs} is outside 0..2^64-1`);
  }
  let data: Uint8Array;
  if (linkType === LINKTYPE_IEEE802_15_4_TAP) {
    const tap = encodeTapHeader(p);
    data = new Uint8Array(tap.length + p.frame.length);
    data.set(tap);
    data.set(p.frame, tap.length);
  } else {
    // 195/230 say in the link type whether the FCS is there, so the flag must agree with it.
    const wantFcs = linkType === LINKTYPE_IEEE802_15_4_WITHFCS;
    if (p.fcsIncluded !== wantFcs) {
      throw new EncodeError('fcsIncluded', `link type ${linkType} carries frames ${wantFcs ? 'with' : 'without'} FCS`);
    }
    if (p.rssi !== undefined || p.lqi !== undefined || p.channel !== undefined) {
      throw new EncodeError('rssi/lqi/channel', `link type ${linkType} cannot carry them; use 283 (TAP)`);
    }
    data = p.frame;
  }
  const w = new Writer(32 + pad4(data.length) + (p.comment ? pad4(utf8.encode(p.comment).length) + 8 : 0));
  w.u32(p.interfaceId, 'interfaceId')
    .u32(Number(p.timestampUs >> 32n))
    .u32(Number(p.timestampUs & 0xffffffffn))
    .u32(data.length)
    .u32(data.length)
    .bytes(data);
  for (let i = data.length; i < pad4(data.length); i++) w.u8(0);
  writeOptions(w, p.comment === undefined ? [] : [[OPT_COMMENT, utf8.encode(p.comment)]]);
  return block(BT_EPB, w.finish());
}

/**
 * Writes one pcapng section to `sink`, block by block as packets arrive: nothing is kept
 * but the interface list, so memory stays flat. The section header goes out at construction.
 */
export class PcapngWriter {
  private readonly linkTypes: Ieee802154LinkType[] = [];

  constructor(
    protected readonly sink: (chunk: Uint8Array) => void,
    options: PcapngWriterOptions = {},
  ) {
    this.sink(encodeSectionHeader(options));
  }

  /** Adds an interface and returns its id for `writePacket`. */
  addInterface(iface: InterfaceOptions = {}): number {
    this.sink(encodeInterfaceDescription(iface));
    this.linkTypes.push(iface.linkType ?? LINKTYPE_IEEE802_15_4_TAP);
    return this.linkTypes.length - 1;
  }

  writePacket(p: PacketToWrite): void {
    const linkType = this.linkTypes[p.interfaceId];
    if (linkType === undefined) {
      throw new EncodeError('interfaceId', `${p.interfaceId} is not an interface added to this writer (${this.linkTypes.length} so far)`);
    }
    this.sink(encodeEnhancedPacket(p, linkType));
  }
}
