// `gbcs-rig decode` on what lab tools record — ZEP v1/v2 in UDP over every link layer a remote
// sniffer's capture comes in, and 802.15.4 frames whose last two bytes are TI CC24xx metadata —
// against tshark frame by frame: sources, sequence numbers, frame types, RSSI/LQI/channel, FCS OK.
// The captures are made here with the project's encoder.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPcapngFile } from '../../io/capture-files.ts';
import { withFcs } from '../../protocol/crc.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { encodeFrame } from '../../protocol/encoder.ts';
import { encodeMac } from '../../protocol/mac.ts';
import {
  IP_LINK_TYPES,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  udpFrame,
} from '../../protocol/link-layers.ts';
import { cc24xxBytes, encodeZep, type ZepFrame } from '../../protocol/zep.ts';
import { pcapFile } from '../support/classic-pcap.ts';
import { tsharkFields } from '../support/tshark.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
const decode = (...args: string[]) => spawnSync(process.execPath, [BIN, 'decode', ...args], { encoding: 'utf8' });
const CC24XX = ['-o', 'wpan.fcs_format:TI CC24xx metadata'];

/** 802.15.4 frames without FCS, made by the encoder: a ZCL data frame, a beacon request, an extended-source command, an ack. */
function macFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    frames.push(
      encodeFrame(
        {
          mac: {
            type: 'data',
            seq: 10 + i,
            dstPan: '0x481e',
            dst: '0x0000',
            srcPan: '0x481e',
            src: `0x${(0x1230 + i).toString(16)}`,
            ackRequest: true,
          },
          nwk: { type: 'data', dst: '0x0000', src: `0x${(0x1230 + i).toString(16)}`, radius: 30, seq: 40 + i },
          aps: { type: 'data', delivery: 'unicast', dstEp: 1, srcEp: 1, cluster: 0x0006, profile: 0x0104, counter: i },
          payload: Uint8Array.from([0x01, i, 0x01]),
        },
        false,
      ),
    );
  }
  frames.push(encodeMac({ type: 'command', seq: 20, dstPan: '0xffff', dst: '0xffff', payload: Uint8Array.of(0x07) }, false));
  frames.push(
    encodeMac(
      {
        type: 'command',
        seq: 21,
        dstPan: '0x481e',
        dst: '0x0000',
        srcPan: '0xffff',
        src: '00:0d:6f:00:0a:90:11:22',
        payload: Uint8Array.of(0x01, 0x8e),
      },
      false,
    ),
  );
  frames.push(encodeMac({ type: 'ack', seq: 22 }, false));
  return frames;
}

/** A frame with its trailer: the FCS (corrupted when `badFcs`), or CC24xx metadata. */
function trailed(frame: Uint8Array, i: number, trailer: 'crc' | 'lqi'): Uint8Array {
  if (trailer === 'lqi') return Uint8Array.from([...frame, ...cc24xxBytes({ rssi: -30 - 7 * i, fcsOk: i % 4 !== 3, correlation: 90 + i })]);
  const f = withFcs(frame);
  if (i % 5 === 4) f[f.length - 1] ^= 0xff;
  return f;
}

function zeps(): ZepFrame[] {
  return macFrames().flatMap((frame, i) =>
    (['crc', 'lqi'] as const).map((trailer, t): ZepFrame => {
      const version = ((i + t) % 2 === 0 ? 2 : 1) as 1 | 2;
      return {
        version,
        kind: 'data',
        channel: 11 + i,
        deviceId: 0x2000 + i,
        trailer,
        lqi: 150 + 10 * i + t,
        psdu: trailed(frame, 2 * i + t, trailer),
        ...(version === 2 && { timeNs: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, sequence: 500 + 2 * i + t }),
      };
    }),
  );
}

const FIELDS = [
  'frame.number',
  'wpan.frame_type',
  'wpan.seq_no',
  'wpan.src16',
  'wpan.src64',
  'wpan.fcs_ok',
  'wpan.rssi',
  'wpan.correlation',
  'zep.version',
  'zep.channel_id',
  'zep.device_id',
  'zep.lqi',
  'zep.seqno',
  'wpan-tap.rss',
  'wpan-tap.ch_num',
  'wpan-tap.lqi',
];
const MAC_TYPES = ['beacon', 'data', 'ack', 'command'];

type Row = Record<string, string[]>;
const first = (row: Row, field: string): string | undefined => row[field]?.[0];
const bool = (v: string | undefined) => (v === undefined ? undefined : v === '1' || v === 'True');
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

