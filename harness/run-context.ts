// How `gbcs-rig run` tells the Playwright workers which rig, which output folder and which run.
import { loadRig } from '../rigs/load.ts';

export const RUN_ENV = {
  rig: 'GBCS_RIG_FILE',
  out: 'GBCS_RIG_OUT',
  runId: 'GBCS_RIG_RUN_ID',
  station: 'GBCS_RIG_STATION',
  version: 'GBCS_RIG_VERSION',
  /** The benches picked for the run, comma-separated (default: every bench of the rig). */
  benches: 'GBCS_RIG_BENCHES',
} as const;

/** The annotation a case leaves on its test: the path of its result.json. */
export const RESULT_ANNOTATION = 'gbcs-rig-result';

/** The Playwright project that runs every case on one bench. */
export const benchProject = (benchId: string) => `bench:${benchId}`;

/** The benches a suite run drives: those `gbcs-rig run` picked, or, run directly, every bench of the rig. */
export async function benchesToRun(): Promise<string[]> {
  const picked = process.env[RUN_ENV.benches];
  return picked ? picked.split(',') : (await loadRig(process.env[RUN_ENV.rig] || undefined)).benches.map((b) => b.id);
}
