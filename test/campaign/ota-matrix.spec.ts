// The OTA reconnect cases' mutation matrix (suites/reconnect.spec.ts, RCN-4): both PASS on the conformant
// IHD and PPMID, each FAILs RCN-4 on the mutant built to break it (stays off the HAN, polls 30 min late), neither
// applies to firmware that does not claim the OTA Upgrade cluster, and under a rig fault none FAILs, even on the mutants.
// (One device of each kind per bench: the two mutants share one campaign.)
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { expectWithinPlan, runCampaign, verdicts } from '../support/campaign.ts';
import { COT_CONFORMANT, OTA_ALL_PASS, OTA_CASES, OTA_CAUGHT_BY, OTA_GREP, OTA_MUTANTS, judgements } from '../support/matrix.ts';

// A campaign costs some 20 s of start-up on a loaded CI machine: at most two per test.
test.describe.configure({ timeout: 4 * 60_000 });

test('conformant IHD and PPMID pass, timed, with before/after versions and the image in the evidence; without the claim, not applicable', async () => {
  const [c, noClaim] = await Promise.all([
    runCampaign({ tenancy: COT_CONFORMANT, grep: OTA_GREP }),
    runCampaign({ tenancy: { ...COT_CONFORMANT, ihd: 'ihd-polls-3h' }, grep: 'IHD-RCN-004' }),
  ]);
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual(OTA_ALL_PASS);
  expectWithinPlan(c);
  for (const r of c.results!.cases) {
    const [off, poll] = r.measurements;
    // Rebooted at the upgrade: its boot (3–8 s), then admitted and polling at once.
    expect([off.unit, off.outcome, off.limit?.high], r.id).toEqual(['min', 'pass', 15]);
    expect(off.value, r.id).toBeGreaterThan(0.04);
    expect(off.value, r.id).toBeLessThan(0.2);
    expect([poll.outcome, poll.limit?.high], r.id).toEqual(['pass', 15]);
    expect(poll.value).toBeGreaterThanOrEqual(off.value);
    const events = readFileSync(`${c.dir}/evidence/${r.id}--virtual-1/events.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const versions = events.find((e) => e.kind === 'ota-versions')!;
    expect([versions.before, versions.after], r.id).toEqual(['0x01000002', '0x01010002']);
    expect(versions.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(String(events.find((e) => e.kind === 'ota-image')!.header)).toMatch(
      /^manufacturer 0x7a55, image type 0x010[12], file version 0x01010002/,
    );
    expect(events.find((e) => e.kind === 'ota-transfer')!.blocks).toBe(24);
  }
  expect(verdicts(noClaim)).toEqual({ 'IHD-RCN-004': 'NOT APPLICABLE' });
  expect(noClaim.results!.cases[0].reason).toMatch(/does not claim the ZigBee OTA Upgrade cluster/);
});

test('both mutants FAIL RCN-4 on their own case: one never back on the HAN, one polling 30 min late', async () => {
  const mutants = await runCampaign({ tenancy: OTA_MUTANTS, grep: OTA_GREP });
  expect(mutants.exitCode, mutants.stderr).toBe(0);
  expect(judgements(mutants)).toEqual(Object.assign({}, ...OTA_CAUGHT_BY.map(([, , v]) => v)));
  expectWithinPlan(mutants);
  const late = mutants.results!.cases.find((r) => r.id === 'PPMID-RCN-004')!;
  expect(late.reason).toMatch(/polled its meters again only 30:\d\d after its upgrade/);
  expect(mutants.results!.cases.find((r) => r.id === 'IHD-RCN-004')!.reason).toMatch(/not back on the HAN 45 min after its upgrade/);
});

const PROFILES = fileURLToPath(new URL('../../firmware-images/profiles/', import.meta.url));

test('every profile that breaks RCN-4 is in the matrix, and every OTA case catches one', () => {
  const broken = readdirSync(PROFILES)
    .map((f) => parse(readFileSync(PROFILES + f, 'utf8')) as { id: string; breaks: string[] })
    .filter((p) => p.breaks.includes('RCN-4'));
  expect(broken.map((p) => p.id).sort()).toEqual(OTA_CAUGHT_BY.map(([, profile]) => profile).sort());
  expect(new Set(OTA_CAUGHT_BY.flatMap(([, , v]) => Object.keys(v)))).toEqual(new Set(OTA_CASES));
});

test('under a rig fault (the sniffer unplugged while the rig waits for the upgraded IHD, a relay that never confirms) no OTA case FAILs, even on the mutants', async () => {
  const fast = { relayConfirmSeconds: 0.5 };
  const [unplugged, silent] = await Promise.all([
    // Three minutes in: the IHD has upgraded and the rig waits for it to come back; it stays unplugged for the PPMID's case.
    runCampaign({
      tenancy: OTA_MUTANTS,
      grep: OTA_GREP,
      faults: [{ kind: 'sniffer-unplugged', afterSeconds: 3 * 60 }],
    }),
    runCampaign({ tenancy: OTA_MUTANTS, grep: OTA_GREP, faults: [{ kind: 'relay-silent', afterSeconds: 0 }], labSettings: fast }),
  ]);
  for (const c of [unplugged, silent]) {
    expect(c.exitCode, c.stderr).toBe(0);
    expect(Object.values(verdicts(c)), JSON.stringify(verdicts(c))).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE']);
    for (const r of c.results!.cases) expect(r.fix, r.id).toBeTruthy();
  }
  // Relays confirm in real seconds: only the relay-silent campaign shortens their wait, so the other's fault is the sniffer's.
  expect(unplugged.results!.cases.find((r) => r.id === 'IHD-RCN-004')!.reason).toMatch(/sniffer/i);
  expect(silent.results!.cases.find((r) => r.id === 'IHD-RCN-004')!.reason).toMatch(/relay|confirm/i);
});
