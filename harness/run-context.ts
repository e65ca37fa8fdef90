// How `gbcs-rig run` tells the Playwright workers which rig, which output folder and which run.
import { availableParallelism } from 'node:os';
import type { LabSettings } from '../rigs/lab-settings.ts';
import { loadRig, type LoadRigOptions } from '../rigs/load.ts';

export const RUN_ENV = {
  rig: 'GBCS_RIG_FILE',
  out: 'GBCS_RIG_OUT',
  runId: 'GBCS_RIG_RUN_ID',
  station: 'GBCS_RIG_STATION',
  version: 'GBCS_RIG_VERSION',
  /** The benches picked for the run, comma-separated (default: every bench of the rig). */
  benches: 'GBCS_RIG_BENCHES',
  /** The lab settings' values (JSON): a case's planned duration, and so the campaign's ETA, is known before it runs. */
  labSettings: 'GBCS_RIG_LAB_SETTINGS',
  /** On `run --resume`: the cases still to run, by bench (JSON `{ bench: [case id, …] }`); the others have their verdicts. */
  remaining: 'GBCS_RIG_REMAINING',
  /** Set by `gbcs-rig plan`: the suites are only listed, so the rig is read without its secrets or its images' hashes. */
  listOnly: 'GBCS_RIG_LIST_ONLY',
} as const;

/** How a rig is read when the suites are only listed (`gbcs-rig plan`): nothing moves, so no secret is needed. */
export const LIST_ONLY_RIG: LoadRigOptions = { requireSecrets: false, verifyImages: false };

/** On `run --resume`, the Playwright grep of a bench's cases still to run (by their `@<case id>` tags); undefined when not resuming. */
export function remainingOn(benchId: string): RegExp | undefined {
  const remaining = process.env[RUN_ENV.remaining];
  if (!remaining) return undefined;
  const ids = (JSON.parse(remaining) as Record<string, string[]>)[benchId] ?? [];
  // Matches none when the bench has nothing left (`gbcs-rig run` leaves such a bench out anyway).
  return new RegExp(`(^|\\s)@(${ids.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') || '(?!)'})(\\s|$)`);
}

/** The annotation a case leaves on its test: the path of its result.json. */
export const RESULT_ANNOTATION = 'gbcs-rig-result';

/** The Playwright project that runs every case on one bench. */
export const benchProject = (benchId: string) => `bench:${benchId}`;

/** The benches a suite run drives (those `gbcs-rig run` picked, or, run directly, every bench of the rig) and how many workers drive them at once. */
export async function benchesToRun(): Promise<{ ids: string[]; workers: number; settings: LabSettings }> {
  const rig = await loadRig(process.env[RUN_ENV.rig] || undefined, process.env[RUN_ENV.listOnly] ? LIST_ONLY_RIG : {});
  const picked = process.env[RUN_ENV.benches]?.split(',');
  const benches = picked ? rig.benches.filter((b) => picked.includes(b.id)) : rig.benches;
  return { ids: benches.map((b) => b.id), workers: workersFor(benches.map((b) => b.virtual !== undefined)), settings: rig.settings };
}

/**
 * Every real bench has its own worker (it mostly waits on hardware); virtual benches compute, so at most one
 * per core runs at a time: 25 on 2 cores would starve the virtual relays' confirmations into rig faults.
 */
export function workersFor(virtual: readonly boolean[], cores = availableParallelism()): number {
  const simulated = virtual.filter(Boolean).length;
  return Math.max(1, virtual.length - simulated + Math.min(simulated, cores));
}
