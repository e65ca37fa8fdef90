// Learning a network key from a decrypted APS Transport Key, with the second pass that
// decrypts the frames captured before it (whsniff: transport key in frame 4319).
import { test, expect } from '@playwright/test';
import { fromHex } from '../../protocol/bytes.ts';
import { HanDecoder, decodeFrames } from '../../protocol/decoder.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { readCapture } from '../../protocol/pcapng.ts';
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
