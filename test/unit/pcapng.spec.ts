import assert from 'node:assert/strict';
import { test, expect } from '@playwright/test';
import fc from '../support/fast-check.ts';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../protocol/bytes.ts';
import { CaptureError, CaptureParser, PcapngWriter, readCaptureSync } from '../../protocol/pcapng.ts';
import { openPcapngFile, readCapture, readCaptureBatches } from '../../io/capture-files.ts';
import { IsoTimeFormatter, isoFromMs, isoFromMsShort, isoMicros } from '../../protocol/iso-time.ts';
import type { CapturedPacket, PacketToWrite } from '../../protocol/pcapng.ts';

const CAPTURES = '/work/shared/captures';
const FRAME_WITH_FCS = fromHex('4188a31e48ffff00000912fcff000001cc0885dafeffd76b0828f6ea32000885dafeffd76b0800295e19cad6ebd84ca2aee2');
const FRAME_NO_FCS = FRAME_WITH_FCS.subarray(0, FRAME_WITH_FCS.length - 2);
const ACK = fromHex('02000a');

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Writes with the in-memory sink and returns the whole file. */
function writeToBytes(build: (w: PcapngWriter) => void): Uint8Array {
  const chunks: Uint8Array[] = [];
  build(new PcapngWriter((c) => chunks.push(c)));
  return concat(chunks);
}

const PACKETS: Omit<PacketToWrite, 'interfaceId'>[] = [
  {
    timestampUs: 1_700_000_000_123_456n,
    frame: FRAME_WITH_FCS,
    fcsIncluded: true,
    rssi: -61.5,
    lqi: 200,
    channel: 11,
    comment: 'first — ünïcode',
  },
  // Just over 2^32 µs: the high word of the timestamp is 1.
  { timestampUs: (1n << 32n) + 7n, frame: FRAME_NO_FCS, fcsIncluded: false, rssi: -61.3, lqi: 0, channel: 26, page: 2 },
  { timestampUs: 0n, frame: ACK, fcsIncluded: false },
  { timestampUs: 1_747_000_000_999_999n, frame: new Uint8Array(0), fcsIncluded: false, lqi: 255 },
];

/** A small file: two TAP interfaces plus one 195 and one 230 interface. */
function sampleFile(): Uint8Array {
  return writeToBytes((w) => {
    const a = w.addInterface({ name: 'sniffer-a', description: 'first radio' });
    const b = w.addInterface({ name: 'sniffer-b' });
    const c = w.addInterface({ name: 'raw-fcs', linkType: 195 });
    const d = w.addInterface({ linkType: 230 });
    PACKETS.forEach((p, i) => w.writePacket({ ...p, interfaceId: i % 2 === 0 ? a : b }));
    w.writePacket({ interfaceId: c, timestampUs: 5n, frame: FRAME_WITH_FCS, fcsIncluded: true, comment: 'c' });
    w.writePacket({ interfaceId: d, timestampUs: 6n, frame: FRAME_NO_FCS, fcsIncluded: false });
  });
}

/** The fields that must survive a round trip, without the frame bytes' Buffer/Uint8Array identity. */
function plain(p: CapturedPacket): Record<string, unknown> {
  return { ...p, frame: Array.from(p.frame) };
}

