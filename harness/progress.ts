// What a bench is doing right now, for the console and the run folder's status.json. Each worker
// writes its bench's progress file (atomically: a temp file, then a rename) at most once a second
// of wall time; the runner's status reporter (reports/status-reporter.ts) merges them.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchIso } from './evidence.ts';

/** The folder of the run holding one progress file per bench while the run goes; removed when it ends. */
export const PROGRESS_DIR = '.progress';

/** What one case on a bench waits for now, in words, and what it does when the wait ends. */
export interface CaseWait {
  /** E.g. `poll period 2 of 3`; a wait without a label says what kind of wait it is. */
  for: string;
  /** Bench time the wait ends at the latest. */
  until: string;
  untilMs: number;
  /** What the case does when the wait ends, e.g. `power the CH on`. */
  next: string;
}

/** One case running on a bench, as its bench's progress file shows it. */
export interface RunningCase {
  id: string;
  title: string;
  startedAt: string;
  plannedEnd: string;
  plannedEndMs: number;
  step?: string;
  wait?: CaseWait;
}

/** A bench's progress file: `<run>/.progress/<bench>.json`. */
export interface BenchProgress {
  bench: string;
  virtual: boolean;
  /** Bench time when written (simulated on a virtual bench). */
  benchTime: string;
  benchTimeMs: number;
  /** Wall time when written. */
  writtenAt: string;
  /** Every case running on the bench (several when cases run side by side), in the order they started; empty between cases. */
  cases: RunningCase[];
}

/** `31 h 12 min`, `12 min`, `40 s`: a span as a person reads it. */
export function spanText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}

const MIN_WRITE_INTERVAL_MS = 1000;
/** While a case runs its file is rewritten this often, so a long wait shows its bench time and its current stage. */
const REWRITE_WHILE_RUNNING_MS = 5000;

/** One bench's progress file, written by the worker driving the bench. */
export class BenchProgressFile {
  private state: BenchProgress;
  private lastWrite = 0;
  private trailing: NodeJS.Timeout | undefined;
  private ticking: NodeJS.Timeout | undefined;
  readonly file: string;
  /** Per running case: its wait at a bench time (a named wait of stages moves on by itself). */
  private readonly waits = new Map<string, (nowMs: number) => CaseWait | undefined>();

