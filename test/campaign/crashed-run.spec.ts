// A run killed mid-campaign (kill -9 of the whole process group, as a power cut or the OOM killer
// does): `gbcs-rig report` still knows the station, rig, lab and plan from run.json, lists every
// planned case without a verdict as NOT RUN, and says in large type that the campaign is incomplete.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RunResults } from '../../reports/results.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, virtualRig } from '../support/campaign.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));

test('kill -9 after the first verdict: the report uses run.json, lists the cases never run as NOT RUN and says the campaign is incomplete', async () => {
  test.setTimeout(3 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-crash-'));
  const rig = join(dir, 'rig.yaml');
  writeFileSync(rig, stringify(virtualRig({ firmware: 'ch-conformant' })));
  const out = join(dir, 'run');
  const child = spawn(process.execPath, [BIN, 'run', '--rig', rig, '--out', out, '--grep', 'CH-IPAN'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, GBCS_RIG_ALLURE_HISTORY: join(dir, 'history'), [INSTALL_CODE_ENV]: TEST_INSTALL_CODE },
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  // The first case's verdict is written: kill everything at once, mid-campaign.
  const first = join(out, 'evidence', 'CH-IPAN-001--virtual-1', 'result.json');
  for (let i = 0; i < 1200 && !existsSync(first); i++) await new Promise((r) => setTimeout(r, 100));
  expect(existsSync(first), 'the first case ended').toBe(true);
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  expect(existsSync(join(out, 'results.json'))).toBe(false);

  const report = await new Promise<{ code: number; stderr: string }>((done) => {
    const r = spawn(process.execPath, [BIN, 'report', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    r.stderr.on('data', (d) => (stderr += d));
    r.on('exit', (code) => done({ code: code ?? 1, stderr }));
  });
  expect(report.code, report.stderr).toBe(0);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
  // The plan was recorded before the first case: all seven IPAN cases.
  expect(results.run.planned?.map((p) => p.id)).toEqual([
    'CH-IPAN-001',
    'CH-IPAN-002',
    'CH-IPAN-003',
    'CH-IPAN-004',
    'CH-IPAN-005',
    'CH-IPAN-006',
    'CH-IPAN-007',
  ]);
  const judged = results.cases.map((c) => c.id);
  const cut = results.missing.map((m) => m.split(' ')[0]);
  const notRun = (results.notRun ?? []).map((p) => p.id);
  expect(judged).toContain('CH-IPAN-001');
  // Every planned case is exactly one of: judged, cut short, never started.
  expect([...judged, ...cut, ...notRun].sort()).toEqual(results.run.planned?.map((p) => p.id));
  expect(notRun.length).toBeGreaterThan(0);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  expect(html).toContain(`<dd data-field="station">${results.run.station}</dd>`);
  expect(results.run.station).not.toBe('');
  expect(html).toMatch(/<dd data-field="lab">[^<]+<\/dd>/);
  expect(html).toContain(
    `INCOMPLETE CAMPAIGN — ${cut.length + notRun.length} of 7 planned cases have no verdict (${notRun.length} never started, ${cut.length} cut short)`,
  );
  for (const id of notRun) expect(html).toMatch(new RegExp(`<tr class="not-run" data-not-run="${id}--virtual-1"><td>${id}</td>.*NOT RUN`));
  expect(html).toContain(`<tr data-verdict="NOT RUN"><td>NOT RUN</td><td class="count">${notRun.length}</td></tr>`);
  expect(html).toMatch(/<li data-deviation="case not run"><b>case not run<\/b>: CH-IPAN-00\d /);
});