test.describe('pcapng writer → reader round trip', () => {
  test('every field comes back as written', () => {
    const packets = readCaptureSync(sampleFile(), 'sample');
    expect(packets).toHaveLength(6);
    PACKETS.forEach((w, i) => {
      const r = packets[i];
      expect(r.n).toBe(i + 1);
      expect(r.linkType).toBe(283);
      expect(r.timestampUs).toBe(w.timestampUs);
      expect(Array.from(r.frame)).toEqual(Array.from(w.frame));
      expect(r.fcsIncluded).toBe(w.fcsIncluded);
      // RSS is a float32 on the wire.
      expect(r.rssi).toBe(w.rssi === undefined ? undefined : Math.fround(w.rssi));
      expect(r.lqi).toBe(w.lqi);
      expect(r.channel).toBe(w.channel);
      expect(r.page).toBe(w.channel === undefined ? undefined : (w.page ?? 0));
      expect(r.comment).toBe(w.comment);
      expect(r.interfaceName).toBe(i % 2 === 0 ? 'sniffer-a' : 'sniffer-b');
      expect(r.originalLength).toBe(w.frame.length);
    });
    expect(packets[0].time).toBe('2023-11-14T22:13:20.123456Z');
    expect(packets[1].time).toBe('1970-01-01T01:11:34.967303Z');
    expect(packets[2].time).toBe('1970-01-01T00:00:00.000000Z');
    expect(packets[1].rssi).not.toBe(-61.3);
    expect(plain(packets[4])).toEqual({
      n: 5,
      timestampUs: 5n,
      time: '1970-01-01T00:00:00.000005Z',
      linkType: 195,
      frame: Array.from(FRAME_WITH_FCS),
      fcsIncluded: true,
      originalLength: FRAME_WITH_FCS.length,
      comment: 'c',
      interfaceId: 2,
      interfaceName: 'raw-fcs',
    });
    expect(plain(packets[5])).toEqual({
      n: 6,
      timestampUs: 6n,
      time: '1970-01-01T00:00:00.000006Z',
      linkType: 230,
      frame: Array.from(FRAME_NO_FCS),
      fcsIncluded: false,
      originalLength: FRAME_NO_FCS.length,
      interfaceId: 3,
    });
  });

  test('the largest timestamp survives, and the ISO string goes beyond Date range', () => {
    const max = (1n << 64n) - 1n;
    const [p] = readCaptureSync(
      writeToBytes((w) => {
        w.writePacket({ interfaceId: w.addInterface(), timestampUs: max, frame: ACK, fcsIncluded: false });
      }),
    );
    expect(p.timestampUs).toBe(max);
    expect(p.time).toBe('+586524-01-19T08:01:49.551615Z');
  });

  test('the section header, interface and packet blocks have the documented layout', () => {
    const bytes = writeToBytes((w) => {
      w.writePacket({ interfaceId: w.addInterface({ name: 'x' }), timestampUs: 0x1_0000_0002n, frame: ACK, fcsIncluded: false, lqi: 7 });
    });
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(dv.getUint32(0, true)).toBe(0x0a0d0d0a);
    expect(dv.getUint32(8, true)).toBe(0x1a2b3c4d);
    expect([dv.getUint16(12, true), dv.getUint16(14, true)]).toEqual([1, 0]);
    expect(dv.getBigInt64(16, true)).toBe(-1n);
    // shb_userappl "gbcs-rig" then opt_endofopt.
    expect([dv.getUint16(24, true), dv.getUint16(26, true)]).toEqual([4, 8]);
    expect(new TextDecoder().decode(bytes.subarray(28, 36))).toBe('gbcs-rig');
    const shbLen = dv.getUint32(4, true);
    expect(dv.getUint32(shbLen - 4, true)).toBe(shbLen);
    const idb = shbLen;
    expect(dv.getUint32(idb, true)).toBe(1);
    expect(dv.getUint16(idb + 8, true)).toBe(283);
    const epb = idb + dv.getUint32(idb + 4, true);
    expect(dv.getUint32(epb, true)).toBe(6);
    expect([dv.getUint32(epb + 12, true), dv.getUint32(epb + 16, true)]).toEqual([1, 2]);
    // TAP: 4-byte header, FCS type TLV (8) and LQI TLV (8), then the 3-byte ACK padded to 4.
    expect(dv.getUint32(epb + 20, true)).toBe(20 + 3);
    expect(Array.from(bytes.subarray(epb + 28, epb + 32))).toEqual([0, 0, 20, 0]);
    expect(dv.getUint32(epb + 4, true)).toBe(32 + 24);
    expect(bytes.length).toBe(epb + 32 + 24);
  });

  test('the writer refuses what the link type cannot carry', () => {
    const w = new PcapngWriter(() => {});
    const raw = w.addInterface({ linkType: 195 });
    expect(() => w.writePacket({ interfaceId: 9, timestampUs: 0n, frame: ACK, fcsIncluded: false })).toThrow(/interfaceId/);
    expect(() => w.writePacket({ interfaceId: raw, timestampUs: 0n, frame: ACK, fcsIncluded: false })).toThrow(/with FCS/);
    expect(() => w.writePacket({ interfaceId: raw, timestampUs: 0n, frame: FRAME_WITH_FCS, fcsIncluded: true, rssi: -50 })).toThrow(/283/);
    expect(() => w.writePacket({ interfaceId: raw, timestampUs: -1n, frame: FRAME_WITH_FCS, fcsIncluded: true })).toThrow(/timestampUs/);
    expect(() => w.addInterface({ linkType: 1 as 195 })).toThrow(/linkType/);
  });

  test('a file written through openPcapngFile streams back through readCapture', async ({}, testInfo) => {
    const path = testInfo.outputPath('stream.pcapng');
    const w = openPcapngFile(path);
    const id = w.addInterface({ name: 'big' });
    const count = 50_000;
    for (let i = 0; i < count; i++) {
      w.writePacket({
        interfaceId: id,
        timestampUs: 1_700_000_000_000_000n + BigInt(i) * 1000n,
        frame: FRAME_WITH_FCS,
        fcsIncluded: true,
        lqi: i % 256,
        rssi: -(i % 90),
        channel: 11 + (i % 16),
      });
      // Backpressure keeps the stream's buffer, and so memory, bounded.
      if (i % 1000 === 999) await w.drain();
    }
    await w.close();
    expect(statSync(path).size).toBeGreaterThan(count * FRAME_WITH_FCS.length);
    // One expect at the end: Playwright's expect is too slow to call per packet.
    let n = 0;
    const wrong: number[] = [];
    for await (const p of readCapture(path)) {
      const ok =
        p.n === n + 1 &&
        p.lqi === n % 256 &&
        p.channel === 11 + (n % 16) &&
        p.rssi === -(n % 90) &&
        p.timestampUs === 1_700_000_000_000_000n + BigInt(n) * 1000n &&
        p.frame.length === FRAME_WITH_FCS.length;
      if (!ok) wrong.push(p.n);
      n++;
    }
    expect(wrong).toEqual([]);
    expect(n).toBe(count);
  });

  test('close() reports a file that cannot be opened', async () => {
    const w = openPcapngFile('/nonexistent-dir/x.pcapng');
    await expect(w.close()).rejects.toThrow(/ENOENT/);
  });
});

