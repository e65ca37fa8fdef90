// Progress while a campaign waits: a case's named waits (and the clock's own, unnamed ones) in its
// bench's progress file, merged by the status reporter into status.json and console lines.
import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { CaseClock, hours, minutes } from '../../harness/clock.ts';
import { PLAN_ANNOTATION } from '../../harness/plan.ts';
import { type BenchProgress, BenchProgressFile, CaseProgress, readBenchProgress, type RunningCase } from '../../harness/progress.ts';
import { RUN_ENV } from '../../harness/run-context.ts';
import StatusReporter, { type CampaignStatus, campaignStatus, progressLine, type StatusCase } from '../../reports/status-reporter.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A case on a bench whose clock the test moves by hand. */
function benchWithCase(runDir: string, id = 'PPMID-COT-004', plannedMs = hours(73), clockNow?: () => number) {
  let now = T0;
  const file = new BenchProgressFile(runDir, 'virtual-1', true, clockNow ?? (() => now));
  const progress = new CaseProgress(file, id, clockNow ?? (() => now));
  file.caseStarted({ id, title: 'the PPMID asks at least once every 24 hours', startedAtMs: T0, plannedEndMs: T0 + plannedMs });
  return { file, progress, at: (ms: number) => (now = ms), read: () => readBenchProgress(runDir)[0] };
}

test('a wait in stages shows the stage of the moment, with what comes after it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-progress-'));
  const b = benchWithCase(dir);
  const period = hours(24);
  b.progress.stagesOf(
    [
      ['poll period 1 of 3', T0 + period],
      ['poll period 2 of 3', T0 + 2 * period],
      ['poll period 3 of 3', T0 + 3 * period],
    ],
    'judge the longest silence',
  );
  b.at(T0 + period + hours(16) + minutes(48));
  b.file.write();
  expect(b.read().cases[0]?.wait).toMatchObject({
    for: 'poll period 2 of 3',
    until: '2026-01-03T00:00:00.000000Z',
    next: 'poll period 3 of 3',
  });
  b.at(T0 + 3 * period - 1);
  b.file.write();
  expect(b.read().cases[0]?.wait).toMatchObject({ for: 'poll period 3 of 3', next: 'judge the longest silence' });
});

test('every clock wait shows: an unnamed one by its kind; one within a named wait keeps the name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-progress-'));
  let now = T0;
  const b = benchWithCase(dir, 'CH-IPAN-004', hours(19), () => now);
  const bench = {
    virtual: true,
    now: () => now,
    sleep: async (ms: number) => void (now += ms),
    waitFor: async (_c: () => boolean, ms: number) => ((now += ms), false),
  };
  const clock = new CaseClock(
    bench,
    T0 + hours(19),
    () => new Error('overran'),
    (kind, until) => b.progress.clockWait(kind, until),
  );
  await clock.sleep(minutes(10));
  b.file.write();
  // Told when the wait began: it ends 10 minutes on.
  expect(b.read().cases[0]?.wait).toMatchObject({
    for: 'a pause of 10 min',
    until: '2026-01-01T00:10:00.000000Z',
    next: 'the case goes on',
  });
  b.progress.waiting("the HHT's 18 h stay", now + hours(18), 'read over the HAN');
  await clock.waitFor(() => false, minutes(30));
  b.file.write();
  expect(b.read().cases[0]?.wait?.for).toBe("the HHT's 18 h stay");
  // Past the named wait's end, a wait shows its own kind again.
  now += hours(18);
  await clock.waitFor(() => false, minutes(2));
  b.file.write();
  expect(b.read().cases[0]?.wait?.for).toBe('the device, at most 2 min');
});

const runningCase = (id: string, waitFor: string, untilMs: number, plannedEndMs: number): RunningCase => ({
  id,
  title: '',
  startedAt: '',
  plannedEnd: '',
  plannedEndMs,
  wait: { for: waitFor, until: new Date(untilMs).toISOString(), untilMs, next: 'poll period 3 of 3' },
});

