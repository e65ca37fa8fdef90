// `gbcs-rig decode` of a capture cut short (a sniffer unplugged mid-write): every frame read
// before the cut comes out, in every format and with or without keys, and then the error.
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCommand } from '../../cli/decode.ts';
import { CaptureError } from '../../protocol/pcapng.ts';
import { CAPTURES, capturePath } from '../support/captures.ts';
import fc from '../support/fast-check.ts';

/** Where each packet's block or record ends, walked by hand (the oracle does not share the reader's code). */
function packetEnds(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ends: number[] = [];
  const magic = view.getUint32(0, true);
  if (magic === 0x0a0d0d0a) {
    const little = view.getUint32(8, true) === 0x1a2b3c4d;
    for (let o = 0; o + 8 <= bytes.length; ) {
      const type = view.getUint32(o, little);
      const total = view.getUint32(o + 4, little);
      // Enhanced, simple and obsolete packet blocks carry one packet each.
      if (type === 6 || type === 3 || type === 2) ends.push(o + total);
      o += total;
    }
    return ends;
  }
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  for (let o = 24; o + 16 <= bytes.length; ) {
    o += 16 + view.getUint32(o + 8, little);
    ends.push(o);
  }
  return ends;
}

const readable = CAPTURES.filter((c) => !c.refused && packetEnds(readFileSync(capturePath(c.file))).length > 10);
const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-cut-'));

/** decode's output lines and its error (if any), run in process through the command itself. */
async function decode(file: string, args: string[]): Promise<{ lines: string[]; error?: unknown }> {
  const lines: string[] = [];
  try {
    await decodeCommand([file, ...args], (l) => lines.push(l));
    return { lines };
  } catch (error) {
    return { lines, error };
  }
}

const keyArgs = (c: (typeof CAPTURES)[number]) => [...c.networkKeys, ...c.linkKeys].flatMap((k) => ['--key', k]);

test('the property cuts the real captures with many frames', () => {
  expect(readable.map((c) => c.file)).toEqual(expect.arrayContaining(['whsniff_zigbee.pcapng', 'killerbee_control4-sample.pcap']));
});

for (const format of ['text', 'jsonl']) {
  test(`decode --format ${format} of a capture cut at any byte prints every frame before the cut, then the error`, async () => {
    test.setTimeout(240_000);
    const whole = new Map<string, { bytes: Uint8Array; ends: number[]; plain: string[]; keyed: string[] }>();
    for (const c of readable) {
      const bytes = readFileSync(capturePath(c.file));
      const plain = (await decode(capturePath(c.file), ['--format', format])).lines;
      const keyed = (await decode(capturePath(c.file), ['--format', format, ...keyArgs(c)])).lines;
      whole.set(c.file, { bytes, ends: packetEnds(bytes), plain, keyed });
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...readable), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), async (c, at, withKeys) => {
        const w = whole.get(c.file)!;
        const cutAt = Math.floor(at * w.bytes.length);
        const file = join(dir, `cut-${cutAt}-${c.file}`);
        writeFileSync(file, w.bytes.subarray(0, cutAt));
        const { lines, error } = await decode(file, ['--format', format, ...(withKeys ? keyArgs(c) : [])]);
        const complete = w.ends.filter((end) => end <= cutAt).length;
        assert.equal(lines.length, complete, `${c.file} cut at byte ${cutAt}: ${lines.length} frames out of ${complete} read`);
        if (withKeys) {
          // A key the cut-off part would have taught can open a held frame in the whole file only: same frames, in order.
          const n = (l: string) => (format === 'jsonl' ? JSON.parse(l).n : Number(l.split('\t')[0]));
          assert.deepEqual(lines.map(n), w.keyed.slice(0, complete).map(n));
        } else assert.deepEqual(lines, w.plain.slice(0, complete));
        // The cut is said after the frames (a cut at a packet's end leaves a whole, shorter capture).
        if (w.ends.includes(cutAt)) assert.equal(error, undefined);
        else assert.ok(error instanceof CaptureError, `${c.file} cut at byte ${cutAt}: ${String(error)}`);
      }),
      { numRuns: 60 },
    );
  });
}

test('the command prints the frames of a cut capture, then one line saying where it was cut, and exits 1', () => {
  const bytes = readFileSync(capturePath('whsniff_zigbee.pcapng'));
  const file = join(dir, 'whsniff-cut.pcapng');
  writeFileSync(file, bytes.subarray(0, 600_000));
  const bin = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
  const annotated = join(dir, 'whsniff-cut-annotated.pcapng');
  const r = spawnSync(process.execPath, [bin, 'decode', file, '--format', 'text', '--pcapng', annotated], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  expect(r.status).toBe(1);
  const complete = packetEnds(bytes).filter((end) => end <= 600_000).length;
  expect(r.stdout.trim().split('\n')).toHaveLength(complete);
  // The annotated pcapng has them all too, and is whole.
  const written = readFileSync(annotated);
  expect(packetEnds(written)).toHaveLength(complete);
  expect(packetEnds(written).at(-1)).toBeLessThanOrEqual(written.length);
  expect(r.stderr).toMatch(/^gbcs-rig decode: .*whsniff-cut\.pcapng: at byte offset \d+: truncated block: file ends \d+ bytes into it\n$/);
});
