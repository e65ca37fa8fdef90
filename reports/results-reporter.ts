// A Playwright reporter that gathers each conformance case's result.json (written by the
// harness into the case's evidence folder) into the run's results.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import type { CaseResult } from '../harness/case.ts';
import { RESULT_ANNOTATION, RUN_ENV } from '../harness/run-context.ts';
import type { BenchOption } from '../harness/conformance.ts';
import { planCampaign, plannedCase } from '../harness/plan.ts';
import { RUN_INFO_FILE, collectResults, missingCase, readRunInfo, resultsFromEvidence } from './results.ts';

export type { RunResults } from './results.ts';

/** The case's result.json as the harness wrote it, found through the test's annotation; undefined when the case ended without one. */
export function caseResultOf(test: TestCase, result: TestResult): CaseResult | undefined {
  const file =
    test.annotations.find((a) => a.type === RESULT_ANNOTATION)?.description ??
    result.annotations?.find((a) => a.type === RESULT_ANNOTATION)?.description;
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CaseResult) : undefined;
}

/** The bench a test ran on: its project's `use: { benchId }`. */
export const benchOf = (test: TestCase): string | undefined => (test.parent.project()?.use as Partial<BenchOption> | undefined)?.benchId;

/** The suite file a case is declared in (its file suite's), not where test() was called (harness/conformance.ts). */
function suiteFileOf(t: TestCase): string {
  let s: Suite | undefined = t.parent;
  while (s && s.type !== 'file') s = s.parent;
  return basename(s?.location?.file ?? s?.title ?? t.location.file);
}

export default class ResultsReporter implements Reporter {
  private readonly cases: CaseResult[] = [];
  private readonly missing: string[] = [];
  private readonly startedAt = new Date().toISOString();

  /** Records every case the run is about to run in run.json, before the first starts: a run cut short still says what it never reached. */
  onBegin(_config: FullConfig, suite: Suite): void {
    const out = process.env[RUN_ENV.out];
    const recorded = out && readRunInfo(out);
    // A resumed run runs only what was left: the plan stays the campaign's.
    if (!out || !recorded || recorded.planned) return;
    const planned = suite.allTests().map((t) => plannedCase(t.title, t.annotations, benchOf(t) ?? '', suiteFileOf(t)));
    const plan = planCampaign(planned, recorded.benches ?? [], { oneAtATime: recorded.oneAtATime });
    writeFileSync(join(out, RUN_INFO_FILE), JSON.stringify({ ...recorded, planned, plan }, null, 2) + '\n');
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    const c = caseResultOf(test, result);
    if (c) this.cases.push(c);
    else this.missing.push(missingCase(test.title, benchOf(test)));
  }

  onEnd(_result: FullResult): void {
    const out = process.env[RUN_ENV.out];
    if (!out) return;
    const recorded = readRunInfo(out);
    const run = {
      id: process.env[RUN_ENV.runId] ?? '',
      rig: process.env[RUN_ENV.rig] ?? 'embedded virtual rig',
      station: process.env[RUN_ENV.station] ?? '',
      gbcsRig: process.env[RUN_ENV.version] ?? '',
      ...recorded,
      startedAt: recorded?.startedAt ?? this.startedAt,
      endedAt: new Date().toISOString(),
    };
    // A resumed run's own cases, and those its earlier part judged (kept with their evidence).
    const ran = (c: CaseResult) => this.cases.some((own) => own.id === c.id && own.bench === c.bench);
    const kept = run.resumes?.length ? resultsFromEvidence(out, run).cases.filter((c) => !ran(c)) : [];
    writeFileSync(join(out, 'results.json'), JSON.stringify(collectResults([...kept, ...this.cases], run, this.missing), null, 2) + '\n');
  }
}
