// `gbcs-rig run` checks every option before anything moves (cli/run-checks.ts): a key that cannot
// sign, a Chromium that is not there, a --grep that matches nothing, an --out that holds another run.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCases, suitesCommand, suitesEnv } from '../../cli/run-checks.ts';
import { chromiumProblem, findChromium } from '../../reports/pdf.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
const scratch = () => mkdtempSync(join(tmpdir(), 'gbcs-rig-run-checks-'));

test('a signing key that cannot sign is a usage error at the start, not a stack trace after the campaign', () => {
  const dir = scratch();
  const out = join(dir, 'out');
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a key\n');
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ['--signing-key', join(dir, 'absent.pem')],
      {},
      /--signing-key .*absent\.pem: cannot read the signing key \(ENOENT\); nothing was run/,
    ],
    [['--signing-key', garbage], {}, /--signing-key .*garbage\.pem: not a PEM private key .*Ed25519.*; nothing was run/],
    [[], { GBCS_RIG_SIGNING_KEY: 'not a key' }, /environment variable GBCS_RIG_SIGNING_KEY: not a PEM private key/],
  ];
  for (const [args, env, said] of cases) {
    const r = run(['run', '--out', out, ...args], env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(said);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stderr).not.toContain('not a key');
    expect(existsSync(out)).toBe(false);
  }
});

test('GBCS_RIG_CHROMIUM naming no file is refused by run and report, never replaced by another browser', () => {
  const dir = scratch();
  const out = join(dir, 'out');
  const env = { GBCS_RIG_CHROMIUM: join(dir, 'no-chromium') };
  const r = run(['run', '--out', out], env);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`GBCS_RIG_CHROMIUM=${env.GBCS_RIG_CHROMIUM}: no such file; set it to Chromium's path, or unset it`);
  expect(existsSync(out)).toBe(false);
  mkdirSync(out);
  const report = run(['report', out], env);
  expect(report.status).toBe(2);
  expect(report.stderr).toContain(`GBCS_RIG_CHROMIUM=${env.GBCS_RIG_CHROMIUM}: no such file`);
  expect(readdirSync(out)).toEqual([]);
});

test('report refuses a signing key that cannot sign before it builds anything', () => {
  const dir = scratch();
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a key\n');
  mkdirSync(join(dir, 'run'));
  const r = run(['report', join(dir, 'run'), '--signing-key', garbage]);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/garbage\.pem: not a PEM private key/);
  expect(readdirSync(join(dir, 'run'))).toEqual([]);
});

test('an --out folder holding anything is refused, saying what is there, and left as it was', () => {
  const dir = scratch();
  const earlier = join(dir, 'earlier');
  mkdirSync(join(earlier, 'evidence', 'CH-IPAN-004--virtual-1'), { recursive: true });
  writeFileSync(join(earlier, 'evidence', 'CH-IPAN-004--virtual-1', 'result.json'), '{}');
  const runJson = JSON.stringify({ id: 'earlier-run', startedAt: '2026-11-30T10:00:00.000Z' });
  writeFileSync(join(earlier, 'run.json'), runJson);
  const r = run(['run', '--grep', 'CH-IPAN-001', '--out', earlier]);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(
    `--out ${earlier}: the folder holds run earlier-run, started 2026-11-30T10:00:00.000Z: 2 files in evidence/, run.json — a run writes into a new folder`,
  );
  expect(r.stderr).toMatch(/give a new folder \(e\.g\. --out .*earlier\/\d{4}-\d\d-\d\dT[\d-]+Z\)/);
  expect(readdirSync(earlier, { recursive: true }).sort()).toEqual([
    'evidence',
    'evidence/CH-IPAN-004--virtual-1',
    'evidence/CH-IPAN-004--virtual-1/result.json',
    'run.json',
  ]);
  expect(readFileSync(join(earlier, 'run.json'), 'utf8')).toBe(runJson);

  const stray = join(dir, 'stray');
  mkdirSync(stray);
  writeFileSync(join(stray, 'notes.txt'), 'mine\n');
  const s = run(['run', '--out', stray]);
  expect(s.status).toBe(2);
  expect(s.stderr).toContain(`--out ${stray}: the folder holds 1 file in notes.txt — a run writes`);

  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  expect(run(['run', '--out', file]).stderr).toContain(`--out ${file}: a file, not a folder`);
});

