import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../protocol/bytes.ts';
import { openPcapngFile, readCapture } from '../../io/capture-files.ts';
import { CaptureError } from '../../protocol/pcapng.ts';
import type { CapturedPacket, PacketToWrite } from '../../protocol/pcapng.ts';

// tshark 4.0 is the oracle: what we write it must read back exactly, and what it reads we must read the same.

const CAPTURES = '/work/shared/captures';

/** Runs tshark; it must exit 0 and say nothing on stderr but the warning about running as root. */
function tshark(args: string[]): string[] {
  const r = spawnSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/Running as user "root"|could be dangerous/.test(l))
    .join('\n');
  expect(stderr, `tshark ${args.join(' ')} stderr`).toBe('');
  expect(r.status, `tshark ${args.join(' ')} exit status`).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Fields of every frame, one array per frame, in the order asked. */
function fields(file: string, names: string[], extra: string[] = []): string[][] {
  const args = ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;'];
  for (const n of names) args.push('-e', n);
  return tshark(args).map((l) => l.split('|'));
}

/** frame.time_epoch ("1700000000.123456000") → µs, truncating as our reader does. */
function epochToMicros(s: string): bigint {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
}

/** CRC-16/KERMIT, the 802.15.4 FCS, appended low byte first. */
function withFcs(frame: Uint8Array): Uint8Array {
  let crc = 0;
  for (const b of frame) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return Uint8Array.from([...frame, crc & 0xff, crc >>> 8]);
}

async function readAll(path: string): Promise<CapturedPacket[]> {
  const out: CapturedPacket[] = [];
  for await (const p of readCapture(path)) out.push(p);
  return out;
}

// Expert severities (epan/proto.h): comment 0x00100000, chat 0x00200000, note 0x00400000, warn 0x00600000, error 0x00800000.
const PI_ERROR = 0x00800000;
const PI_MALFORMED = 0x07000000;

