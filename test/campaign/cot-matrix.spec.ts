// The Change of Tenancy suite's mutation matrix (on-air cases): every case PASSes on the
// conformant ESME, IHD and PPMID (and on the 3-hour and midnight pollers), and FAILs its
// requirement on the device built to break it.
import { test, expect } from '@playwright/test';
import { type Campaign, expectWithinPlan, once, runCampaign, verdicts } from '../support/campaign.ts';
import { countEvents, expectOneActShared } from '../support/side-by-side.ts';
import {
  COT_ALL_PASS as ALL_PASS,
  COT_CAUGHT_BY as CAUGHT_BY,
  COT_CONFORMANT as CONFORMANT,
  COT_CONFORMANT_POLLERS,
  COT_MINUTE_POLLER,
  COT_SLOW,
  judgements,
} from '../support/matrix.ts';

// The runs are shared by the file's tests: one worker takes the whole file.
test.describe.configure({ mode: 'default', timeout: 6 * 60_000 });

/** The whole suite, in one run, on each bench a profile set: the conformant devices, the conforming pollers, and the two mutants whose catch could lean on what earlier cases left. */
const WHOLE_SUITE = [
  { name: 'conformant', tenancy: CONFORMANT },
  ...[...COT_CONFORMANT_POLLERS, COT_MINUTE_POLLER].map((ihd) => ({ name: ihd, tenancy: { ...CONFORMANT, ihd } })),
  ...CAUGHT_BY.filter(([, p]) => p === 'ihd-polls-48h' || p === 'ppmid-keeps-top-up-history').map(([device, profile]) => ({
    name: profile,
    tenancy: { ...CONFORMANT, [device]: profile },
  })),
];
const wholeSuite = once(() => runCampaign({ perBench: WHOLE_SUITE.map(({ tenancy }) => ({ tenancy })), grep: 'COT' }));
/** The whole suite's verdicts on the bench of the profile set `name`. */
async function wholeSuiteOn(name: string): Promise<{ c: Campaign; bench: string }> {
  const c = await wholeSuite();
  expect(c.exitCode, c.stderr).toBe(0);
  return { c, bench: `virtual-${WHOLE_SUITE.findIndex((w) => w.name === name) + 1}` };
}

test('every on-air COT case passes on the conformant ESME, IHD and PPMID', async () => {
  const { c, bench } = await wholeSuiteOn('conformant');
  expect(verdicts(c, '', bench)).toEqual(ALL_PASS);
  expectWithinPlan(c, bench);
  // The IHD's and the PPMID's COT-003 share one power cycle of the ESME: switched off and on once for both.
  expectOneActShared(c, bench, ['IHD-COT-003', 'PPMID-COT-003'], 'power-cycle');
  expect(countEvents(c, bench, ['IHD-COT-003', 'PPMID-COT-003'], 'power-command', { device: 'esme', state: 'ON' })).toBe(2);
});

for (const ihd of COT_CONFORMANT_POLLERS) {
  test(`an IHD that polls ${ihd === 'ihd-polls-3h' ? 'every 3 hours' : 'only at midnight UTC'} passes (at least every 24 h, not necessarily at midnight)`, async () => {
    const { c, bench } = await wholeSuiteOn(ihd);
    expect(verdicts(c, '', bench)).toEqual(ALL_PASS);
  });
}

test('an IHD that polls once a minute (inside COT-3 and COT-9) fails no meter: every case passes', async () => {
  // Its polls land close to every publication: the meters' are still judged unsolicited towards the PPMID, which did not ask.
  const { c, bench } = await wholeSuiteOn(COT_MINUTE_POLLER);
  expect(verdicts(c, '', bench)).toEqual(ALL_PASS);
});

// The mutants a case must catch share one run of that case: each on a bench of its own, in the order of the matrix.
const MUTANT_BENCHES = CAUGHT_BY.map(([device, profile, caseId, requirement, others]) => ({
  caseId,
  requirement,
  profile,
  tenancy: { ...CONFORMANT, ...others, [device]: profile },
}));
const benchesOf = (caseId: string) => MUTANT_BENCHES.filter((m) => m.caseId === caseId);
const caughtRuns = new Map(
  [...new Set(MUTANT_BENCHES.map((m) => m.caseId))].map((caseId) => [
    caseId,
    once(() => runCampaign({ perBench: benchesOf(caseId).map(({ tenancy }) => ({ tenancy })), grep: caseId })),
  ]),
);
for (const [i, { caseId, requirement, profile }] of MUTANT_BENCHES.entries()) {
  test(`${caseId} FAILs ${requirement} on ${profile}`, async () => {
    // Only the case that must catch it: a device that misbehaves (e.g. polls every second) would flood every other case's evidence too.
    const c = await caughtRuns.get(caseId)!();
    expect(c.exitCode, c.stderr).toBe(0);
    const bench = `virtual-${benchesOf(caseId).indexOf(MUTANT_BENCHES[i]) + 1}`;
    const v = verdicts(c, '', bench);
    expect(v[caseId], JSON.stringify(v)).toBe(`FAIL ${requirement}`);
    expect(Object.keys(v), JSON.stringify(v)).toEqual([caseId]);
  });
}

