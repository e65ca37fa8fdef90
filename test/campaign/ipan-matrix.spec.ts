// The mutation matrix of the inter-PAN window suite: every case PASSes (or is NOT APPLICABLE by
// claim) on the conformant CH, and FAILs with the right requirement id on each CH built to break it.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { expectWithinPlan, runCampaign, verdicts } from '../support/campaign.ts';
import {
  IPAN_CASES,
  IPAN_CAUGHT_BY as CAUGHT_BY,
  IPAN_CONFORMANT_VERDICTS,
  IPAN_SECMP0037_VERDICTS,
  IPAN_SLOW,
  judgements,
} from '../support/matrix.ts';

const PROFILES = fileURLToPath(new URL('../../firmware-images/profiles/', import.meta.url));
test('every IPAN case passes on the conformant CH; CH-IPAN-007 is not applicable without SECMP0037', async () => {
  const c = await runCampaign({ firmware: 'ch-conformant' });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c, 'CH-IPAN')).toEqual(IPAN_CONFORMANT_VERDICTS);
  expectWithinPlan(c);
});

test('on SECMP0037 firmware IPAN-2 is not applicable and IPAN-6 is checked', async () => {
  const c = await runCampaign({ firmware: 'ch-secmp0037' });
  expect(verdicts(c, 'CH-IPAN')).toEqual(IPAN_SECMP0037_VERDICTS);
});

test('every CH profile that breaks an IPAN requirement is in the matrix (or the slow table), and every IPAN case catches one', () => {
  const broken = readdirSync(PROFILES)
    .map((f) => parse(readFileSync(PROFILES + f, 'utf8')) as { id: string; kind: string; breaks: string[] })
    .filter((p) => p.kind === 'comms-hub' && p.breaks.some((b) => b.startsWith('IPAN-')));
  expect(broken.map((p) => p.id).sort()).toEqual([...Object.keys(CAUGHT_BY), ...Object.keys(IPAN_SLOW)].sort());
  const requirementOf = (id: string) => CAUGHT_BY[id]?.[1] ?? IPAN_SLOW[id]?.[2];
  for (const p of broken) expect(p.breaks, p.id).toContain(requirementOf(p.id));
  expect(new Set(Object.values(CAUGHT_BY).map(([caseId]) => caseId))).toEqual(new Set(IPAN_CASES));
});

for (const [profile, [caseId, requirement]] of Object.entries(CAUGHT_BY)) {
  test(`${caseId} FAILs ${requirement} on ${profile}, alone and in the campaign; a case whose premise the CH breaks is INCONCLUSIVE, none ERROR`, async () => {
    // The case alone, on a bench no other case touched, must judge as it did in the campaign.
    const [c, alone] = await Promise.all([runCampaign({ firmware: profile }), runCampaign({ firmware: profile, grep: caseId })]);
    expect(c.exitCode, c.stderr).toBe(0);
    const v = verdicts(c, 'CH-IPAN');
    expect(v[caseId], JSON.stringify(v)).toBe(`FAIL ${requirement}`);
    expect(verdicts(alone), 'alone as in the campaign').toEqual({ [caseId]: v[caseId] });
    // E.g. a window that closes at 45 min leaves IPAN-2 nothing to see close: "refused after the window" proves nothing then.
    const others = c.results!.cases.filter((r) => r.id.startsWith('CH-IPAN') && /INCONCLUSIVE|ERROR/.test(r.verdict));
    expect(others.filter((r) => r.fault !== 'precondition-unmet').map((r) => `${r.id} ${r.verdict} ${r.reason}`)).toEqual([]);
  });
}

for (const [profile, [caseId, fault, requirement]] of Object.entries(IPAN_SLOW)) {
  test(`a CH that answers CCS01 after the capture window (${profile}) is INCONCLUSIVE (${fault}) on every case that asks it, never FAIL; given the time, ${caseId} FAILs ${requirement}`, async () => {
    const [tight, roomy] = await Promise.all([
      runCampaign({ firmware: profile }),
      runCampaign({ firmware: profile, grep: caseId, labSettings: { captureWithinSeconds: 10 } }),
    ]);
    expect(tight.exitCode, tight.stderr).toBe(0);
    // Its late acceptance must not read as a refusal (a FAIL of IPAN-1 or IPAN-3, a PASS of IPAN-2).
    expect(judgements(tight, 'CH-IPAN')).toEqual(
      Object.fromEntries(IPAN_CASES.map((id) => [id, id === 'CH-IPAN-007' ? 'NOT APPLICABLE' : `INCONCLUSIVE ${fault}`])),
    );
    expect(verdicts(roomy)).toEqual({ [caseId]: `FAIL ${requirement}` });
  });
}
