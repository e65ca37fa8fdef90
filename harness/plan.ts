// The campaign plan (issue #15): what each case needs of its bench, and when each case runs in
// bench time — printed by `gbcs-rig plan` before anything moves, written into run.json by `run`,
// drawn in the report. Pure: it reads what the cases declared, never the bench.
import type { DeviceRole } from '../firmware-images/manifest.ts';
import { counted } from '../protocol/words.ts';

/**
 * What a case does to the whole bench, beyond its devices' power: a Change of Tenancy (every device's data), the
 * CH's WAN cut, the GPF (inside the CH) out of reach. Cases that send one cannot overlap cases that watch.
 */
export const BENCH_TRIGGERS = {
  'change-of-tenancy': 'sends a Change of Tenancy',
  'wan-cut': "cuts the CH's WAN",
  'gpf-out-of-reach': 'takes the GPF out of reach',
} as const;
export type BenchTrigger = keyof typeof BENCH_TRIGGERS;

/** The meters a Change of Tenancy is sent to: the ESME (GBCS ECS12) or the GPF in the CH (GCS09). */
export type TenancyMeter = 'ESME' | 'GPF';

/**
 * The disturbing acts cases side by side may share (harness/shared-act.ts): done once for all of them, each case sees
 * the one act it asked for, so the act's trigger or power cycle does not keep them apart. What each waives between its
 * sharers: the bench-wide trigger it is, or the device it switches off. Not shared: an outage ended just after one
 * client's next request (RCN-1 catches that client's back-off at its longest, which another client's return would not).
 */
export const SHARED_ACTS = {
  'change-of-tenancy:ESME': { text: 'the Change of Tenancy to the ESME', kind: 'tenancy', trigger: 'change-of-tenancy' },
  'change-of-tenancy:GPF': { text: 'the Change of Tenancy to the GPF', kind: 'tenancy', trigger: 'change-of-tenancy' },
  'power-cycle:ESME': { text: "the ESME's power cycle", kind: 'power-cycle', cycles: 'ESME' },
  'power-cycle:CH': { text: "the CH's power cycle", kind: 'power-cycle', cycles: 'CH' },
  'outage:ESME': { text: "the ESME's outage", kind: 'outage', cycles: 'ESME' },
  'outage:GPF': { text: "the GPF's outage", kind: 'outage', trigger: 'gpf-out-of-reach' },
  'wan-cut': { text: "the CH's WAN cut", kind: 'wan-cut', trigger: 'wan-cut' },
} as const satisfies Record<string, SharedActSpec>;
export type SharedActName = keyof typeof SHARED_ACTS;

/** A shareable act: its words, the prefix of its evidence events, and the trigger or device switch it waives between its sharers. */
export interface SharedActSpec {
  text: string;
  kind: string;
  trigger?: BenchTrigger;
  cycles?: DeviceRole;
}

/** What a case needs of its bench while it runs, as it declares it. */
export interface BenchNeeds {
  /** Roles the case keeps powered while it runs (all of them on a bench with several). */
  powered: DeviceRole[];
  /** Roles the case switches off or power-cycles while it runs: no other case can use them meanwhile. */
  cycles: DeviceRole[];
  /** The case transmits on the HAN, as a hand held terminal, through the bench's radio. */
  radio: boolean;
  /** Bench-wide triggers the case sends. */
  triggers: BenchTrigger[];
  /**
   * The act of its that cases side by side may share, and the bench time from the case's start to it at the longest: cases
   * that declared the same act do it once (harness/shared-act.ts), when the last of them is ready.
   */
  shares?: { act: SharedActName; afterMs: number };
}

/** The annotation a case's test carries at collection: its planned bench time and needs, so a plan is made without running. */
export const PLAN_ANNOTATION = 'gbcs-rig-plan';

export interface PlanAnnotation {
  plannedMs: number;
  needs: BenchNeeds;
}

/** One case on one bench as the run will take it. */
export interface PlannedCase {
  id: string;
  title: string;
  bench: string;
  /** The suite file that declares it (`change-of-tenancy.spec.ts`): the runner takes a suite file's cases together. */
  suite?: string;
  /** Planned bench time under the lab settings (ms); absent in run.json files of older runs. */
  plannedMs?: number;
  needs?: BenchNeeds;
}

