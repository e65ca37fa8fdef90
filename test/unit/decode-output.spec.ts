// decode's output, byte for byte: the command as a user runs it (lines written in blocks) prints
// exactly what the in-process command prints a line at a time, and — on the two large shared
// captures — exactly what it printed before its output was batched (SHA-256 recorded at 90951b5).
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
};

const keyArgs = (c: (typeof CAPTURES)[number]) => [...c.networkKeys, ...c.linkKeys].flatMap((k) => ['--key', k]);

for (const format of FORMATS) {
  test(`decode --format ${format}: the command's stdout is the in-process output, line for line, on every shared capture`, async () => {
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
      if (recorded) expect(createHash('sha256').update(r.stdout).digest('hex').slice(0, 16), `${c.file}: as before`).toBe(recorded);
    }
  });
}