test.describe('incremental parsing', () => {
  test('every split point of a small file gives the same packets', () => {
    const bytes = sampleFile();
    const whole = readCaptureSync(bytes).map(plain);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = new CaptureParser('split');
      const got = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      parser.end();
      expect(got.map(plain), `split at ${cut}`).toEqual(whole);
    }
  });

  test('one block reader: every split point of a file with every block kind and both byte orders gives the packets of the whole', () => {
    // Runs of EPBs, the blocks between them and blocks cut by a chunk end all go through the same reader.
    const le = new BlockBuilder(true);
    const be = new BlockBuilder(false);
    const bytes = Uint8Array.from([
      ...le.shb(),
      ...le.idb(195, [[2, text('le0')]]),
      ...le.epb(0, 1n, FRAME_WITH_FCS),
      ...le.epb(0, 2n, FRAME_WITH_FCS, [[1, text('c')]]),
      ...be.shb(),
      ...be.nrb(),
      ...be.idb(230, [[9, [9]]]),
      ...be.epb(0, 3_000n, FRAME_NO_FCS),
      ...be.pb(0, 4_000n, ACK),
      ...be.spb(FRAME_NO_FCS),
      ...be.epb(0, 5_000n, ACK),
      ...le.shb(),
      ...le.idb(283),
      ...le.epb(0, 6n, Uint8Array.from([0, 0, 4, 0, ...ACK])),
      ...le.epb(0, 7n, Uint8Array.from([0, 0, 4, 0, ...ACK])),
    ]);
    const whole = readCaptureSync(bytes).map(plain);
    expect(whole.map((p) => p.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = new CaptureParser('split');
      const got = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      parser.end();
      expect(got.map(plain), `split at ${cut}`).toEqual(whole);
    }
  });

  test('byte-at-a-time input gives the same packets, for pcapng and classic pcap', () => {
    for (const bytes of [sampleFile(), readFileSync(join(CAPTURES, 'zigator_02-mac-testing.pcap'))]) {
      const whole = readCaptureSync(bytes).map(plain);
      const parser = new CaptureParser('bytes');
      const got: CapturedPacket[] = [];
      for (let i = 0; i < bytes.length; i++) got.push(...parser.push(bytes.subarray(i, i + 1)));
      parser.end();
      expect(got.map(plain)).toEqual(whole);
    }
  });

  for (const [kind, scratchOf] of [
    ['Uint8Array', (n: number) => new Uint8Array(n)],
    ['Buffer', (n: number) => Buffer.alloc(n)],
  ] as const) {
    test(`the parser copies what it keeps: reusing a chunk buffer (${kind}) does not change packets`, () => {
      const bytes = sampleFile();
      // Chunks of 7 bytes straddle blocks; chunks of a whole file's length hand the parser a chunk it keeps whole.
      for (const size of [7, bytes.length]) {
        const scratch = scratchOf(size);
        const got: CapturedPacket[] = [];
        const parser = new CaptureParser('reuse');
        for (let o = 0; o < bytes.length; o += scratch.length) {
          const n = Math.min(scratch.length, bytes.length - o);
          scratch.set(bytes.subarray(o, o + n));
          got.push(...parser.push(scratch.subarray(0, n)));
          scratch.fill(0xee);
        }
        parser.end();
        expect(got.map(plain), `chunks of ${size}`).toEqual(readCaptureSync(bytes).map(plain));
      }
    });
  }
});

