// A case never waits past its deadline (planned duration + margin): the wait is cut there and the
// case ends INCONCLUSIVE `case-overran`, instead of a runner timeout leaving it without a verdict.
import { test, expect } from '@playwright/test';
import { RigFault } from '../../drivers/faults.ts';
import { CaseClock, VirtualBenchClock, minutes } from '../../harness/clock.ts';
import { verdictOf } from '../../harness/verdicts.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';

function caseClock(deadlineAfterMs: number) {
  const sim = new DiscreteEventClock({ epochMs: Date.UTC(2026, 0, 1) });
  const bench = new VirtualBenchClock(sim, async () => undefined);
  const start = bench.now();
  const clock = new CaseClock(
    bench,
    start + deadlineAfterMs,
    () => new RigFault('case-overran', 'case T-1', 'ran past its plan', 'check the lab settings'),
  );
  return { sim, clock, start };
}

test('a wait inside the deadline runs as asked', async () => {
  const { clock, start } = caseClock(minutes(60));
  await clock.sleep(minutes(59));
  expect(clock.now() - start).toBe(minutes(59));
  expect(await clock.waitFor(() => false, minutes(1))).toBe(false);
  expect(clock.now() - start).toBe(minutes(60));
});

test('a sleep past the deadline stops at the deadline and ends the case INCONCLUSIVE case-overran', async () => {
  const { clock, start } = caseClock(minutes(60));
  const e = await clock.sleep(minutes(90)).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(clock.now() - start).toBe(minutes(60));
  expect(verdictOf(e)).toMatchObject({ verdict: 'INCONCLUSIVE', fault: 'case-overran', fix: 'check the lab settings' });
});

test('a wait whose condition comes true before the deadline succeeds; one that would outlast it is cut at the deadline', async () => {
  const { sim, clock, start } = caseClock(minutes(60));
  let seen = false;
  sim.at(start + minutes(30), () => (seen = true), 'event at 30 min');
  expect(await clock.waitFor(() => seen, minutes(120))).toBe(true);
  expect(clock.now() - start).toBe(minutes(30));
  let late = false;
  sim.at(start + minutes(70), () => (late = true), 'event at 70 min');
  const e = await clock
    .waitFor(() => late, minutes(120))
    .then(
      () => undefined,
      (x: unknown) => x,
    );
  expect(e).toBeInstanceOf(RigFault);
  expect((e as RigFault).kind).toBe('case-overran');
  expect(clock.now() - start).toBe(minutes(60));
  expect(late).toBe(false);
});
