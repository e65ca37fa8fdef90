// The campaign's progress while it runs: status.json in the run folder (rewritten atomically every
// few seconds when something changed) and a console line when a bench's wait changes — on a real
// bench also every 10 minutes. Merges the benches' progress files (harness/progress.ts), which the
// workers write, with what the runner knows: the cases ended, their verdicts, the planned durations.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { benchIso } from '../harness/evidence.ts';
import { type BenchProgress, readBenchProgress, removeBenchProgress, spanText } from '../harness/progress.ts';
import { RUN_ENV } from '../harness/run-context.ts';
import { VERDICTS, type Verdict } from '../harness/verdicts.ts';
import { plannedCase } from '../harness/plan.ts';
import { benchOf, caseResultOf } from './results-reporter.ts';
import type { CaseResult } from '../harness/case.ts';
import { caseFolder } from './run-folder.ts';
import { readRunInfo } from './results.ts';

export const STATUS_FILE = 'status.json';
const REFRESH_MS = 2000;
/** A real bench's line is repeated this often even when its wait has not changed: a lab sees the run is alive. */
const REAL_BENCH_LINE_EVERY_MS = 10 * 60_000;

/** One case of the campaign as the status counts it. */
export interface StatusCase {
  id: string;
  bench: string;
  /** Planned bench time (ms) under the run's lab settings. */
  plannedMs: number;
  state: 'queued' | 'running' | 'done';
  verdict?: Verdict;
  /** Its side-by-side group on the bench in the run's plan: the cases of a group take the bench for the longest of them. */
  group?: number;
}

/** A case running on a bench, with what it waits for. */
export interface RunningCaseStatus {
  id: string;
  title: string;
  startedAt: string;
  plannedEnd: string;
  step?: string;
  /** What the case waits for, in words, e.g. `poll period 2 of 3, 31 h 12 min left`; absent while it does not wait. */
  waiting?: string;
  next?: { action: string; at: string };
}

export interface BenchStatus {
  id: string;
  virtual: boolean;
  /** The bench's time when its worker last wrote (simulated on a virtual bench); absent before its first case. */
  benchTime?: string;
  /** Every case running on the bench (several when cases run side by side), each with its own wait. */
  cases: RunningCaseStatus[];
  /** The soonest of the running cases' next actions. */
  next?: { case: string; action: string; at: string };
  queued: number;
  /** Planned bench time left on the bench: the running cases' rest (the latest of their planned ends) and every queued case. */
  benchTimeLeftMs: number;
  benchTimeLeft: string;
  /** The bench time its last case ends at the latest (on a real bench, wall clock). */
  endsAt?: string;
}

/** status.json (`schema: gbcs-rig/status@2`; @2 lists a bench's running cases, several when side by side). */
export interface CampaignStatus {
  schema: 'gbcs-rig/status@2';
  run: string;
  state: 'running' | 'finished' | 'stopped';
  updatedAt: string;
  cases: { total: number; done: number; running: number; queued: number; verdicts: Record<Verdict, number>; withoutVerdict: number };
  benches: BenchStatus[];
  /** The campaign's end: bench time left on its busiest bench; on real benches, the wall clock it ends at. */
  eta: { benchTimeLeftMs: number; benchTimeLeft: string; endsAt?: string };
}