/** The facts compared, as tshark reports them (only those it reports for the frame's kind). */
function theirs(row: Row) {
  const version = num(first(row, 'zep.version'));
  return {
    n: num(first(row, 'frame.number')),
    type: MAC_TYPES[Number(first(row, 'wpan.frame_type'))],
    seq: num(first(row, 'wpan.seq_no')),
    src: first(row, 'wpan.src16') ?? first(row, 'wpan.src64'),
    fcsOk: bool(first(row, 'wpan.fcs_ok')),
    rssi: num(first(row, 'wpan.rssi') ?? first(row, 'wpan-tap.rss')),
    correlation: num(first(row, 'wpan.correlation')),
    channel: num(first(row, 'zep.channel_id') ?? first(row, 'wpan-tap.ch_num')),
    zepDevice: num(first(row, 'zep.device_id')),
    // tshark 4.0 shows v1's LQI byte only inside "Reserved Fields" (protocol/zep.ts reads it where its dissector does).
    lqi: version === 2 ? num(first(row, 'zep.lqi')) : num(first(row, 'wpan-tap.lqi')),
    zepSeq: num(first(row, 'zep.seqno')),
  };
}

function ours(f: DecodedFrame, zep: boolean) {
  return {
    n: f.n,
    type: f.mac.type,
    seq: f.mac.seq,
    src: f.mac.src,
    fcsOk: f.mac.fcsOk,
    rssi: f.radio?.rssi,
    correlation: f.radio?.correlation,
    channel: f.radio?.channel,
    zepDevice: f.radio?.zepDevice,
    lqi: zep && f.radio?.zepSeq === undefined ? undefined : f.radio?.lqi,
    zepSeq: f.radio?.zepSeq,
  };
}

function decodedLines(stdout: string): DecodedFrame[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DecodedFrame);
}

for (const linkType of IP_LINK_TYPES) {
  for (const ipv6 of linkType === LINKTYPE_IPV4 ? [false] : linkType === LINKTYPE_IPV6 ? [true] : [false, true]) {
    test(`ZEP over link type ${linkType} (${ipv6 ? 'IPv6' : 'IPv4'}): every frame decodes as tshark reads it, other traffic counted`, () => {
      const frames = zeps().map((z) => udpFrame(linkType, encodeZep(z), { ipv6 }));
      // Traffic that is not an 802.15.4 frame: another UDP port, and a ZEP ack.
      frames.splice(3, 0, udpFrame(linkType, Uint8Array.from([1, 2, 3, 4]), { ipv6, srcPort: 5353, dstPort: 5353 }));
      frames.splice(7, 0, udpFrame(linkType, encodeZep({ version: 2, kind: 'ack', sequence: 9 }), { ipv6 }));
      const file = pcapFile(linkType, frames, `zep-${linkType}`);
      const r = decode(file);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('2 packets carry no 802.15.4 frame (1 not ZEP (UDP port 17754), 1 ZEP ack)');
      const rows = tsharkFields(file, FIELDS, ['-Y', 'wpan']);
      const decoded = decodedLines(r.stdout);
      expect(decoded).toHaveLength(zeps().length);
      expect(decoded.map((f) => ours(f, true))).toEqual(rows.map(theirs));
      // The frames inside decode up the stack as any capture's would.
      expect(decoded[0].zcl?.name).toBeDefined();
      expect(decoded.filter((f) => f.mac.fcsOk === false).length).toBeGreaterThan(1);
    });
  }
}

test('TI CC24xx metadata in place of the FCS (link type 195, --fcs ti-cc24xx) reads as tshark with wpan.fcs_format "TI CC24xx metadata"', () => {
  const frames = macFrames().map((f, i) => trailed(f, i, 'lqi'));
  const file = pcapFile(195, frames, 'cc24xx');
  const r = decode(file, '--fcs', 'ti-cc24xx');
  expect(r.status, r.stderr).toBe(0);
  const decoded = decodedLines(r.stdout);
  const rows = tsharkFields(file, FIELDS, CC24XX);
  expect(decoded.map((f) => ours(f, false))).toEqual(rows.map(theirs));
  expect(decoded.map((f) => f.mac.fcsOk)).toContain(false);
  // A frame whose radio said "FCS bad" is not decoded beyond its MAC header, as with an FCS.
  expect(decoded.find((f) => f.mac.fcsOk === false)?.summary).toMatch(/bad FCS/);

  // Read as an FCS (the default), the same bytes fail their check: tshark agrees with that too.
  const asCrc = decodedLines(decode(file).stdout);
  expect(asCrc.map((f) => f.mac.fcsOk)).toEqual(tsharkFields(file, FIELDS).map((row) => bool(first(row, 'wpan.fcs_ok'))));
});