// A case's verdict depends only on the device: the mutants whose catch could lean on what earlier cases left
// behind (a poll period's phase, data held since before) give the same verdicts in the whole suite as alone.
for (const [, profile, caseId, requirement] of CAUGHT_BY.filter(([, p]) => p === 'ihd-polls-48h' || p === 'ppmid-keeps-top-up-history')) {
  test(`${caseId} FAILs ${requirement} on ${profile} in the whole Change of Tenancy suite too, and the other cases keep their verdicts`, async () => {
    const { c, bench } = await wholeSuiteOn(profile);
    const v = verdicts(c, '', bench);
    expect(v[caseId], JSON.stringify(v)).toBe(`FAIL ${requirement}`);
    const role = caseId.split('-')[0];
    // The mutant's other cases may catch it too; every case of the other devices judges as on the conformant bench.
    expect(Object.fromEntries(Object.entries(v).filter(([id]) => !id.startsWith(role)))).toEqual(
      Object.fromEntries(Object.entries(ALL_PASS).filter(([id]) => !id.startsWith(role))),
    );
  });
}

for (const [device, profile, caseId, fault, requirement] of COT_SLOW) {
  test(`${caseId} on ${profile}, which answers after the capture window, is INCONCLUSIVE (${fault}), never NOT APPLICABLE; given the time, it FAILs ${requirement}`, async () => {
    // It keeps the previous occupier's log and answers 8 s late: its silence within 5 s must not read as "nothing to clear".
    const tenancy = { ...CONFORMANT, [device]: profile };
    const [tight, roomy] = await Promise.all([
      runCampaign({ tenancy, grep: caseId }),
      runCampaign({ tenancy, grep: caseId, labSettings: { captureWithinSeconds: 10 } }),
    ]);
    const late = tight.results!.cases.find((r) => r.id === caseId)!;
    expect([late.verdict, late.fault]).toEqual(['INCONCLUSIVE', fault]);
    expect(judgements(tight)).toEqual({ [caseId]: `INCONCLUSIVE ${fault}` });
    expect(late.fix).toMatch(/captureWithinSeconds/);
    expect(verdicts(roomy)).toEqual({ [caseId]: `FAIL ${requirement}` });
  });
}

test('COT-9 counts a poll once however many sniffers hear it: two sniffers pass the conformant clients and still catch the flooder', async () => {
  const c = await runCampaign({
    sniffers: 2,
    perBench: [{ tenancy: CONFORMANT }, { tenancy: { ...CONFORMANT, ihd: 'ihd-polls-every-second' } }],
    grep: 'COT-009',
  });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c, '', 'virtual-1')).toEqual({ 'IHD-COT-009': 'PASS', 'PPMID-COT-009': 'PASS' });
  expect(verdicts(c, 'IHD', 'virtual-2')).toEqual({ 'IHD-COT-009': 'FAIL COT-9' });
  // Both sniffers heard every poll: counted once, the busiest minute holds one.
  const ihd = c.results!.cases.find((r) => r.id === 'IHD-COT-009' && r.bench === 'virtual-1')!;
  expect(ihd.measurements[0]).toMatchObject({ value: 1, outcome: 'pass' });
});

test("under the lab's 'ignore' reading of COT-5 the clearing cases are INCONCLUSIVE before they act, never inverted verdicts", async () => {
  const c = await runCampaign({
    labSettings: { cotImplementationTime: 'ignore' },
    perBench: [{ tenancy: CONFORMANT }, { tenancy: { ...CONFORMANT, ihd: 'ihd-clears-on-receipt' } }],
    grep: 'COT-00[5168]|COT-010',
  });
  expect(c.exitCode, c.stderr).toBe(0);
  for (const bench of ['virtual-1', 'virtual-2']) {
    const judged = judgements(c, '', bench);
    // The publication cases do not depend on the reading; every clearing case does, and says why it cannot judge.
    expect(judged['ESME-COT-001'], bench).toBe('PASS');
    for (const id of ['IHD-COT-005', 'PPMID-COT-005', 'ESME-COT-006', 'ESME-COT-010', 'GPF-COT-010', 'IHD-COT-008', 'PPMID-COT-008'])
      expect(judged[id], `${bench} ${id}`).toBe('INCONCLUSIVE rig-misconfigured');
  }
  expect(c.results!.cases.find((r) => r.id === 'IHD-COT-005')!.reason).toMatch(/the lab reads COT-5 as 'ignore'/);
});