// Builders for files our writer never produces: classic pcap, big-endian and unusual pcapng.

function pcap(opts: {
  little: boolean;
  nanos: boolean;
  linkType: number;
  records: Array<{ sec: number; frac: number; data: Uint8Array; orig?: number }>;
}): Uint8Array {
  const size = 24 + opts.records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const le = opts.little;
  dv.setUint32(0, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, 65535, le);
  dv.setUint32(20, opts.linkType, le);
  let o = 24;
  for (const r of opts.records) {
    dv.setUint32(o, r.sec, le);
    dv.setUint32(o + 4, r.frac, le);
    dv.setUint32(o + 8, r.data.length, le);
    dv.setUint32(o + 12, r.orig ?? r.data.length, le);
    out.set(r.data, o + 16);
    o += 16 + r.data.length;
  }
  return out;
}

class BlockBuilder {
  constructor(readonly le: boolean) {}
  private u16(v: number): number[] {
    return this.le ? [v & 0xff, v >>> 8] : [v >>> 8, v & 0xff];
  }
  private u32(v: number): number[] {
    const b = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    return this.le ? b.reverse() : b;
  }
  private pad(b: number[]): number[] {
    while (b.length % 4) b.push(0);
    return b;
  }
  options(opts: Array<[number, number[]]>): number[] {
    if (opts.length === 0) return [];
    const out: number[] = [];
    for (const [code, v] of opts) out.push(...this.u16(code), ...this.u16(v.length), ...this.pad([...v]));
    return [...out, 0, 0, 0, 0];
  }
  block(type: number, body: number[]): number[] {
    const total = 12 + body.length;
    return [...this.u32(type), ...this.u32(total), ...body, ...this.u32(total)];
  }
  shb(): number[] {
    return this.block(0x0a0d0d0a, [
      ...this.u32(0x1a2b3c4d),
      ...this.u16(1),
      ...this.u16(0),
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
    ]);
  }
  idb(linkType: number, opts: Array<[number, number[]]> = []): number[] {
    return this.block(1, [...this.u16(linkType), ...this.u16(0), ...this.u32(0), ...this.options(opts)]);
  }
  epb(iface: number, ticks: bigint, data: Uint8Array, opts: Array<[number, number[]]> = []): number[] {
    return this.block(6, [
      ...this.u32(iface),
      ...this.u32(Number(ticks >> 32n)),
      ...this.u32(Number(ticks & 0xffffffffn)),
      ...this.u32(data.length),
      ...this.u32(data.length),
      ...this.pad([...data]),
      ...this.options(opts),
    ]);
  }
  /** Obsolete Packet Block: u16 interface id, u16 drops. */
  pb(iface: number, ticks: bigint, data: Uint8Array): number[] {
    return this.block(2, [
      ...this.u16(iface),
      ...this.u16(0),
      ...this.u32(Number(ticks >> 32n)),
      ...this.u32(Number(ticks & 0xffffffffn)),
      ...this.u32(data.length),
      ...this.u32(data.length),
      ...this.pad([...data]),
    ]);
  }
  spb(data: Uint8Array): number[] {
    return this.block(3, [...this.u32(data.length), ...this.pad([...data])]);
  }
  /** A Name Resolution Block, which the reader must skip. */
  nrb(): number[] {
    return this.block(4, [0, 0, 0, 0]);
  }
}

const text = (s: string) => Array.from(new TextEncoder().encode(s));

