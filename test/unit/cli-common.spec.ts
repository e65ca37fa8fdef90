// What every gbcs-rig command shares (cli/main.ts, cli/common.ts), run as a user runs it.
import { test, expect } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CAPTURES, capturePath } from '../support/captures.ts';
import { firstLineThenClose } from '../support/child.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const COMMANDS = ['decode', 'run', 'report', 'verify', 'power'];

test('--help and -h print each command its own usage and exit 0, before its options are checked', () => {
  for (const [i, name] of COMMANDS.entries()) {
    const flag = i % 2 ? '-h' : '--help';
    // A bad option beside --help is not reached: help is asked for, help is given.
    const r = run(name, '--no-such-option', flag);
    expect(r.status, `${name} ${flag}: ${r.stderr}`).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^usage: gbcs-rig ${name} `));
    expect(r.stderr).toBe('');
    if (name === 'run') expect(run('help', name).stdout).toBe(r.stdout);
  }
  // After `--`, -h is an argument, not a request for help.
  expect(run('decode', '--', '-h').status).toBe(2);
  const unknown = run('help', 'frobnicate');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('unknown command "frobnicate"');
});

test('--version and -V print the package version', () => {
  const { version } = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
  for (const flag of ['--version', '-V']) {
    const r = run(flag);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`gbcs-rig ${version}\n`);
  }
});

test('a stray argument is a usage error (exit 2), not a failure', () => {
  const r = run('run', 'stray');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^gbcs-rig run: .*stray/);
});

const WHSNIFF = CAPTURES[0];
const WHSNIFF_KEYS = [...WHSNIFF.networkKeys, ...WHSNIFF.linkKeys].flatMap((k) => ['--key', k]);
for (const [format, keys] of [
  ['text', []],
  ['jsonl', []],
  // With keys, the frames are decoded in batches (HanDecoder.decodeBatch) and written in blocks.
  ['text', WHSNIFF_KEYS],
  ['jsonl', WHSNIFF_KEYS],
] as const) {
  test(`decode --format ${format}${keys.length ? ' with keys' : ''} whose reader closes stdout ends quietly with exit 0`, async () => {
    const child = spawn(process.execPath, [BIN, 'decode', capturePath(WHSNIFF.file), '--format', format, ...keys], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // As `| head -1` does: read the first line, then close the pipe while the command still writes.
    const { first, stderr, code } = await firstLineThenClose(child);
    expect(first.length).toBeGreaterThan(0);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
}