/** The campaign's status from its cases, the benches' progress files, and the wall time now. */
export function campaignStatus(
  run: string,
  cases: readonly StatusCase[],
  progress: readonly BenchProgress[],
  benches: readonly { id: string; virtual: boolean }[],
  wallNow: number,
  state: CampaignStatus['state'] = 'running',
): CampaignStatus {
  const verdicts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const c of cases) if (c.verdict) verdicts[c.verdict]++;
  // What a bench's progress says runs, less what the runner has seen end (a line a case left behind).
  const runningOn = new Map(
    benches.map(({ id }) => {
      const listed = progress.find((b) => b.bench === id)?.cases ?? [];
      return [id, listed.filter((r) => !cases.some((c) => c.bench === id && c.id === r.id && c.state === 'done'))];
    }),
  );
  // A case its bench's progress shows running is not queued, whether or not the runner has heard it began.
  const stateOf = (c: StatusCase): StatusCase['state'] =>
    c.state === 'queued' && runningOn.get(c.bench)?.some((r) => r.id === c.id) ? 'running' : c.state;
  const count = (s: StatusCase['state']) => cases.filter((c) => stateOf(c) === s).length;
  const benchStatus = benches.map(({ id, virtual }): BenchStatus => {
    const p = progress.find((b) => b.bench === id);
    const running = runningOn.get(id) ?? [];
    const queued = cases.filter((c) => c.bench === id && stateOf(c) === 'queued');
    // A group queued whole takes the bench for its longest case; a case without a group, for its own.
    const groups = new Map<string, number>();
    for (const c of queued) {
      const key = c.group === undefined ? `case ${c.id}` : `group ${c.group}`;
      groups.set(key, Math.max(groups.get(key) ?? 0, c.plannedMs));
    }
    const queuedMs = [...groups.values()].reduce((sum, ms) => sum + ms, 0);
    // On a real bench the bench clock is the wall clock: time passes between the worker's writes too.
    const now = virtual ? p?.benchTimeMs : wallNow;
    // Cases side by side end each at its own time: the bench is busy until the latest of them ends.
    const runningMs = now === undefined ? 0 : Math.max(0, ...running.map((r) => r.plannedEndMs - now));
    const leftMs = runningMs + queuedMs;
    const soonest = running.flatMap((r) => (r.wait ? [{ id: r.id, wait: r.wait }] : [])).sort((a, b) => a.wait.untilMs - b.wait.untilMs)[0];
    return {
      id,
      virtual,
      ...(now !== undefined && { benchTime: benchIso(now) }),
      cases: running.map((r) => ({
        id: r.id,
        title: r.title,
        startedAt: r.startedAt,
        plannedEnd: r.plannedEnd,
        ...(r.step !== undefined && { step: r.step }),
        ...(r.wait && now !== undefined && { waiting: `${r.wait.for}, ${spanText(r.wait.untilMs - now)} left` }),
        ...(r.wait && { next: { action: r.wait.next, at: r.wait.until } }),
      })),
      ...(soonest && { next: { case: soonest.id, action: soonest.wait.next, at: soonest.wait.until } }),
      queued: queued.length,
      benchTimeLeftMs: leftMs,
      benchTimeLeft: spanText(leftMs),
      ...(now !== undefined && { endsAt: benchIso(now + leftMs) }),
    };
  });
  const leftMs = Math.max(0, ...benchStatus.map((b) => b.benchTimeLeftMs));
  const realLeft = benchStatus.filter((b) => !b.virtual).map((b) => b.benchTimeLeftMs);
  return {
    schema: 'gbcs-rig/status@2',
    run,
    state,
    updatedAt: new Date(wallNow).toISOString(),
    cases: {
      total: cases.length,
      done: count('done'),
      running: count('running'),
      queued: count('queued'),
      verdicts,
      withoutVerdict: cases.filter((c) => c.state === 'done' && !c.verdict).length,
    },
    benches: benchStatus,
    eta: {
      benchTimeLeftMs: leftMs,
      benchTimeLeft: spanText(leftMs),
      ...(realLeft.length > 0 && { endsAt: new Date(wallNow + Math.max(...realLeft)).toISOString() }),
    },
  };
}

/** A running case in words: `PPMID-COT-004: poll period 2 of 3, 31 h 12 min left; next: poll period 3 of 3 at …`. */
function caseText(c: RunningCaseStatus): string {
  return `${c.id}: ${c.waiting ?? `running${c.step ? ` (${c.step})` : ''}`}${c.next ? `; next: ${c.next.action} at ${c.next.at}` : ''}`;
}

/**
 * A bench's console line: what it waits for and what comes next, with the campaign's count and ETA. Cases side
 * by side on the bench each get a line of their own under the bench's.
 */
