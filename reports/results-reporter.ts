// A Playwright reporter that gathers each conformance case's result.json (written by the
// harness into the case's evidence folder) into the run's results.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import type { CaseResult } from '../harness/case.ts';
import { RESULT_ANNOTATION, RUN_ENV } from '../harness/run-context.ts';
import { VERDICTS, type Verdict } from '../harness/verdicts.ts';

export interface RunResults {
  schema: 'gbcs-rig/results@1';
  run: { id: string; rig: string; station: string; startedAt: string; endedAt: string; gbcsRig: string };
  cases: CaseResult[];
  totals: Record<Verdict, number>;
  /** Tests that ended without a case result (the rig crashed inside them). */
  missing: string[];
}

export default class ResultsReporter implements Reporter {
  private readonly cases: CaseResult[] = [];
  private readonly missing: string[] = [];
  private readonly startedAt = new Date().toISOString();

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    const file = test.annotations.find((a) => a.type === RESULT_ANNOTATION)?.description
      ?? result.annotations?.find((a) => a.type === RESULT_ANNOTATION)?.description;
    if (file && existsSync(file)) this.cases.push(JSON.parse(readFileSync(file, 'utf8')) as CaseResult);
    else this.missing.push(test.title);
  }

  onEnd(_result: FullResult): void {
    const out = process.env[RUN_ENV.out];
    if (!out) return;
    const totals = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
    for (const c of this.cases) totals[c.verdict]++;
    this.cases.sort((a, b) => a.id.localeCompare(b.id) || a.bench.localeCompare(b.bench));
    const results: RunResults = {
      schema: 'gbcs-rig/results@1',
      run: {
        id: process.env[RUN_ENV.runId] ?? '',
        rig: process.env[RUN_ENV.rig] ?? 'embedded virtual rig',
        station: process.env[RUN_ENV.station] ?? '',
        startedAt: this.startedAt,
        endedAt: new Date().toISOString(),
        gbcsRig: process.env[RUN_ENV.version] ?? '',
      },
      cases: this.cases,
      totals,
      missing: this.missing,
    };
    writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  }
}
