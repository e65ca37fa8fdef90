// The campaign plan (issue #15): what each case needs of its bench, and when each case runs in
// bench time — printed by `gbcs-rig plan` before anything moves, written into run.json by `run`,
// drawn in the report. Pure: it reads what the cases declared, never the bench.
import type { DeviceRole } from '../firmware-images/manifest.ts';

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
  /** Planned bench time under the lab settings (ms); absent in run.json files of older runs. */
  plannedMs?: number;
  needs?: BenchNeeds;
}

/** A case's place on its bench's timeline, in ms from the start of the campaign. */
export interface ScheduledCase {
  id: string;
  startMs: number;
  endMs: number;
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
  /** The busiest bench's total: the benches run in parallel. */
  totalMs: number;
  /** How the cases of one bench are placed (said in the plan so a reader knows what the figures mean). */
  method: string;
}

/** How cases are placed today: `run` does not yet run cases side by side on one bench (issue #15's merging). */
export const SEQUENTIAL =
  'one case after another on each bench, in run order (cases do not yet share a bench: each holds it whole); the benches run in parallel';

export function planCampaign(cases: readonly PlannedCase[], benches: readonly { id: string; virtual: boolean }[]): CampaignPlan {
  let longest: PlannedCase | undefined;
  const plans = benches.map(({ id, virtual }) => {
    let t = 0;
    const scheduled = cases
      .filter((c) => c.bench === id)
      .map((c) => {
        const ms = c.plannedMs ?? 0;
        if (!longest || ms > (longest.plannedMs ?? 0)) longest = c;
        const s = { id: c.id, startMs: t, endMs: t + ms };
        t += ms;
        return s;
      });
    return { bench: id, virtual, cases: scheduled, totalMs: t };
  });
  return {
    benches: plans,
    longestChainMs: longest?.plannedMs ?? 0,
    longestChain: longest?.id ?? '',
    totalMs: Math.max(0, ...plans.map((b) => b.totalMs)),
    method: SEQUENTIAL,
  };
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
  return [
    n.powered.length ? `powers ${n.powered.join(', ')}` : '',
    n.cycles.length ? `cycles ${n.cycles.join(', ')}` : '',
    n.radio ? 'radio' : '',
    ...n.triggers.map((t) => BENCH_TRIGGERS[t]),
  ]
    .filter(Boolean)
    .join('; ');
}

/** The plan as `gbcs-rig plan` prints it; `startWallMs` dates the end on a real bench. */
export function planLines(plan: CampaignPlan, cases: readonly PlannedCase[], startWallMs: number): string[] {
  const lines: string[] = [];
  const idWidth = Math.max(8, ...cases.map((c) => c.id.length));
  for (const b of plan.benches) {
    lines.push(
      `bench ${b.bench}${b.virtual ? ' (virtual)' : ''}: ${b.cases.length} case${b.cases.length === 1 ? '' : 's'}, ${benchTimeText(b.totalMs)}`,
    );
    for (const s of b.cases) {
      const c = cases.find((x) => x.id === s.id && x.bench === b.bench);
      lines.push(
        `  ${s.id.padEnd(idWidth)} ${`+${benchTimeText(s.startMs)}`.padStart(17)} → ${`+${benchTimeText(s.endMs)}`.padStart(17)}  ${needsText(c?.needs)}`,
      );
    }
  }
  const ratio = plan.longestChainMs > 0 ? plan.totalMs / plan.longestChainMs : 0;
  lines.push(`placed: ${plan.method}`);
  lines.push(
    `planned bench time (each case at its longest wait): ${benchTimeText(plan.totalMs)} against the longest chain ${benchTimeText(plan.longestChainMs)} (${plan.longestChain}): ${ratio.toFixed(2)}×`,
  );
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
