// MAC, NWK and APS codecs and the decoder pipeline: the PROTOCOL.md §3 frame, round trips,
// and property tests (no input makes the decoder throw; encode∘decode is identity).
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from '../support/fast-check.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { crc16kermit, fcsValid } from '../../protocol/crc.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import { encodeFrame, type FrameSpec } from '../../protocol/encoder.ts';
import { decodeMac, encodeMac } from '../../protocol/mac.ts';
import { readCaptureSync } from '../../protocol/pcapng.ts';
import { KeyTable } from '../../protocol/security.ts';
import { CAPTURES, capturePath } from '../support/captures.ts';

const SECTION3 = '4188a31e48ffff00000912fcff000001cc0885dafeffd76b0828f6ea32000885dafeffd76b0800295e19cad6ebd84ca2aee2';
const frameOf = (bytes: Uint8Array, fcsIncluded = true) => ({ n: 1, timestampUs: 1_700_000_000_000_000n, frame: bytes, fcsIncluded });

test('CRC-16/KERMIT check value and FCS validation', () => {
  expect(crc16kermit(new TextEncoder().encode('123456789'))).toBe(0x2189);
  const f = fromHex(SECTION3);
  expect(fcsValid(f)).toBe(true);
  f[10] ^= 1;
  expect(fcsValid(f)).toBe(false);
});

test('CRC-16/KERMIT eight bytes a step equals the bit-by-bit definition on any slice', () => {
  const bitwise = (b: Uint8Array, start: number, end: number) => {
    let crc = 0;
    for (let i = start; i < end; i++) {
      crc ^= b[i];
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
    }
    return crc;
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 140 }), fc.nat(), fc.nat(), (b, x, y) => {
      const start = x % (b.length + 1),
        end = start + (y % (b.length - start + 1));
      assert.equal(crc16kermit(b, start, end), bitwise(b, start, end));
    }),
    { numRuns: 2000 },
  );
});

test('PROTOCOL.md §3 test frame decodes to the listed fields', () => {
  const d = new HanDecoder().decode(frameOf(fromHex(SECTION3)));
  expect(d.error).toBeUndefined();
  expect(d.mac).toMatchObject({
    type: 'data',
    panIdCompression: true,
    seq: 0xa3,
    dstPan: '0x481e',
    dst: '0xffff',
    src: '0x0000',
    fcs: '0xe2ae',
    fcsOk: true,
  });
  expect(d.nwk).toMatchObject({
    type: 'command',
    version: 2,
    secured: true,
    decrypted: false,
    dst: '0xfffc',
    radius: 1,
    seq: 0xcc,
    src64: '08:6b:d7:ff:fe:da:85:08',
  });
  expect(d.nwk!.security).toEqual({ level: 0, keyId: 'network', frameCounter: 0x0032eaf6, source: '08:6b:d7:ff:fe:da:85:08', keySeq: 0 });
  // MAC 9 + NWK 16 + aux 14 header bytes, then 5 encrypted bytes, the 4-byte MIC and the FCS.
  expect(fromHex(SECTION3).length - (9 + 16 + 14)).toBe(5 + 4 + 2);
  expect(d.summary).toContain('encrypted');
});

test('every decoded layer has one shape (the same keys, in the same order) in every frame of every shared capture', () => {
  // The decoder's speed rests on it (monomorphic property reads): a key added only sometimes breaks it.
  const shapes = new Map<string, Set<string>>();
  const note = (layer: string, o: object | undefined) => {
    if (!o) return;
    if (!shapes.has(layer)) shapes.set(layer, new Set());
    shapes.get(layer)!.add(Object.keys(o).join(','));
  };
  for (const c of CAPTURES.filter((c) => !c.refused)) {
    const keys = new KeyTable();
    for (const k of c.networkKeys) keys.addNetworkKey(fromHex(k));
    for (const k of c.linkKeys) keys.addLinkKey(fromHex(k));
    const d = new HanDecoder(keys);
    d.decodeBatch(readCaptureSync(new Uint8Array(readFileSync(capturePath(c.file)))), (_, f) => {
      note('frame', f);
      note('mac', f.mac);
      note('nwk', f.nwk);
      note('nwk.security', f.nwk?.security);
      note('aps', f.aps);
      note('aps.security', f.aps?.security);
      note('zcl', f.zcl);
    });
  }
  expect([...shapes.keys()].sort()).toEqual(['aps', 'aps.security', 'frame', 'mac', 'nwk', 'nwk.security', 'zcl']);
  for (const [layer, seen] of shapes) expect([...seen], layer).toHaveLength(1);
});

