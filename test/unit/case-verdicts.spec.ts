// What a suite says through ctx.rec ends the case in the verdict it names: an inconclusive kind
// says what happened at the bench, with where and what to fix, never a verdict on the device.
import { test, expect } from '@playwright/test';
import { CaseRecorder, type CaseDefinition, RIG_TIMING } from '../../harness/case.ts';
import { measure } from '../../harness/measurements.ts';
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

test("a measurement of the rig's own timing outside its limit, or too close to tell, is INCONCLUSIVE, never the device's FAIL", ({}, testInfo) => {
  const rec = recorder(testInfo.outputPath('evidence'));
  const inside = { high: 60, text: 'inside the 60-minute window (IPAN-1)' };
  // A probe sent 61 min after power-on where the case meant 59: the rig's timing, not the CH's behaviour.
  const late = outcome(() => rec.measured(measure('CCS01 probe', 61, 'min', 0, inside), RIG_TIMING) as never);
  expect([late.verdict.verdict, late.verdict.fault]).toEqual(['INCONCLUSIVE', 'precondition-unmet']);
  expect(late.verdict.reason).toMatch(/CCS01 probe = 61 min \(±0\) is outside inside the 60-minute window .*cannot be judged/);
  // 59.75 ± 0.5 min against 60: it cannot be told whether the probe was inside.
  const close = outcome(() => rec.measured(measure('CCS01 probe', 59.75, 'min', 0.5, inside), RIG_TIMING) as never);
  expect([close.verdict.verdict, close.verdict.reason]).toEqual(['INCONCLUSIVE', expect.stringMatching(/is too close to tell against/)]);
  // Inside: recorded, and the case goes on to judge the device.
  expect(rec.measured(measure('CCS01 probe', 59, 'min', 0.1, inside), RIG_TIMING).outcome).toBe('pass');
  // A device's own measurement outside its limit is still its FAIL.
  expect(
    outcome(() => rec.measured(measure('window length', 45, 'min', 0, { low: 60, text: '60 min' }), 'IPAN-1') as never).verdict,
  ).toMatchObject({
    verdict: 'FAIL',
    failedRequirement: 'IPAN-1',
  });
});