test('a TAP capture says itself what ends its frames (its FCS TLV): --fcs does not override it, as the preference does not in tshark', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gbcs-rig-tap-')), 'tap.pcapng');
  const writer = openPcapngFile(file);
  const iface = writer.addInterface({ name: 'tap' });
  macFrames().forEach((f, i) =>
    writer.writePacket({
      interfaceId: iface,
      timestampUs: BigInt(i),
      frame: trailed(f, i, 'lqi'),
      fcsIncluded: true,
      rssi: -20 - i,
      lqi: 200,
      channel: 15,
    }),
  );
  await writer.close();
  const r = decode(file, '--fcs', 'ti-cc24xx');
  expect(r.status, r.stderr).toBe(0);
  const decoded = decodedLines(r.stdout);
  const rows = tsharkFields(file, FIELDS, CC24XX);
  expect(decoded.map((f) => ours(f, false))).toEqual(rows.map(theirs));
  // The CC24xx bytes stayed an FCS (a bad one): nothing was read from them.
  expect(decoded.map((f) => [f.mac.fcsOk, f.radio?.correlation])).toEqual(decoded.map(() => [false, undefined]));
});

test('decode --format text adds the channel, RSSI and LQI the capture recorded as a fourth column; --pcapng keeps them in TAP', () => {
  const file = pcapFile(LINKTYPE_LINUX_SLL, [udpFrame(LINKTYPE_LINUX_SLL, encodeZep(zeps()[1]))], 'zep-text');
  const out = join(mkdtempSync(join(tmpdir(), 'gbcs-rig-zep-out-')), 'out.pcapng');
  const r = decode(file, '--format', 'text', '--pcapng', out);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toMatch(/^1\t\S+\tZCL .*\tch 11, RSSI -37 dBm, LQI 151, correlation 91, ZEP device 8192$/);
  // The 802.15.4 frame without its CC24xx bytes (TAP FCS type none), the reception in TAP TLVs.
  const [row] = tsharkFields(out, ['wpan.seq_no', 'wpan-tap.ch_num', 'wpan-tap.rss', 'wpan-tap.lqi', 'wpan.fcs', 'frame.comment']);
  expect(row).toEqual({
    'wpan.seq_no': ['10'],
    'wpan-tap.ch_num': ['11'],
    'wpan-tap.rss': ['-37'],
    'wpan-tap.lqi': ['151'],
    'wpan.fcs': [],
    'frame.comment': [r.stdout.split('\t')[2]],
  });
});

test('unreadable ZEP is named with its packet, the frames around it still decode; a capture without ZEP is refused', () => {
  const good = zeps()
    .slice(0, 3)
    .map((z) => udpFrame(LINKTYPE_ETHERNET, encodeZep(z)));
  const v3 = encodeZep(zeps()[0]);
  v3[2] = 3;
  const cut = encodeZep(zeps()[2]).subarray(0, 20);
  const file = pcapFile(
    LINKTYPE_ETHERNET,
    [good[0], udpFrame(LINKTYPE_ETHERNET, v3), good[1], udpFrame(LINKTYPE_ETHERNET, cut), good[2]],
    'bad-zep',
  );
  const r = decode(file);
  expect(r.status).toBe(1);
  expect(decodedLines(r.stdout).map((f) => f.n)).toEqual([1, 3, 5]);
  const errors = r.stderr.trim().split('\n');
  expect(errors[0]).toBe(
    `gbcs-rig decode: ${file}: packet 2: Ethernet packet: zep.version at offset 2: version 3: only ZEP v1 and v2 are read`,
  );
  expect(errors[1]).toMatch(
    new RegExp(`^gbcs-rig decode: ${file}: packet 4: Ethernet packet: zep\\.\\w+ at offset \\d+: needs \\d+ bytes`),
  );
  expect(errors[2]).toContain('2 packets could not be read');

  const noZep = pcapFile(LINKTYPE_ETHERNET, [udpFrame(LINKTYPE_ETHERNET, Uint8Array.of(1, 2), { srcPort: 53, dstPort: 53 })], 'no-zep');
  const refused = decode(noZep);
  expect(refused.status).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr.trim()).toBe(
    `gbcs-rig decode: ${noZep}: link type 1 (Ethernet): none of its 1 packets carries an 802.15.4 frame (1 not ZEP (UDP port 17754))`,
  );

  const ppp = decode(pcapFile(9, good, 'ppp'));
  expect(ppp.status).toBe(1);
  expect(ppp.stderr).toMatch(
    /link type 9 \(PPP\) is not IEEE 802\.15\.4; accepted link types are 195 .*, and ZEP over 0 \(BSD loopback\), 1 \(Ethernet\), .* 108 \(OpenBSD loopback\)$/m,
  );
  expect(decode(file, '--fcs', 'crc32').status).toBe(2);
});
