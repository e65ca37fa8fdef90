// The gbcs-rig command line, run as a user runs it (node bin/gbcs-rig.js …).
import { test, expect } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPTURES, capturePath } from '../support/captures.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
const whsniff = CAPTURES.find((c) => c.file === 'whsniff_zigbee.pcapng')!;
const killerbee = CAPTURES.find((c) => c.file === 'killerbee_control4-sample.pcap')!;

test('decode prints one JSON frame per line with the documented shape', () => {
  const r = run('decode', capturePath(killerbee.file), '--key', killerbee.networkKeys[0]);
  expect(r.status, r.stderr).toBe(0);
  const frames = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(frames).toHaveLength(407);
  expect(frames[0]).toMatchObject({ n: 1, mac: { type: expect.any(String) }, summary: expect.any(String) });
  expect(frames[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const decrypted = frames.filter((f) => f.nwk?.decrypted === true);
  expect(decrypted.length).toBeGreaterThan(50);
  expect(frames.some((f) => f.zcl?.name)).toBe(true);
  // The key never appears in the output.
  expect(r.stdout.toLowerCase()).not.toContain(killerbee.networkKeys[0].toLowerCase());
});

test('decode --format text prints n, time and the summary', () => {
  const r = run('decode', capturePath(whsniff.file), '--format', 'text', '--key', whsniff.networkKeys[0], '--key', whsniff.linkKeys[0]);
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(12691);
  expect(lines[4318]).toMatch(/^4319\t\S+\tAPS Transport Key /);
});

test('decode --pcapng writes frames that tshark reads, with our summaries as comments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-cli-'));
  const out = join(dir, 'annotated.pcapng');
  const r = run('decode', capturePath(killerbee.file), '--key', killerbee.networkKeys[0], '--pcapng', out, '--format', 'text');
  expect(r.status, r.stderr).toBe(0);
  const ours = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t')[2]);
  const tshark = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.comment', '-e', 'wpan.seq_no'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .trim()
    .split('\n')
    .map((l) => l.split('\t')[0]);
  expect(tshark).toEqual(ours);
});

test('bad input gets one clear line and the documented exit code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-cli-'));
  const secretLooking = '0123456789abcdef0123456789abcdeX';
  const badKey = run('decode', capturePath(killerbee.file), '--key', secretLooking);
  expect(badKey.status).toBe(2);
  expect(badKey.stderr).toContain('--key #1: a key is 32 hex digits');
  expect(badKey.stderr).not.toContain(secretLooking);

  const missing = run('decode', join(dir, 'nope.pcap'));
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/nope\.pcap: no such capture file/);

  const ethernet = run('decode', capturePath('zigator_00-wrong-data-link-type.pcap'));
  expect(ethernet.status).toBe(1);
  expect(ethernet.stderr.trim().split('\n')).toHaveLength(1);
  // Ethernet is read for ZEP; a capture with none in it says so.
  expect(ethernet.stderr).toMatch(/link type 1 \(Ethernet\): none of its 1 packets carries an 802\.15\.4 frame \(1 not ZEP/);

  const keyFile = join(dir, 'keys.txt');
  writeFileSync(keyFile, `# network key\n${killerbee.networkKeys[0]}\nnot-a-key\n`);
  const badFile = run('decode', capturePath(killerbee.file), '--key-file', keyFile);
  expect(badFile.status).toBe(2);
  expect(badFile.stderr).toContain(`${keyFile}:3: a key is 32 hex digits`);

  const unknown = run('decode', capturePath(killerbee.file), '--frobnicate');
  expect(unknown.status).toBe(2);
  expect(run('nonsense').status).toBe(2);
});

test('run refuses an invalid rig file before anything moves, listing every problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-cli-'));
  const rig = join(dir, 'bad.yaml');
  writeFileSync(
    rig,
    [
      'station: { name: s, lab: l, mqtt: { url: embedded } }',
      'firmwareManifests: []',
      'benches:',
      '  - id: b1',
      '    virtual: { seed: 1, transport: mock }',
      '    devices: [{ id: ch, role: CH, ieee: "00:db:12", firmware: ch-conformant, relay: no-such-relay }]',
      '    relays: [{ id: ch-power, vendor: tasmota, topic: t, channel: 1 }]',
      '    sniffers: [{ id: han, kind: nrf802154, channel: 30 }]',
      '    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f0" }',
    ].join('\n'),
  );
  const out = join(dir, 'out');
  const r = run('run', '--rig', rig, '--out', out);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('refused');
  expect(r.stderr).toMatch(/ieee/);
  expect(r.stderr).toMatch(/no-such-relay/);
  expect(r.stderr).toMatch(/channel/);
  // Nothing ran: no run folder was made.
  expect(existsSync(out)).toBe(false);
});

test('run refuses an unknown --fail-on value or an empty --bench before anything moves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-cli-'));
  const out = join(dir, 'out');
  const bad = run('run', '--out', out, '--fail-on', 'fail,red');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--fail-on red: not a value; use a comma list of fail, inconclusive, error, not-run');
  const empty = run('run', '--out', out, '--bench', ',');
  expect(empty.status).toBe(2);
  expect(empty.stderr).toContain("--bench needs a bench id; the rig's benches: virtual-1");
  expect(existsSync(out)).toBe(false);
  expect(run('help').stdout).toContain(
    '[--bench ID[,ID…]]… [--grep PATTERN] [--one-at-a-time] [--fail-on fail,inconclusive,error,not-run]',
  );
});
