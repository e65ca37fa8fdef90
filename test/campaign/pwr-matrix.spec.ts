// The power-cycle suite's mutation matrix (suites/power-cycle.spec.ts): every case PASSes on the
// conformant CH, ESME, IHD and PPMID, FAILs its requirement on the device built to break it (a device
// that rejoins too late or never, a CH that loses its device log) while the other device's cases point at
// the culprit (INCONCLUSIVE), and under rig faults no case FAILs, not even on the mutants.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { expectWithinPlan, runCampaign, verdicts } from '../support/campaign.ts';
import { countEvents, expectOneActShared } from '../support/side-by-side.ts';
import {
  COT_CONFORMANT,
  PWR_ALL_PASS,
  PWR_CASES,
  PWR_CAUGHT_BY,
  PWR_CH_ONLY_VERDICTS,
  PWR_GREP,
  judgements,
  pwrCampaign,
} from '../support/matrix.ts';

test('every power-cycle case passes on the conformant devices, each timed; none applies to a lone CH, nor PWR-2 where the lab says so', async () => {
  const [c, chOnly, logNeedNotSurvive] = await Promise.all([
    runCampaign({ tenancy: COT_CONFORMANT, grep: PWR_GREP }),
    runCampaign({ grep: PWR_GREP }),
    // PWR-2 is a lab setting: a lab that reads the device log as lost at power-on does not ask for it.
    runCampaign({
      firmware: 'ch-loses-device-log',
      tenancy: COT_CONFORMANT,
      grep: 'CH-PWR-002',
      labSettings: { deviceLogSurvivesPowerCycle: false },
    }),
  ]);
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual(PWR_ALL_PASS);
  expectWithinPlan(c);
  // The four cases share one CH power cycle: the CH's relay on at the start and after the cycle, off for it and at the end.
  expectOneActShared(c, 'virtual-1', PWR_CASES, 'power-cycle');
  for (const state of ['ON', 'OFF'])
    expect(countEvents(c, 'virtual-1', PWR_CASES, 'power-command', { device: 'ch', state }), state).toBe(2);
  // The report says it in each case's section: with whom it ran, and from which case its power cycle came.
  const section = (id: string) => readFileSync(join(c.dir, 'report.html'), 'utf8').split(`data-case="${id}" data-bench="virtual-1">`)[1];
  expect(section('CH-PWR-002')).toMatch(
    /<dt>Side by side with<\/dt><dd class="alongside">ESME-PWR-001, IHD-PWR-001, PPMID-PWR-001: on one bench at once.*Shared: <span class="shared-acts">the CH&#39;s power cycle, taken from ESME-PWR-001 \(done at 2026-/,
  );
  expect(section('ESME-PWR-001')).toMatch(
    /the CH&#39;s power cycle, done by this case for IHD-PWR-001, PPMID-PWR-001, CH-PWR-002 at 2026-/,
  );
  for (const r of c.results!.cases.filter((x) => x.id.endsWith('PWR-001'))) {
    const [m] = r.measurements;
    // Back after the CH's power-on: noticed 30–45 s after its power-off (a 5 s pause), admitted at once.
    expect([m.unit, m.outcome, m.limit?.high], r.id).toEqual(['min', 'pass', 15]);
    expect(m.value, r.id).toBeGreaterThan(0.4);
    expect(m.value, r.id).toBeLessThan(0.7);
  }
  expect(verdicts(chOnly)).toEqual(PWR_CH_ONLY_VERDICTS);
  expect(verdicts(logNeedNotSurvive)).toEqual({ 'CH-PWR-002': 'NOT APPLICABLE' });
  expect(logNeedNotSurvive.results!.cases[0].reason).toMatch(/deviceLogSurvivesPowerCycle is false/);
});

const PROFILES = fileURLToPath(new URL('../../firmware-images/profiles/', import.meta.url));