test('a --grep that is no regular expression, or matches no case, is a usage error listing the cases; nothing is signed', () => {
  const dir = scratch();
  const out = join(dir, 'out');
  const bad = run(['run', '--grep', 'CH-(IPAN', '--out', out]);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--grep CH-(IPAN: not a regular expression');
  expect(existsSync(out)).toBe(false);

  const none = run(['run', '--grep', 'NO-SUCH-CASE', '--out', out]);
  expect(none.status, none.stderr).toBe(2);
  expect(none.stderr).toMatch(
    /--grep NO-SUCH-CASE: matches no case, so nothing was run and no report signed; the cases: .*CH-IPAN-001, CH-IPAN-002/,
  );
  expect(none.stderr).toContain('ESME-COT-001');
  // The folder the run made is gone again: no report, no manifest.
  expect(existsSync(out)).toBe(false);
  // A folder without files (here an empty folder and a link, which a manifest never signs) is taken, and left as it was.
  mkdirSync(join(out, 'evidence'), { recursive: true });
  symlinkSync('/dev/null', join(out, 'link'));
  const again = run(['run', '--grep', 'NO-SUCH-CASE', '--out', out]);
  expect(again.stderr).toContain('--grep NO-SUCH-CASE: matches no case');
  expect(readdirSync(out, { recursive: true }).sort()).toEqual(['evidence', 'link']);
});

test('findChromium takes GBCS_RIG_CHROMIUM alone when it is set, and no other browser when it names no file', () => {
  const dir = scratch();
  const fake = join(dir, 'my-chromium');
  writeFileSync(fake, '');
  expect(findChromium({ GBCS_RIG_CHROMIUM: fake })).toBe(fake);
  expect(findChromium({ GBCS_RIG_CHROMIUM: join(dir, 'none') })).toBeUndefined();
  expect(chromiumProblem({ GBCS_RIG_CHROMIUM: join(dir, 'none') })).toContain('no such file');
  expect(chromiumProblem({ GBCS_RIG_CHROMIUM: fake })).toBeUndefined();
  expect(chromiumProblem({})).toBeUndefined();
});

test("a caller's own Playwright variables (its JSON reporter's file, PWDEBUG) never reach the suites: plan and run still list the cases", () => {
  const dir = scratch();
  const redirected = join(dir, 'callers-report.json');
  const callers = { PLAYWRIGHT_JSON_OUTPUT_FILE: redirected, PWDEBUG: '1' };
  const plan = run(['plan', '--grep', 'CH-IPAN-00[12]'], callers);
  expect(plan.status, plan.stderr).toBe(0);
  expect(plan.stdout).toMatch(/2 cases on virtual-1/);
  expect(plan.stdout).toContain('CH-IPAN-002');
  const none = run(['run', '--grep', 'NO-SUCH-CASE', '--out', join(dir, 'out')], callers);
  expect(none.status, none.stderr).toBe(2);
  expect(none.stderr).toMatch(/matches no case, so nothing was run and no report signed; the cases: .*CH-IPAN-001/);
  // The list went to the rig, not to the caller's file.
  expect(existsSync(redirected)).toBe(false);
});

test('suites Playwright cannot list are an error with its own words, not an empty list', () => {
  const dir = scratch();
  const config = join(dir, 'broken.config.ts');
  writeFileSync(config, "throw new Error('a suite config that does not load');\n");
  const [playwright] = suitesCommand();
  expect(() => listCases([playwright, 'test', '-c', config], suitesEnv({}))).toThrow(
    /the conformance suites could not be listed, so nothing was run \(Playwright exit 1\):[\s\S]*a suite config that does not load/,
  );
});