/** A test as the plan takes it: its case, bench, planned bench time and needs (its plan annotation, harness/conformance.ts), from what Playwright lists. */
export function plannedCase(
  title: string,
  annotations: readonly { type: string; description?: string }[],
  bench: string,
  suite?: string,
): PlannedCase {
  const [id] = title.split(' ', 1);
  const annotation = annotations.find((a) => a.type === PLAN_ANNOTATION)?.description;
  const plan = annotation ? (JSON.parse(annotation) as PlanAnnotation) : undefined;
  return { id, title: title.slice(id.length + 1), bench, ...(suite !== undefined && { suite }), ...plan };
}

/** A case's place on its bench's timeline, in ms from the start of the campaign. */
export interface ScheduledCase {
  id: string;
  startMs: number;
  endMs: number;
  /**
   * Its side-by-side group on the bench (0, 1, …): the cases of one group start together and run at once
   * on the same devices; the next group starts when the last case of this one ends. Absent in older run.json files.
   */
  group?: number;
  /** The bench lacks a device the case needs (say, `no ESME on the bench`): it ends NOT APPLICABLE at once, taking no bench time. */
  notApplicable?: string;
}

/** A bench as the plan takes it: with the roles of its devices (GPF for a CH's gas proxy function), when known. */
export interface PlanBench {
  id: string;
  virtual: boolean;
  roles?: readonly string[];
}

/** What a case needs that the bench lacks: the devices it powers or switches, the GPF for an act on it; none, undefined. */
export function missingFor(c: PlannedCase, roles: readonly string[] | undefined): string | undefined {
  if (!roles || !c.needs) return undefined;
  const { powered, cycles, triggers, shares } = c.needs;
  const gpf = triggers.includes('gpf-out-of-reach') || shares?.act.endsWith(':GPF') ? ['GPF'] : [];
  const missing = [...new Set([...powered, ...cycles, ...gpf])].filter((r) => !roles.includes(r));
  return missing.length ? `no ${missing.join(', no ')} on the bench` : undefined;
}

export interface BenchPlan {
  bench: string;
  virtual: boolean;
  cases: ScheduledCase[];
  /** Bench time from the first case's start to the last one's end. */
  totalMs: number;
}

export interface CampaignPlan {
  benches: BenchPlan[];
  /** The longest single case: the campaign can never take less bench time than its longest mandated wait chain. */
  longestChainMs: number;
  longestChain: string;
  /**
   * The least bench time any placement under the sharing rules could take on the busiest bench: the heaviest set of its
   * cases that pairwise disturb each other (they follow one another whatever the placement), at their planned times.
   */
  floorMs?: number;
  /** That set of cases, by bench, longest first. */
  apart?: Record<string, string[]>;
  /** The busiest bench's total: the benches run in parallel. */
  totalMs: number;
  /** How the cases of one bench are placed (said in the plan so a reader knows what the figures mean). */
  method: string;
}

/** How cases are placed when they may share a bench (the default of `run` and `plan`). */
export const SIDE_BY_SIDE =
  'cases that cannot disturb each other run side by side on a bench (none power-cycles a device another uses, none sends a ' +
  'bench-wide trigger, but cases that share one such act: a Change of Tenancy to the same meter, a power cycle, the WAN cut, ' +
  'a meter out of reach); the others one after another, in run order; the benches run in parallel';
/** How cases are placed with `--one-at-a-time`: each case holds its bench whole. */
export const ONE_AT_A_TIME = 'one case after another on each bench, in run order (each holds the bench whole); the benches run in parallel';

/**
 * Why two cases cannot run side by side on one bench, in words, or undefined when they can. A case that
 * power-cycles a device disturbs every case that uses it (a 73-hour watch of polls would count the power-up
 * polls); a bench-wide trigger changes every device's data under the other case. The rig radio is one HAN
 * member that cases side by side share (joined once): a case that judges the CH's answer to the radio's own
 * joins also power-cycles the CH, so it never shares.
 */
export function disturbs(a: PlannedCase, b: PlannedCase): string | undefined {
  for (const [x, y] of [
    [a, b],
    [b, a],
  ]) {
    if (!x.needs || !y.needs) return `${x.needs ? y.id : x.id} has not declared what it needs of the bench`;
    const clash = triggerClash(x, x.needs, y, y.needs);
    if (clash) return clash;
    const together = sharedBoth(x.needs, y.needs);
    const cycled = x.needs.cycles.find((r) => (y.needs!.powered.includes(r) || y.needs!.cycles.includes(r)) && together?.cycles !== r);
    if (cycled)
      return `${x.id} power-cycles the ${cycled}, which ${y.id} ${y.needs.cycles.includes(cycled) ? 'power-cycles too' : 'keeps powered'}`;
  }
  return undefined;
}

