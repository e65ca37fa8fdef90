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

/** A bench's progress file: `<run>/.progress/<bench>.json`. */
export interface BenchProgress {
  bench: string;
  virtual: boolean;
  /** Bench time when written (simulated on a virtual bench). */
  benchTime: string;
  benchTimeMs: number;
  /** Wall time when written. */
  writtenAt: string;
  /** The case running on the bench; absent between cases. */
  case?: { id: string; title: string; startedAt: string; plannedEnd: string; plannedEndMs: number; step?: string; wait?: CaseWait };
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
  /** The running case's wait at a bench time (a named wait of stages moves on by itself). */
  waitAt: ((nowMs: number) => CaseWait | undefined) | undefined;

  constructor(
    runDir: string,
    bench: string,
    virtual: boolean,
    private readonly now: () => number,
  ) {
    const dir = join(runDir, PROGRESS_DIR);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${bench}.json`);
    this.state = { bench, virtual, benchTime: '', benchTimeMs: 0, writtenAt: '' };
  }

  /** Changes what the file says; written now, or (within a second of the last write) a second after it. */
  update(change: (p: BenchProgress) => void, force = false): void {
    change(this.state);
    if (this.state.case && !this.ticking) this.ticking = setInterval(() => this.write(), REWRITE_WHILE_RUNNING_MS).unref();
    if (!this.state.case) {
      clearInterval(this.ticking);
      this.ticking = undefined;
      this.waitAt = undefined;
    }
    const since = Date.now() - this.lastWrite;
    if (force || since >= MIN_WRITE_INTERVAL_MS) {
      this.write();
      return;
    }
    this.trailing ??= setTimeout(() => this.write(), MIN_WRITE_INTERVAL_MS - since).unref();
  }

  /** Writes what the file says now (the case's start and end do; tests too). */
  write(): void {
    clearTimeout(this.trailing);
    this.trailing = undefined;
    this.lastWrite = Date.now();
    this.state.benchTimeMs = this.now();
    this.state.benchTime = benchIso(this.state.benchTimeMs);
    this.state.writtenAt = new Date(this.lastWrite).toISOString();
    const wait = this.waitAt?.(this.state.benchTimeMs);
    if (this.state.case) this.state.case.wait = wait;
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
      found.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as BenchProgress);
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
 * A case's progress as the case and its clock tell it: `waiting(what, until)` names a wait; every
 * clock wait outside a named one shows as a wait of its kind, so each wait says something.
 */
export class CaseProgress {
  /** The named wait's stages in order (one for a plain named wait); empty when the clock's own wait shows. */
  private stages: CaseWait[] = [];

  constructor(
    private readonly file: BenchProgressFile | undefined,
    private readonly now: () => number,
  ) {
    if (file) file.waitAt = (nowMs) => this.stages.find((w) => nowMs < w.untilMs) ?? this.stages.at(-1);
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

  step(name: string): void {
    this.file?.update((p) => {
      if (p.case) p.case.step = name;
    });
  }

  private show(): void {
    // The file resolves the stage of the moment it writes.
    this.file?.update(() => {});
  }
}