test('every profile that breaks PWR-1 or PWR-2 is in the matrix, FAILed on the requirement it breaks; every case catches one', () => {
  const broken = readdirSync(PROFILES)
    .map((f) => parse(readFileSync(PROFILES + f, 'utf8')) as { id: string; breaks: string[] })
    .filter((p) => p.breaks.some((b) => b === 'PWR-1' || b === 'PWR-2'));
  expect(broken.map((p) => p.id).sort()).toEqual(PWR_CAUGHT_BY.map(([, profile]) => profile).sort());
  const fails = PWR_CAUGHT_BY.flatMap(([, profile, v]) =>
    Object.entries(v)
      .filter(([, x]) => x.startsWith('FAIL'))
      .map(([id, x]) => [profile, id, x]),
  );
  for (const p of broken)
    expect(
      fails.filter(([profile]) => profile === p.id).map(([, , x]) => x.slice(5)),
      p.id,
    ).toEqual(p.breaks);
  expect(new Set(fails.map(([, id]) => id))).toEqual(new Set(PWR_CASES));
});

for (const [device, profile, expected] of PWR_CAUGHT_BY) {
  test(`${profile}: ${Object.entries(expected)
    .map(([id, v]) => `${id} ${v}`)
    .join(', ')}`, async () => {
    const c = await runCampaign(pwrCampaign(device, profile, expected));
    expect(c.exitCode, c.stderr).toBe(0);
    expect(judgements(c)).toEqual(expected);
    expectWithinPlan(c);
  });
}

test('under rig faults (silent relay, sniffer unplugged after the power cycle) no power-cycle case FAILs, even on a mutant', async () => {
  const mutants = { ...COT_CONFORMANT, esme: 'esme-never-rejoins', ihd: 'ihd-rejoins-after-30min' };
  const fast = { relayConfirmSeconds: 0.5 };
  const [silent, unplugged] = await Promise.all([
    runCampaign({
      firmware: 'ch-loses-device-log',
      tenancy: mutants,
      grep: PWR_GREP,
      faults: [{ kind: 'relay-silent', afterSeconds: 0 }],
      labSettings: fast,
    }),
    // Ten minutes in: ESME-PWR-001 has power-cycled the CH and is waiting for the ESME, which never comes back.
    runCampaign({ tenancy: mutants, grep: PWR_GREP, faults: [{ kind: 'sniffer-unplugged', afterSeconds: 10 * 60 }], labSettings: fast }),
  ]);
  expect(silent.exitCode, silent.stderr).toBe(0);
  expect(Object.values(verdicts(silent)), JSON.stringify(verdicts(silent))).toEqual([
    'INCONCLUSIVE',
    'INCONCLUSIVE',
    'INCONCLUSIVE',
    'INCONCLUSIVE',
  ]);
  // The four cases share one CH power cycle: those still watching when the sniffer goes are INCONCLUSIVE; a case judged
  // on what was heard before it (the conformant PPMID, back within a minute) keeps its verdict. None FAILs.
  expect(unplugged.exitCode, unplugged.stderr).toBe(0);
  const unpluggedAt = Math.min(...unplugged.results!.cases.map((r) => Date.parse(r.startedAt))) + 10 * 60_000;
  for (const r of unplugged.results!.cases) {
    expect(r.verdict, r.id).not.toBe('FAIL');
    if (Date.parse(r.endedAt) > unpluggedAt) expect(r.verdict, r.id).toBe('INCONCLUSIVE');
  }
  expect(verdicts(unplugged)['PPMID-PWR-001']).toBe('PASS');
  expect(verdicts(unplugged)).toMatchObject({
    'ESME-PWR-001': 'INCONCLUSIVE',
    'IHD-PWR-001': 'INCONCLUSIVE',
    'CH-PWR-002': 'INCONCLUSIVE',
  });
  for (const r of [...silent.results!.cases, ...unplugged.results!.cases]) if (r.verdict !== 'PASS') expect(r.fix, r.id).toBeTruthy();
  expect(unplugged.results!.cases.find((r) => r.id === 'ESME-PWR-001')!.reason).toMatch(/sniffer/i);
});
