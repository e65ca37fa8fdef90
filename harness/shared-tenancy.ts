// One Change of Tenancy for the cases side by side that each send one to the same meter (issue #15): every such
// case of the group arrives at its own moment, the change goes out once when the last arrives, and each case
// gets the same trigger and implementation times, logged in its own evidence. A case alone sends its own, as always.
// Waits are on the bench clock, never on a promise another case settles: the virtual clock moves only while all wait.
import { minutes } from './clock.ts';
import type { CaseClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';
import type { TenancyMeter } from './plan.ts';

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

/** How long a case waits for the change a case alongside is sending: the trigger goes out within minutes. */
const SEND_WAIT_MS = minutes(10);

const iso = (ms: number) => new Date(ms).toISOString();

/** The cases of one side-by-side group that send a Change of Tenancy to one meter, and the one change they share. */
export class TenancyRendezvous {
  /** The offset each arrived case asked for between the trigger and the implementation time. */
  readonly #arrived = new Map<string, number>();
  readonly #left = new Set<string>();
  #sent?: { by: string; settled: boolean; fromMs: number; implementation: number; error?: unknown };

  /** `members` in run order (the first arrived of them sends); `withinMs`: the longest any may take to arrive (its plan and margin). */
  constructor(
    readonly meter: TenancyMeter,
    readonly members: readonly string[],
    private readonly withinMs: number,
  ) {}

  /** A case ended, arrived or not: the others no longer wait for it. */
  leave(caseId: string): void {
    this.#left.add(caseId);
  }

  #pending(): string[] {
    return this.members.filter((id) => !this.#arrived.has(id) && !this.#left.has(id));
  }

  /** The case's share of the change: it waits for the others, then sends it for all or takes the one sent. */
  async join(caseId: string, ctx: SharingCase, offsetMs: number, act: TenancyAct): Promise<TenancySent> {
    const { clock, evidence } = ctx;
    this.#arrived.set(caseId, offsetMs);
    const arrivedAt = clock.now();
    const deadline = clock.deadlineMs;
    // The wait for the cases alongside is the group's, not the case's: its deadline moves on by it (below).
    clock.deadlineMs = Math.max(deadline, arrivedAt + this.withinMs + SEND_WAIT_MS);
    try {
      if (this.#pending().length > 0) {
        evidence.event('tenancy-rendezvous', { meter: this.meter, waitingFor: this.#pending() });
        if (!(await clock.waitFor(() => this.#pending().length === 0, this.withinMs)))
          throw new Error(`${caseId}: ${this.#pending().join(', ')} neither reached the shared Change of Tenancy nor ended in time`);
      }
      const by = this.members.find((id) => this.#arrived.has(id))!;
      if (by === caseId) {
        const others = this.members.filter((id) => id !== caseId && this.#arrived.has(id));
        const implementation = Math.floor((clock.now() + Math.max(...this.#arrived.values())) / 1000) * 1000;
        act.announce(implementation);
        const sent = { by, settled: false, fromMs: clock.now(), implementation, error: undefined as unknown };
        this.#sent = sent;
        if (others.length > 0)
          evidence.event('tenancy-shared', { meter: this.meter, sentFor: others, implementationUtc: iso(implementation) });
        try {
          await act.send(implementation);
        } catch (e) {
          sent.error = e;
          throw e;
        } finally {
          sent.settled = true;
        }
        return { fromMs: sent.fromMs, implementation };
      }
      if (!(await clock.waitFor(() => this.#sent?.settled === true, SEND_WAIT_MS)))
        throw new Error(`${caseId}: ${by} did not send the shared Change of Tenancy within ${SEND_WAIT_MS / 60_000} minutes`);
      const sent = this.#sent!;
      // The change failed for all: the rig fault that made the sender's case INCONCLUSIVE makes this one so too.
      if (sent.error !== undefined) throw sent.error;
      evidence.event('tenancy-shared', {
        meter: this.meter,
        sharedWith: sent.by,
        triggeredAt: iso(sent.fromMs),
        implementationUtc: iso(sent.implementation),
      });
      act.announce(sent.implementation, sent.by);
      return { fromMs: sent.fromMs, implementation: sent.implementation, sharedWith: sent.by };
    } finally {
      const fromMs = this.#sent?.fromMs ?? clock.now();
      clock.deadlineMs = deadline + Math.max(0, fromMs - arrivedAt);
    }
  }
}

/** What the rendezvous uses of a case. */
export interface SharingCase {
  clock: CaseClock;
  evidence: EvidenceLog;
}

/** A Change of Tenancy sent by the case alone, as every case did before sharing: implementation `offsetMs` from now. */
export async function tenancyAlone(clock: CaseClock, offsetMs: number, act: TenancyAct): Promise<TenancySent> {
  const implementation = Math.floor((clock.now() + offsetMs) / 1000) * 1000;
  act.announce(implementation);
  const fromMs = clock.now();
  await act.send(implementation);
  return { fromMs, implementation };
}
