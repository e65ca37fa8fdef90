// One act for the cases side by side that declared they share it (harness/shared-act.ts, harness/shared-tenancy.ts), on
// the virtual bench's clock. A Change of Tenancy goes out once, when the last case that declared it is ready (or has
// ended), at the longest offset asked; every case gets the same times, the wait moves each deadline on, and a failed
// trigger fails it for all. A span (the WAN cut, a meter's outage) ends once, when the last sharer is done with it.
import { test, expect } from '@playwright/test';
import { RigFault } from '../../drivers/faults.ts';
import { CaseClock, VirtualBenchClock, hours, minutes } from '../../harness/clock.ts';
import type { EvidenceLog } from '../../harness/evidence.ts';
import { alone, SharedAct, span } from '../../harness/shared-act.ts';
import { changeOfTenancy, type TenancyAct, type TenancySent } from '../../harness/shared-tenancy.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';

/** A bench clock and, per case, its clock (deadline `plannedMs` from now), its events and what it announced and sent. */
function bench() {
  const sim = new DiscreteEventClock({ epochMs: Date.UTC(2026, 0, 1) });
  const clock = new VirtualBenchClock(sim, async () => undefined);
  const t0 = clock.now();
  const sends: { by: string; at: number; implementation: number }[] = [];
  const caseOf = (id: string, plannedMs: number, fail?: Error) => {
    const events: { kind: string; fields: Record<string, unknown> }[] = [];
    // What the case's progress line said it waited for, and when that wait ended.
    const progress: string[] = [];
    const evidence = {
      event: (kind: string, fields: Record<string, unknown> = {}) => events.push({ kind, fields }),
    } as unknown as EvidenceLog;
    const caseClock = new CaseClock(clock, t0 + plannedMs, () => new RigFault('case-overran', id, 'ran past its plan', 'check'));
    const announced: { implementation: number; sharedWith?: string }[] = [];
    const act: TenancyAct = {
      announce: (implementation, sharedWith) => announced.push({ implementation, sharedWith }),
      send: async (implementation) => {
        sends.push({ by: id, at: clock.now() - t0, implementation: implementation - t0 });
        await caseClock.sleep(1_000);
        if (fail) throw fail;
      },
    };
    const shown = { waiting: (what: string) => progress.push(what), waited: () => progress.push('(waited)') };
    return { id, clock: caseClock, evidence, events, announced, act, progress: shown, shown: progress };
  };
  return { clock, t0, sends, caseOf };
}

test('the cases that declared a Change of Tenancy to one meter share one: sent by the first in run order when the last is ready', async () => {
  const { clock, t0, sends, caseOf } = bench();
  const a = caseOf('A', minutes(30));
  const b = caseOf('B', hours(5));
  const c = caseOf('C', hours(1));
  const shared = new SharedAct<number>('the Change of Tenancy to the ESME', 'tenancy', ['A', 'B', 'C'], hours(6));
  const got: Record<string, TenancySent> = {};
  await Promise.all([
    clock.sideBySide!('A', async () => {
      await a.clock.sleep(minutes(10));
      got.A = await changeOfTenancy(shared, 'A', a, hours(1), a.act);
      shared.leave('A');
    }),
    clock.sideBySide!('B', async () => {
      await b.clock.sleep(hours(2));
      got.B = await changeOfTenancy(shared, 'B', b, hours(2), b.act);
      shared.leave('B');
    }),
    // C ends (NOT APPLICABLE, say) before it is ready: the others no longer wait for it.
    clock.sideBySide!('C', async () => {
      await c.clock.sleep(minutes(30));
      shared.leave('C');
    }),
  ]);
  // Once, by A (first in run order), when B was ready at 2 h, the implementation at the longest offset asked (2 h).
  expect(sends).toEqual([{ by: 'A', at: hours(2), implementation: hours(4) }]);
  expect(got.A).toEqual({ fromMs: t0 + hours(2), implementation: t0 + hours(4) });
  expect(got.B).toEqual({ fromMs: t0 + hours(2), implementation: t0 + hours(4), sharedWith: 'A' });
  expect(a.announced).toEqual([{ implementation: t0 + hours(4) }]);
  expect(b.announced).toEqual([{ implementation: t0 + hours(4), sharedWith: 'A' }]);
  // Each case's evidence says it: A waited for B and C, and sent for B; B took A's.
  expect(a.events.map((e) => [e.kind, e.fields.waitingFor ?? e.fields.for])).toEqual([
    ['tenancy-rendezvous', ['B', 'C']],
    ['tenancy-shared', ['B']],
  ]);
  expect(b.events.map((e) => [e.kind, e.fields.sharedWith])).toEqual([['tenancy-shared', 'A']]);
  // A's 110-minute wait for B is the group's, not A's plan: its deadline moves on by it; B's did not wait.
  expect(a.clock.deadlineMs).toBe(t0 + minutes(30) + minutes(110));
  expect(b.clock.deadlineMs).toBe(t0 + hours(5));
});

test('a trigger that fails fails for every case sharing it, with the same rig fault', async () => {
  const { clock, caseOf } = bench();
  const lost = new RigFault('tenancy-not-delivered', 'ESME', 'the lab hook failed', 'check the hook');
  const a = caseOf('A', hours(1), lost);
  const b = caseOf('B', hours(1));
  const shared = new SharedAct<number>('the Change of Tenancy to the ESME', 'tenancy', ['A', 'B'], hours(2));
  const outcomes = await Promise.all(
    [a, b].map((x) =>
      clock.sideBySide!(x.id, () =>
        changeOfTenancy(shared, x.id, x, hours(1), x.act).then(
          () => 'sent',
          (e: unknown) => e,
        ),
      ),
    ),
  );
  expect(outcomes).toEqual([lost, lost]);
});

