// The reconnect suite's mutation matrix (suites/reconnect.spec.ts, RCN-1…3): every case PASSes on the
// conformant devices and FAILs its requirement on the client built to break it, while that client's other
// cases still PASS; without lab limits RCN-1 measures and says so; under rig faults, and on a client that asks
// nothing while its meter is away, no case FAILs. Several mutants share a campaign, each pair on a bench of its own.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { countEvents, eventsOf, expectOneActShared } from '../support/side-by-side.ts';
import { expectWithinPlan, runCampaign, verdicts } from '../support/campaign.ts';
import { COT_CONFORMANT, RCN_ALL_PASS, RCN_CASES, RCN_CAUGHT_BY, RCN_GREP, RCN_LIMITS, judgements } from '../support/matrix.ts';

/** Two mutants of different clients per bench: each breaks only its own cases; the other client's cases, alone or beside them, still PASS. */
const MUTANT_BENCHES = [RCN_CAUGHT_BY.slice(0, 2), RCN_CAUGHT_BY.slice(2, 4)];
const tenancyOf = (rows: typeof RCN_CAUGHT_BY) => Object.fromEntries(rows.map(([device, profile]) => [device, profile]));

test('every RCN-1…3 case passes on the conformant devices and FAILs its requirement on each mutant, whose other cases pass', async () => {
  const c = await runCampaign({
    tenancy: COT_CONFORMANT,
    grep: RCN_GREP,
    labSettings: RCN_LIMITS,
    perBench: [{}, ...MUTANT_BENCHES.map((rows) => ({ tenancy: tenancyOf(rows) }))],
  });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual(RCN_ALL_PASS);
  // The IHD's and the PPMID's RCN-2 cases share one outage per meter, their RCN-3 cases one WAN cut: each done and undone once.
  for (const [group, kind, edge, gone, back] of [
    [['IHD-RCN-002', 'PPMID-RCN-002'], 'outage', 'meter-outage', 'silent', 'back'],
    [['IHD-RCN-012', 'PPMID-RCN-012'], 'outage', 'meter-outage', 'silent', 'back'],
    [['IHD-RCN-003', 'PPMID-RCN-003'], 'wan-cut', 'wan', 'down', 'up'],
  ] as const) {
    expectOneActShared(c, 'virtual-1', group, kind);
    for (const state of [gone, back]) expect(countEvents(c, 'virtual-1', group, edge, { state }), `${group.join()} ${state}`).toBe(1);
  }
  // RCN-1 brings the meter back just after its own client's request: its cases run alone.
  for (const r of c.results!.cases.filter((x) => /RCN-0[01]1$/.test(x.id))) expect(r.alongside, r.id).toBeUndefined();
  MUTANT_BENCHES.forEach((rows, i) =>
    expect(judgements(c, '', `virtual-${i + 2}`), rows.map(([, p]) => p).join(', ')).toEqual({
      ...RCN_ALL_PASS,
      ...Object.assign({}, ...rows.map(([, , v]) => v)),
    }),
  );
  expectWithinPlan(c);
  const conformant = c.results!.cases.filter((r) => r.bench === 'virtual-1');
  for (const r of conformant.filter((x) => /RCN-0[01]1$/.test(x.id))) {
    const [rate, recovery] = r.measurements;
    // Probes 40 s after the unanswered read, then 1, 2, 4 and every 5 min: two requests in the busiest minute, back within the 5-min cap.
    expect([rate.outcome, rate.limit?.high], r.id).toEqual(['pass', 6]);
    expect(rate.value, r.id).toBeLessThanOrEqual(3);
    expect([recovery.outcome, recovery.limit?.high], r.id).toEqual(['pass', 15]);
    expect(recovery.value, r.id).toBeLessThanOrEqual(5.1);
  }
  const storm = c.results!.cases.find((r) => r.bench === 'virtual-2' && r.id === 'IHD-RCN-001')!;
  expect(storm.reason).toMatch(/= 60 per min .* at most 6 per minute/);
  const slow = c.results!.cases.find((r) => r.bench === 'virtual-2' && r.id === 'PPMID-RCN-001')!;
  // Brought back just after a probe, it waits for the next one, 30 min on.
  expect(slow.measurements.at(-1)!.value).toBeGreaterThan(29.9);
  const topUp = conformant.find((r) => r.id === 'PPMID-RCN-003')!;
  expect(topUp.measurements.map((m) => m.name)).toContain('top-up credited after the code was keyed in');
});

