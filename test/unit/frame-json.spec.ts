// frameJson (protocol/frame-json.ts) writes what JSON.stringify writes, for every frame the decoder
// builds: all frames of the shared captures (with their keys and without), and random frames —
// most of them undecodable somewhere, so the half-built shapes a decode error leaves behind too.
import { test, expect } from '@playwright/test';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fromHex } from '../../protocol/bytes.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import { frameJson } from '../../protocol/frame-json.ts';
import { ieee802154Of } from '../../protocol/link-layers.ts';
import { CaptureParser } from '../../protocol/pcapng.ts';
import { KeyTable } from '../../protocol/security.ts';
import { CAPTURES, capturePath } from '../support/captures.ts';

/** The first frame whose line differs from JSON.stringify's, with both lines; undefined when none does. */
function firstDifference(frames: DecodedFrame[]): { ours: string; json: string } | undefined {
  for (const f of frames) {
    const ours = frameJson(f);
    const json = JSON.stringify(f);
    if (ours !== json) return { ours, json };
  }
  return undefined;
}

test('frameJson is JSON.stringify on every frame of every shared capture, decoded with its keys and without', () => {
  let compared = 0;
  for (const c of CAPTURES.filter((c) => !c.refused)) {
    for (const withKeys of [true, false]) {
      const keys = new KeyTable();
      if (withKeys) {
        for (const k of c.networkKeys) keys.addNetworkKey(fromHex(k));
        for (const k of c.linkKeys) keys.addLinkKey(fromHex(k));
      }
      const decoder = new HanDecoder(keys);
      const frames: DecodedFrame[] = [];
      // As decode reads them: down through ZEP, IP and Linux SLL to the 802.15.4 frame.
      const parser = new CaptureParser(c.file, { linkLayers: true });
      const packets = parser.push(readFileSync(capturePath(c.file)));
      parser.end();
      for (const p of packets) {
        const reading = ieee802154Of(p, 'crc16');
        if (reading.kind === 'frame') frames.push(decoder.decode(reading.capture));
      }
      expect(firstDifference(frames), `${c.file}${withKeys ? ' with keys' : ''}`).toBeUndefined();
      compared += frames.length;
    }
  }
  // The shared captures hold every layer: MAC commands and beacons, NWK and APS secured and opened, ZCL, ZDP.
  expect(compared).toBeGreaterThan(20_000);
});

test('frameJson is JSON.stringify on random frames (errors, reserved types, odd strings included)', () => {
  const decoder = new HanDecoder(new KeyTable());
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 127 }), fc.boolean(), fc.nat(), (frame, fcsIncluded, n) => {
      const f = decoder.decode({ n: n + 1, timestampUs: 0n, frame, fcsIncluded });
      expect(firstDifference([f])).toBeUndefined();
    }),
    { numRuns: 5000 },
  );
  // Strings JSON escapes — a quote, a backslash, a control character, a lone surrogate — as JSON.stringify escapes them.
  const f = decoder.decode({ n: 1, timestampUs: 0n, frame: Uint8Array.of(0x02, 0x00, 0x07), fcsIncluded: false });
  for (const odd of ['a "quoted" \\ path', 'tab\tnew\nline\u0001', 'lone \ud800 surrogate', 'arrow → fine']) {
    expect(frameJson({ ...f, summary: odd })).toBe(JSON.stringify({ ...f, summary: odd }));
  }
});