test.describe('other capture layouts', () => {
  for (const little of [true, false]) {
    for (const nanos of [false, true]) {
      test(`classic pcap, ${little ? 'little' : 'big'}-endian, ${nanos ? 'ns' : 'µs'} timestamps`, () => {
        const bytes = pcap({
          little,
          nanos,
          linkType: 195,
          records: [
            { sec: 1_600_000_000, frac: nanos ? 123_456_789 : 123_456, data: FRAME_WITH_FCS },
            { sec: 1, frac: nanos ? 999 : 0, data: ACK, orig: 5 },
          ],
        });
        const [a, b, ...rest] = readCaptureSync(bytes, 'classic');
        expect(rest).toHaveLength(0);
        expect(a.timestampUs).toBe(1_600_000_000_123_456n);
        expect(a.time).toBe('2020-09-13T12:26:40.123456Z');
        expect(a.linkType).toBe(195);
        expect(a.fcsIncluded).toBe(true);
        expect(Array.from(a.frame)).toEqual(Array.from(FRAME_WITH_FCS));
        expect(a.interfaceName).toBeUndefined();
        // ns fractions below a microsecond are truncated.
        expect(b.timestampUs).toBe(1_000_000n);
        expect(b.originalLength).toBe(5);
        expect(b.n).toBe(2);
      });
    }
  }

  test('classic pcap with link type 230 and 283', () => {
    const [nofcs] = readCaptureSync(
      pcap({ little: true, nanos: false, linkType: 230, records: [{ sec: 0, frac: 0, data: FRAME_NO_FCS }] }),
    );
    expect(nofcs.fcsIncluded).toBe(false);
    expect(nofcs.linkType).toBe(230);
    // A TAP header with only an RSS TLV: no FCS type TLV means no FCS, as Wireshark reads it.
    const tap = [0, 0, 12, 0, 1, 0, 4, 0, ...new Uint8Array(new Float32Array([-42.25]).buffer)];
    const [t] = readCaptureSync(
      pcap({ little: true, nanos: false, linkType: 283, records: [{ sec: 0, frac: 0, data: Uint8Array.from([...tap, ...FRAME_NO_FCS]) }] }),
    );
    expect(t.rssi).toBe(-42.25);
    expect(t.fcsIncluded).toBe(false);
    expect(Array.from(t.frame)).toEqual(Array.from(FRAME_NO_FCS));
  });

  test('big-endian pcapng, power-of-2 and ns resolutions, tsoffset, obsolete and simple packet blocks', () => {
    const be = new BlockBuilder(false);
    const bytes = Uint8Array.from([
      ...be.shb(),
      ...be.nrb(),
      // if_tsresol 0x8a: 2^-10 s ticks; if_tsoffset 100 s.
      ...be.idb(195, [
        [2, text('pow2')],
        [9, [0x8a]],
        [14, [0, 0, 0, 0, 0, 0, 0, 100]],
      ]),
      ...be.idb(230, [[9, [9]]]),
      ...be.epb(0, 1024n * 3n + 512n, FRAME_WITH_FCS, [
        [1, text('one')],
        [1, text('two')],
      ]),
      ...be.epb(1, 1_234_567_891n, FRAME_NO_FCS),
      ...be.pb(1, 2_000_000_000n, ACK),
      ...be.spb(FRAME_WITH_FCS),
    ]);
    const p = readCaptureSync(bytes, 'be');
    expect(p.map((x) => x.timestampUs)).toEqual([103_500_000n, 1_234_567n, 2_000_000n, 0n]);
    expect(p[0].comment).toBe('one\ntwo');
    expect(p[0].interfaceName).toBe('pow2');
    expect(p.map((x) => x.linkType)).toEqual([195, 230, 230, 195]);
    expect(p.map((x) => x.frame.length)).toEqual([FRAME_WITH_FCS.length, FRAME_NO_FCS.length, 3, FRAME_WITH_FCS.length]);
  });

  test('several sections with their own byte order and interfaces', () => {
    const le = new BlockBuilder(true);
    const be = new BlockBuilder(false);
    const bytes = Uint8Array.from([
      ...le.shb(),
      ...le.idb(195, [[2, text('le0')]]),
      ...le.epb(0, 1n, FRAME_WITH_FCS),
      ...be.shb(),
      ...be.idb(230, [[2, text('be0')]]),
      ...be.epb(0, 2n, FRAME_NO_FCS),
      // Interface 0 of a new section is not interface 0 of the last one.
      ...le.shb(),
      ...le.idb(283, [[2, text('tap0')]]),
      ...le.epb(0, 3n, Uint8Array.from([0, 0, 4, 0, ...ACK])),
    ]);
    const p = readCaptureSync(bytes, 'sections');
    expect(p.map((x) => [x.n, x.interfaceName, x.linkType, Number(x.timestampUs)])).toEqual([
      [1, 'le0', 195, 1],
      [2, 'be0', 230, 2],
      [3, 'tap0', 283, 3],
    ]);
    // Our writer's output appended to itself is two sections as well.
    const twice = concat([sampleFile(), sampleFile()]);
    expect(readCaptureSync(twice).map((x) => x.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  test('isoMicros', () => {
    expect(isoMicros(0n)).toBe('1970-01-01T00:00:00.000000Z');
    expect(isoMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(isoMicros(951_782_400_000_001n)).toBe('2000-02-29T00:00:00.000001Z');
    expect(isoMicros(253_402_300_799_999_999n)).toBe('9999-12-31T23:59:59.999999Z');
    for (const us of [1n, 1_700_000_000_123_456n, 4_102_444_800_000_000n]) {
      expect(isoMicros(us).slice(0, 19)).toBe(new Date(Number(us / 1000n)).toISOString().slice(0, 19));
    }
    // Past 2^53 µs (the year 2255) a Number cannot hold every microsecond: the digits stay exact.
    expect(isoMicros(9_007_199_254_740_993n)).toBe('2255-06-05T23:47:34.740993Z');
    expect(isoMicros(253_402_300_799_999_999n - 2n)).toBe('9999-12-31T23:59:59.999997Z');
  });

  test('isoFromMs and isoFromMsShort: ms with a µs fraction, rounded to the µs; the short form as Date prints whole ms', () => {
    expect(isoFromMs(1_700_000_000_123.4563)).toBe('2023-11-14T22:13:20.123456Z');
    expect(isoFromMsShort(1_700_000_000_123)).toBe('2023-11-14T22:13:20.123Z');
    expect(isoFromMsShort(1_700_000_000_123.25)).toBe('2023-11-14T22:13:20.123250Z');
    expect(isoFromMsShort(-0.5)).toBe('1969-12-31T23:59:59.999500Z');
    expect(() => isoFromMs(Number.NaN)).toThrow(RangeError);
    // Within ±2^41 ms (1900 to 2039) a double holds every µs of a time in ms, so the expected digits are exact.
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 41), max: 2 ** 41 }), fc.integer({ min: 0, max: 999 }), (whole, micros) => {
        const ms = whole + micros / 1000;
        const date = new Date(whole).toISOString();
        assert.equal(isoFromMs(ms), `${date.slice(0, -1)}${String(micros).padStart(3, '0')}Z`);
        assert.equal(isoFromMsShort(ms), micros === 0 ? date : `${date.slice(0, -1)}${String(micros).padStart(3, '0')}Z`);
      }),
      { numRuns: 2000 },
    );
  });

  test('IsoTimeFormatter below 2^53 µs (the Number path, second prefix reused) agrees with Date to the µs, at second boundaries too', () => {
    const safe = fc.oneof(
      fc.bigInt({ min: 0n, max: 9_007_199_254_740_991n }),
      // Either side of a second boundary, where a division-based split could be off by one.
      fc
        .bigInt({ min: 0n, max: 9_007_199_254n })
        .chain((s) => fc.constantFrom(s * 1_000_000n, s * 1_000_000n + 999_999n, s * 1_000_000n + 1n)),
    );
    // And runs of close timestamps, as in a capture: the same second, the next, across minute and day ends.
    const run = fc
      .tuple(fc.bigInt({ min: 0n, max: 9_000_000_000_000_000n }), fc.array(fc.bigInt({ min: 0n, max: 3_000_000n }), { maxLength: 30 }))
      .map(([start, steps]) => steps.reduce((acc, step) => (acc.push(acc[acc.length - 1] + step), acc), [start]));
    fc.assert(
      fc.property(fc.oneof(fc.array(safe, { minLength: 1, maxLength: 4 }), run), (values) => {
        const formatter = new IsoTimeFormatter();
        for (const us of values.filter((v) => v <= 9_007_199_254_740_991n)) {
          const want = new Date(Number(us / 1000n)).toISOString().slice(0, 23) + String(us % 1000n).padStart(3, '0') + 'Z';
          assert.equal(formatter.format(us), want);
          assert.equal(isoMicros(us), want);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('timestamps: the Number fast path agrees with bigint arithmetic for any resolution and offset', () => {
    const resol = fc.oneof(
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 0, max: 70 }).map((k) => 0x80 | k),
    );
    const ticks = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 53n) + 1000n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
    const offset = fc.oneof(
      fc.constant(0n),
      fc.bigInt({ min: -(10n ** 10n), max: 10n ** 10n }),
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    );
    fc.assert(
      fc.property(fc.boolean(), resol, offset, ticks, (le, r, off, t) => {
        const b = new BlockBuilder(le);
        const offBytes = new Uint8Array(8);
        new DataView(offBytes.buffer).setBigInt64(0, off, le);
        const bytes = Uint8Array.from([
          ...b.shb(),
          ...b.idb(195, [
            [9, [r]],
            [14, [...offBytes]],
          ]),
          ...b.epb(0, t, ACK),
        ]);
        const [p] = readCaptureSync(bytes);
        const us =
          (r & 0x80 ? (t * 1_000_000n) >> BigInt(r & 0x7f) : r >= 6 ? t / 10n ** BigInt(r - 6) : t * 10n ** BigInt(6 - r)) +
          off * 1_000_000n;
        assert.equal(p.timestampUs, us);
        assert.equal(p.time, isoMicros(us));
      }),
      { numRuns: 2000 },
    );
  });

  test('readCaptureBatches: any chunk size gives the packets readCaptureSync gives, as plain Uint8Arrays', async () => {
    const path = join(CAPTURES, 'whsniff_zigbee.pcapng');
    const whole = readCaptureSync(readFileSync(path), path).map(plain);
    for (const chunk of [1000, 4096, undefined]) {
      const got: CapturedPacket[] = [];
      for await (const batch of readCaptureBatches(path, chunk)) got.push(...batch);
      expect(got.every((p) => Object.getPrototypeOf(p.frame) === Uint8Array.prototype)).toBe(true);
      expect(got.map(plain)).toEqual(whole);
    }
  });

  test('adopted chunks: packets are views into them, and the same as copied ones', () => {
    const bytes = sampleFile();
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += 100) chunks.push(bytes.slice(o, o + 100));
    const adopting = new CaptureParser('adopt', { adoptChunks: true });
    const got = chunks.flatMap((c) => adopting.push(c));
    adopting.end();
    expect(got.map(plain)).toEqual(readCaptureSync(bytes).map(plain));
    // A packet wholly inside one chunk is not copied out of it.
    const whole = new CaptureParser('adopt', { adoptChunks: true });
    const [first] = whole.push(bytes);
    expect(first.frame.buffer).toBe(bytes.buffer);
    // Without adoption the parser keeps its own copy, so the caller may reuse its buffer.
    expect(new CaptureParser('copy').push(bytes)[0].frame.buffer).not.toBe(bytes.buffer);
  });
});

test.describe('refusals and damaged files', () => {
  const LINK_REFUSALS: Array<[string, number, string]> = [
    ['zigator_00-wrong-data-link-type.pcap', 1, 'Ethernet'],
    ['zigator_07-sll-testing.pcap', 113, 'Linux SLL'],
  ];
  for (const [file, linkType, name] of LINK_REFUSALS) {
    test(`${file} is refused as link type ${linkType} (${name})`, async () => {
      const path = join(CAPTURES, file);
      const expected = new RegExp(
        `^${path.replace(/[.]/g, '\\.')}: link type ${linkType} \\(${name}[^)]*\\) is not IEEE 802\\.15\\.4; accepted link types are 195 \\(.*\\), 230 \\(.*\\), 283 \\(.*\\)$`,
      );
      const seen: CapturedPacket[] = [];
      let error: unknown;
      try {
        for await (const p of readCapture(path)) seen.push(p);
      } catch (e) {
        error = e;
      }
      expect(seen).toHaveLength(0);
      expect(error).toBeInstanceOf(CaptureError);
      expect((error as CaptureError).message).toMatch(expected);
      expect((error as CaptureError).linkType).toBe(linkType);
      expect(() => readCaptureSync(readFileSync(path), path)).toThrow(expected);
    });
  }

  test('a pcapng interface with a foreign link type is refused at its block', () => {
    const le = new BlockBuilder(true);
    const shb = le.shb();
    const bytes = Uint8Array.from([...shb, ...le.idb(127)]);
    expect(() => readCaptureSync(bytes, 'radiotap.pcapng')).toThrow(
      `radiotap.pcapng: at byte offset ${shb.length}: link type 127 (IEEE 802.11 radiotap) is not IEEE 802.15.4`,
    );
  });

  test('not a capture at all', () => {
    expect(() => readCaptureSync(new TextEncoder().encode('hello world, not pcap'), 'x.txt')).toThrow(
      /^x\.txt: at byte offset 0: not a pcap or pcapng capture \(starts with 68 65 6c 6c\)$/,
    );
    expect(() => readCaptureSync(new Uint8Array(0), 'empty')).toThrow(/empty file/);
  });

  /** Offsets of each block in a pcapng file. */
  function blockOffsets(bytes: Uint8Array): number[] {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: number[] = [];
    for (let o = 0; o < bytes.length; o += dv.getUint32(o + 4, true)) out.push(o);
    return out;
  }

  test('a truncated pcapng yields the packets before the cut, then an error at the cut block', async ({}, testInfo) => {
    const bytes = sampleFile();
    const offsets = blockOffsets(bytes);
    // Blocks: SHB, 4 IDBs, then packets; cut the third packet block in half.
    const third = offsets[5 + 2];
    const cut = bytes.subarray(0, third + 20);
    const parser = new CaptureParser('cut.pcapng');
    const got = parser.push(cut);
    expect(got.map((p) => p.n)).toEqual([1, 2]);
    expect(() => parser.end()).toThrow(`cut.pcapng: at byte offset ${third}: truncated block: file ends 20 bytes into it`);

    // The same through a file: packets first, then the error with the offset.
    const path = testInfo.outputPath('cut.pcapng');
    writeFileSync(path, cut);
    const seen: number[] = [];
    const error = await (async () => {
      try {
        for await (const p of readCapture(path)) seen.push(p.n);
      } catch (e) {
        return e as CaptureError;
      }
    })();
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(CaptureError);
    expect(error!.offset).toBe(third);
    expect(error!.packetsBefore).toBe(2);
    expect(error!.message).toContain(path);
  });

  test('a corrupt block length yields the packets before it, then an error at its offset', () => {
    const bytes = sampleFile().slice();
    const offsets = blockOffsets(bytes);
    const bad = offsets[5 + 3];
    const dv = new DataView(bytes.buffer);
    // Trailing length disagrees with the leading one.
    dv.setUint32(bad + dv.getUint32(bad + 4, true) - 4, 12, true);
    const parser = new CaptureParser('corrupt.pcapng');
    expect(parser.push(bytes).map((p) => p.n)).toEqual([1, 2, 3]);
    expect(() => parser.end()).toThrow(
      new RegExp(
        `^corrupt\\.pcapng: at byte offset ${bad}: block type 0x6 length \\d+ does not match its trailing length 12 \\(corrupt block\\)$`,
      ),
    );
    // The error also stops any further push.
    expect(() => parser.push(new Uint8Array(4))).toThrow(/at byte offset/);

    // A length no block can have is caught before buffering the rest of the file.
    const huge = sampleFile().slice();
    new DataView(huge.buffer).setUint32(bad + 4, 0xfffffff0, true);
    const p2 = new CaptureParser('huge.pcapng');
    expect(p2.push(huge.subarray(0, bad + 8)).map((p) => p.n)).toEqual([1, 2, 3]);
    expect(() => p2.push(huge.subarray(bad + 8))).toThrow(
      `huge.pcapng: at byte offset ${bad}: block type 0x6 has total length 4294967280 (corrupt block)`,
    );
  });

  test('a bad TAP header is reported with its block offset', () => {
    const le = new BlockBuilder(true);
    const head = [...le.shb(), ...le.idb(283)];
    const bytes = Uint8Array.from([...head, ...le.epb(0, 0n, Uint8Array.from([0, 0, 40, 0, ...ACK]))]);
    expect(() => readCaptureSync(bytes, 'tap')).toThrow(
      `tap: at byte offset ${head.length}: packet 1: 802.15.4 TAP header length 40 outside 4..7 (corrupt packet)`,
    );
  });

  test('a truncated classic pcap yields the whole records, then an error at the cut one', () => {
    const bytes = readFileSync(join(CAPTURES, 'zigator_02-mac-testing.pcap'));
    const all = readCaptureSync(bytes);
    // Offset of record 4 = header + 3 records.
    const at = 24 + all.slice(0, 3).reduce((n, p) => n + 16 + p.frame.length, 0);
    const parser = new CaptureParser('cut.pcap');
    expect(parser.push(bytes.subarray(0, at + 10)).length).toBe(3);
    expect(() => parser.end()).toThrow(`cut.pcap: at byte offset ${at}: truncated packet record: file ends 10 bytes into it`);
  });
});

test('every shared capture reads to the end, or is one of the two refused link types', async () => {
  const files = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f));
  expect(files.length).toBeGreaterThanOrEqual(12);
  for (const f of files) {
    let n = 0;
    let bad = 0;
    try {
      for await (const p of readCapture(join(CAPTURES, f))) {
        if (p.n !== ++n || p.linkType !== 195) bad++;
      }
      expect(bad, f).toBe(0);
      expect(n, f).toBeGreaterThan(0);
    } catch (e) {
      expect(f).toMatch(/zigator_0[07]/);
      expect((e as CaptureError).linkType).toBeDefined();
    }
  }
});
