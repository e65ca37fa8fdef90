// One Change of Tenancy for the cases side by side that each send one to the same meter (issue #15): every such
// case of the group arrives at its own moment, the change goes out once when the last arrives, and each case
// gets the same trigger and implementation times, logged in its own evidence. A case alone sends its own, as always.
// Waits are on the bench clock, never on a promise another case settles: the virtual clock moves only while all wait.
import type { CaseClock } from './clock.ts';
import type { TenancyMeter } from './plan.ts';
import { SharedAct, type SharingCase } from './shared-act.ts';

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

/** The cases of one side-by-side group that send a Change of Tenancy to one meter, and the one change they share. */
export class TenancyRendezvous {
  /** Each arrived case asks for its offset between the trigger and the implementation time: the longest is sent. */
  readonly #act: SharedAct<number>;

  /** `members` in run order (the first arrived of them sends); `withinMs`: the longest any may take to arrive (its plan and margin). */
  constructor(
    readonly meter: TenancyMeter,
    readonly members: readonly string[],
    withinMs: number,
  ) {
    this.#act = new SharedAct(`the Change of Tenancy to the ${meter}`, 'tenancy', members, withinMs);
  }

  /** A case ended, arrived or not: the others no longer wait for it. */
  leave(caseId: string): void {
    this.#act.leave(caseId);
  }

  /** The case's share of the change: it waits for the others, then sends it for all or takes the one sent. */
  async join(caseId: string, ctx: SharingCase, offsetMs: number, act: TenancyAct): Promise<TenancySent> {
    const taken = await this.#act.begin(
      caseId,
      ctx,
      offsetMs,
      async (offsets) => {
        const implementation = Math.floor((ctx.clock.now() + Math.max(...offsets)) / 1000) * 1000;
        act.announce(implementation);
        await act.send(implementation);
        return implementation;
      },
      (implementation) => ({ implementationUtc: iso(implementation) }),
    );
    if (taken.by) act.announce(taken.value, taken.by);
    return { fromMs: taken.fromMs, implementation: taken.value, ...(taken.by && { sharedWith: taken.by }) };
  }
}

/** A Change of Tenancy sent by the case alone, as every case did before sharing: implementation `offsetMs` from now. */
export async function tenancyAlone(clock: CaseClock, offsetMs: number, act: TenancyAct): Promise<TenancySent> {
  const implementation = Math.floor((clock.now() + offsetMs) / 1000) * 1000;
  act.announce(implementation);
  const fromMs = clock.now();
  await act.send(implementation);
  return { fromMs, implementation };
}