/** Why two cases cannot run side by side: they would disturb each other (disturbs), or the runner cannot take them together. */
export function cannotShare(a: PlannedCase, b: PlannedCase): string | undefined {
  // A Playwright worker loads a suite file when it reaches its first case: a case of a later file is not there yet.
  return disturbs(a, b) ?? (a.suite !== b.suite ? `${a.id} and ${b.id} are declared in different suite files` : undefined);
}

/** How many sets the floor's search may try: past it, the heaviest found so far stands (any such set is a floor, if not the highest). */
const FLOOR_SEARCH_BUDGET = 200_000;

/**
 * The heaviest set of cases that pairwise disturb each other, by `weight`: whatever the placement, they run one after
 * another, so their weights add up to a floor under any placement. Branch and bound over the cases, heaviest first.
 */
export function heaviestApart<T extends PlannedCase>(cases: readonly T[], weight: (c: T) => number = (c) => c.plannedMs ?? 0): T[] {
  const order = [...cases].sort((a, b) => weight(b) - weight(a));
  const apart = order.map((a) => order.map((b) => a !== b && disturbs(a, b) !== undefined));
  let best: number[] = [];
  let bestWeight = -1;
  let budget = FLOOR_SEARCH_BUDGET;
  const grow = (chosen: number[], w: number, candidates: number[]) => {
    if (w > bestWeight) [best, bestWeight] = [chosen, w];
    let rest = candidates.reduce((t, k) => t + weight(order[k]), 0);
    for (const [x, k] of candidates.entries()) {
      if (w + rest <= bestWeight || --budget < 0) return;
      grow(
        [...chosen, k],
        w + weight(order[k]),
        candidates.slice(x + 1).filter((m) => apart[k][m]),
      );
      rest -= weight(order[k]);
    }
  };
  grow([], 0, [...order.keys()]);
  return best.map((k) => order[k]);
}

/** The act two cases both declared they share, if they did. */
function sharedBoth(a: BenchNeeds, b: BenchNeeds): SharedActSpec | undefined {
  return a.shares && a.shares.act === b.shares?.act ? SHARED_ACTS[a.shares.act] : undefined;
}

/**
 * Why x's bench-wide triggers would disturb y, or undefined when they share the one trigger (harness/shared-act.ts):
 * both declared the same act and nothing else bench-wide, so each sees the one act it asked for.
 */
function triggerClash(x: PlannedCase, xn: BenchNeeds, y: PlannedCase, yn: BenchNeeds): string | undefined {
  for (const t of xn.triggers) {
    if (sharedBoth(xn, yn)?.trigger === t) continue;
    const changes = `${x.id} ${BENCH_TRIGGERS[t]}, which changes what every device holds under ${y.id}`;
    if (t !== 'change-of-tenancy') return changes;
    if (!yn.triggers.includes(t)) return `${changes}, which sends none`;
    const [mx, my] = [tenancyMeter(xn), tenancyMeter(yn)];
    if (!mx || !my) return `${mx ? y.id : x.id} sends a Change of Tenancy without saying to which meter, so none can be shared with it`;
    return `${x.id} sends a Change of Tenancy to the ${mx}, ${y.id} to the ${my}: each would change what the other watches`;
  }
  return undefined;
}

/** The meter a case's shared Change of Tenancy goes to. */
const tenancyMeter = (n: BenchNeeds | undefined): TenancyMeter | undefined =>
  n?.shares?.act.startsWith('change-of-tenancy:') ? (n.shares.act.split(':')[1] as TenancyMeter) : undefined;

/**
 * When each case of a group ends, from the group's start: its plan, but a case that shares an act gets it only when
 * the last of those sharing it is ready (at the longest), and needs its own time after it.
 */
