// The verdict-stability benchmark at a small N, as CI can afford: the conformant CH and the
// conformant ESME, GPF, IHD and PPMID, each on seeds 1–3 (each seed lines the devices' timers up
// differently), give the expected verdict on every seed — no flips — and the script says so.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureStability, stabilityTable } from '../../bench/verdict-stability.ts';

const SCRIPT = fileURLToPath(new URL('../../bench/verdict-stability.ts', import.meta.url));

function stability(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code: code ?? 1, stdout, stderr })));
}

test('the conformant IPAN and COT campaigns give their expected verdicts on seeds 1–3: 0 flips', async () => {
  test.setTimeout(5 * 60_000);
  const r = await stability(['--seeds', '3', '--only', '^conformant (CH|ESME, GPF, IHD, PPMID)$']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  // One line per case of both campaigns: 7 IPAN, 17 COT, each seen on all three seeds.
  const caseLines = lines.filter((l) => / expected /.test(l));
  expect(caseLines.length, r.stdout).toBe(24);
  for (const l of caseLines)
    expect(l).toMatch(
      / expected (PASS|NOT APPLICABLE) +3 (PASS|NOT APPLICABLE) — 0 flips(; seeds run again after a station fault: [\d, ]+)?$/,
    );
  expect(lines.at(-1)).toMatch(/^total: 0 flips in 0 of 24 cases over 3 seeds \(goal 0\)/); // Progress says what each campaign's seeds gave as it ends, so a run cut short still shows what it saw.
  expect(r.stderr).toMatch(/\[1\/2\] conformant CH, seeds 1–3: ran; 0 unexpected/);
  expect(r.stderr).toMatch(/\[2\/2\] conformant ESME, GPF, IHD, PPMID, seeds 1–3: ran; 0 unexpected/);
});

test('a seed whose case meets a station fault is run again, and still counts as a flip when the fault stays', async () => {
  test.setTimeout(3 * 60_000);
  // The relay's broker gone (a station part, not the device): every run of the seed faults.
  const row = {
    name: 'broker down',
    options: { firmware: 'ch-conformant', grep: 'CH-IPAN-001', faults: [{ kind: 'broker-down' as const, afterSeconds: 0 }] },
    expected: { 'CH-IPAN-001': 'PASS' },
  };
  const progress: string[] = [];
  const [c] = await measureStability([row], 1, 1, (line) => progress.push(line));
  expect(progress[0]).toMatch(/seeds 1–1: ran; 0 unexpected; 1 seed with a station fault, run again at the end$/);
  expect(c.rerunSeeds).toEqual([1]);
  expect(c.flippedSeeds).toEqual([1]);
  expect(c.counts).toEqual({ 'INCONCLUSIVE broker-unreachable': 1 });
  expect(stabilityTable([c])[0]).toMatch(
    /1 INCONCLUSIVE broker-unreachable — 1 flip \(seeds 1\); seeds run again after a station fault: 1$/,
  );
});

test('a bad option is a usage error naming it', async () => {
  const r = await stability(['--seeds', '0']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--seeds 0: needs a whole number ≥ 1/);
  const none = await stability(['--only', 'no such row']);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/--only no such row: no row's name matches; the rows: conformant CH; /);
});
