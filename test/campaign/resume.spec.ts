// `gbcs-rig run --resume`: a campaign killed with kill -9 of its whole process group (a power cut,
// the OOM killer) at a seeded random moment, then resumed, reaches the verdicts, measurements and
// bench times of the same campaign run without a stop — every file the stopped part wrote kept
// (a case cut in the middle moved aside as `.partial-1`), none duplicated, the folder signed whole.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { CaseResult } from '../../harness/case.ts';
import { verifyRun } from '../../reports/integrity.ts';
import type { RunInfo, RunResults } from '../../reports/results.ts';
import type { CampaignStatus } from '../../reports/status-reporter.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, virtualRig } from '../support/campaign.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
const CASES = ['CH-IPAN-001', 'CH-IPAN-002', 'CH-IPAN-003', 'CH-IPAN-004', 'CH-IPAN-005', 'CH-IPAN-006', 'CH-IPAN-007'];
/** The kill moments come from this seed (GBCS_RIG_TEST_KILL_SEED to try others). */
const SEED = Number(process.env.GBCS_RIG_TEST_KILL_SEED ?? 15);

/** mulberry32: a small seeded generator, so the kill moments are the same on every run of the test. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function gbcsRig(args: string[], dir: string, detached = false, onStart?: (pid: number) => void): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], {
    detached,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GBCS_RIG_ALLURE_HISTORY: join(dir, 'history'), [INSTALL_CODE_ENV]: TEST_INSTALL_CODE },
  });
  onStart?.(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code: code ?? 1, stdout, stderr })));
}

/** A folder with the seed's rig file: bench n the same devices, seed and relay topic in every campaign of the test. */
function rigIn(name: string, benches = 1): { dir: string; rig: string } {
  const dir = mkdtempSync(join(tmpdir(), `gbcs-rig-resume-${name}-`));
  const rig = join(dir, 'rig.yaml');
  writeFileSync(rig, stringify(virtualRig({ firmware: 'ch-conformant', seed: 7, benches })));
  return { dir, rig };
}

const benchIds = (n: number) => Array.from({ length: n }, (_, i) => `virtual-${i + 1}`);
/** Every (case, bench) of a campaign, as its evidence folder names it. */
const caseKeys = (benches: number) => benchIds(benches).flatMap((b) => CASES.map((id) => `${id}--${b}`));

