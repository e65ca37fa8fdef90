// One Change of Tenancy for cases side by side (harness/shared-tenancy.ts), on the virtual bench's clock: it goes out
// once, when the last case that declared it is ready (or has ended), at the longest offset asked; every case gets the
// same times, the wait moves each deadline on, and a failed trigger fails it for all.
import { test, expect } from '@playwright/test';
import { RigFault } from '../../drivers/faults.ts';
import { CaseClock, VirtualBenchClock, hours, minutes } from '../../harness/clock.ts';
import type { EvidenceLog } from '../../harness/evidence.ts';
import { tenancyAlone, TenancyRendezvous, type TenancyAct, type TenancySent } from '../../harness/shared-tenancy.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';

/** A bench clock and, per case, its clock (deadline `plannedMs` from now), its events and what it announced and sent. */
function bench() {
  const sim = new DiscreteEventClock({ epochMs: Date.UTC(2026, 0, 1) });
  const clock = new VirtualBenchClock(sim, async () => undefined);
  const t0 = clock.now();
  const sends: { by: string; at: number; implementation: number }[] = [];
  const caseOf = (id: string, plannedMs: number, fail?: Error) => {
    const events: { kind: string; fields: Record<string, unknown> }[] = [];
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
    return { id, clock: caseClock, evidence, events, announced, act };
  };
  return { clock, t0, sends, caseOf };
}

test('the cases that declared a Change of Tenancy to one meter share one: sent by the first in run order when the last is ready', async () => {
  const { clock, t0, sends, caseOf } = bench();
  const a = caseOf('A', minutes(30));
  const b = caseOf('B', hours(5));
  const c = caseOf('C', hours(1));
  const shared = new TenancyRendezvous('ESME', ['A', 'B', 'C'], hours(6));
  const got: Record<string, TenancySent> = {};
  await Promise.all([
    clock.sideBySide!('A', async () => {
      await a.clock.sleep(minutes(10));
      got.A = await shared.join('A', a, hours(1), a.act);
      shared.leave('A');
    }),
    clock.sideBySide!('B', async () => {
      await b.clock.sleep(hours(2));
      got.B = await shared.join('B', b, hours(2), b.act);
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
  expect(a.events.map((e) => [e.kind, e.fields.waitingFor ?? e.fields.sentFor])).toEqual([
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
  const shared = new TenancyRendezvous('ESME', ['A', 'B'], hours(2));
  const outcomes = await Promise.all(
    [a, b].map((x) =>
      clock.sideBySide!(x.id, () =>
        shared.join(x.id, x, hours(1), x.act).then(
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
  expect(await tenancyAlone(a.clock, hours(1), a.act)).toEqual({ fromMs: t0, implementation: t0 + hours(1) });
  expect(sends).toEqual([{ by: 'A', at: 0, implementation: hours(1) }]);
  expect(a.announced).toEqual([{ implementation: t0 + hours(1) }]);
});
