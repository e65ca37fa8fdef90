// results.json from per-case results: shared by the Playwright reporter (at the end of a run)
// and the report builder (when a crashed or copied run folder has only its evidence).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseResult } from '../harness/case.ts';
import type { CampaignPlan, PlannedCase } from '../harness/plan.ts';
import { VERDICTS, type Verdict } from '../harness/verdicts.ts';
import type { LabSettingsReport } from '../rigs/lab-settings.ts';

/** What a run folder's run.json records when the run starts (written by `gbcs-rig run`). */
export interface RunInfo {
  id: string;
  /** The rig file's path. */
  rig: string;
  /** The rig file's sha256 (absent for the embedded virtual rig in older runs). */
  rigSha256?: string;
  /** The benches the run drove, and whether each was simulated. */
  /** With the roles of their devices (the plan leaves out the cases a bench lacks a device for); absent in older run.json files. */
  benches?: { id: string; virtual: boolean; roles?: readonly string[] }[];
  station: string;
  lab?: string;
  operator?: string;
  startedAt: string;
  endedAt: string;
  /** gbcs-rig's version and, when known, the git commit it ran from. */
  gbcsRig: string;
  commit?: string;
  /** The test plan: each suite file that ran, by its content hash. */
  testPlan?: { suite: string; sha256: string }[];
  /** Every lab setting in force, with its value and source (default or rig file). */
  labSettings?: LabSettingsReport;
  /** Every case the run set out to run, on its bench: written before the first case starts, so a crash cannot hide what never ran. */
  planned?: PlannedCase[];
  /** When each planned case runs on its bench, in bench time (harness/plan.ts): what `gbcs-rig plan` prints. */
  plan?: CampaignPlan;
  /** `run --one-at-a-time`: every case held its bench whole (no cases side by side). */
  oneAtATime?: boolean;
  /** The run's --grep, as given: `run --resume` picks the same cases. */
  grep?: string;
  /** Each time the run was continued with `gbcs-rig run --resume` after it stopped. */
  resumes?: RunResume[];
}

/** One `run --resume`: what it kept, what it ran again from the start (its partial evidence moved aside), what it ran. */
export interface RunResume {
  /** Wall time of the resume. */
  at: string;
  /** Cases kept with the verdicts they had, as `<case>--<bench>`. */
  kept: string[];
  /** Cases cut short when the run stopped: run again from their start; the evidence they left is in `partial`. */
  rerun: { id: string; bench: string; partial: string }[];
  /** Cases the resume set out to run (the rerun ones and those never started), as `<case>--<bench>`. */
  remaining: string[];
}

/** A case's evidence left by a run that stopped in the middle of it: `evidence/<case>--<bench>.partial-<n>`. */
export const PARTIAL_EVIDENCE = /\.partial-\d+$/;

export type { PlannedCase } from '../harness/plan.ts';

/** results.json (`schema: gbcs-rig/results@1`). */
export interface RunResults {
  schema: 'gbcs-rig/results@1';
  run: RunInfo;
  cases: CaseResult[];
  totals: Record<Verdict, number>;
  /** Tests that ended without a case result (the rig crashed inside them), each as `missingCase` names it. */
  missing: string[];
  /** Planned cases that never started (the run stopped before them): NOT RUN. */
  notRun?: PlannedCase[];
}

/** How results.json names a case that ended without a verdict: the test's title and, when known, its bench. */
export function missingCase(title: string, bench: string | undefined): string {
  return bench ? `${title} on bench ${bench}` : title;
}

export const RUN_INFO_FILE = 'run.json';

/** The run's run.json, when the run wrote one. */
export function readRunInfo(runDir: string): RunInfo | undefined {
  const file = join(runDir, RUN_INFO_FILE);
  return existsSync(file) ? readJson<RunInfo>(file) : undefined;
}

/** results.json's content: cases sorted by id then bench, totals for every verdict, cases that never ended. */
export function collectResults(cases: readonly CaseResult[], run: RunInfo, missing: readonly string[] = []): RunResults {
  const totals = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const c of cases) totals[c.verdict]++;
  const sorted = [...cases].sort((a, b) => a.id.localeCompare(b.id) || a.bench.localeCompare(b.bench));
  // A planned case with neither a verdict nor a start (a crash inside one is `missing`) never ran.
  const ran = (p: PlannedCase) =>
    cases.some((c) => c.id === p.id && c.bench === p.bench) ||
    missing.some((m) => (m.startsWith(`${p.id} `) && m.endsWith(` on bench ${p.bench}`)) || m === `${p.id}--${p.bench}`);
  const notRun = (run.planned ?? []).filter((p) => !ran(p));
  return { schema: 'gbcs-rig/results@1', run, cases: sorted, totals, missing: [...missing], notRun };
}

/** A file in the run folder the report cannot use: says which file and why, in one line. */
export class RunFolderError extends Error {
  override name = 'RunFolderError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export function readJson<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RunFolderError(file, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new RunFolderError(file, `not valid JSON (${(e as Error).message})`);
  }
}

/** Case evidence folders (`evidence/<case>--<bench>`), sorted by name; a partial one a resume moved aside is not a case's. */
export function evidenceFolders(runDir: string): string[] {
  const root = join(runDir, 'evidence');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !PARTIAL_EVIDENCE.test(d.name))
    .map((d) => d.name)
    .sort();
}

/**
 * results.json rebuilt from `evidence/*\/result.json` alone. A case folder with an event log
 * but no result.json is a case that ended without a verdict: named as Playwright titles it, with its bench.
 */
export function resultsFromEvidence(runDir: string, run: RunInfo): RunResults {
  const cases: CaseResult[] = [];
  const missing: string[] = [];
  for (const name of evidenceFolders(runDir)) {
    const dir = join(runDir, 'evidence', name);
    const resultFile = join(dir, 'result.json');
    if (existsSync(resultFile)) {
      cases.push(readJson<CaseResult>(resultFile));
      continue;
    }
    const start = firstCaseStart(join(dir, 'events.jsonl'));
    const bench = name.includes('--') ? name.slice(name.indexOf('--') + 2) : undefined;
    missing.push(start ? missingCase(`${start.id} ${start.title}`, bench) : name);
  }
  return collectResults(cases, run, missing);
}

function firstCaseStart(eventsFile: string): { id: string; title: string } | undefined {
  if (!existsSync(eventsFile)) return undefined;
  for (const line of readFileSync(eventsFile, 'utf8').split('\n')) {
    try {
      const e = JSON.parse(line) as { kind?: string; id?: unknown; title?: unknown };
      if (e.kind === 'case-start' && typeof e.id === 'string') return { id: e.id, title: String(e.title ?? '') };
    } catch {
      // A line cut by a crash: the rest of the log still counts.
    }
  }
  return undefined;
}