test('MAC-only summaries: command and data lines per route (made once, the same every time), MAC security and errors noted', () => {
  const d = new HanDecoder();
  const line = (spec: Parameters<typeof encodeMac>[0]) => d.decode(frameOf(encodeMac(spec))).summary;
  const dataRequest = {
    type: 'command' as const,
    seq: 1,
    dstPan: '0x1a62',
    dst: '0x0000',
    srcPan: '0x1a62',
    src: '0x4a1b',
    payload: Uint8Array.of(0x04),
  };
  expect(line(dataRequest)).toBe('MAC Data Request 0x4a1b → 0x0000');
  expect(line({ ...dataRequest, seq: 2 })).toBe('MAC Data Request 0x4a1b → 0x0000');
  expect(line({ ...dataRequest, src: '0x4a1c' })).toBe('MAC Data Request 0x4a1c → 0x0000');
  expect(line({ type: 'command', seq: 3, dstPan: '0xffff', dst: '0xffff', payload: Uint8Array.of(0x07) })).toBe(
    'MAC Beacon Request ? → 0xffff',
  );
  expect(
    line({ type: 'command', seq: 4, dstPan: '0x1a62', dst: '0x0000', srcPan: '0x1a62', src: '0x4a1b', payload: Uint8Array.of(0x42) }),
  ).toBe('MAC Unknown Command 0x42 0x4a1b → 0x0000');
  // A data frame that is not NWK stays a MAC line; with the security bit set it says so.
  const data = {
    type: 'data' as const,
    seq: 5,
    dstPan: '0x1a62',
    dst: '0x0001',
    srcPan: '0x1a62',
    src: '0x0002',
    payload: Uint8Array.of(0xff, 0xff),
  };
  expect(line(data)).toBe('MAC data 0x0002 → 0x0001');
  expect(line({ ...data, security: true })).toBe('MAC data 0x0002 → 0x0001 (MAC-secured)');
  expect(line(data)).toBe('MAC data 0x0002 → 0x0001');
  // Association Response needs three payload bytes: cut short, the line names the error.
  expect(line({ ...dataRequest, payload: Uint8Array.of(0x02, 0x00) })).toMatch(
    /^MAC Association Response 0x4a1b → 0x0000 \[MAC Association Response payload at offset \d+: needs 3 bytes, 1 left\]$/,
  );
});

test('every MAC address mode and PAN ID compression round-trips', () => {
  const short = fc.integer({ min: 0, max: 0xffff }).map((n) => '0x' + n.toString(16).padStart(4, '0'));
  const ext = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
  const addr = fc.option(fc.oneof(short, ext), { nil: undefined });
  fc.assert(
    fc.property(
      addr,
      addr,
      short,
      short,
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      fc.constantFrom(0, 1),
      fc.uint8Array({ maxLength: 20 }),
      (dst, src, dstPan, srcPan, seq, compress, version, payload) => {
        const both = dst !== undefined && src !== undefined;
        const spec = {
          type: 'data' as const,
          seq,
          version: version as 0 | 1,
          dst,
          src,
          dstPan: dst ? dstPan : undefined,
          srcPan: src ? (both && compress ? dstPan : srcPan) : undefined,
          panIdCompression: both && compress,
          payload,
        };
        const bytes = encodeMac(spec);
        const m = decodeMac(bytes, true);
        // node:assert inside properties: Playwright's expect records a step per call, too slow for thousands of runs.
        assert.equal(m.mac.fcsOk, true);
        assert.equal(m.mac.seq, seq);
        assert.equal(m.mac.dst, dst);
        assert.equal(m.mac.src, src);
        assert.equal(m.mac.dstPan, spec.dstPan);
        assert.equal(m.mac.srcPan, src !== undefined && !(both && compress) ? spec.srcPan : undefined);
        assert.deepEqual([...bytes.subarray(m.payloadStart, m.payloadEnd)], [...payload]);
      },
    ),
  );
});

test('decoding random or truncated bytes never throws: it reports an error with an offset', () => {
  const decoder = new HanDecoder();
  const section3 = fromHex(SECTION3);
  for (let cut = 0; cut < section3.length; cut++) {
    const d = decoder.decode(frameOf(section3.subarray(0, cut), false));
    if (d.error) expect(d.error.offset).toBeGreaterThanOrEqual(0);
    expect(typeof d.summary).toBe('string');
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 127 }), fc.boolean(), (bytes, fcs) => {
      const d = decoder.decode(frameOf(bytes, fcs));
      if (d.error) assert.ok(d.error.offset >= 0 && d.error.offset <= bytes.length, `offset ${d.error.offset} outside the frame`);
      assert.equal(typeof d.summary, 'string');
    }),
    { numRuns: 5000 },
  );
});

const NETWORK_KEY = fromHex('01030507090b0d0f00020406080a0c0d');
const LINK_KEY = fromHex('5a6967426565416c6c69616e63653039');