const running = (id: string, waitFor: string, untilMs: number, benchTimeMs: number, plannedEndMs: number): BenchProgress => ({
  bench: 'virtual-1',
  virtual: true,
  benchTime: '',
  benchTimeMs,
  writtenAt: '',
  cases: [runningCase(id, waitFor, untilMs, plannedEndMs)],
});

test('status: what each bench waits for in words, cases done with their verdicts, and the ETA from the plans of what is left', () => {
  const now = T0 + hours(40) + minutes(48);
  const cases: StatusCase[] = [
    { id: 'IHD-COT-004', bench: 'virtual-1', plannedMs: hours(73), state: 'done', verdict: 'PASS' },
    { id: 'PPMID-COT-004', bench: 'virtual-1', plannedMs: hours(73), state: 'running' },
    { id: 'PPMID-COT-005', bench: 'virtual-1', plannedMs: hours(29), state: 'queued' },
    { id: 'CH-IPAN-004', bench: 'lab-1', plannedMs: hours(18), state: 'queued' },
  ];
  const progress = [running('PPMID-COT-004', 'poll period 2 of 3', T0 + hours(72), now, T0 + hours(73))];
  const wall = Date.parse('2026-12-07T12:00:00Z');
  const s = campaignStatus(
    'run-1',
    cases,
    progress,
    [
      { id: 'virtual-1', virtual: true },
      { id: 'lab-1', virtual: false },
    ],
    wall,
  );
  expect(s.cases).toEqual({
    total: 4,
    done: 1,
    running: 1,
    queued: 2,
    verdicts: { PASS: 1, FAIL: 0, INCONCLUSIVE: 0, 'NOT APPLICABLE': 0, ERROR: 0 },
    withoutVerdict: 0,
  });
  const [virtual, real] = s.benches;
  expect(virtual.cases.map((c) => [c.id, c.waiting])).toEqual([['PPMID-COT-004', 'poll period 2 of 3, 31 h 12 min left']]);
  expect(virtual.next).toMatchObject({ case: 'PPMID-COT-004', action: 'poll period 3 of 3' });
  // The running case's rest of its plan (32 h 12 min) and the queued one's 29 h, at simulated time.
  expect(virtual.benchTimeLeft).toBe('61 h 12 min');
  expect(virtual.endsAt).toBe('2026-01-05T06:00:00.000000Z');
  // A real bench's bench time is the wall clock: its ETA is a wall time.
  expect(real.benchTimeLeft).toBe('18 h');
  expect(s.eta).toEqual({ benchTimeLeftMs: hours(61) + minutes(12), benchTimeLeft: '61 h 12 min', endsAt: '2026-12-08T06:00:00.000Z' });
  expect(progressLine(s, virtual)).toBe(
    '… virtual-1 at 2026-01-02T16:48:00.000000Z: PPMID-COT-004: poll period 2 of 3, 31 h 12 min left; next: poll period 3 of 3 at 2026-01-04T00:00:00.000Z; ' +
      '1/4 done (1 PASS); simulated bench time left ≤ 61 h 12 min, ends by 2026-12-08T06:00:00.000Z',
  );
});

/** A test as the reporter sees it: its title, its bench's project and its planned duration. */
function fakeTest(title: string, bench: string, plannedMs: number): TestCase {
  return {
    title,
    annotations: [
      { type: PLAN_ANNOTATION, description: JSON.stringify({ plannedMs, needs: { powered: [], cycles: [], radio: false, triggers: [] } }) },
    ],
    parent: { project: () => ({ use: { benchId: bench } }) },
  } as unknown as TestCase;
}

