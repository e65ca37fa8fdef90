// Heard before judged: a device whose radio never transmits (firmware profile `transmits: false`)
// is never FAILed, nor PASSed — every case that examines it, or needs it on the HAN, ends
// INCONCLUSIVE with what to check at the bench.
import { test, expect } from '@playwright/test';
import { caseIds, runCampaign } from '../support/campaign.ts';

const CONFORMANT = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant', gpf: 'gpf-conformant' };

/** [dead profile, the campaign, the cases that must end INCONCLUSIVE (all others must PASS or be N/A by claim)] */
const DEAD: [string, Parameters<typeof runCampaign>[0], RegExp][] = [
  // Without its coordinator there is no HAN: every case needs the CH.
  ['ch-dead', { firmware: 'ch-dead', tenancy: CONFORMANT }, /./],
  // The clients' cases need the ESME they poll and the meter's own cases examine it.
  // The inter-PAN cases need only the CH: the Change of Tenancy suite is where these devices are judged.
  ['esme-dead', { tenancy: { ...CONFORMANT, esme: 'esme-dead' }, grep: 'COT' }, /^ESME-|^(IHD|PPMID)-COT-00[3458]$/],
  ['ihd-dead', { tenancy: { ...CONFORMANT, ihd: 'ihd-dead' }, grep: 'COT' }, /^IHD-/],
  ['ppmid-dead', { tenancy: { ...CONFORMANT, ppmid: 'ppmid-dead' }, grep: 'COT' }, /^PPMID-/],
];

for (const [profile, campaign, needsIt] of DEAD) {
  test(`${profile}: no case FAILs; every case that needs the device ends INCONCLUSIVE, saying it was not heard`, async () => {
    // A whole Change of Tenancy campaign (≈ 260 bench hours) on a shared 2-core machine.
    test.setTimeout(300_000);
    const c = await runCampaign(campaign);
    expect(c.exitCode, c.stderr).toBe(0);
    const cases = c.results!.cases;
    // The whole campaign: every case of every suite, as Playwright lists them.
    expect(cases.length).toBe(campaign?.grep ? 17 : caseIds().length);
    const wrong = cases.filter((r) =>
      needsIt.test(r.id)
        ? r.verdict !== 'INCONCLUSIVE' && !(r.verdict === 'NOT APPLICABLE' && /does not claim/.test(r.reason))
        : r.verdict !== 'PASS' && r.verdict !== 'NOT APPLICABLE',
    );
    expect(wrong.map((r) => `${r.id} ${r.verdict}: ${r.reason}`)).toEqual([]);
    const inconclusive = cases.filter((r) => r.verdict === 'INCONCLUSIVE');
    expect(inconclusive.length).toBeGreaterThan(0);
    for (const r of inconclusive) {
      expect(r.fix, r.id).toBeTruthy();
      // Not heard, or what could not be established because of it (a change the dead meter never took, data a dead client never got).
      expect(r.fault, `${r.id}: ${r.reason}`).toMatch(/^(dut-not-heard|tenancy-not-delivered)$/);
    }
  });
}