/** Every file under a folder with its sha256, by path relative to it. */
function hashes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      if (d.isDirectory()) walk(path);
      else if (d.isFile()) out.set(relative(root, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** What a case reports, as compared between runs: its verdict, its measurements and its bench times. */
const reported = (c: CaseResult) => ({
  id: c.id,
  bench: c.bench,
  verdict: c.verdict,
  reason: c.reason,
  failedRequirement: c.failedRequirement,
  measurements: c.measurements,
  startedAt: c.startedAt,
  endedAt: c.endedAt,
});

/** The event log with the virtual serial ports' instance number taken out: it counts the benches a worker opened. */
const events = (file: string) => readFileSync(file, 'utf8').replace(/(\/dev\/gbcs-rig-virtual\/[^/"]+)-\d+\//g, '$1-N/');

/**
 * Kills the campaign's process group once case `k` on its first bench has logged `lines` events: mid-case, at a
 * point of the case's own progress (a wall-time delay would land anywhere, even after the last case, on a fast machine).
 */
async function killedCampaign(k: number, lines: number, benches: number): Promise<{ out: string; dir: string; left: Map<string, string> }> {
  const { dir, rig } = rigIn(`killed-${k}`, benches);
  const out = join(dir, 'run');
  let pid = 0;
  const exited = gbcsRig(['run', '--rig', rig, '--out', out, '--grep', 'CH-IPAN'], dir, true, (p) => (pid = p));
  const events = join(out, 'evidence', `${CASES[k]}--virtual-1`, 'events.jsonl');
  const logged = () => (existsSync(events) ? readFileSync(events, 'utf8').split('\n').length - 1 : 0);
  for (let i = 0; i < 18_000 && logged() < lines; i++) await new Promise((r) => setTimeout(r, 5));
  process.kill(-pid, 'SIGKILL');
  expect(logged(), `case ${CASES[k]} started`).toBeGreaterThanOrEqual(lines);
  await exited;
  expect(existsSync(join(out, 'results.json')), 'killed before the end').toBe(false);
  return { out, dir, left: hashes(join(out, 'evidence')) };
}

test('kill -9 at seeded random moments, then run --resume: the same verdicts, measurements and bench times as without a stop, no evidence lost or duplicated', async () => {
  test.setTimeout(6 * 60_000);
  const random = seeded(SEED);
  // Two moments: into one of the first cases on one bench, and into one of the later ones on two benches
  // (each bench stopped at its own point, so each resumes with its own cases left).
  const moments = [
    { k: 1 + Math.floor(random() * 3), lines: 2 + Math.floor(random() * 6), benches: 1 },
    { k: 3 + Math.floor(random() * 3), lines: 2 + Math.floor(random() * 6), benches: 2 },
  ];
  // The reference: both benches without a stop (its first bench is the one-bench campaign's bench).
  const whole = rigIn('whole', 2);
  const [reference, ...killed] = await Promise.all([
    gbcsRig(['run', '--rig', whole.rig, '--out', join(whole.dir, 'run'), '--grep', 'CH-IPAN'], whole.dir),
    ...moments.map((m) => killedCampaign(m.k, m.lines, m.benches)),
  ]);
  expect(reference.code, reference.stderr).toBe(0);
  const expected = JSON.parse(readFileSync(join(whole.dir, 'run', 'results.json'), 'utf8')) as RunResults;
  expect(expected.cases.map((c) => `${c.id}--${c.bench}`).sort()).toEqual(caseKeys(2).sort());

  const resumed = await Promise.all(killed.map((k) => gbcsRig(['run', '--resume', k.out], k.dir)));
  for (const [i, { out, left }] of killed.entries()) {
    const r = resumed[i];
    const { k, lines, benches } = moments[i];
    const at = `${benches} bench(es) killed at ${CASES[k]}'s event ${lines}`;
    const keys = caseKeys(benches);
    expect(r.code, `${at}: ${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^gbcs-rig run \S+ resumed: \d+ cases? kept with their verdicts, \d+ cut short/m);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    const mine = expected.cases.filter((c) => benchIds(benches).includes(c.bench));
    expect(results.cases.map(reported), at).toEqual(mine.map(reported));
    expect(results.missing, at).toEqual([]);
    expect(results.notRun, at).toEqual([]);
    // status.json counts the whole campaign, the cases kept from before the stop too.
    const status = JSON.parse(readFileSync(join(out, 'status.json'), 'utf8')) as CampaignStatus;
    expect(status.state).toBe('finished');
    expect(status.cases).toMatchObject({
      total: keys.length,
      done: keys.length,
      verdicts: { PASS: 6 * benches, 'NOT APPLICABLE': benches },
    });

    // Nothing the stopped part wrote is lost: a kept case's files stay where they were, a cut one's move aside whole.
    const info = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunInfo;
    const resume = info.resumes?.[0];
    expect(info.resumes, at).toHaveLength(1);
    expect(info.planned?.map((p) => `${p.id}--${p.bench}`).sort(), at).toEqual([...keys].sort());
    const cut = new Set(resume?.rerun.map((c) => `${c.id}--${c.bench}`));
    const after = hashes(join(out, 'evidence'));
    for (const [path, sha] of left) {
      const [folder, ...file] = path.split('/');
      const now = cut.has(folder) ? `${folder}.partial-1/${file.join('/')}` : path;
      expect(after.get(now), `${at}: ${path} kept as ${now}`).toBe(sha);
    }
    for (const c of resume?.rerun ?? []) {
      expect(c.partial).toBe(`evidence/${c.id}--${c.bench}.partial-1`);
      expect(readFileSync(join(out, c.partial, 'events.jsonl'), 'utf8')).toContain('"kind":"case-start"');
      expect(existsSync(join(out, c.partial, 'result.json')), 'a cut case has no verdict of its own').toBe(false);
    }
    expect(resume?.kept.length, at).toBe(keys.length - (resume?.remaining.length ?? 0));
    // Each case once: one evidence folder with its verdict per planned case, beside the partial ones.
    const folders = readdirSync(join(out, 'evidence')).sort();
    expect(folders, at).toEqual([...keys, ...[...cut].map((f) => `${f}.partial-1`)].sort());
    // The resumed cases' evidence is the uninterrupted run's: the same captures, the same event logs.
    for (const key of keys) {
      const ours = join(out, 'evidence', key);
      const theirs = join(whole.dir, 'run', 'evidence', key);
      expect(events(join(ours, 'events.jsonl')), `${at}: ${key}`).toBe(events(join(theirs, 'events.jsonl')));
      expect(readFileSync(join(ours, 'han.pcapng')).equals(readFileSync(join(theirs, 'han.pcapng'))), `${at}: ${key}'s capture`).toBe(true);
    }
    // The manifest signs the whole folder, every file once.
    const verified = await verifyRun(out);
    expect(verified.problems, at).toEqual([]);
    const paths = verified.manifest!.files.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const path of after.keys()) expect(paths, path).toContain(`evidence/${path}`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<li data-deviation="campaign resumed">');
    for (const c of resume?.rerun ?? []) expect(html).toContain(`its partial evidence is kept in ${c.partial}`);
  }

  // A finished run has nothing to resume: said so, exit 0, the folder as signed.
  const done = await gbcsRig(['run', '--resume', join(whole.dir, 'run')], whole.dir);
  expect(done.code, done.stderr).toBe(0);
  expect(done.stdout).toMatch(/run \S+ is complete: all 14 planned cases have their verdicts and the folder is signed; nothing to resume/);
  expect((await verifyRun(join(whole.dir, 'run'))).ok).toBe(true);
  // Stopped while publishing (every verdict written, the folder not yet signed): the report is made and signed now.
  rmSync(join(whole.dir, 'run', 'manifest.sig'));
  const unsigned = await gbcsRig(['run', '--resume', join(whole.dir, 'run')], whole.dir);
  expect(unsigned.code, unsigned.stderr).toBe(0);
  expect(unsigned.stdout).toContain('but it stopped before its report was signed: the report is made and signed now');
  expect(unsigned.stdout).toMatch(/^verdicts: 12 PASS, 0 FAIL, 0 INCONCLUSIVE, 2 NOT APPLICABLE, 0 ERROR$/m);
  expect((await verifyRun(join(whole.dir, 'run'))).problems).toEqual([]);
  // Its signature gone and a result edited since its manifest: no signing cut short, a change — never signed as the run's.
  const edited = join(whole.dir, 'run', 'results.json');
  writeFileSync(edited, readFileSync(edited, 'utf8').replace('"INCONCLUSIVE": 0', '"INCONCLUSIVE": 1'));
  rmSync(join(whole.dir, 'run', 'manifest.sig'));
  const tampered = await gbcsRig(['run', '--resume', join(whole.dir, 'run')], whole.dir);
  expect(tampered.code).toBe(1);
  expect(tampered.stderr).toMatch(/changed since it was signed at .*: results\.json: changed — signing it again would sign these changes/);
  expect(existsSync(join(whole.dir, 'run', 'manifest.sig'))).toBe(false);
});

test('--resume refuses what it cannot continue: a folder that is not a run, a rig file changed since, options it takes from run.json', async () => {
  const { dir, rig } = rigIn('bad');
  const notRun = join(dir, 'empty');
  mkdirSync(notRun);
  const changed = join(dir, 'changed');
  mkdirSync(changed);
  writeFileSync(
    join(changed, 'run.json'),
    JSON.stringify({ id: 'r1', rig, rigSha256: '0'.repeat(64), station: 's', startedAt: '', endedAt: '' }),
  );
  const [none, notARun, rigChanged, withOut] = await Promise.all([
    gbcsRig(['run', '--resume', join(dir, 'nowhere')], dir),
    gbcsRig(['run', '--resume', notRun], dir),
    gbcsRig(['run', '--resume', changed], dir),
    gbcsRig(['run', '--resume', changed, '--out', join(dir, 'elsewhere')], dir),
  ]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain(`--resume ${join(dir, 'nowhere')}: no such folder`);
  expect(notARun.code).toBe(2);
  expect(notARun.stderr).toContain(`--resume ${notRun}: not a run folder (no run.json`);
  expect(rigChanged.code).toBe(2);
  expect(rigChanged.stderr).toContain(`the rig file ${rig} changed since the run started (sha256 000000000000… then`);
  expect(withOut.code).toBe(2);
  expect(withOut.stderr).toContain('takes the rig, benches, --grep and output folder from its run.json: leave out --out');
  // Nothing was written into the folders refused.
  expect(readdirSync(notRun)).toEqual([]);
  expect(readdirSync(changed)).toEqual(['run.json']);
});
