// Progress while a campaign waits: a case's named waits (and the clock's own, unnamed ones) in its
// bench's progress file, several cases side by side on a bench each with its own, merged by the status
// reporter into status.json and console lines.
import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { CaseClock, hours, minutes } from '../../harness/clock.ts';
import { benchIso } from '../../harness/evidence.ts';
import { PLAN_ANNOTATION } from '../../harness/plan.ts';
import {
  type BenchProgress,
  BenchProgressFile,
  CaseProgress,
  readBenchProgress,
  type RunningCase,
  spanText,
} from '../../harness/progress.ts';
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
  // A named wait whose object came early (a shared act's rendezvous) ends there: the next clock wait shows its own kind.
  b.progress.waiting("IHD-RCN-002 to be ready for the ESME's outage (shared)", now + hours(3));
  b.progress.waited();
  await clock.sleep(minutes(5));
  b.file.write();
  expect(b.read().cases[0]?.wait?.for).toBe('a pause of 5 min');
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

/** Runs `body` as the runner would in run folder `dir`: its console lines are returned. */
function printedWhile(dir: string, body: () => void): string[] {
  const printed: string[] = [];
  const write = process.stdout.write;
  const before = process.env[RUN_ENV.out];
  process.env[RUN_ENV.out] = dir;
  process.stdout.write = ((chunk: string) => printed.push(chunk) > 0) as typeof process.stdout.write;
  try {
    body();
  } finally {
    process.stdout.write = write;
    if (before === undefined) delete process.env[RUN_ENV.out];
    else process.env[RUN_ENV.out] = before;
  }
  return printed;
}

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
  const printed = printedWhile(dir, () => {
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
  });
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
  const printed = printedWhile(dir, () => {
    const reporter = new StatusReporter();
    reporter.onBegin({} as never, { allTests: () => tests } as unknown as Suite);
    mkdirSync(join(dir, '.progress'), { recursive: true });
    writeFileSync(join(dir, '.progress', 'lab-1.json'), JSON.stringify(progress));
    for (const after of [0, 5, 9, 10, 15, 21]) reporter.refresh('running', true, wall + minutes(after));
    reporter.onEnd({ status: 'interrupted' } as never);
  });
  // At 0, 10 and 21 minutes; the time left counts down on the wall clock.
  expect(printed.map((l) => l.match(/poll period 1 of 3, ([^;]+) left/)?.[1])).toEqual(['24 h', '23 h 50 min', '23 h 39 min']);
  expect(printed[0]).toContain('ends by 2026-12-10T13:00:00.000Z');
  expect((JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as CampaignStatus).state).toBe('stopped');
});

/** A group of cases side by side on one bench, each ending at its own time. */
const GROUP = [
  { id: 'IHD-COT-004', plannedMs: hours(73) },
  { id: 'IHD-COT-009', plannedMs: hours(25) },
  { id: 'PPMID-COT-004', plannedMs: hours(73) + minutes(30) },
  { id: 'PPMID-COT-009', plannedMs: hours(25) + minutes(10) },
];

/** Four cases started together on one bench (as a group of side-by-side cases would be), each with its own progress. */
function benchWithGroup(runDir: string) {
  let now = T0;
  const file = new BenchProgressFile(runDir, 'virtual-1', true, () => now);
  const period = hours(24);
  const group = GROUP;
  const progress = Object.fromEntries(
    group.map(({ id, plannedMs }) => {
      const p = new CaseProgress(file, id, () => now);
      file.caseStarted({ id, title: `${id} title`, startedAtMs: T0, plannedEndMs: T0 + plannedMs });
      return [id, p];
    }),
  );
  const periods = [1, 2, 3].map((n) => [`poll period ${n} of 3`, T0 + n * period] as const);
  progress['IHD-COT-004'].stagesOf(periods, 'judge the longest silence');
  progress['PPMID-COT-004'].stagesOf(periods, 'judge the longest silence');
  progress['IHD-COT-009'].waiting('a poll period of polls, counted per minute', T0 + period + minutes(30), 'judge the busiest minute');
  progress['PPMID-COT-009'].clockWait('pause', T0 + minutes(15));
  return { file, progress, group, at: (ms: number) => (now = ms), read: () => readBenchProgress(runDir)[0] };
}

