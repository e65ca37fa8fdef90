// decode's output, byte for byte: the command as a user runs it (lines written in blocks) prints
// exactly what the in-process command prints a line at a time, and exactly what it printed before
// the speed work (writes in blocks, frameJson in place of JSON.stringify): SHA-256 recorded at 90951b5.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decodeCommand } from '../../cli/decode.ts';
import { CAPTURES, capturePath } from '../support/captures.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
const FORMATS = ['text', 'jsonl'] as const;

/** SHA-256 (first 16 hex digits) of `decode <file> --format <format>` with the capture's keys, before the speed work. */
const RECORDED: Record<string, string> = {
  'whsniff_zigbee.pcapng text': 'ce0421d0ca72d5db',
  'whsniff_zigbee.pcapng jsonl': 'd71b1de63cb5b981',
  'killerbee_control4-sample.pcap text': 'db566e197feb14f1',
  'killerbee_control4-sample.pcap jsonl': 'fdc9a7e5f5efa933',
  'zigator_01-phy-testing.pcap text': '2e77c90d104f7629',
  'zigator_01-phy-testing.pcap jsonl': '80368e0809f35273',
  'zigator_02-mac-testing.pcap text': '8bffca213eff9913',
  'zigator_02-mac-testing.pcap jsonl': '4cab58d0f44742eb',
  'zigator_03-nwk-testing.pcap text': 'a74092b58ae6dc26',
  'zigator_03-nwk-testing.pcap jsonl': '809482cb813ac469',
  'zigator_04-aps-testing.pcap text': '53b3f45bfc01869c',
  'zigator_04-aps-testing.pcap jsonl': '1f28959c3b57c09f',
  'zigator_05-zdp-testing.pcap text': 'c8cc00a5abcbb9f2',
  'zigator_05-zdp-testing.pcap jsonl': 'e648889a63542b27',
  'zigator_06-zcl-testing.pcap text': '6d933112b3b7d65c',
  'zigator_06-zcl-testing.pcap jsonl': 'b5a2a4e4a7e5ccbc',
  'zigator_08-thr-testing.pcap text': '60b96ae61db8f73b',
  'zigator_08-thr-testing.pcap jsonl': '9ae92162f96a6ccb',
  'zigator_09-mle-testing.pcap text': '5656226db570727f',
  'zigator_09-mle-testing.pcap jsonl': '8a24c0f7ebc6f4e2',
};

const keyArgs = (c: (typeof CAPTURES)[number]) => [...c.networkKeys, ...c.linkKeys].flatMap((k) => ['--key', k]);

for (const format of FORMATS) {
  test(`decode --format ${format}: the command prints the in-process output line for line, and the recorded output, on every shared capture`, async () => {
    for (const c of CAPTURES.filter((c) => !c.refused)) {
      const args = [capturePath(c.file), '--format', format, ...keyArgs(c)];
      const r = spawnSync(process.execPath, [BIN, 'decode', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(r.status, `${c.file}: ${r.stderr}`).toBe(0);
      const lines: string[] = [];
      await decodeCommand(args, (l) => lines.push(l));
      expect(lines.length, c.file).toBeGreaterThan(0);
      // Not toEqual on the texts: a 6 MB diff would drown the report; the first differing line says what changed.
      const printed = r.stdout.split('\n');
      expect(printed.pop(), `${c.file}: ends with a newline`).toBe('');
      const differs = printed.findIndex((l, i) => l !== lines[i]);
      expect(
        differs === -1 ? undefined : { line: differs + 1, printed: printed[differs], inProcess: lines[differs] },
        c.file,
      ).toBeUndefined();
      expect(printed.length, c.file).toBe(lines.length);
      const recorded = RECORDED[`${c.file} ${format}`];
      expect(recorded, `${c.file} ${format}: a recorded hash`).toBeDefined();
      expect(createHash('sha256').update(r.stdout).digest('hex').slice(0, 16), `${c.file}: as before`).toBe(recorded);
    }
  });
}
