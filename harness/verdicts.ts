// Verdicts: each test case ends in exactly one. A device broke a requirement (FAIL) only when
// the rig established the facts; a rig fault is INCONCLUSIVE, a rig defect ERROR.
import { RigFault, type RigFaultKind } from '../drivers/faults.ts';

export const VERDICTS = ['PASS', 'FAIL', 'INCONCLUSIVE', 'NOT APPLICABLE', 'ERROR'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The device under test broke the requirement: thrown by a check, with what was seen. */
export class DeviceFailure extends Error {
  override name = 'DeviceFailure';
  constructor(
    readonly requirement: string,
    message: string,
  ) {
    super(message);
  }
}

/** The device or its firmware does not claim the feature: the case does not apply. */
export class NotApplicable extends Error {
  override name = 'NotApplicable';
}

export interface VerdictRecord {
  verdict: Verdict;
  reason: string;
  /** For INCONCLUSIVE: what to fix at the bench. */
  fix?: string;
  /** For FAIL: the requirement id that was broken. */
  failedRequirement?: string;
  /** For INCONCLUSIVE: the kind of rig fault (e.g. dut-not-heard, case-overran), for CI and filters. */
  fault?: RigFaultKind;
}

/** The kinds of INCONCLUSIVE a suite names (ctx.rec.inconclusive): the rig-fault kinds of drivers/faults.ts. */
export type InconclusiveKind = RigFaultKind;

/** Whether `error` is a rig fault of `kind`: for a suite that answers one fault (e.g. a refused join) before passing it on. */
export function isRigFault(error: unknown, kind: RigFaultKind): boolean {
  return error instanceof RigFault && error.kind === kind;
}

/** The verdict a test body's outcome stands for. */
export function verdictOf(error: unknown): VerdictRecord {
  if (error === undefined) return { verdict: 'PASS', reason: 'every check held' };
  if (error instanceof DeviceFailure) return { verdict: 'FAIL', reason: error.message, failedRequirement: error.requirement };
  if (error instanceof NotApplicable) return { verdict: 'NOT APPLICABLE', reason: error.message };
  if (error instanceof RigFault) return { verdict: 'INCONCLUSIVE', reason: error.message, fix: error.fix, fault: error.kind };
  const e = error as Error;
  return { verdict: 'ERROR', reason: `rig defect: ${e?.name ?? 'Error'}: ${e?.message ?? String(error)}` };
}
