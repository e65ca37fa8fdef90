// ZEP (v1 and v2, FCS and TI CC24xx trailers) in UDP over every link layer a remote sniffer's
// capture comes in: our reader against tshark's ZEP and 802.15.4 dissectors on captures our
// writers made. A classic pcap per link type (one link type a file), read by both.
import { test, expect } from '@playwright/test';
import { withFcs } from '../../protocol/crc.ts';
import {
  IP_LINK_TYPES,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  udpFrame,
  udpOf,
  zepOf,
} from '../../protocol/link-layers.ts';
import { cc24xxBytes, encodeZep, readCc24xx, type ZepFrame } from '../../protocol/zep.ts';
import { pcapFile } from '../support/classic-pcap.ts';
import { tsharkFields } from '../support/tshark.ts';

/** A Data frame (beacon request-sized MAC header + payload), sequence number `seq`. */
const mac = (seq: number) => Uint8Array.from([0x41, 0x88, seq, 0x34, 0x12, 0xff, 0xff, 0x00, 0x00, 0x09, 0x12]);

function zepFrames(): ZepFrame[] {
  const out: ZepFrame[] = [];
  for (let i = 0; i < 8; i++) {
    const version = (i % 2 === 0 ? 2 : 1) as 1 | 2;
    const trailer = i % 4 < 2 ? 'crc' : 'lqi';
    const psdu =
      trailer === 'crc'
        ? withFcs(mac(i))
        : Uint8Array.from([...mac(i), ...cc24xxBytes({ rssi: -40 - i, fcsOk: i !== 6, correlation: 100 + i })]);
    out.push({
      version,
      kind: 'data',
      channel: 11 + i,
      deviceId: 0x1000 + i,
      trailer,
      lqi: 200 + i,
      psdu,
      ...(version === 2 && { timeNs: 1_700_000_000_123_456_000n + BigInt(i) * 1_000_000_000n, sequence: 77 + i }),
    });
  }
  return out;
}

const FIELDS = [
  'zep.version',
  'zep.channel_id',
  'zep.device_id',
  'zep.lqi',
  'zep.seqno',
  'zep.lqi_mode',
  'wpan.seq_no',
  'wpan.fcs_ok',
  'wpan.rssi',
  'wpan.correlation',
  'udp.dstport',
];

for (const linkType of IP_LINK_TYPES) {
  for (const ipv6 of linkType === LINKTYPE_IPV4 ? [false] : linkType === LINKTYPE_IPV6 ? [true] : [false, true]) {
    test(`link type ${linkType}${ipv6 ? ', IPv6' : ', IPv4'}: every ZEP field and the frame inside read as tshark reads them`, () => {
      const zeps = zepFrames();
      const frames = zeps.map((z, i) => udpFrame(linkType, encodeZep(z), { ipv6, srcPort: 40000 + i }));
      const rows = tsharkFields(pcapFile(linkType, frames, `zep-${linkType}`), FIELDS, ['-o', 'wpan.fcs_format:TRUE']);
      expect(rows).toHaveLength(zeps.length);
      frames.forEach((frame, i) => {
        const ours = zepOf(linkType, frame);
        expect(ours).toEqual(zeps[i]);
        const z = ours as ZepFrame;
        const row = rows[i];
        const seen = {
          version: Number(row['zep.version'][0]),
          channel: Number(row['zep.channel_id'][0]),
          deviceId: Number(row['zep.device_id'][0]),
          trailer: row['zep.lqi_mode'][0] === '1' || row['zep.lqi_mode'][0] === 'True' ? 'crc' : 'lqi',
          macSeq: Number(row['wpan.seq_no'][0]),
          port: Number(row['udp.dstport'][0]),
        };
        expect(seen).toEqual({
          version: z.version,
          channel: z.channel,
          deviceId: z.deviceId,
          trailer: z.trailer,
          macSeq: z.psdu[2],
          port: 17754,
        });
        if (z.trailer === 'lqi') {
          const m = readCc24xx(z.psdu.subarray(z.psdu.length - 2));
          expect({
            rssi: Number(row['wpan.rssi'][0]),
            correlation: Number(row['wpan.correlation'][0]),
            fcsOk: row['wpan.fcs_ok'][0] === '1',
          }).toEqual({ rssi: m.rssi, correlation: m.correlation, fcsOk: m.fcsOk });
          // tshark 4.0 shows v1's LQI byte only inside "Reserved Fields" (its dissector reads it from byte 7, as we do).
          if (z.version === 2) expect(Number(row['zep.lqi'][0])).toBe(z.lqi);
        } else {
          expect(row['wpan.fcs_ok'][0]).toBe('1');
        }
        if (z.version === 2) expect(Number(row['zep.seqno'][0])).toBe(z.sequence);
      });
    });
  }
}

test('not ZEP: another UDP port, a fragment, TCP, and a truncated datagram are told apart', () => {
  const zep = encodeZep(zepFrames()[0]);
  expect(zepOf(LINKTYPE_ETHERNET, udpFrame(LINKTYPE_ETHERNET, zep, { srcPort: 5000, dstPort: 5001 }))).toBeUndefined();
  const fragment = udpFrame(LINKTYPE_RAW, zep);
  fragment[6] |= 0x20; // more fragments
  expect(udpOf(LINKTYPE_RAW, fragment)).toBeUndefined();
  const tcp = udpFrame(LINKTYPE_LINUX_SLL, zep);
  tcp[16 + 9] = 6;
  expect(udpOf(LINKTYPE_LINUX_SLL, tcp)).toBeUndefined();
  const cut = udpFrame(LINKTYPE_LINUX_SLL2, zep).subarray(0, 20 + 20 + 4);
  expect(() => udpOf(LINKTYPE_LINUX_SLL2, cut)).toThrow(/udp.length at offset 24: needs 2 bytes/);
  expect(udpOf(195, zep)).toBeUndefined();
});

test('BSD loopback (link type 0) is read in either byte order, as the capturing host wrote its address family', () => {
  const z = zepFrames()[1];
  // A big-endian host's NULL header is the LOOP header: AF_INET in network order.
  const bigEndian = udpFrame(LINKTYPE_LOOP, encodeZep(z), { ipv6: true });
  expect(zepOf(LINKTYPE_NULL, bigEndian)).toEqual(z);
  expect(zepOf(LINKTYPE_NULL, udpFrame(LINKTYPE_NULL, encodeZep(z)))).toEqual(z);
  const notIp = udpFrame(LINKTYPE_NULL, encodeZep(z));
  notIp[0] = 7;
  expect(udpOf(LINKTYPE_NULL, notIp)).toBeUndefined();
});
