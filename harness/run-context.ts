// How `gbcs-rig run` tells the Playwright workers which rig, which output folder and which run.
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
