// The Change of Tenancy suite's mutation matrix (on-air cases): every case PASSes on the
// conformant ESME, IHD and PPMID (and on the 3-hour and midnight pollers), and FAILs its
// requirement on the device built to break it.
import { test, expect } from '@playwright/test';
import { expectWithinPlan, runCampaign, verdicts } from '../support/campaign.ts';
import { COT_ALL_PASS as ALL_PASS, COT_CAUGHT_BY as CAUGHT_BY, COT_CONFORMANT as CONFORMANT, COT_CONFORMANT_POLLERS, COT_MINUTE_POLLER, casesOf } from '../support/matrix.ts';

test('every on-air COT case passes on the conformant ESME, IHD and PPMID', async () => {
  const c = await runCampaign({ tenancy: CONFORMANT, grep: 'COT' });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual(ALL_PASS);
  expectWithinPlan(c);
});

for (const ihd of COT_CONFORMANT_POLLERS) {
  test(`an IHD that polls ${ihd === 'ihd-polls-3h' ? 'every 3 hours' : 'only at midnight UTC'} passes (at least every 24 h, not necessarily at midnight)`, async () => {
    const c = await runCampaign({ tenancy: { ...CONFORMANT, ihd }, grep: 'IHD-COT' });
    expect(verdicts(c, 'IHD')).toEqual(casesOf(ALL_PASS, 'IHD'));
  });
}

test('an IHD that polls once a minute (inside COT-3 and COT-9) fails no meter: every case passes', async () => {
  // Its polls land close to every publication: the meters' are still judged unsolicited towards the PPMID, which did not ask.
  const c = await runCampaign({ tenancy: { ...CONFORMANT, ihd: COT_MINUTE_POLLER }, grep: 'COT' });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual(ALL_PASS);
});

for (const [device, profile, caseId, requirement, others] of CAUGHT_BY) {
  test(`${caseId} FAILs ${requirement} on ${profile}`, async () => {
    // Only the case that must catch it: a device that misbehaves (e.g. polls every second) would flood every other case's evidence too.
    const c = await runCampaign({ tenancy: { ...CONFORMANT, ...others, [device]: profile }, grep: caseId });
    expect(c.exitCode, c.stderr).toBe(0);
    const v = verdicts(c);
    expect(v[caseId], JSON.stringify(v)).toBe(`FAIL ${requirement}`);
    expect(Object.keys(v), JSON.stringify(v)).toEqual([caseId]);
  });
}