/** Generated NWK/APS data frames, secured or not, with an opaque APS payload. */
const frameSpec = fc.record({
  seq: fc.integer({ min: 0, max: 255 }),
  pan: fc.integer({ min: 0, max: 0xfffe }),
  macSrc: fc.integer({ min: 0, max: 0xfff7 }),
  macDst: fc.integer({ min: 0, max: 0xffff }),
  nwkSrc: fc.integer({ min: 0, max: 0xfff7 }),
  nwkDst: fc.integer({ min: 0, max: 0xffff }),
  nwkSeq: fc.integer({ min: 0, max: 255 }),
  radius: fc.integer({ min: 0, max: 255 }),
  src64: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  nwkSecured: fc.boolean(),
  apsSecured: fc.boolean(),
  counter: fc.integer({ min: 0, max: 255 }),
  frameCounter: fc.integer({ min: 0, max: 0xffffffff }),
  cluster: fc.integer({ min: 0, max: 0xffff }),
  profile: fc.constantFrom(0x0104, 0x0109),
  dstEp: fc.integer({ min: 1, max: 240 }),
  srcEp: fc.integer({ min: 1, max: 240 }),
  payload: fc.uint8Array({ minLength: 3, maxLength: 20 }),
});

test('encode∘decode is identity on generated NWK/APS frames, secured or not', () => {
  const keys = new KeyTable();
  keys.addNetworkKey(NETWORK_KEY);
  keys.addLinkKey(LINK_KEY);
  const decoder = new HanDecoder(keys);
  const h16 = (n: number) => '0x' + n.toString(16).padStart(4, '0');
  fc.assert(
    fc.property(frameSpec, (g) => {
      const src64 = [...g.src64].map((b) => b.toString(16).padStart(2, '0')).join(':');
      // ZCL frame control 0x10 (global, client→server, no default response) keeps the payload a valid ZCL header.
      const payload = Uint8Array.from([0x10, ...g.payload]);
      const spec: FrameSpec = {
        mac: { type: 'data', seq: g.seq, dstPan: h16(g.pan), srcPan: h16(g.pan), dst: h16(g.macDst), src: h16(g.macSrc) },
        nwk: {
          type: 'data',
          dst: h16(g.nwkDst),
          src: h16(g.nwkSrc),
          seq: g.nwkSeq,
          radius: g.radius,
          src64,
          security: g.nwkSecured ? { key: NETWORK_KEY, frameCounter: g.frameCounter, source: src64 } : undefined,
        },
        aps: {
          type: 'data',
          dstEp: g.dstEp,
          srcEp: g.srcEp,
          cluster: g.cluster,
          profile: g.profile,
          counter: g.counter,
          security: g.apsSecured ? { key: LINK_KEY, frameCounter: g.frameCounter, source: src64 } : undefined,
        },
        payload,
      };
      const d = decoder.decode(frameOf(encodeFrame(spec)));
      assert.deepEqual(
        { type: d.mac.type, seq: d.mac.seq, dstPan: d.mac.dstPan, dst: d.mac.dst, src: d.mac.src, fcsOk: d.mac.fcsOk },
        { type: 'data', seq: g.seq, dstPan: h16(g.pan), dst: h16(g.macDst), src: h16(g.macSrc), fcsOk: true },
      );
      const n = d.nwk!;
      assert.deepEqual(
        { type: n.type, dst: n.dst, src: n.src, seq: n.seq, radius: n.radius, src64: n.src64, secured: n.secured, decrypted: n.decrypted },
        {
          type: 'data',
          dst: h16(g.nwkDst),
          src: h16(g.nwkSrc),
          seq: g.nwkSeq,
          radius: g.radius,
          src64,
          secured: g.nwkSecured,
          decrypted: g.nwkSecured ? true : undefined,
        },
      );
      const a = d.aps!;
      assert.deepEqual(
        {
          type: a.type,
          dstEp: a.dstEp,
          srcEp: a.srcEp,
          cluster: a.cluster,
          profile: a.profile,
          counter: a.counter,
          secured: a.secured,
          decrypted: a.decrypted,
        },
        {
          type: 'data',
          dstEp: g.dstEp,
          srcEp: g.srcEp,
          cluster: h16(g.cluster),
          profile: h16(g.profile),
          counter: g.counter,
          secured: g.apsSecured,
          decrypted: g.apsSecured ? true : undefined,
        },
      );
      assert.equal(d.zcl?.seq, payload[1]);
    }),
    { numRuns: 500 },
  );
});

test('a frame under an unknown key is decoded as far as it can be and marked encrypted', () => {
  const spec: FrameSpec = {
    mac: { type: 'data', seq: 1, dstPan: '0x1234', srcPan: '0x1234', dst: '0x0000', src: '0x0001' },
    nwk: {
      type: 'data',
      dst: '0x0000',
      src: '0x0001',
      seq: 7,
      src64: '00:11:22:33:44:55:66:77',
      security: { key: NETWORK_KEY, frameCounter: 9, source: '00:11:22:33:44:55:66:77' },
    },
    aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: 6, profile: 0x0104 },
    payload: Uint8Array.from([0x01, 0x02, 0x03]),
  };
  const d = new HanDecoder().decode(frameOf(encodeFrame(spec)));
  expect(d.error).toBeUndefined();
  expect(d.nwk).toMatchObject({ secured: true, decrypted: false, seq: 7 });
  expect(d.aps).toBeUndefined();
});
