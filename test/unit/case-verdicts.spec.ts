// What a suite says through ctx.rec ends the case in the verdict it names: an inconclusive kind
// says what happened at the bench, with where and what to fix, never a verdict on the device.
import { test, expect } from '@playwright/test';
import { CaseRecorder, type CaseDefinition } from '../../harness/case.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { isRigFault, verdictOf } from '../../harness/verdicts.ts';

const DEFINITION: CaseDefinition = {
  id: 'ESME-COT-006',
  title: 't',
  requirements: ['COT-6'],
  references: [],
  requirement: 'r',
  role: 'ESME',
  area: 'a',
};

function recorder(dir: string): CaseRecorder {
  return new CaseRecorder(DEFINITION, new EvidenceLog(dir, () => 0), () => 0);
}

/** What the recorder throws, as the case runner would judge it. */
function outcome(say: () => never) {
  try {
    say();
  } catch (e) {
    return { error: e, verdict: verdictOf(e) };
  }
  throw new Error('the recorder returned');
}

test('inconclusive ends the case INCONCLUSIVE with its kind, where, why and fix', ({}, testInfo) => {
  const rec = recorder(testInfo.outputPath('evidence'));
  const { error, verdict } = outcome(() =>
    rec.inconclusive('dut-not-heard', 'the ESME did not answer Get Last Message', 'check the ESME is on the HAN', 'ESME esme-1'),
  );
  expect(verdict).toEqual({
    verdict: 'INCONCLUSIVE',
    fault: 'dut-not-heard',
    reason: 'ESME esme-1: the ESME did not answer Get Last Message',
    fix: 'check the ESME is on the HAN',
  });
  expect(isRigFault(error, 'dut-not-heard')).toBe(true);
  expect(isRigFault(error, 'rig-misconfigured')).toBe(false);
});

test('without a where, the case is named; unmet is the precondition-unmet kind of inconclusive', ({}, testInfo) => {
  const rec = recorder(testInfo.outputPath('evidence'));
  expect(
    outcome(() => rec.inconclusive('rig-misconfigured', 'bench b names no way to trigger a Change of Tenancy', 'add tenancyTrigger'))
      .verdict,
  ).toMatchObject({
    verdict: 'INCONCLUSIVE',
    fault: 'rig-misconfigured',
    reason: 'case ESME-COT-006: bench b names no way to trigger a Change of Tenancy',
  });
  expect(outcome(() => rec.unmet('no message to clear', 'send one')).verdict).toEqual({
    verdict: 'INCONCLUSIVE',
    fault: 'precondition-unmet',
    reason: 'case ESME-COT-006: no message to clear',
    fix: 'send one',
  });
  expect(isRigFault(new Error('x'), 'dut-not-heard')).toBe(false);
});
