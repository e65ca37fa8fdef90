// The link layers a remote sniffer's capture arrives in — Ethernet (with 802.1Q tags), Linux
// "cooked" SLL and SLL2, raw IPv4/IPv6, BSD/macOS loopback — down to a UDP datagram, so ZEP (port 17754) can be read
// from what tcpdump or Wireshark recorded; and every captured packet down to the 802.15.4 frame
// the decoder reads (ieee802154Of), with TI CC24xx metadata in place of an FCS read out.
// Writers for the same layers make test captures. Pure: bytes in, values out.
import { DecodeError, Reader, Writer } from './bytes.ts';
import type { DecodedRadio } from './decoded.ts';
import type { CapturedFrame } from './decoder.ts';
import { LINKTYPE_IEEE802_15_4_WITHFCS, linkTypeName } from './pcapng/link-types.ts';
import type { CapturedPacket } from './pcapng/reader.ts';
import { ZEP_PORT, decodeZep, isZep, readCc24xx, type ZepAck, type ZepFrame } from './zep.ts';

/** tcpdump.org LINKTYPE_* values of the layers read here. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_LOOP = 108;
export const IP_LINK_TYPES: readonly number[] = [
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
];

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8];
const IP_PROTO_UDP = 17;
/** BSD loopback address families: AF_INET, and AF_INET6 as NetBSD/OpenBSD, FreeBSD and macOS number it. */
const AF_INET = 2;
const AF_INET6 = [24, 28, 30];
const AF_INET6_DARWIN = 30;
/** IPv6 extension headers skipped on the way to UDP: hop-by-hop, routing, destination options. */
const IPV6_SKIPPED = new Set([0, 43, 60]);

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** The network-layer packet inside a link-layer frame, with its ethertype; undefined for other link types. */
function network(linkType: number, frame: Uint8Array): { ethertype: number; packet: Uint8Array } | undefined {
  const r = new Reader(frame);
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      r.bytesN(12, 'ethernet.addresses');
      let ethertype = r.u16be('ethernet.type');
      while (ETHERTYPE_VLAN.includes(ethertype)) {
        r.u16be('vlan.tci');
        ethertype = r.u16be('vlan.type');
      }
      return { ethertype, packet: r.rest() };
    }
    case LINKTYPE_LINUX_SLL:
      r.bytesN(14, 'sll.header');
      return { ethertype: r.u16be('sll.protocol'), packet: r.rest() };
    case LINKTYPE_LINUX_SLL2: {
      const ethertype = r.u16be('sll2.protocol');
      r.bytesN(18, 'sll2.header');
      return { ethertype, packet: r.rest() };
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // NULL: the capturing host's byte order (read either way: families are small); LOOP: network order.
      const be = r.u32be('loopback.family');
      const swapped = (((be & 0xff) << 24) | ((be & 0xff00) << 8) | ((be >>> 8) & 0xff00) | (be >>> 24)) >>> 0;
      const family = linkType === LINKTYPE_NULL && be > 0xffff ? swapped : be;
      const ethertype = family === AF_INET ? ETHERTYPE_IPV4 : AF_INET6.includes(family) ? ETHERTYPE_IPV6 : 0;
      return { ethertype, packet: r.rest() };
    }
    case LINKTYPE_RAW:
      return { ethertype: (frame[0] ?? 0) >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, packet: frame };
    case LINKTYPE_IPV4:
      return { ethertype: ETHERTYPE_IPV4, packet: frame };
    case LINKTYPE_IPV6:
      return { ethertype: ETHERTYPE_IPV6, packet: frame };
    default:
      return undefined;
  }
}

/** The UDP datagram a captured frame carries; undefined when it carries something else (or a fragment). */
export function udpOf(linkType: number, frame: Uint8Array): UdpDatagram | undefined {
  const net = network(linkType, frame);
  if (!net) return undefined;
  const r = new Reader(net.packet);
  let end: number;
  if (net.ethertype === ETHERTYPE_IPV4) {
    const first = r.u8('ipv4.version');
    if (first >> 4 !== 4) return undefined;
    r.u8('ipv4.tos');
    end = r.u16be('ipv4.length');
    r.u16be('ipv4.id');
    // A fragment (more-fragments set or a non-zero offset) is not a whole datagram.
    if ((r.u16be('ipv4.fragment') & 0x3fff) !== 0) return undefined;
    r.u8('ipv4.ttl');
    if (r.u8('ipv4.protocol') !== IP_PROTO_UDP) return undefined;
    r.bytesN((first & 0x0f) * 4 - 10, 'ipv4.rest_of_header');
  } else if (net.ethertype === ETHERTYPE_IPV6) {
    if (r.u8('ipv6.version') >> 4 !== 6) return undefined;
    r.bytesN(3, 'ipv6.flow');
    end = 40 + r.u16be('ipv6.payload_length');
    let next = r.u8('ipv6.next_header');
    r.bytesN(33, 'ipv6.rest_of_header');
    while (IPV6_SKIPPED.has(next)) {
      next = r.u8('ipv6.ext.next_header');
      r.bytesN(r.u8('ipv6.ext.length') * 8 + 6, 'ipv6.ext');
    }
    if (next !== IP_PROTO_UDP) return undefined;
  } else {
    return undefined;
  }
  const srcPort = r.u16be('udp.src_port');
  const dstPort = r.u16be('udp.dst_port');
  const length = r.u16be('udp.length');
  r.u16be('udp.checksum');
  // The UDP length bounds the payload: Ethernet pads short frames, and the padding is not ZEP.
  const payloadEnd = Math.min(r.offset + length - 8, end, net.packet.length);
  return { srcPort, dstPort, payload: net.packet.subarray(r.offset, payloadEnd) };
}