export function groupEnds(members: readonly PlannedCase[]): number[] {
  const readyBy = new Map<SharedActName, number>();
  const sharing = (c: PlannedCase) => c.needs?.shares && members.filter((m) => m.needs?.shares?.act === c.needs!.shares!.act).length > 1;
  for (const c of members)
    if (sharing(c)) readyBy.set(c.needs!.shares!.act, Math.max(readyBy.get(c.needs!.shares!.act) ?? 0, c.needs!.shares!.afterMs));
  return members.map((c) => {
    const ms = c.plannedMs ?? 0;
    const s = c.needs?.shares;
    return s && sharing(c) ? readyBy.get(s.act)! + Math.max(0, ms - s.afterMs) : ms;
  });
}

/**
 * Side-by-side groups of one bench's cases: each case, in run order, joins the first group whose every case it can
 * share the bench with, else starts a new one. Groups run in the order of their first cases (so in run order of
 * those); a later case may run in an earlier group. Deterministic: the same cases in the same order give the same groups.
 */
export function sideBySideGroups<T extends PlannedCase>(cases: readonly T[]): T[][] {
  const groups: T[][] = [];
  for (const c of cases) {
    const fits = groups.find((g) => g.every((m) => cannotShare(m, c) === undefined));
    if (fits) fits.push(c);
    else groups.push([c]);
  }
  return groups;
}

export function planCampaign(
  cases: readonly PlannedCase[],
  benches: readonly PlanBench[],
  options: { oneAtATime?: boolean } = {},
): CampaignPlan {
  let longest: PlannedCase | undefined;
  // A case that needs a device the bench lacks ends NOT APPLICABLE at once: no bench time, beside no other case.
  const lacking = new Map(cases.map((c) => [c, missingFor(c, benches.find((b) => b.id === c.bench)?.roles)]));
  const runnable = (bench: string) => cases.filter((c) => c.bench === bench && !lacking.get(c));
  const plans = benches.map(({ id, virtual }) => {
    const absent = cases.filter((c) => c.bench === id && lacking.get(c));
    const mine = runnable(id);
    const groups = options.oneAtATime ? mine.map((c) => [c]) : sideBySideGroups(mine);
    const notApplicable = absent.map((c, group) => ({ id: c.id, startMs: 0, endMs: 0, group, notApplicable: lacking.get(c) }));
    let t = 0;
    const scheduled = groups.flatMap((members, g) => {
      const group = g + absent.length;
      const start = t;
      const ends = groupEnds(members);
      return members.map((c, i) => {
        const ms = c.plannedMs ?? 0;
        if (!longest || ms > (longest.plannedMs ?? 0)) longest = c;
        t = Math.max(t, start + ends[i]);
        return { id: c.id, startMs: start, endMs: start + ends[i], group };
      });
    });
    return { bench: id, virtual, cases: [...notApplicable, ...scheduled], totalMs: t };
  });
  // A lower bound, not a placement: cases that pairwise disturb each other follow one another, whatever the order.
  const apartByBench: Record<string, string[]> = {};
  let floorMs = 0;
  for (const { id } of benches) {
    const apart = heaviestApart(runnable(id));
    apartByBench[id] = apart.map((c) => c.id);
    floorMs = Math.max(
      floorMs,
      apart.reduce((t, c) => t + (c.plannedMs ?? 0), 0),
    );
  }
  return {
    benches: plans,
    longestChainMs: longest?.plannedMs ?? 0,
    longestChain: longest?.id ?? '',
    floorMs,
    apart: apartByBench,
    totalMs: Math.max(0, ...plans.map((b) => b.totalMs)),
    method: options.oneAtATime ? ONE_AT_A_TIME : SIDE_BY_SIDE,
  };
}

/** The cases of `caseId`'s side-by-side group on its bench (itself included), in run order; just itself when the plan has no groups. */
export function groupOf(plan: CampaignPlan, bench: string, caseId: string): string[] {
  const cases = plan.benches.find((b) => b.bench === bench)?.cases ?? [];
  const group = cases.find((c) => c.id === caseId)?.group;
  return group === undefined ? [caseId] : cases.filter((c) => c.group === group).map((c) => c.id);
}