test('tshark reads back the timestamps, TAP fields, comments and 802.15.4 headers we write', async ({}, testInfo) => {
  const nwkFrame = fromHex('4188a31e48ffff00000912fcff000001cc0885dafeffd76b0828f6ea32000885dafeffd76b0800295e19cad6ebd84ca2aee2');
  // MAC command, beacon request: seq 0x42 to PAN 0xffff / 0xffff, no source.
  const beaconRequest = withFcs(fromHex('0308 42 ffff ffff 07'));
  // MAC command, data request, long source and destination, PAN 0x1234 (compressed), ack requested.
  const longData = withFcs(fromHex('63cc 07 3412 0807060504030201 1112131415161718 04'));
  const ack = withFcs(fromHex('0200 07'));

  type Row = Omit<PacketToWrite, 'interfaceId'> & { iface: 'tap' | 'raw'; seq: number; dstPan?: string; dst?: string; src?: string };
  const rows: Row[] = [
    {
      iface: 'tap',
      timestampUs: 1_700_000_000_123_456n,
      frame: nwkFrame,
      fcsIncluded: true,
      rssi: -61.5,
      lqi: 200,
      channel: 11,
      comment: 'hello from gbcs-rig',
      seq: 0xa3,
      dstPan: '0x481e',
      dst: '0xffff',
      src: '0x0000',
    },
    {
      iface: 'tap',
      timestampUs: 1_700_000_001_000_001n,
      frame: nwkFrame.subarray(0, nwkFrame.length - 2),
      fcsIncluded: false,
      rssi: -70.25,
      lqi: 100,
      channel: 15,
      seq: 0xa3,
      dstPan: '0x481e',
      dst: '0xffff',
      src: '0x0000',
    },
    {
      iface: 'tap',
      timestampUs: 1_747_000_000_999_999n,
      frame: beaconRequest,
      fcsIncluded: true,
      rssi: -99,
      lqi: 0,
      channel: 26,
      comment: 'beacon request — ünïcode',
      seq: 0x42,
      dstPan: '0xffff',
      dst: '0xffff',
    },
    { iface: 'tap', timestampUs: 1_747_000_001_000_000n, frame: longData, fcsIncluded: true, channel: 20, seq: 0x07, dstPan: '0x1234' },
    { iface: 'raw', timestampUs: 1_747_000_002_500_000n, frame: ack, fcsIncluded: true, comment: 'on a 195 interface', seq: 0x07 },
  ];

  const path = testInfo.outputPath('oracle.pcapng');
  const w = openPcapngFile(path);
  const tap = w.addInterface({ name: 'sniffer0', description: 'gbcs-rig test sniffer' });
  const raw = w.addInterface({ name: 'raw0', linkType: 195 });
  for (const { iface, seq: _s, dstPan: _p, dst: _d, src: _r, ...p } of rows)
    w.writePacket({ ...p, interfaceId: iface === 'tap' ? tap : raw });
  await w.close();

  const names = [
    'frame.time_epoch',
    'frame.interface_name',
    'frame.comment',
    'frame.len',
    'wpan-tap.rss',
    'wpan-tap.lqi',
    'wpan-tap.ch_num',
    'wpan-tap.ch_page',
    'wpan-tap.fcs_type',
    'wpan.seq_no',
    'wpan.dst_pan',
    'wpan.dst16',
    'wpan.src16',
    'wpan.dst64',
    'wpan.src64',
    'wpan.fcs',
    'wpan.fcs_ok',
    '_ws.expert.severity',
    '_ws.expert.group',
    '_ws.expert.message',
    '_ws.malformed',
  ];
  const got = fields(path, names).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])));
  expect(got).toHaveLength(rows.length);

  rows.forEach((w, i) => {
    const t = got[i];
    const tapLen =
      w.iface === 'tap' ? 4 + 8 + (w.rssi !== undefined ? 8 : 0) + (w.channel !== undefined ? 8 : 0) + (w.lqi !== undefined ? 8 : 0) : 0;
    expect.soft(epochToMicros(t['frame.time_epoch']), `frame ${i + 1} time`).toBe(w.timestampUs);
    expect.soft(t['frame.interface_name']).toBe(w.iface === 'tap' ? 'sniffer0' : 'raw0');
    expect.soft(t['frame.comment']).toBe(w.comment ?? '');
    expect.soft(Number(t['frame.len'])).toBe(tapLen + w.frame.length);
    expect.soft(t['wpan-tap.rss']).toBe(w.rssi === undefined ? '' : String(w.rssi));
    expect.soft(t['wpan-tap.lqi']).toBe(w.lqi === undefined ? '' : String(w.lqi));
    expect.soft(t['wpan-tap.ch_num']).toBe(w.channel === undefined ? '' : String(w.channel));
    expect.soft(t['wpan-tap.ch_page']).toBe(w.channel === undefined ? '' : '0');
    expect.soft(t['wpan-tap.fcs_type']).toBe(w.iface === 'raw' ? '' : w.fcsIncluded ? '1' : '0');
    expect.soft(Number(t['wpan.seq_no'])).toBe(w.seq);
    expect.soft(t['wpan.dst_pan']).toBe(w.dstPan ?? '');
    expect.soft(t['wpan.dst16']).toBe(w.dst ?? '');
    expect.soft(t['wpan.src16']).toBe(w.src ?? '');
    if (w.fcsIncluded) {
      const fcs = w.frame[w.frame.length - 2] | (w.frame[w.frame.length - 1] << 8);
      expect.soft(t['wpan.fcs']).toBe('0x' + fcs.toString(16).padStart(4, '0'));
      expect.soft(t['wpan.fcs_ok'], `frame ${i + 1} FCS correct`).toBe('1');
    } else {
      expect.soft(t['wpan.fcs']).toBe('');
    }
    const severities = t['_ws.expert.severity'].split(';').filter(Boolean).map(Number);
    const groups = t['_ws.expert.group'].split(';').filter(Boolean).map(Number);
    expect
      .soft(
        severities.filter((s) => s >= PI_ERROR),
        `frame ${i + 1} expert errors: ${t['_ws.expert.message']}`,
      )
      .toEqual([]);
    expect.soft(groups.filter((g) => g === PI_MALFORMED)).toEqual([]);
    expect.soft(t['_ws.malformed']).toBe('');
    // The only expert notes allowed: our comment, and the NWK payload tshark has no key for.
    const messages = t['_ws.expert.message'].split(';').filter(Boolean);
    expect.soft(messages.filter((m) => m !== w.comment && m !== 'Encrypted Payload')).toEqual([]);
  });
  expect(got[3]['wpan.dst64']).toBe('01:02:03:04:05:06:07:08');
  expect(got[3]['wpan.src64']).toBe('18:17:16:15:14:13:12:11');

  // capinfos agrees on the section and interface options we wrote.
  const r = spawnSync('capinfos', [path], { encoding: 'utf8' });
  expect(r.stdout).toMatch(/Capture application:\s+gbcs-rig/);
  expect(r.stdout).toMatch(/Description = gbcs-rig test sniffer/);
  expect(r.stdout).toMatch(/Time precision = microseconds \(6\)/);
  expect(r.stdout).toMatch(/Number of interfaces in file: 2/);

  // And our own reader agrees with what went in.
  const back = await readAll(path);
  expect(
    back.map((p) => [p.timestampUs, p.rssi, p.lqi, p.channel, p.comment, p.fcsIncluded, Buffer.from(p.frame).toString('hex')]),
  ).toEqual(rows.map((w) => [w.timestampUs, w.rssi, w.lqi, w.channel, w.comment, w.fcsIncluded, Buffer.from(w.frame).toString('hex')]));
});