test('without lab limits RCN-1 measures and says so: the storm and the late client pass, their values in the result; a case alone judges as in the suite', async () => {
  const [c, alone] = await Promise.all([
    runCampaign({ tenancy: { ...COT_CONFORMANT, ihd: 'ihd-retries-every-second', ppmid: 'ppmid-recovers-after-30min' }, grep: 'RCN-001' }),
    // Issue #12: a case establishes its own preconditions, so alone it gives the verdict it gives in the campaign.
    runCampaign({ tenancy: { ...COT_CONFORMANT, ihd: 'ihd-no-refresh-after-reconnect' }, grep: 'IHD-RCN-012', labSettings: RCN_LIMITS }),
  ]);
  expect(judgements(alone)).toEqual({ 'IHD-RCN-012': 'FAIL RCN-2' });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual({ 'IHD-RCN-001': 'PASS', 'PPMID-RCN-001': 'PASS' });
  for (const r of c.results!.cases) {
    for (const m of r.measurements) {
      expect([m.outcome, m.limit], m.name).toEqual(['info', undefined]);
      expect(m.unsetLimit, m.name).toMatch(/^reconnect(RequestRateLimitPerMinute|RecoveryMinutes)$/);
    }
    expect(r.steps.map((s) => s.name).join('\n')).toMatch(/measure-only: the lab sets no reconnectRequestRateLimitPerMinute/);
    // The PASS names what it did not judge: never a bare "every check held" over a storm.
    expect(r.reason).toMatch(
      /^every judged check held; measured, not judged: most requests of the \w+ to the out-of-reach ESME in any minute = \d+ per min \(no reconnectRequestRateLimitPerMinute set\); \w+ recovered after the ESME's return = [\d.]+ min \(no reconnectRecoveryMinutes set\)$/,
    );
  }
  const [ihd, ppmid] = ['IHD-RCN-001', 'PPMID-RCN-001'].map((id) => c.results!.cases.find((r) => r.id === id)!);
  expect(ihd.measurements[0].value).toBe(60);
  // The storm's busiest minute and the recovery name their frames, which the report marks as decisive.
  const observed = eventsOf(c, ihd).filter((e) => e.kind === 'observed') as { what?: string; frames?: number[] }[];
  expect(observed.find((e) => /busiest minute of requests/.test(e.what ?? ''))?.frames?.length).toBe(60);
  expect(observed.find((e) => /recovered/.test(e.what ?? ''))?.frames?.length).toBe(2);
  expect(ppmid.measurements[1].value).toBeGreaterThan(29.9);
});

const PROFILES = fileURLToPath(new URL('../../firmware-images/profiles/', import.meta.url));

test('every profile that breaks RCN-1, RCN-2 or RCN-3 is in the matrix, FAILed on it; every case catches one', () => {
  const broken = readdirSync(PROFILES)
    .map((f) => parse(readFileSync(PROFILES + f, 'utf8')) as { id: string; breaks: string[] })
    .filter((p) => p.breaks.some((b) => ['RCN-1', 'RCN-2', 'RCN-3'].includes(b)));
  expect(broken.map((p) => p.id).sort()).toEqual(RCN_CAUGHT_BY.map(([, profile]) => profile).sort());
  for (const p of broken) {
    const row = RCN_CAUGHT_BY.find(([, profile]) => profile === p.id)!;
    expect([...new Set(Object.values(row[2]).map((v) => v.slice(5)))], p.id).toEqual(p.breaks);
  }
  const caught = new Set(RCN_CAUGHT_BY.flatMap(([, , v]) => Object.keys(v)));
  // The IHD's top-up-free WAN case has no mutant of its own: the PPMID's catches RCN-3.
  expect(RCN_CASES.filter((id) => !caught.has(id))).toEqual(['IHD-RCN-003', 'PPMID-RCN-002', 'PPMID-RCN-012']);
});

test('under rig faults, and on a client that asks nothing while its meter is away, no RCN case FAILs, even on a mutant', async () => {
  const c = await runCampaign({
    tenancy: COT_CONFORMANT,
    grep: RCN_GREP,
    labSettings: RCN_LIMITS,
    perBench: [
      { faults: [{ kind: 'relay-silent', afterSeconds: 0 }] },
      // Twenty minutes in: the first case's ESME is out of reach and the storm is on.
      { tenancy: tenancyOf(MUTANT_BENCHES[0]), faults: [{ kind: 'sniffer-unplugged', afterSeconds: 20 * 60 }] },
      // Its only request is the Change of Tenancy poll every 48 h: nothing while the meter or the WAN is away. Its PPMID
      // reads nothing either: the top-up the rig keys in on it is no read of its own (RCN-3).
      { tenancy: { ihd: 'ihd-polls-48h', ppmid: 'ppmid-keeps-top-up-history' } },
    ],
  });
  expect(c.exitCode, c.stderr).toBe(0);
  for (const bench of ['virtual-1', 'virtual-2']) {
    const v = judgements(c, '', bench);
    expect(Object.keys(v).sort(), bench).toEqual([...RCN_CASES].sort());
    for (const [id, verdict] of Object.entries(v)) expect(verdict, `${bench} ${id}`).toMatch(/^INCONCLUSIVE/);
    for (const r of c.results!.cases.filter((x) => x.bench === bench)) expect(r.fix, r.id).toBeTruthy();
  }
  expect(judgements(c, 'IHD', 'virtual-2')['IHD-RCN-001']).toBe('INCONCLUSIVE sniffer-stopped');
  const quiet = judgements(c, 'IHD', 'virtual-3');
  for (const id of ['IHD-RCN-001', 'IHD-RCN-011', 'IHD-RCN-002', 'IHD-RCN-012', 'IHD-RCN-003'])
    expect(quiet[id], id).toBe('INCONCLUSIVE precondition-unmet');
  expect(c.results!.cases.find((r) => r.bench === 'virtual-3' && r.id === 'IHD-RCN-001')!.reason).toMatch(/no request in the 30 min/);
  const ppmid = c.results!.cases.find((r) => r.bench === 'virtual-3' && r.id === 'PPMID-RCN-003')!;
  expect([ppmid.verdict, ppmid.fault]).toEqual(['INCONCLUSIVE', 'precondition-unmet']);
  expect(ppmid.reason).toMatch(/the PPMID sent the ESME no request in the 30 min the WAN was down, so its reads cannot be seen/);
  // Its top-up was keyed in, sent and credited before: only the reads were missing.
  expect(ppmid.steps.map((st) => st.name).join('\n')).toMatch(/key a top-up code in on the PPMID/);
});
