import { defineConfig } from '@playwright/test';
import { join } from 'node:path';
import type { BenchOption } from '../harness/conformance.ts';
import { benchesToRun, benchProject, RUN_ENV, remainingOn } from '../harness/run-context.ts';

// The conformance suites, run by `gbcs-rig run`: one project per bench, so every case runs on
// every bench; one worker per project (a bench is never driven by two workers at once), the
// benches in parallel (virtual ones at most one per core: they compute, real ones wait), cases in file order
// on each bench, results gathered into the run folder.
const out = process.env[RUN_ENV.out] ?? join(import.meta.dirname ?? '.', '..', 'reports', 'out', 'adhoc');
// `gbcs-rig run` names the benches it picked (checked against the rig); run directly, every bench of the rig.
const { ids: benches, workers, settings } = await benchesToRun();
// Each case's planned bench time is reckoned when it is declared, under the rig's lab settings (`run` passes them too).
process.env[RUN_ENV.labSettings] ??= JSON.stringify(settings);

export default defineConfig<object, BenchOption>({
  testDir: '.',
  testMatch: '*.spec.ts',
  fullyParallel: false,
  workers,
  // On `run --resume`, each bench runs only its cases left.
  projects: benches.map((id) => ({ name: benchProject(id), use: { benchId: id }, workers: 1, grep: remainingOn(id) })),
  // The wall-time backstop of a virtual case (a 73-hour scenario takes seconds); a hardware case sets its own
  // from its planned duration (harness/conformance.ts), and its deadline ends it INCONCLUSIVE before this fires.
  timeout: 10 * 60_000,
  retries: 0,
  outputDir: join(out, 'playwright'),
  // `run --resume` goes on in the same folder: what the stopped part wrote stays.
  preserveOutput: 'always',
  reporter: [
    ['../reports/verdict-list-reporter.ts'],
    ['../reports/results-reporter.ts'],
    ['../reports/status-reporter.ts'],
    ['allure-playwright', { resultsDir: join(out, 'allure-results'), detail: false, suiteTitle: false }],
  ],
});