test('a real capture re-written as TAP pcapng reads the same in tshark', async ({}, testInfo) => {
  const src = join(CAPTURES, 'whsniff_zigbee.pcapng');
  const path = testInfo.outputPath('rewritten.pcapng');
  const w = openPcapngFile(path);
  const id = w.addInterface({ name: 'rewritten' });
  let n = 0;
  for await (const p of readCapture(src)) {
    w.writePacket({ interfaceId: id, timestampUs: p.timestampUs, frame: p.frame, fcsIncluded: p.fcsIncluded, lqi: n % 256, channel: 11 });
    if (++n % 1000 === 0) await w.drain();
  }
  await w.close();
  const names = ['frame.time_epoch', 'wpan.seq_no', 'wpan.fcs_ok', 'wpan.frame_length'];
  const before = fields(src, names);
  const after = fields(path, names);
  expect(after.length).toBe(n);
  expect(after).toEqual(before);
});

test.describe('our reader against tshark on every shared capture', () => {
  const files = readdirSync(CAPTURES)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort();
  test('the capture folder is there', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });
  for (const f of files) {
    test(f, async () => {
      const path = join(CAPTURES, f);
      const t = fields(path, ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols']);
      expect(t.length, 'tshark frames').toBeGreaterThan(0);
      let ours: CapturedPacket[];
      try {
        ours = await readAll(path);
      } catch (e) {
        // Refused: only for files whose link layer tshark itself sees as something other than 802.15.4.
        expect(e).toBeInstanceOf(CaptureError);
        expect((e as CaptureError).linkType).toBeDefined();
        expect(t.map(([, , , , proto]) => proto.split(':')[0]).filter((l) => l === 'wpan' || l === 'wpan-tap')).toEqual([]);
        return;
      }
      expect(ours.length, 'frame count = tshark -T fields -e frame.number | wc -l').toBe(t.length);
      // One comparison for the whole file: per-frame expects are too slow over 12k frames.
      const mine = ours.map((p) => [String(p.n), p.timestampUs, p.originalLength, p.frame.length]);
      const theirs = t.map(([num, epoch, len, cap]) => [num, epochToMicros(epoch), Number(len), Number(cap)]);
      expect(mine).toEqual(theirs);
      // frame.len of a 195 capture counts the FCS, which our frame keeps.
      expect(ours.every((p) => p.linkType !== 195 || p.fcsIncluded)).toBe(true);
    });
  }
});
