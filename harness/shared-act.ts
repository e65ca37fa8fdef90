// One act for the cases side by side that declared they share it (needs.shares, harness/plan.ts; issue #15): a Change
// of Tenancy to a meter, a power cycle of the ESME or the CH, the CH's WAN cut, a meter out of reach. Every member
// arrives at its own moment; the act starts once, when the last has arrived (or ended), performed by the first in run
// order; a span (the WAN cut, the outage) ends once, when the last member is done with it, performed by that one.
// Each case logs what it took and from whom. Waits are on the bench clock, never on a promise another case settles:
// the virtual clock moves only while all wait.
import { minutes } from './clock.ts';
import type { CaseClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';
import type { CaseProgress } from './progress.ts';

/** What the rendezvous uses of a case: its clock, its evidence, and (in a run) its line in the progress file. */
export interface SharingCase {
  clock: CaseClock;
  evidence: EvidenceLog;
  progress?: Pick<CaseProgress, 'waiting' | 'waited'>;
}

/** An act (its start or its end) as a case got it: what it gave, when it began (bench ms), and which case did it when another did. */
export interface Taken<T> {
  value: T;
  fromMs: number;
  by?: string;
}

/** A case's share of one act: its start, and (a span's) end. A case alone does both itself. */
export interface Together {
  begin<T>(perform: () => Promise<T>, fields?: (value: T) => Record<string, unknown>): Promise<Taken<T>>;
  end<T>(perform: () => Promise<T>): Promise<Taken<T>>;
}

/** How long a case waits for the act a case alongside is performing: relays, triggers and switches confirm within minutes. */
const PERFORM_WAIT_MS = minutes(10);

const iso = (ms: number) => new Date(ms).toISOString();

interface Performed {
  by: string;
  settled: boolean;
  fromMs: number;
  value?: unknown;
  error?: unknown;
}

/** The members of one side-by-side group that share one act, and that act's start and end. */
export class SharedAct<R = undefined> {
  /** What each arrived case asked of the act (a Change of Tenancy's implementation offset). */
  readonly #arrived = new Map<string, R>();
  readonly #left = new Set<string>();
  readonly #done = new Set<string>();
  #begun?: Performed;
  #ended?: Performed;

  /**
   * `what` names the act in the evidence (`the ESME's power cycle`), `kind` prefixes its events (`power-cycle-shared`);
   * `members` in run order; `withinMs`: the longest any may take to arrive (its plan and margin).
   */
  constructor(
    readonly what: string,
    readonly kind: string,
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

  /** The members still inside a begun span: arrived, neither done with it nor ended. */
  #inside(): string[] {
    return [...this.#arrived.keys()].filter((id) => !this.#done.has(id) && !this.#left.has(id));
  }

  /**
   * The act's start for `caseId`: it waits for the others to arrive, then performs it for all (the first arrived in run
   * order) or takes the one performed. `fields` adds what a follower logs of the value (a Change of Tenancy's times).
   */
  async begin<T>(
    caseId: string,
    { clock, evidence, progress }: SharingCase,
    request: R,
    perform: (requests: R[]) => Promise<T>,
    fields: (value: T) => Record<string, unknown> = () => ({}),
  ): Promise<Taken<T>> {
    this.#arrived.set(caseId, request);
    return this.#waitingMovesDeadline(clock, async () => {
      if (this.#pending().length > 0) {
        evidence.event(`${this.kind}-rendezvous`, { what: this.what, waitingFor: this.#pending() });
        progress?.waiting(`${this.#pending().join(', ')} to be ready for ${this.what} (shared)`, clock.now() + this.withinMs, this.what);
        const ready = await clock.waitFor(() => this.#pending().length === 0, this.withinMs);
        progress?.waited();
        if (!ready) throw new Error(`${caseId}: ${this.#pending().join(', ')} neither reached ${this.what} (shared) nor ended in time`);
      }
      const by = this.members.find((id) => this.#arrived.has(id))!;
      if (by === caseId) {
        const others = this.members.filter((id) => id !== caseId && this.#arrived.has(id));
        if (others.length > 0) evidence.event(`${this.kind}-shared`, { what: this.what, part: 'start', for: others });
        return this.#perform((this.#begun = { by, settled: false, fromMs: clock.now() }), () => perform([...this.#arrived.values()]));
      }
      return this.#take<T>(caseId, clock, evidence, 'start', () => this.#begun, fields);
    });
  }

  /** The end of a span for `caseId`: the last member done with it performs it, the others wait and take it. */
  async end<T>(caseId: string, { clock, evidence, progress }: SharingCase, perform: () => Promise<T>): Promise<Taken<T>> {
    this.#done.add(caseId);
    return this.#waitingMovesDeadline(clock, async () => {
      const inside = this.#inside();
      if (inside.length > 0) {
        evidence.event(`${this.kind}-held`, { what: this.what, for: inside });
        progress?.waiting(
          `${inside.join(', ')} to be done with ${this.what} (shared)`,
          clock.now() + this.withinMs,
          `the end of ${this.what}`,
        );
        // A member that ended without its end (its case cut short) leaves it to whoever waits.
        await clock.waitFor(() => this.#ended?.settled === true || this.#inside().length === 0, this.withinMs);
        progress?.waited();
      }
      if (!this.#ended) {
        const waiting = [...this.#done].filter((id) => id !== caseId && !this.#left.has(id));
        if (waiting.length > 0) evidence.event(`${this.kind}-shared`, { what: this.what, part: 'end', for: waiting });
        return this.#perform((this.#ended = { by: caseId, settled: false, fromMs: clock.now() }), perform);
      }
      return this.#take<T>(caseId, clock, evidence, 'end', () => this.#ended);
    });
  }

  async #perform<T>(p: Performed, perform: () => Promise<T>): Promise<Taken<T>> {
    try {
      p.value = await perform();
      return { value: p.value as T, fromMs: p.fromMs };
    } catch (e) {
      p.error = e;
      throw e;
    } finally {
      p.settled = true;
    }
  }

  async #take<T>(
    caseId: string,
    clock: CaseClock,
    evidence: EvidenceLog,
    part: 'start' | 'end',
    performed: () => Performed | undefined,
    fields: (value: T) => Record<string, unknown> = () => ({}),
  ): Promise<Taken<T>> {
    if (!(await clock.waitFor(() => performed()?.settled === true, PERFORM_WAIT_MS)))
      throw new Error(
        `${caseId}: ${performed()?.by ?? 'no case'} did not perform ${this.what} (shared) within ${PERFORM_WAIT_MS / 60_000} minutes`,
      );
    const p = performed()!;
    // The act failed for all: the rig fault that made the performer's case INCONCLUSIVE makes this one so too.
    if (p.error !== undefined) throw p.error;
    evidence.event(`${this.kind}-shared`, { what: this.what, part, sharedWith: p.by, at: iso(p.fromMs), ...fields(p.value as T) });
    return { value: p.value as T, fromMs: p.fromMs, by: p.by };
  }

  /** The wait for the cases alongside is the group's, not the case's: its deadline moves on by it. */
  async #waitingMovesDeadline<T>(clock: CaseClock, body: () => Promise<Taken<T>>): Promise<Taken<T>> {
    const arrivedAt = clock.now();
    const deadline = clock.deadlineMs;
    clock.deadlineMs = Math.max(deadline, arrivedAt + this.withinMs + PERFORM_WAIT_MS);
    let fromMs: number | undefined;
    try {
      const taken = await body();
      fromMs = taken.fromMs;
      return taken;
    } finally {
      clock.deadlineMs = deadline + Math.max(0, (fromMs ?? clock.now()) - arrivedAt);
    }
  }

  /** This case's share of the act, as the suites use it. */
  for(caseId: string, c: SharingCase, request: R): Together {
    return {
      begin: (perform, fields) => this.begin(caseId, c, request, () => perform(), fields),
      end: (perform) => this.end(caseId, c, perform),
    };
  }
}

/**
 * A span the case shares (or holds alone): `start` once for all, the case's own `part`, then `finish` once the last
 * sharer is done with it — tried again when the part or the first try fails, so a cut WAN or a silenced meter never
 * outlives the case.
 */
export async function span<S, E>(
  together: Together,
  start: () => Promise<S>,
  part: (started: S) => Promise<void>,
  finish: () => Promise<E>,
): Promise<{ started: S; finished: E }> {
  const started = (await together.begin(start)).value;
  let finished: Taken<E> | undefined;
  try {
    await part(started);
    finished = await together.end(finish);
  } finally {
    if (!finished) await together.end(finish).catch(() => undefined);
  }
  return { started, finished: finished.value };
}

/** The act done by a case alone, as every case did before sharing. */
export function alone(clock: CaseClock): Together {
  const now = async <T>(perform: () => Promise<T>): Promise<Taken<T>> => {
    const fromMs = clock.now();
    return { value: await perform(), fromMs };
  };
  return { begin: now, end: now };
}