/** Bench time as a reader counts it: `3 d 01 h 12 min`, `4 h 05 min`, `12 min`. */
export function benchTimeText(ms: number): string {
  const m = Math.round(ms / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  if (d > 0) return `${d} d ${String(h).padStart(2, '0')} h ${String(min).padStart(2, '0')} min`;
  if (h > 0) return `${h} h ${String(min).padStart(2, '0')} min`;
  return `${min} min`;
}

/** What a case holds of the bench, in words: `powers CH, ESME, IHD; cycles IHD; radio; sends a Change of Tenancy`. */
export function needsText(n: BenchNeeds | undefined): string {
  if (!n) return 'needs not declared';
  const shared: SharedActSpec | undefined = n.shares && SHARED_ACTS[n.shares.act];
  return [
    n.powered.length ? `powers ${n.powered.join(', ')}` : '',
    n.cycles.length ? `cycles ${n.cycles.join(', ')}` : '',
    n.radio ? 'radio' : '',
    ...n.triggers.map((t) =>
      t === 'change-of-tenancy' && tenancyMeter(n)
        ? `${BENCH_TRIGGERS[t]} to the ${tenancyMeter(n)}`
        : `${BENCH_TRIGGERS[t]}${shared?.trigger === t ? ' (shared)' : ''}`,
    ),
    shared?.cycles ? `shares ${shared.text}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** The plan as `gbcs-rig plan` prints it; `startWallMs` dates the end on a real bench. */
export function planLines(plan: CampaignPlan, cases: readonly PlannedCase[], startWallMs: number): string[] {
  const lines: string[] = [];
  const idWidth = Math.max(8, ...cases.map((c) => c.id.length));
  for (const b of plan.benches) {
    const na = b.cases.filter((s) => s.notApplicable);
    lines.push(
      `bench ${b.bench}${b.virtual ? ' (virtual)' : ''}: ${counted(b.cases.length, 'case')}, ${benchTimeText(b.totalMs)}` +
        (na.length ? ` (${na.length} not applicable there: the bench lacks a device they need)` : ''),
    );
    for (const s of na) lines.push(`  ${s.id.padEnd(idWidth)} not applicable here: ${s.notApplicable}`);
    for (const s of b.cases.filter((x) => !x.notApplicable)) {
      const c = cases.find((x) => x.id === s.id && x.bench === b.bench);
      const alongside = b.cases.filter((o) => o.group !== undefined && o.group === s.group && o.id !== s.id).map((o) => o.id);
      lines.push(
        `  ${s.id.padEnd(idWidth)} ${`+${benchTimeText(s.startMs)}`.padStart(17)} → ${`+${benchTimeText(s.endMs)}`.padStart(17)}  ${needsText(c?.needs)}` +
          (alongside.length ? `; alongside ${alongside.join(', ')}` : ''),
      );
    }
  }
  const ratio = plan.longestChainMs > 0 ? plan.totalMs / plan.longestChainMs : 0;
  lines.push(`placed: ${plan.method}`);
  lines.push(
    `planned bench time (each case at its longest wait): ${benchTimeText(plan.totalMs)} against the longest chain ${benchTimeText(plan.longestChainMs)} (${plan.longestChain}): ${ratio.toFixed(2)}×`,
  );
  if (plan.floorMs !== undefined && plan.longestChainMs > 0) {
    // The floor's own set: the busiest bench's, weighed as the floor was (by planned time), not the longest list.
    const weight = (bench: string, ids: readonly string[]) =>
      ids.reduce((t, id) => t + (cases.find((c) => c.id === id && c.bench === bench)?.plannedMs ?? 0), 0);
    let apart: string[] = [];
    let heaviest = -1;
    for (const [bench, ids] of Object.entries(plan.apart ?? {}))
      if (weight(bench, ids) > heaviest) [apart, heaviest] = [ids, weight(bench, ids)];
    const named = apart.length > 6 ? `${apart.slice(0, 6).join(', ')} and ${apart.length - 6} more` : apart.join(', ');
    lines.push(
      `no placement under these rules takes less than ${benchTimeText(plan.floorMs)} (${(plan.floorMs / plan.longestChainMs).toFixed(2)}×): ` +
        `${counted(apart.length, 'case')} that pairwise disturb each other, one after another (${named})`,
    );
  }
  if (plan.benches.some((b) => !b.virtual)) {
    const real = Math.max(0, ...plan.benches.filter((b) => !b.virtual).map((b) => b.totalMs));
    lines.push(
      `estimated end on the real bench${plan.benches.filter((b) => !b.virtual).length === 1 ? '' : 'es'}: ${new Date(startWallMs + real).toISOString()} if it starts now`,
    );
  } else {
    lines.push('virtual benches only: the bench time passes in simulated time (minutes of wall time)');
  }
  return lines;
}