  constructor(
    runDir: string,
    bench: string,
    virtual: boolean,
    private readonly now: () => number,
  ) {
    const dir = join(runDir, PROGRESS_DIR);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${bench}.json`);
    this.state = { bench, virtual, benchTime: '', benchTimeMs: 0, writtenAt: '', cases: [] };
  }

  /** A case begins on the bench, beside any already running: shown at once. */
  caseStarted(c: { id: string; title: string; startedAtMs: number; plannedEndMs: number }): void {
    this.update((p) => {
      // A case started again (its earlier run never said it ended) replaces its old line.
      p.cases = p.cases.filter((r) => r.id !== c.id);
      p.cases.push({
        id: c.id,
        title: c.title,
        startedAt: benchIso(c.startedAtMs),
        plannedEnd: benchIso(c.plannedEndMs),
        plannedEndMs: c.plannedEndMs,
      });
    }, true);
  }

  /** A case ends: its line goes, the bench's other cases stay. */
  caseEnded(id: string): void {
    this.waits.delete(id);
    this.update((p) => {
      p.cases = p.cases.filter((r) => r.id !== id);
    }, true);
  }

  /** The wait of case `id` at a bench time, asked at each write (CaseProgress registers its own). */
  waitOf(id: string, waitAt: (nowMs: number) => CaseWait | undefined): void {
    this.waits.set(id, waitAt);
  }

  /** Changes what the file says; written now, or (within a second of the last write) a second after it. */
  update(change: (p: BenchProgress) => void, force = false): void {
    change(this.state);
    const running = this.state.cases.length > 0;
    if (running && !this.ticking) this.ticking = setInterval(() => this.write(), REWRITE_WHILE_RUNNING_MS).unref();
    if (!running) {
      clearInterval(this.ticking);
      this.ticking = undefined;
    }
    const since = Date.now() - this.lastWrite;
    if (force || since >= MIN_WRITE_INTERVAL_MS) {
      this.write();
      return;
    }
    this.trailing ??= setTimeout(() => this.write(), MIN_WRITE_INTERVAL_MS - since).unref();
  }

  /** Writes what the file says now (a case's start and end do; tests too). */
  write(): void {
    clearTimeout(this.trailing);
    this.trailing = undefined;
    this.lastWrite = Date.now();
    this.state.benchTimeMs = this.now();
    this.state.benchTime = benchIso(this.state.benchTimeMs);
    this.state.writtenAt = new Date(this.lastWrite).toISOString();
    for (const c of this.state.cases) c.wait = this.waits.get(c.id)?.(this.state.benchTimeMs);
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.state, null, 2) + '\n');
      renameSync(tmp, this.file);
    } catch {
      // Progress is for people watching; a full disk shows in the evidence, where it voids the verdict.
    }
  }
}

/** The progress files of a run, as the status reporter reads them; an unreadable one (mid-write elsewhere) is skipped. */
export function readBenchProgress(runDir: string): BenchProgress[] {
  const dir = join(runDir, PROGRESS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const found: BenchProgress[] = [];
  for (const n of names) {
    try {
      const p = JSON.parse(readFileSync(join(dir, n), 'utf8')) as BenchProgress & { case?: RunningCase };
      // A file written before cases ran side by side holds its one running case as `case`.
      if (!Array.isArray(p.cases)) p.cases = p.case ? [p.case] : [];
      delete p.case;
      found.push(p);
    } catch {
      // Renames are atomic, so this is a file another tool left: not ours to judge.
    }
  }
  return found;
}

export function removeBenchProgress(runDir: string): void {
  rmSync(join(runDir, PROGRESS_DIR), { recursive: true, force: true });
}

/**
 * One case's progress as the case and its clock tell it: `waiting(what, until)` names a wait; every
 * clock wait outside a named one shows as a wait of its kind, so each wait says something. It updates
 * only its own case's line of the bench's file, so cases side by side each show their own wait.
 */
export class CaseProgress {
  /** The named wait's stages in order (one for a plain named wait); empty when the clock's own wait shows. */
  private stages: CaseWait[] = [];

  constructor(
    private readonly file: BenchProgressFile | undefined,
    private readonly caseId: string,
    private readonly now: () => number,
  ) {
    file?.waitOf(caseId, (nowMs) => this.stages.find((w) => nowMs < w.untilMs) ?? this.stages.at(-1));
  }

  /** The case waits for `what` until bench time `untilMs`, then does `next`: shown until the wait ends or another is named. */
  waiting(what: string, untilMs: number, next = 'the case goes on'): void {
    this.stagesOf([[what, untilMs]], next);
  }

  /**
   * One wait in stages, e.g. `[['poll period 1 of 3', t1], ['poll period 2 of 3', t2], …]`: each shows until its end,
   * then the next; `next` is what the case does after the last. The case may wait through them with one sleep.
   */
  stagesOf(stages: readonly (readonly [what: string, untilMs: number])[], next = 'the case goes on'): void {
    this.stages = stages.map(([what, untilMs], i) => ({
      for: what,
      until: benchIso(untilMs),
      untilMs,
      next: i + 1 < stages.length ? stages[i + 1][0] : next,
    }));
    // Written at once: a named wait is the one worth seeing, and on a virtual bench it may pass within the second.
    this.file?.update(() => {}, true);
  }

  /** A clock wait (sleep, waitFor): a wait within a named one keeps the name; one outside it shows its kind. */
  clockWait(kind: 'pause' | 'watch', untilMs: number): void {
    const end = this.stages.at(-1)?.untilMs;
    if (end !== undefined && this.now() < end && untilMs <= end) return;
    const what =
      kind === 'pause' ? `a pause of ${spanText(untilMs - this.now())}` : `the device, at most ${spanText(untilMs - this.now())}`;
    this.stages = [{ for: what, until: benchIso(untilMs), untilMs, next: 'the case goes on' }];
    this.show();
  }

  /** The named wait ended before its time (what it waited for came): the clock's own waits show again. */
  waited(): void {
    this.stages = [];
    this.show();
  }

  step(name: string): void {
    this.file?.update((p) => {
      const c = p.cases.find((r) => r.id === this.caseId);
      if (c) c.step = name;
    });
  }

  private show(): void {
    // The file resolves the stage of the moment it writes.
    this.file?.update(() => {});
  }
}