test('cases side by side on one bench each show their own wait and step; a case ending leaves the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-progress-'));
  const b = benchWithGroup(dir);
  b.progress['PPMID-COT-009'].step('count the polls per minute');
  b.at(T0 + hours(30));
  // A later wait of one case leaves the others' waits as they were.
  b.progress['PPMID-COT-009'].waiting(
    'a poll period of polls, counted per minute',
    T0 + hours(49) + minutes(30),
    'judge the busiest minute',
  );
  b.file.write();
  const waits = () => Object.fromEntries(b.read().cases.map((c) => [c.id, [c.wait?.for, c.wait?.untilMs, c.wait?.next]]));
  expect(b.read().cases.map((c) => c.id)).toEqual(b.group.map((g) => g.id));
  expect(b.read().cases.map((c) => c.plannedEndMs)).toEqual(b.group.map((g) => T0 + g.plannedMs));
  expect(waits()).toEqual({
    'IHD-COT-004': ['poll period 2 of 3', T0 + hours(48), 'poll period 3 of 3'],
    // Its wait has ended (the case is past it): the last one named still shows, until it names another.
    'IHD-COT-009': ['a poll period of polls, counted per minute', T0 + hours(24) + minutes(30), 'judge the busiest minute'],
    'PPMID-COT-004': ['poll period 2 of 3', T0 + hours(48), 'poll period 3 of 3'],
    'PPMID-COT-009': ['a poll period of polls, counted per minute', T0 + hours(49) + minutes(30), 'judge the busiest minute'],
  });
  expect(
    b
      .read()
      .cases.filter((c) => c.step)
      .map((c) => [c.id, c.step]),
  ).toEqual([['PPMID-COT-009', 'count the polls per minute']]);
  b.file.caseEnded('IHD-COT-009');
  expect(b.read().cases.map((c) => c.id)).toEqual(['IHD-COT-004', 'PPMID-COT-004', 'PPMID-COT-009']);
  const { 'IHD-COT-009': _, ...others } = waits();
  b.at(T0 + hours(31));
  b.file.write();
  expect(waits()).toEqual(others);
  // The same case started again (a rerun) has one line, not two.
  b.file.caseStarted({ id: 'PPMID-COT-009', title: 'again', startedAtMs: T0 + hours(31), plannedEndMs: T0 + hours(57) });
  expect(
    b
      .read()
      .cases.filter((c) => c.id === 'PPMID-COT-009')
      .map((c) => c.title),
  ).toEqual(['again']);
  for (const id of ['IHD-COT-004', 'PPMID-COT-004', 'PPMID-COT-009']) b.file.caseEnded(id);
  expect(b.read().cases).toEqual([]);
});

test('a progress file of an older run, with its one case as `case`, reads as one running case', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-progress-'));
  const old = runningCase('PPMID-COT-004', 'poll period 2 of 3', T0 + hours(48), T0 + hours(73));
  mkdirSync(join(dir, '.progress'));
  writeFileSync(
    join(dir, '.progress', 'virtual-1.json'),
    JSON.stringify({ bench: 'virtual-1', virtual: true, benchTime: '', benchTimeMs: T0, writtenAt: '', case: old }),
  );
  writeFileSync(
    join(dir, '.progress', 'virtual-2.json'),
    JSON.stringify({ bench: 'virtual-2', virtual: true, benchTime: '', benchTimeMs: T0, writtenAt: '' }),
  );
  const read = readBenchProgress(dir).sort((a, b) => a.bench.localeCompare(b.bench));
  expect(read.map((p) => [p.bench, p.cases, 'case' in p])).toEqual([
    ['virtual-1', [old], false],
    ['virtual-2', [], false],
  ]);
});