test('the status reporter writes status.json and prints one line per change of a wait, none while it stays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-status-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: 'run-1', benches: [{ id: 'virtual-1', virtual: true }] }));
  const tests = [fakeTest('IHD-COT-004 t', 'virtual-1', hours(73)), fakeTest('PPMID-COT-004 t', 'virtual-1', hours(73))];
  const printed: string[] = [];
  const write = process.stdout.write;
  const before = process.env[RUN_ENV.out];
  process.env[RUN_ENV.out] = dir;
  process.stdout.write = ((chunk: string) => printed.push(chunk) > 0) as typeof process.stdout.write;
  try {
    const reporter = new StatusReporter();
    reporter.onBegin({} as never, { allTests: () => tests } as unknown as Suite);
    reporter.onTestBegin(tests[0]);
    const b = benchWithCase(dir, 'IHD-COT-004');
    b.progress.waiting('poll period 1 of 3', T0 + hours(24));
    b.file.write();
    reporter.refresh();
    reporter.refresh();
    b.progress.waiting('poll period 2 of 3', T0 + hours(48));
    b.at(T0 + hours(30));
    b.file.write();
    reporter.refresh();
    const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as CampaignStatus;
    expect(status.benches[0].cases.map((c) => `${c.id}: ${c.waiting}`)).toEqual(['IHD-COT-004: poll period 2 of 3, 18 h left']);
    expect(status.cases).toMatchObject({ total: 2, done: 0, running: 1, queued: 1 });
    reporter.onTestEnd(tests[0], { annotations: [] } as unknown as TestResult);
    reporter.onEnd({ status: 'passed' } as never);
    const ended = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as CampaignStatus;
    expect(ended.state).toBe('finished');
    expect(readBenchProgress(dir)).toEqual([]);
  } finally {
    process.stdout.write = write;
    if (before === undefined) delete process.env[RUN_ENV.out];
    else process.env[RUN_ENV.out] = before;
  }
  expect(printed.map((l) => l.replace(/; 0\/2 done.*\n$/, ''))).toEqual([
    '… virtual-1 at 2026-01-01T00:00:00.000000Z: IHD-COT-004: poll period 1 of 3, 24 h left; next: the case goes on at 2026-01-02T00:00:00.000000Z',
    '… virtual-1 at 2026-01-02T06:00:00.000000Z: IHD-COT-004: poll period 2 of 3, 18 h left; next: the case goes on at 2026-01-03T00:00:00.000000Z',
  ]);
});

test('a real bench repeats its line every 10 minutes while its wait stays, so a lab sees the run alive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-status-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: 'run-1', benches: [{ id: 'lab-1', virtual: false }] }));
  const tests = [fakeTest('PPMID-COT-004 t', 'lab-1', hours(73))];
  const wall = Date.parse('2026-12-07T12:00:00Z');
  const progress: BenchProgress = {
    ...running('PPMID-COT-004', 'poll period 1 of 3', wall + hours(24), wall, wall + hours(73)),
    bench: 'lab-1',
  };
  const printed: string[] = [];
  const write = process.stdout.write;
  const before = process.env[RUN_ENV.out];
  process.env[RUN_ENV.out] = dir;
  process.stdout.write = ((chunk: string) => printed.push(chunk) > 0) as typeof process.stdout.write;
  try {
    const reporter = new StatusReporter();
    reporter.onBegin({} as never, { allTests: () => tests } as unknown as Suite);
    mkdirSync(join(dir, '.progress'), { recursive: true });
    writeFileSync(join(dir, '.progress', 'lab-1.json'), JSON.stringify(progress));
    for (const after of [0, 5, 9, 10, 15, 21]) reporter.refresh('running', true, wall + minutes(after));
    reporter.onEnd({ status: 'interrupted' } as never);
  } finally {
    process.stdout.write = write;
    if (before === undefined) delete process.env[RUN_ENV.out];
    else process.env[RUN_ENV.out] = before;
  }
  // At 0, 10 and 21 minutes; the time left counts down on the wall clock.
  expect(printed.map((l) => l.match(/poll period 1 of 3, ([^;]+) left/)?.[1])).toEqual(['24 h', '23 h 50 min', '23 h 39 min']);
  expect(printed[0]).toContain('ends by 2026-12-10T13:00:00.000Z');
  expect((JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as CampaignStatus).state).toBe('stopped');
});
