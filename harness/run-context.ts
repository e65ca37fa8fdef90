// How `gbcs-rig run` tells the Playwright workers which rig, which output folder and which run.
export const RUN_ENV = {
  rig: 'GBCS_RIG_FILE',
  out: 'GBCS_RIG_OUT',
  runId: 'GBCS_RIG_RUN_ID',
  station: 'GBCS_RIG_STATION',
  version: 'GBCS_RIG_VERSION',
} as const;

/** The annotation a case leaves on its test: the path of its result.json. */
export const RESULT_ANNOTATION = 'gbcs-rig-result';