test('status with cases side by side: each its own wait, the bench busy until the latest planned end, then the queue', () => {
  const now = T0 + hours(40) + minutes(48);
  const side = [
    { id: 'IHD-COT-004', plannedEndMs: T0 + hours(73), waitFor: 'poll period 2 of 3', untilMs: T0 + hours(48) },
    { id: 'IHD-COT-009', plannedEndMs: T0 + hours(25), waitFor: 'the device, at most 2 min', untilMs: now + minutes(2) },
    { id: 'PPMID-COT-004', plannedEndMs: T0 + hours(74), waitFor: 'poll period 2 of 3', untilMs: T0 + hours(48) },
    { id: 'PPMID-COT-009', plannedEndMs: now + hours(3), waitFor: 'a poll period of polls, counted per minute', untilMs: now + hours(3) },
  ];
  const queuedMs = [hours(29), hours(13)];
  const cases: StatusCase[] = [
    { id: 'ESME-COT-001', bench: 'virtual-1', plannedMs: hours(2), state: 'done', verdict: 'PASS' },
    // The runner has heard two of the four begin; the bench's progress says all four run.
    { id: 'IHD-COT-004', bench: 'virtual-1', plannedMs: hours(73), state: 'running' },
    { id: 'IHD-COT-009', bench: 'virtual-1', plannedMs: hours(25), state: 'running' },
    { id: 'PPMID-COT-004', bench: 'virtual-1', plannedMs: hours(74), state: 'queued' },
    { id: 'PPMID-COT-009', bench: 'virtual-1', plannedMs: hours(25), state: 'queued' },
    { id: 'PPMID-COT-005', bench: 'virtual-1', plannedMs: queuedMs[0], state: 'queued' },
    { id: 'ESME-COT-010', bench: 'virtual-1', plannedMs: queuedMs[1], state: 'queued' },
  ];
  const progress: BenchProgress = {
    bench: 'virtual-1',
    virtual: true,
    benchTime: benchIso(now),
    benchTimeMs: now,
    writtenAt: '',
    // A case the runner has seen end, whose line the bench's file still holds, is not shown running.
    cases: [...side.map((c) => runningCase(c.id, c.waitFor, c.untilMs, c.plannedEndMs)), runningCase('ESME-COT-001', 'x', now, now)],
  };
  const s = campaignStatus('run-1', cases, [progress], [{ id: 'virtual-1', virtual: true }], Date.parse('2026-12-07T12:00:00Z'));
  const [bench] = s.benches;
  expect(s.cases).toMatchObject({ total: 7, done: 1, running: 4, queued: 2 });
  expect(bench.queued).toBe(2);
  expect(bench.cases.map((c) => c.id)).toEqual(side.map((c) => c.id));
  expect(bench.cases.map((c) => c.waiting)).toEqual([
    'poll period 2 of 3, 7 h 12 min left',
    'the device, at most 2 min, 2 min left',
    'poll period 2 of 3, 7 h 12 min left',
    'a poll period of polls, counted per minute, 3 h left',
  ]);
  // The running cases' rest is the latest of their ends (not their sum), then the queued cases one after another.
  const leftMs = Math.max(...side.map((c) => c.plannedEndMs - now)) + queuedMs[0] + queuedMs[1];
  expect(bench.benchTimeLeftMs).toBe(leftMs);
  expect(bench.endsAt).toBe(benchIso(now + leftMs));
  expect(s.eta.benchTimeLeftMs).toBe(leftMs);
  // The bench's next action is its soonest.
  expect(bench.next).toEqual({ case: 'IHD-COT-009', action: 'poll period 3 of 3', at: new Date(now + minutes(2)).toISOString() });
  const lines = progressLine(s, bench).split('\n');
  expect(lines[0]).toBe(
    `… virtual-1 at ${benchIso(now)}: 4 cases side by side; 1/7 done (1 PASS); simulated bench time left ≤ ${spanText(leftMs)}`,
  );
  expect(lines.slice(1).map((l) => l.replace(/; next: .*$/, ''))).toEqual(bench.cases.map((c) => `    ${c.id}: ${c.waiting}`));
});

