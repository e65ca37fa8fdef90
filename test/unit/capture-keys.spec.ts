// The capture and the HAN's network key: a NWK-secured frame the rig's key does not open is a rig
// fault (cannot-decrypt), never something a verdict may rest on; the right key opens it.
import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FrameSource, SniffedFrame } from '../../drivers/sniffer/sniffer.ts';
import { Capture } from '../../harness/capture.ts';
import { HardwareClock } from '../../harness/clock.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { KeyTable } from '../../protocol/security.ts';
import { HanStack } from '../../sim/han-frames.ts';

const KEY = fromHex('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf');

/** A capture fed by hand: one secured Device_annce from a meter, heard as a sniffer would. */
async function heard(key?: Uint8Array): Promise<Capture> {
  let listener: ((f: SniffedFrame) => void) | undefined;
  const source: FrameSource = {
    where: 'sniffer han',
    onFrame: (l) => ((listener = l), () => undefined),
    toBenchTime: () => 0,
    fault: undefined,
  };
  const keys = new KeyTable();
  if (key) keys.addNetworkKey(key);
  const evidence = new EvidenceLog(mkdtempSync(join(tmpdir(), 'gbcs-rig-capture-')), () => 0);
  const capture = new Capture([{ id: 'han', source, channel: 11 }], evidence, new HardwareClock(), keys);
  capture.start();
  const meter = new HanStack({ short: 0x0001, ieee: '00:db:12:34:56:78:90:a0' }, 0x4b1d, KEY);
  listener!({ frame: meter.announce(), rssi: -40, lqi: 200, channel: 11, snifferUs: 0n, line: 1 } as SniffedFrame);
  capture.stop();
  await evidence.close();
  return capture;
}

test("with the HAN's key the capture reads the secured frame; without it, or with another, cannot-decrypt", async () => {
  const right = await heard(KEY);
  expect(right.frames[0].decoded.nwk).toMatchObject({ secured: true, decrypted: true });
  expect(right.frames[0].decoded.aps).toMatchObject({ cluster: '0x0013' });
  expect(right.cannotDecrypt()).toBeUndefined();
  for (const key of [undefined, fromHex('00112233445566778899aabbccddeeff')]) {
    const fault = (await heard(key)).cannotDecrypt();
    expect([fault?.kind, fault?.where, fault?.fix]).toEqual([
      'cannot-decrypt',
      'sniffer han',
      expect.stringContaining('keys.networkKeyEnv'),
    ]);
    expect(fault?.message).toMatch(
      /^sniffer han: 1 NWK-secured HAN frame could not be decrypted with the rig's network key \(the first: frame 1, /,
    );
  }
});