test('a case alone sends its own, at once, its implementation its own offset on', async () => {
  const { t0, sends, caseOf } = bench();
  const a = caseOf('A', hours(1));
  expect(await changeOfTenancy(undefined, 'A', a, hours(1), a.act)).toEqual({ fromMs: t0, implementation: t0 + hours(1) });
  expect(sends).toEqual([{ by: 'A', at: 0, implementation: hours(1) }]);
  expect(a.announced).toEqual([{ implementation: t0 + hours(1) }]);
});

test.describe('a span shared by cases side by side (the WAN cut, a meter out of reach)', () => {
  /** A's and B's share of one WAN cut: down when both are ready, A done with it after `aMs`, B after `bMs`; each logs who did what. */
  async function wanCut(aMs: number, bMs: number, bLeavesEarly = false) {
    const { clock, t0, caseOf } = bench();
    const [a, b] = [caseOf('A', hours(2)), caseOf('B', hours(2))];
    const wan: { state: string; by: string; at: number }[] = [];
    const shared = new SharedAct("the CH's WAN cut", 'wan-cut', ['A', 'B'], hours(3));
    const set = (by: string, state: string) => async () => {
      wan.push({ state, by, at: clock.now() - t0 });
      return clock.now() - t0;
    };
    const took: Record<string, { down: unknown; up?: unknown }> = {};
    const share = async (x: typeof a, afterMs: number, before: number, leaves = false) => {
      await x.clock.sleep(before);
      const down = await shared.begin(x.id, x, undefined, set(x.id, 'down'));
      took[x.id] = { down };
      await x.clock.sleep(afterMs);
      // A case cut short (its deadline, a rig fault) never reaches its end: it leaves when its case ends.
      if (leaves) return shared.leave(x.id);
      took[x.id].up = await shared.end(x.id, x, set(x.id, 'up'));
      shared.leave(x.id);
    };
    await Promise.all([
      clock.sideBySide!('A', () => share(a, aMs, minutes(10))),
      clock.sideBySide!('B', () => share(b, bMs, minutes(20), bLeavesEarly)),
    ]);
    return { wan, took, a, b, t0 };
  }

  test('down once when the last sharer is ready, up once when the last is done with it: each gets the same edges', async () => {
    const { wan, took, a, b, t0 } = await wanCut(minutes(30), minutes(45));
    // A (first in run order) cut it when B arrived at 20 min; B, done last (at 65 min), restored it.
    expect(wan).toEqual([
      { state: 'down', by: 'A', at: minutes(20) },
      { state: 'up', by: 'B', at: minutes(65) },
    ]);
    expect(took.A).toEqual({
      down: { value: minutes(20), fromMs: t0 + minutes(20) },
      up: { value: minutes(65), fromMs: t0 + minutes(65), by: 'B' },
    });
    expect(took.B).toEqual({
      down: { value: minutes(20), fromMs: t0 + minutes(20), by: 'A' },
      up: { value: minutes(65), fromMs: t0 + minutes(65) },
    });
    expect(a.events.map((e) => [e.kind, e.fields.waitingFor ?? e.fields.for ?? e.fields.sharedWith])).toEqual([
      ['wan-cut-rendezvous', ['B']],
      ['wan-cut-shared', ['B']],
      ['wan-cut-held', ['B']],
      ['wan-cut-shared', 'B'],
    ]);
    // B took A's cut, and restored the WAN for A (which waited for it).
    expect(b.events.map((e) => [e.kind, e.fields.part, e.fields.sharedWith ?? e.fields.for])).toEqual([
      ['wan-cut-shared', 'start', 'A'],
      ['wan-cut-shared', 'end', ['A']],
    ]);
    // Its progress line said so, each wait until it ended.
    expect(a.shown).toEqual([
      "B to be ready for the CH's WAN cut (shared)",
      '(waited)',
      "B to be done with the CH's WAN cut (shared)",
      '(waited)',
    ]);
    expect(b.shown).toEqual([]);
    // A waited 10 min for B to arrive and 15 min for B to be done: both waits move its deadline on; B waited for neither.
    expect(a.clock.deadlineMs).toBe(t0 + hours(2) + minutes(25));
    expect(b.clock.deadlineMs).toBe(t0 + hours(2));
  });

  test('a sharer cut short leaves the end to the one still waiting: the WAN comes back all the same', async () => {
    // A is done at 30 min and waits for B; B's case ends at 65 min without its end.
    const { wan } = await wanCut(minutes(10), minutes(45), true);
    expect(wan).toEqual([
      { state: 'down', by: 'A', at: minutes(20) },
      { state: 'up', by: 'A', at: minutes(65) },
    ]);
  });
});

test('a span alone: its end comes after a part that fails, and is tried again when it fails itself', async () => {
  const { caseOf } = bench();
  const a = caseOf('A', hours(1));
  const edges: string[] = [];
  const failed = new Error('the client asked nothing');
  const together = alone(a.clock);
  await expect(
    span(
      together,
      async () => edges.push('down'),
      async () => Promise.reject(failed),
      async () => edges.push('up'),
    ),
  ).rejects.toBe(failed);
  expect(edges).toEqual(['down', 'up']);
  let tries = 0;
  const flaky = async () => {
    edges.push(`up ${++tries}`);
    if (tries === 1) throw new Error('the WAN hook failed once');
  };
  await expect(
    span(
      together,
      async () => edges.push('down'),
      async () => {},
      flaky,
    ),
  ).rejects.toThrow('the WAN hook failed once');
  expect(edges.slice(2)).toEqual(['down', 'up 1', 'up 2']);
});
