// A station with several benches: every case runs on every bench (results per case and bench),
// `--bench` picks benches, and `--fail-on` turns named verdicts into exit code 3 for CI.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunInfo } from '../../reports/results.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, runCampaign, verdicts, verdictsByBench } from '../support/campaign.ts';
import { BIN } from '../support/power-rig.ts';

const CONFORMANT = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant', gpf: 'gpf-conformant' };

test('a two-bench rig runs every case on both benches, with the verdicts of a one-bench run on each', async () => {
  const [one, two] = await Promise.all([runCampaign({ tenancy: CONFORMANT }), runCampaign({ tenancy: CONFORMANT, benches: 2 })]);
  expect(one.exitCode, one.stderr).toBe(0);
  expect(two.exitCode, two.stderr).toBe(0);
  const single = verdicts(one);
  // Both suites (inter-PAN window and Change of Tenancy) ran, not one suite per bench.
  expect(Object.keys(single).some((id) => id.startsWith('CH-IPAN')) && Object.keys(single).some((id) => id.includes('-COT-'))).toBe(true);
  expect(verdictsByBench(two)).toEqual({ 'virtual-1': single, 'virtual-2': single });
  expect(two.results!.missing).toEqual([]);
  // Each (case, bench) has its own evidence, its own device and its own report rows.
  for (const c of two.results!.cases) {
    expect(existsSync(join(two.dir, 'evidence', `${c.id}--${c.bench}`, 'result.json')), `${c.id} on ${c.bench}`).toBe(true);
    expect(c.device?.ieee.split(':')[6], `${c.id} on ${c.bench}`).toBe(c.bench === 'virtual-1' ? '90' : '91');
  }
  const junit = readFileSync(join(two.dir, 'junit.xml'), 'utf8');
  const caseCount = Object.keys(single).length;
  expect([...junit.matchAll(/<testsuite name="([^"]+)" tests="(\d+)"/g)].map((m) => [m[1], Number(m[2])])).toEqual([
    ['virtual-1', caseCount],
    ['virtual-2', caseCount],
  ]);
  const html = readFileSync(join(two.dir, 'report.html'), 'utf8');
  expect(html.match(/<tr data-case="[^"]+" data-bench="virtual-2"/g)).toHaveLength(caseCount);
  expect(two.stdout.match(/^PASS +CH-IPAN-001 +virtual-\d/gm)).toEqual([
    expect.stringContaining('virtual-1'),
    expect.stringContaining('virtual-2'),
  ]);
});

test('--bench picks the benches that run; an unknown bench is refused before anything moves', async () => {
  const picked = await runCampaign({ benches: 2, bench: ['virtual-2'], grep: 'CH-IPAN-00[12]' });
  expect(picked.exitCode, picked.stderr).toBe(0);
  expect(picked.results!.cases.map((c) => `${c.id}@${c.bench}`)).toEqual(['CH-IPAN-001@virtual-2', 'CH-IPAN-002@virtual-2']);
  // run.json holds the plan `gbcs-rig plan` prints for the same rig and options; each case kept within its planned time.
  const rig = join(picked.dir, '..', 'rig.yaml');
  const listed = spawnSync(process.execPath, [BIN, 'plan', '--rig', rig, '--bench', 'virtual-2', '--grep', 'CH-IPAN-00[12]', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, [INSTALL_CODE_ENV]: TEST_INSTALL_CODE },
  });
  expect(listed.status, listed.stderr).toBe(0);
  const run = JSON.parse(readFileSync(join(picked.dir, 'run.json'), 'utf8')) as RunInfo;
  expect(run.plan).toEqual((JSON.parse(listed.stdout) as { plan: RunInfo['plan'] }).plan);
  expect(run.plan!.benches.map((b) => b.bench)).toEqual(['virtual-2']);
  for (const c of picked.results!.cases) expect(Date.parse(c.endedAt) - Date.parse(c.startedAt), c.id).toBeLessThanOrEqual(c.plannedMs!);
  // The report draws the plan: each case's planned span, and the span it took in its verdict's colour.
  const html = readFileSync(join(picked.dir, 'report.html'), 'utf8');
  expect([...html.matchAll(/<g data-plan-case="([^"]+)">.*?<rect class="took" data-verdict="([^"]+)"/g)].map((m) => [m[1], m[2]])).toEqual([
    ['CH-IPAN-001--virtual-2', 'PASS'],
    ['CH-IPAN-002--virtual-2', 'PASS'],
  ]);
  expect(html).toMatch(/<p id="plan-summary">Planned bench time 2 h \d\d min against the longest single case, CH-IPAN-002/);

  const unknown = await runCampaign({ benches: 2, bench: ['virtual-2,virtual-9'] });
  expect(unknown.exitCode).toBe(2);
  expect(unknown.stderr).toContain('--bench virtual-9: no such bench');
  expect(unknown.stderr).toContain('its benches: virtual-1, virtual-2');
  expect(existsSync(unknown.dir)).toBe(false);
});

test('--fail-on fail exits 3 on a device FAIL; a list without fail exits 0 on the same run', async () => {
  const [failOn, notListed] = await Promise.all([
    runCampaign({ firmware: 'ch-window-45min', grep: 'CH-IPAN-001', failOn: 'fail' }),
    runCampaign({ firmware: 'ch-window-45min', grep: 'CH-IPAN-001', failOn: 'inconclusive,error,not-run' }),
  ]);
  for (const c of [failOn, notListed]) expect(verdicts(c)).toEqual({ 'CH-IPAN-001': 'FAIL IPAN-1' });
  expect(failOn.exitCode, failOn.stderr).toBe(3);
  expect(failOn.stdout).toContain('--fail-on fail: 1 FAIL (exit 3)');
  expect(notListed.exitCode, notListed.stderr).toBe(0);
});
