// Learning a network key from a decrypted APS Transport Key, with the second pass that
// decrypts the frames captured before it (whsniff: transport key in frame 4319).
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { fromHex } from '../../protocol/bytes.ts';
import { HanDecoder, KeyLearningWindow, decodeFrames } from '../../protocol/decoder.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { encodeFrame } from '../../protocol/encoder.ts';
import { readCapture } from '../../io/capture-files.ts';
import { readCaptureSync } from '../../protocol/pcapng.ts';
import { KeyTable } from '../../protocol/security.ts';
import { CAPTURES, capturePath } from '../support/captures.ts';

const whsniff = CAPTURES.find((c) => c.file === 'whsniff_zigbee.pcapng')!;

async function decodeAll(keys: KeyTable, holdLimit?: number): Promise<DecodedFrame[]> {
  const out: DecodedFrame[] = [];
  for await (const f of decodeFrames(readCapture(capturePath(whsniff.file)), new HanDecoder(keys), holdLimit)) out.push(f);
  return out;
}

test('a network key learned from a Transport Key decrypts the frames before it too', async () => {
  const given = new KeyTable();
  given.addNetworkKey(fromHex(whsniff.networkKeys[0]));
  given.addLinkKey(fromHex(whsniff.linkKeys[0]));
  const withBoth = await decodeAll(given);

  const learnt = new KeyTable();
  learnt.addLinkKey(fromHex(whsniff.linkKeys[0]));
  const withLinkKeyOnly = await decodeAll(learnt);

  expect(learnt.size.network, 'the transport key taught the network key').toBe(1);
  expect(withLinkKeyOnly.map((f) => f.n)).toEqual(withBoth.map((f) => f.n));
  const decryptedBefore4319 = (frames: DecodedFrame[]) => frames.filter((f) => f.n < 4319 && f.nwk?.decrypted).length;
  expect(decryptedBefore4319(withBoth)).toBeGreaterThan(100);
  expect(decryptedBefore4319(withLinkKeyOnly)).toBe(decryptedBefore4319(withBoth));
  expect(withLinkKeyOnly.map((f) => f.summary)).toEqual(withBoth.map((f) => f.summary));
});

test('frames pushed out of a full key-learning window stay encrypted, in order', async () => {
  const learnt = new KeyTable();
  learnt.addLinkKey(fromHex(whsniff.linkKeys[0]));
  const frames = await decodeAll(learnt, 100);
  expect(frames.map((f) => f.n)).toEqual(frames.map((_, i) => i + 1));
  // Frames long before the transport key (more than the window) stay encrypted; those after are decrypted.
  expect(frames.filter((f) => f.n < 4000 && f.nwk?.secured && f.nwk.decrypted === false).length).toBeGreaterThan(100);
  expect(frames.filter((f) => f.n > 4319 && f.nwk?.decrypted).length).toBeGreaterThan(100);
});

test('decoding in batches (decryption up front in a few AES calls) gives exactly what decoding frame by frame gives', async () => {
  for (const c of CAPTURES.filter((c) => !c.refused)) {
    const packets = readCaptureSync(readFileSync(capturePath(c.file)), c.file);
    // With every key given, and with the network key to be learned mid-capture (whsniff's Transport Key).
    for (const learn of [false, true]) {
      const keys = () => {
        const t = new KeyTable();
        if (!learn) for (const k of c.networkKeys) t.addNetworkKey(fromHex(k));
        for (const k of c.linkKeys) t.addLinkKey(fromHex(k));
        return t;
      };
      const one = new KeyLearningWindow(new HanDecoder(keys()));
      const byFrame: DecodedFrame[] = [];
      for (const p of packets) one.push(p, byFrame);
      byFrame.push(...one.flush());
      const many = new KeyLearningWindow(new HanDecoder(keys()));
      const byBatch: DecodedFrame[] = [];
      // Batches of an odd size, so the Transport Key and the frames it opens fall anywhere in one.
      for (let i = 0; i < packets.length; i += 333) many.pushBatch(packets.slice(i, i + 333), byBatch);
      byBatch.push(...many.flush());
      expect(byBatch.length, c.file).toBe(packets.length);
      // The first frame that differs, whole, rather than two whole captures.
      const differs = byFrame.findIndex((f, i) => JSON.stringify(f) !== JSON.stringify(byBatch[i]));
      expect(
        differs < 0 ? 'none' : { byFrame: byFrame[differs], byBatch: byBatch[differs] },
        `${c.file}, ${learn ? 'network key learned' : 'keys given'}`,
      ).toBe('none');
      if (c.file === whsniff.file) expect(byBatch.filter((f) => f.nwk?.decrypted).length).toBe(3135);
    }
  }
});

test('one core: HanDecoder.decode frame by frame and decodeBatch give the same frames and the same lackedKey / learnedKey for each', () => {
  for (const c of CAPTURES.filter((c) => !c.refused)) {
    const packets = readCaptureSync(readFileSync(capturePath(c.file)), c.file);
    for (const learn of [false, true]) {
      const keys = () => {
        const t = new KeyTable();
        if (!learn) for (const k of c.networkKeys) t.addNetworkKey(fromHex(k));
        for (const k of c.linkKeys) t.addLinkKey(fromHex(k));
        return t;
      };
      // Each frame with the decoder's flags about it, as KeyLearningWindow reads them.
      const seen = (d: HanDecoder, f: DecodedFrame) => JSON.stringify([f, d.lackedKey, d.learnedKey]);
      const single = new HanDecoder(keys());
      const byFrame = packets.map((p) => seen(single, single.decode(p)));
      const batched = new HanDecoder(keys());
      const byBatch: string[] = [];
      for (let i = 0; i < packets.length; i += 333)
        batched.decodeBatch(packets.slice(i, i + 333), (_, f) => byBatch.push(seen(batched, f)));
      expect(byBatch.length, c.file).toBe(packets.length);
      const differs = byFrame.findIndex((f, i) => f !== byBatch[i]);
      const first = differs < 0 ? 'none' : { byFrame: byFrame[differs], byBatch: byBatch[differs] };
      expect(first, `${c.file}, ${learn ? 'network key learned' : 'keys given'}`).toBe('none');
    }
  }
});

test('an NWK frame without extended nonce is opened with the IEEE address learned for its MAC source, else left encrypted', () => {
  const key = fromHex(whsniff.networkKeys[0]);
  const ieee = '00:12:4b:00:01:02:03:04';
  const frame = (seq: number, extendedNonce: boolean) => ({
    n: seq,
    timestampUs: BigInt(seq),
    fcsIncluded: true,
    frame: encodeFrame({
      mac: { type: 'data', seq, dstPan: '0x1a62', dst: '0x0000', srcPan: '0x1a62', src: '0x1234' },
      nwk: { type: 'command', dst: '0x0000', src: '0x1234', seq, security: { key, frameCounter: seq, source: ieee, extendedNonce } },
      payload: fromHex('0802'), // Link Status-like command body
    }),
  });
  const keys = new KeyTable();
  keys.addNetworkKey(key);
  const decoder = new HanDecoder(keys);
  const before = decoder.decode(frame(1, false));
  expect(before.nwk?.decrypted).toBe(false);
  expect(decoder.lackedKey).toBe(true);
  expect(decoder.decode(frame(2, true)).nwk?.decrypted).toBe(true);
  const after = decoder.decode(frame(3, false));
  expect(after.nwk?.decrypted).toBe(true);
  expect(after.nwk?.command).toBe('Link Status');
});