/** The ZEP datagram a captured frame carries (UDP port 17754 either way, "EX" preamble), if any. */
export function zepOf(linkType: number, frame: Uint8Array): ZepFrame | ZepAck | undefined {
  const udp = udpOf(linkType, frame);
  if (!udp || (udp.dstPort !== ZEP_PORT && udp.srcPort !== ZEP_PORT) || !isZep(udp.payload)) return undefined;
  return decodeZep(udp.payload);
}

// ---------------------------------------------------------------------------------------------
// Writers: a UDP datagram in each link layer (for test captures and a virtual remote sniffer).

export interface UdpAddressing {
  srcPort?: number;
  dstPort?: number;
  /** IPv6 instead of IPv4. */
  ipv6?: boolean;
}

function ipUdp(payload: Uint8Array, a: UdpAddressing): Uint8Array {
  const udpLength = payload.length + 8;
  const udp = new Writer(udpLength)
    .u16be(a.srcPort ?? ZEP_PORT)
    .u16be(a.dstPort ?? ZEP_PORT)
    .u16be(udpLength)
    .u16be(0)
    .bytes(payload)
    .finish();
  if (a.ipv6) {
    const src = Uint8Array.from([0xfe, 0x80, ...new Uint8Array(13), 1]);
    const dst = Uint8Array.from([0xfe, 0x80, ...new Uint8Array(13), 2]);
    return new Writer(40 + udpLength).u32be(0x60000000).u16be(udpLength).u8(IP_PROTO_UDP).u8(64).bytes(src).bytes(dst).bytes(udp).finish();
  }
  const header = new Writer(20)
    .u8(0x45)
    .u8(0)
    .u16be(20 + udpLength)
    .u16be(0)
    .u16be(0x4000)
    .u8(64)
    .u8(IP_PROTO_UDP)
    .u16be(0)
    .bytes(Uint8Array.from([192, 0, 2, 1]))
    .bytes(Uint8Array.from([192, 0, 2, 2]))
    .finish();
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (header[i] << 8) | header[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  header[10] = checksum >> 8;
  header[11] = checksum & 0xff;
  return new Writer(20 + udpLength).bytes(header).bytes(udp).finish();
}

/** A UDP datagram as a frame of `linkType` (one of IP_LINK_TYPES). */
export function udpFrame(linkType: number, payload: Uint8Array, a: UdpAddressing = {}): Uint8Array {
  const ip = ipUdp(payload, a);
  const ethertype = a.ipv6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return new Writer(14 + ip.length)
        .bytes(Uint8Array.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]))
        .u16be(ethertype)
        .bytes(ip)
        .finish();
    case LINKTYPE_LINUX_SLL:
      return new Writer(16 + ip.length)
        .u16be(0)
        .u16be(1)
        .u16be(6)
        .bytes(Uint8Array.from([2, 0, 0, 0, 0, 1, 0, 0]))
        .u16be(ethertype)
        .bytes(ip)
        .finish();
    case LINKTYPE_LINUX_SLL2:
      return new Writer(20 + ip.length)
        .u16be(ethertype)
        .u16be(0)
        .u32be(1)
        .u16be(1)
        .u8(0)
        .u8(6)
        .bytes(Uint8Array.from([2, 0, 0, 0, 0, 1, 0, 0]))
        .bytes(ip)
        .finish();
    case LINKTYPE_NULL:
      // As a little-endian Mac records its own ZEP on lo0.
      return new Writer(4 + ip.length)
        .u32(a.ipv6 ? AF_INET6_DARWIN : AF_INET)
        .bytes(ip)
        .finish();
    case LINKTYPE_LOOP:
      return new Writer(4 + ip.length)
        .u32be(a.ipv6 ? AF_INET6_DARWIN : AF_INET)
        .bytes(ip)
        .finish();
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return ip;
    default:
      throw new Error(`link type ${linkType} does not carry IP here (one of ${IP_LINK_TYPES.join(', ')})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Any captured packet down to its 802.15.4 frame.

/**
 * What the two bytes after a frame hold where only a preference can tell (link type 195, ZEP in
 * CRC mode) — Wireshark's `wpan.fcs_format`: the CRC-16 (the default), TI CC24xx metadata (RSSI,
 * FCS-OK bit, correlation), or nothing (the frame has no FCS after all). A TAP header's FCS TLV
 * and ZEP's LQI mode say it themselves, and win, as in Wireshark.
 */
export type FcsFormat = 'crc16' | 'ti-cc24xx' | 'none';
export const FCS_FORMATS: readonly FcsFormat[] = ['crc16', 'ti-cc24xx', 'none'];

/** An 802.15.4 frame as the decoder takes it, with what a pcapng TAP writer records of its reception. */
export interface Ieee802154Capture extends CapturedFrame {
  time: string;
  rssi?: number;
  lqi?: number;
  channel?: number;
  interfaceName?: string;
}

/**
 * A captured packet read down to its link layer: the 802.15.4 frame it carries; none (other
 * traffic on an Ethernet/IP capture, a ZEP ack); or unreadable ZEP (what is wrong, and where).
 */
export type LinkLayerReading =
  | { kind: 'frame'; capture: Ieee802154Capture }
  | { kind: 'none'; why: string }
  | { kind: 'unreadable'; why: string };

const NOT_ZEP = `not ZEP (UDP port ${ZEP_PORT})`;

/** The 802.15.4 frame in a packet of any link type the reader accepts; `fcs` reads the bytes where the link type says FCS. */
export function ieee802154Of(p: CapturedPacket, fcs: FcsFormat = 'crc16'): LinkLayerReading {
  if (!IP_LINK_TYPES.includes(p.linkType)) {
    const tap = p.rssi !== undefined || p.lqi !== undefined || p.channel !== undefined;
    // The common case untouched: no copy per packet.
    if (!tap && (p.linkType !== LINKTYPE_IEEE802_15_4_WITHFCS || fcs === 'crc16')) return { kind: 'frame', capture: p };
    const radio = tap ? radioOf(p.channel, p.rssi, p.lqi, undefined, undefined) : undefined;
    const trailer = !p.fcsIncluded ? 'none' : p.linkType === LINKTYPE_IEEE802_15_4_WITHFCS ? fcs : 'crc16';
    return { kind: 'frame', capture: trailerRead({ ...p, radio }, trailer) };
  }
  let zep: ZepFrame | ZepAck | undefined;
  try {
    zep = zepOf(p.linkType, p.frame);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { kind: 'unreadable', why: `${linkTypeName(p.linkType)} packet: ${e.message}` };
  }
  if (!zep) return { kind: 'none', why: NOT_ZEP };
  if (zep.kind === 'ack') return { kind: 'none', why: 'ZEP ack' };
  // Like Wireshark's ZEP dissector: the LQI byte means something in LQI mode only.
  const lqi = zep.trailer === 'lqi' ? zep.lqi : undefined;
  const capture: Ieee802154Capture = {
    n: p.n,
    timestampUs: p.timestampUs,
    time: p.time,
    frame: zep.psdu,
    fcsIncluded: false,
    radio: radioOf(zep.channel, undefined, lqi, zep.deviceId, zep.sequence),
    lqi,
    channel: zep.channel,
    interfaceName: p.interfaceName,
  };
  // ZEP in LQI mode says so itself: CC24xx metadata, whatever --fcs says.
  return { kind: 'frame', capture: trailerRead(capture, zep.trailer === 'lqi' ? 'ti-cc24xx' : fcs) };
}

function radioOf(channel?: number, rssi?: number, lqi?: number, zepDevice?: number, zepSeq?: number): DecodedRadio {
  // Every key in the documented order, absent ones undefined: one object shape.
  return { channel, rssi, lqi, correlation: undefined, zepDevice, zepSeq };
}

/** `c` with its last two bytes read as `trailer` says: kept as the FCS, read as CC24xx metadata, or part of the frame. */
function trailerRead(c: Ieee802154Capture, trailer: FcsFormat): Ieee802154Capture {
  if (trailer === 'crc16') return { ...c, fcsIncluded: c.frame.length >= 2 };
  if (trailer === 'none' || c.frame.length < 2) return { ...c, fcsIncluded: false };
  const m = readCc24xx(c.frame.subarray(c.frame.length - 2));
  const radio = c.radio ?? radioOf();
  return {
    ...c,
    frame: c.frame.subarray(0, c.frame.length - 2),
    fcsIncluded: false,
    fcsOk: m.fcsOk,
    rssi: m.rssi,
    radio: { ...radio, rssi: m.rssi, correlation: m.correlation },
  };
}
