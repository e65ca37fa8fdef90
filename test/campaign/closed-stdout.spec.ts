// `gbcs-rig run … | head`: the reader of stdout goes away while the campaign (and Playwright, its
// child) still prints. The output stops quietly; the campaign runs on to its signed report.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RunResults } from '../../reports/results.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, virtualRig } from '../support/campaign.ts';
import { firstLineThenClose } from '../support/child.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));

test('run whose reader closes stdout after its first line ends quietly with exit 0, and still signs its report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-closed-stdout-'));
  const rigFile = join(dir, 'rig.yaml');
  writeFileSync(rigFile, stringify(virtualRig({})));
  const out = join(dir, 'run');
  const child = spawn(process.execPath, [BIN, 'run', '--rig', rigFile, '--out', out, '--grep', 'CH-IPAN-00[12]'], {
    env: { ...process.env, GBCS_RIG_ALLURE_HISTORY: join(dir, 'allure-history'), [INSTALL_CODE_ENV]: TEST_INSTALL_CODE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // As `| head -1` does: the first line (run's own), then the pipe closes before Playwright's lines come.
  const { first, stderr, code } = await firstLineThenClose(child);
  expect(first).toMatch(/^gbcs-rig run \S+: station test station/);
  expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  expect(code, stderr).toBe(0);
  // The campaign was not cut short by its output: both cases have verdicts, and the run folder is signed.
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
  expect(results.cases.map((c) => `${c.id} ${c.verdict}`).sort()).toEqual(['CH-IPAN-001 PASS', 'CH-IPAN-002 PASS']);
  expect(existsSync(join(out, 'manifest.sig'))).toBe(true);
});