test('the status reporter, cases side by side: a line naming each case when any one wait changes, the others kept when one ends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-status-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: 'run-1', benches: [{ id: 'virtual-1', virtual: true }] }));
  const statuses: CampaignStatus[] = [];
  const tests = [...GROUP.map((g) => fakeTest(`${g.id} t`, 'virtual-1', g.plannedMs)), fakeTest('ESME-COT-010 t', 'virtual-1', hours(13))];
  const printed = printedWhile(dir, () => {
    const reporter = new StatusReporter();
    reporter.onBegin({} as never, { allTests: () => tests } as unknown as Suite);
    for (const t of tests.slice(0, 4)) reporter.onTestBegin(t);
    const b = benchWithGroup(dir);
    const look = () => {
      b.file.write();
      reporter.refresh();
      statuses.push(JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as CampaignStatus);
    };
    look();
    // Within every wait: nothing printed.
    b.at(T0 + minutes(10));
    look();
    // PPMID-COT-009's pause ends: its next wait shows; a line again.
    b.at(T0 + minutes(20));
    b.progress['PPMID-COT-009'].waiting('a poll period of polls, counted per minute', T0 + hours(24) + minutes(35));
    look();
    b.file.caseEnded('IHD-COT-009');
    reporter.onTestEnd(tests[1], { annotations: [] } as unknown as TestResult);
    look();
    reporter.onEnd({ status: 'passed' } as never);
  });
  const g = GROUP;
  const head = (at: number, n: number, done: number) => `… virtual-1 at ${benchIso(at)}: ${n} cases side by side; ${done}/5 done`;
  const blocks = printed.map((l) => l.replace(/; simulated bench time left.*$/m, '').replace(/; next: .*$/gm, ''));
  expect(blocks).toEqual([
    [
      head(T0, 4, 0),
      '    IHD-COT-004: poll period 1 of 3, 24 h left',
      '    IHD-COT-009: a poll period of polls, counted per minute, 24 h 30 min left',
      '    PPMID-COT-004: poll period 1 of 3, 24 h left',
      '    PPMID-COT-009: a pause of 15 min, 15 min left',
    ].join('\n') + '\n',
    [
      head(T0 + minutes(20), 4, 0),
      '    IHD-COT-004: poll period 1 of 3, 23 h 40 min left',
      '    IHD-COT-009: a poll period of polls, counted per minute, 24 h 10 min left',
      '    PPMID-COT-004: poll period 1 of 3, 23 h 40 min left',
      '    PPMID-COT-009: a poll period of polls, counted per minute, 24 h 15 min left',
    ].join('\n') + '\n',
    [
      head(T0 + minutes(20), 3, 1),
      '    IHD-COT-004: poll period 1 of 3, 23 h 40 min left',
      '    PPMID-COT-004: poll period 1 of 3, 23 h 40 min left',
      '    PPMID-COT-009: a poll period of polls, counted per minute, 24 h 15 min left',
    ].join('\n') + '\n',
  ]);
  // Planned-left at each look: the latest planned end of the cases running, then ESME-COT-010 queued.
  const looks = [T0, T0 + minutes(10), T0 + minutes(20), T0 + minutes(20)];
  const runningEnds = [g, g, g, g.filter((c) => c.id !== 'IHD-COT-009')];
  expect(statuses.map((s) => s.benches[0].benchTimeLeftMs)).toEqual(
    looks.map((at, i) => Math.max(...runningEnds[i].map((c) => T0 + c.plannedMs - at)) + hours(13)),
  );
  expect(statuses.map((s) => [s.cases.running, s.cases.queued, s.benches[0].queued])).toEqual([
    [4, 1, 1],
    [4, 1, 1],
    [4, 1, 1],
    [3, 1, 1],
  ]);
});

test('queued cases of one side-by-side group take the bench for the longest of them, not their sum', () => {
  const queued: StatusCase[] = [
    { id: 'IHD-COT-004', bench: 'virtual-1', plannedMs: hours(73), state: 'queued', group: 2 },
    { id: 'IHD-COT-009', bench: 'virtual-1', plannedMs: hours(25), state: 'queued', group: 2 },
    { id: 'PPMID-COT-004', bench: 'virtual-1', plannedMs: hours(74), state: 'queued', group: 2 },
    { id: 'PPMID-COT-003', bench: 'virtual-1', plannedMs: hours(1), state: 'queued', group: 3 },
    { id: 'CH-IPAN-004', bench: 'virtual-1', plannedMs: hours(18), state: 'queued' },
  ];
  const progress: BenchProgress = { bench: 'virtual-1', virtual: true, benchTime: benchIso(T0), benchTimeMs: T0, writtenAt: '', cases: [] };
  const [bench] = campaignStatus('run-1', queued, [progress], [{ id: 'virtual-1', virtual: true }], T0).benches;
  expect(bench.queued).toBe(5);
  expect(bench.benchTimeLeftMs).toBe(hours(74) + hours(1) + hours(18));
});