export function progressLine(s: CampaignStatus, b: BenchStatus): string {
  const verdicts = VERDICTS.filter((v) => s.cases.verdicts[v] > 0).map((v) => `${s.cases.verdicts[v]} ${v}`);
  const tally = `${s.cases.done}/${s.cases.total} done${verdicts.length ? ` (${verdicts.join(', ')})` : ''}`;
  const eta = `${b.virtual ? 'simulated ' : ''}bench time left ≤ ${s.eta.benchTimeLeft}${s.eta.endsAt ? `, ends by ${s.eta.endsAt}` : ''}`;
  const head = `… ${b.id} at ${b.benchTime ?? '?'}: `;
  if (b.cases.length <= 1) return `${head}${b.cases[0] ? caseText(b.cases[0]) : 'between cases'}; ${tally}; ${eta}`;
  return [`${head}${b.cases.length} cases side by side; ${tally}; ${eta}`, ...b.cases.map((c) => `    ${caseText(c)}`)].join('\n');
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export default class StatusReporter implements Reporter {
  private out: string | undefined;
  private run = '';
  private readonly cases = new Map<TestCase, StatusCase>();
  /** On a resumed run: the cases judged before it. */
  private readonly kept: StatusCase[] = [];
  private benches: { id: string; virtual: boolean }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private written = '';
  /** Per bench: the wait last printed, and when (wall). */
  private readonly printed = new Map<string, { wait: string; at: number }>();

  onBegin(_config: FullConfig, suite: Suite): void {
    this.out = process.env[RUN_ENV.out];
    if (!this.out) return;
    const info = readRunInfo(this.out);
    this.run = info?.id ?? process.env[RUN_ENV.runId] ?? '';
    for (const test of suite.allTests()) {
      const { id, bench, plannedMs } = plannedCase(test.title, test.annotations, benchOf(test) ?? '');
      const group = info?.plan?.benches.find((b) => b.bench === bench)?.cases.find((c) => c.id === id)?.group;
      this.cases.set(test, { id, bench, plannedMs: plannedMs ?? 0, state: 'queued', ...(group !== undefined && { group }) });
    }
    // A resumed run runs only the cases left: those judged before count as done, with their verdicts.
    const kept = (info?.planned ?? []).filter((p) => ![...this.cases.values()].some((c) => c.id === p.id && c.bench === p.bench));
    for (const p of kept) {
      const file = join(this.out, caseFolder(p), 'result.json');
      const verdict = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CaseResult).verdict : undefined;
      this.kept.push({ id: p.id, bench: p.bench, plannedMs: 0, state: 'done', verdict });
    }
    const ids = [...new Set(this.all().map((c) => c.bench))];
    this.benches = ids.map((id) => ({ id, virtual: info?.benches?.find((b) => b.id === id)?.virtual ?? false }));
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  onTestBegin(test: TestCase): void {
    const c = this.cases.get(test);
    if (c) c.state = 'running';
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const c = this.cases.get(test);
    if (!c) return;
    c.state = 'done';
    c.verdict = caseResultOf(test, result)?.verdict;
  }

  onEnd(result: FullResult): void {
    clearInterval(this.timer);
    if (!this.out) return;
    this.refresh(result.status === 'passed' || result.status === 'failed' ? 'finished' : 'stopped', false);
    removeBenchProgress(this.out);
  }

  private all(): StatusCase[] {
    return [...this.kept, ...this.cases.values()];
  }

  printsToStdio(): boolean {
    return true;
  }

  /** The timer's tick: status.json rewritten when it changed, a console line per bench whose wait changed. */
  refresh(state: CampaignStatus['state'] = 'running', print = true, now = Date.now()): void {
    if (!this.out) return;
    const progress = state === 'running' ? readBenchProgress(this.out) : [];
    const status = campaignStatus(this.run, this.all(), progress, this.benches, now, state);
    const { updatedAt: _, ...content } = status;
    const text = JSON.stringify(content);
    if (text !== this.written) {
      this.written = text;
      try {
        writeAtomically(join(this.out, STATUS_FILE), JSON.stringify(status, null, 2) + '\n');
      } catch {
        // The status is for people watching; the evidence keeps its own account of a full disk.
      }
    }
    if (!print) return;
    for (const b of status.benches) {
      if (!b.cases.some((c) => c.waiting)) continue;
      // A change of any running case's wait (its time left aside) is a change of the bench's line.
      const wait = b.cases.map((c) => `${c.id}: ${c.waiting?.replace(/, [^,]* left$/, '') ?? ''}`).join('\n');
      const last = this.printed.get(b.id);
      // Virtual benches: a line per change of wait; a real bench also repeats its line, so a lab sees the run alive.
      if (last?.wait === wait && (b.virtual || now - last.at < REAL_BENCH_LINE_EVERY_MS)) continue;
      this.printed.set(b.id, { wait, at: now });
      process.stdout.write(`${progressLine(status, b)}\n`);
    }
  }
}
