import { defineConfig } from '@playwright/test';
import { join } from 'node:path';
import { RUN_ENV } from '../harness/run-context.ts';

// The conformance suites, run by `gbcs-rig run`: one worker per bench (set by the run command),
// cases in file order on each bench, results gathered into the run folder.
const out = process.env[RUN_ENV.out] ?? join(import.meta.dirname ?? '.', '..', 'reports', 'out', 'adhoc');

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  fullyParallel: false,
  // A 24-hour scenario takes well under a second of virtual time; a real bench needs hours.
  timeout: Number(process.env.GBCS_RIG_CASE_TIMEOUT_MS ?? 30 * 60_000),
  retries: 0,
  outputDir: join(out, 'playwright'),
  reporter: [
    ['list'],
    ['../reports/results-reporter.ts'],
    ['allure-playwright', { resultsDir: join(out, 'allure-results'), detail: false, suiteTitle: false }],
  ],
});
