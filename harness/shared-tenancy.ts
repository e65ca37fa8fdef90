// One Change of Tenancy for the cases side by side that each send one to the same meter (issue #15): every such
// case of the group arrives at its own moment, the change goes out once when the last arrives, and each case
// gets the same trigger and implementation times, logged in its own evidence (harness/shared-act.ts does the
// rendezvous). A case alone sends its own, as always.
// Waits are on the bench clock, never on a promise another case settles: the virtual clock moves only while all wait.
import type { CaseClock } from './clock.ts';
import { alone, type SharedAct, type SharingCase } from './shared-act.ts';

/** The Change of Tenancy a case got: when it went out (bench ms), its Implementation Date/Time, and who sent it when another case did. */
export interface TenancySent {
  fromMs: number;
  implementation: number;
  sharedWith?: string;
}

/** What a case does around its Change of Tenancy. */
export interface TenancyAct {
  /** Every case, before the change goes out (or once it has, for a case another sent it for): mark the implementation time. */
  announce(implementation: number, sharedWith?: string): void;
  /** Sends it: called in one case only, the one that sends it for all. */
  send(implementation: number): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Sends the change for all the offsets asked, at the longest (so each waits at least its own), its time on a whole second. */
async function send(clock: CaseClock, offsets: readonly number[], act: TenancyAct): Promise<number> {
  const implementation = Math.floor((clock.now() + Math.max(...offsets)) / 1000) * 1000;
  act.announce(implementation);
  await act.send(implementation);
  return implementation;
}

/**
 * The case's Change of Tenancy, implementation `offsetMs` after it goes out: its share of `shared` (the act of the cases
 * alongside that declared one to the same meter: it waits for them, then sends it for all or takes the one sent), or,
 * without one, sent by the case alone as every case did before sharing.
 */
export async function changeOfTenancy(
  shared: SharedAct<number> | undefined,
  caseId: string,
  ctx: SharingCase,
  offsetMs: number,
  act: TenancyAct,
): Promise<TenancySent> {
  const taken = shared
    ? await shared.begin(
        caseId,
        ctx,
        offsetMs,
        (offsets) => send(ctx.clock, offsets, act),
        (implementation) => ({ implementationUtc: iso(implementation) }),
      )
    : await alone(ctx.clock).begin(() => send(ctx.clock, [offsetMs], act));
  if (taken.by) act.announce(taken.value, taken.by);
  return { fromMs: taken.fromMs, implementation: taken.value, ...(taken.by && { sharedWith: taken.by }) };
}
