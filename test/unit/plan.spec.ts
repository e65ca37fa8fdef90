// The campaign plan (harness/plan.ts): each case placed on its bench's timeline from its planned
// bench time, the benches in parallel, the total against the longest case — and `gbcs-rig plan`
// printing it from Playwright's own list of the cases, with durations under the rig's lab settings.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { planSvg } from '../../reports/plan-figure.ts';
import {
  benchTimeText,
  cannotShare,
  groupOf,
  heaviestApart,
  needsText,
  planCampaign,
  planLines,
  sideBySideGroups,
  type BenchNeeds,
  type CampaignPlan,
  type PlannedCase,
  type SharedActName,
} from '../../harness/plan.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, virtualRig } from '../support/campaign.ts';
import { BIN } from '../support/power-rig.ts';

const NEEDS: BenchNeeds = { powered: ['CH', 'ESME'], cycles: ['CH'], radio: true, triggers: ['change-of-tenancy'] };
const H = 3_600_000;

test('cases follow one another on their bench; the benches run side by side; the longest case is the chain', () => {
  const cases: PlannedCase[] = [
    { id: 'A', title: 'a', bench: 'b1', plannedMs: 2 * H, needs: NEEDS },
    { id: 'B', title: 'b', bench: 'b1', plannedMs: 5 * H, needs: NEEDS },
    { id: 'A', title: 'a', bench: 'b2', plannedMs: 2 * H, needs: NEEDS },
  ];
  const plan = planCampaign(cases, [
    { id: 'b1', virtual: false },
    { id: 'b2', virtual: true },
  ]);
  // Both send a Change of Tenancy: never side by side.
  expect(plan.benches[0].cases).toEqual([
    { id: 'A', startMs: 0, endMs: 2 * H, group: 0 },
    { id: 'B', startMs: 2 * H, endMs: 7 * H, group: 1 },
  ]);
  expect(plan.benches[1]).toEqual({ bench: 'b2', virtual: true, cases: [{ id: 'A', startMs: 0, endMs: 2 * H, group: 0 }], totalMs: 2 * H });
  expect(plan.totalMs).toBe(7 * H);
  expect([plan.longestChain, plan.longestChainMs]).toEqual(['B', 5 * H]);
  const lines = planLines(plan, cases, Date.UTC(2026, 11, 7, 12));
  expect(lines).toContain('bench b1: 2 cases, 7 h 00 min');
  expect(lines.join('\n')).toMatch(/B +\+2 h 00 min → +\+7 h 00 min {2}powers CH, ESME; cycles CH; radio; sends a Change of Tenancy/);
  expect(lines.join('\n')).toContain('7 h 00 min against the longest chain 5 h 00 min (B): 1.40×');
  // Only the real bench has a wall-clock end: 7 hours from the start.
  expect(lines.join('\n')).toContain('estimated end on the real bench: 2026-12-07T19:00:00.000Z');
});

/** A case of the change-of-tenancy suite file on bench b, needing what `needs` says beyond the defaults. */
const cot = (id: string, hours: number, needs: Partial<BenchNeeds>, suite = 'change-of-tenancy.spec.ts'): PlannedCase => ({
  id,
  title: id,
  bench: 'b',
  suite,
  plannedMs: hours * H,
  needs: { powered: ['CH', 'ESME'], cycles: [], radio: true, triggers: [], ...needs },
});

test('a case that needs a device the bench lacks takes no bench time there: not applicable, said so, beside no other case', () => {
  const watch = cot('IHD-COT-004', 73, { powered: ['CH', 'ESME', 'IHD'] });
  const ipan = cot('CH-IPAN-001', 1, { powered: ['CH'], cycles: ['CH'] }, 'interpan-window.spec.ts');
  const gpf = cot('GPF-COT-010', 25, {
    powered: ['CH'],
    triggers: ['change-of-tenancy'],
    shares: { act: 'change-of-tenancy:GPF', afterMs: 0 },
  });
  const chOnly = planCampaign([watch, ipan, gpf], [{ id: 'b', virtual: false, roles: ['CH'] }]);
  expect(chOnly.benches[0].cases.filter((c) => c.notApplicable)).toEqual([
    { id: 'IHD-COT-004', startMs: 0, endMs: 0, group: 0, notApplicable: 'no ESME, no IHD on the bench' },
    { id: 'GPF-COT-010', startMs: 0, endMs: 0, group: 1, notApplicable: 'no GPF on the bench' },
  ]);
  expect([chOnly.totalMs, chOnly.longestChain, chOnly.floorMs]).toEqual([H, 'CH-IPAN-001', H]);
  expect(planLines(chOnly, [watch, ipan, gpf], 0)[1]).toMatch(/^ {2}IHD-COT-004 +not applicable here: no ESME, no IHD on the bench$/);
  // A CH with its GPF runs the GPF's case; a plan that knows no roles (an older run.json) plans every case.
  const withGpf = planCampaign([watch, ipan, gpf], [{ id: 'b', virtual: false, roles: ['CH', 'GPF'] }]);
  expect(withGpf.benches[0].cases.filter((c) => c.notApplicable).map((c) => c.id)).toEqual(['IHD-COT-004']);
  expect(withGpf.totalMs).toBe(26 * H);
  expect(planCampaign([watch, ipan, gpf], [{ id: 'b', virtual: false }]).longestChain).toBe('IHD-COT-004');
  // The report's figure draws the cases that take bench time, and counts the others.
  const svg = planSvg(chOnly, []);
  expect([...svg.matchAll(/data-plan-case="([^"]+)"/g)].map((m) => m[1])).toEqual(['CH-IPAN-001--b']);
  expect(svg).toContain('bench b — 1 h 00 min planned; 2 not applicable there (the bench lacks a device they need), not drawn');
});

test.describe('cases side by side on one bench', () => {
  const ihdWatch = cot('IHD-COT-004', 73, { powered: ['CH', 'ESME', 'IHD'] });
  const ppmidWatch = cot('PPMID-COT-004', 73, { powered: ['CH', 'ESME', 'PPMID'] });
  const ihdRate = cot('IHD-COT-009', 25, { powered: ['CH', 'ESME', 'IHD'] });

  test('watching cases share the bench: they start together and the bench takes the longest of them', () => {
    const plan = planCampaign([ihdWatch, ihdRate, ppmidWatch], [{ id: 'b', virtual: true }]);
    expect(plan.benches[0].cases).toEqual([
      { id: 'IHD-COT-004', startMs: 0, endMs: 73 * H, group: 0 },
      { id: 'IHD-COT-009', startMs: 0, endMs: 25 * H, group: 0 },
      { id: 'PPMID-COT-004', startMs: 0, endMs: 73 * H, group: 0 },
    ]);
    expect(plan.totalMs).toBe(73 * H);
    expect(groupOf(plan, 'b', 'IHD-COT-009')).toEqual(['IHD-COT-004', 'IHD-COT-009', 'PPMID-COT-004']);
    expect(planLines(plan, [ihdWatch, ihdRate, ppmidWatch], 0).join('\n')).toContain('alongside IHD-COT-009, PPMID-COT-004');
    // --one-at-a-time: each holds the bench whole.
    const alone = planCampaign([ihdWatch, ihdRate, ppmidWatch], [{ id: 'b', virtual: true }], { oneAtATime: true });
    expect(alone.totalMs).toBe((73 + 25 + 73) * H);
    expect(groupOf(alone, 'b', 'IHD-COT-009')).toEqual(['IHD-COT-009']);
  });

  // Each pair that would disturb the other: never side by side, and the plan says why.
  const disturbing: [string, PlannedCase, PlannedCase, RegExp][] = [
    [
      "a CH power cycle during a 73-hour watch of the IHD's polls",
      cot('CH-IPAN-001', 1, { powered: ['CH'], cycles: ['CH'] }, 'interpan-window.spec.ts'),
      ihdWatch,
      /CH-IPAN-001 power-cycles the CH, which IHD-COT-004 keeps powered/,
    ],
    [
      'a CH power cycle in the same suite file',
      cot('X-PWR', 1, { powered: ['CH'], cycles: ['CH'] }),
      ihdWatch,
      /X-PWR power-cycles the CH, which IHD-COT-004 keeps powered/,
    ],
    [
      'an IHD power cycle during a watch of the IHD',
      cot('IHD-COT-002', 1, { powered: ['CH', 'ESME', 'IHD'], cycles: ['IHD'] }),
      ihdWatch,
      /IHD-COT-002 power-cycles the IHD/,
    ],
    [
      'an ESME power cycle during a watch of the PPMID',
      cot('PPMID-COT-003', 1, { powered: ['CH', 'ESME', 'PPMID'], cycles: ['ESME'] }),
      ihdRate,
      /power-cycles the ESME, which IHD-COT-009 keeps powered/,
    ],
    [
      'two cases that each power-cycle the ESME',
      cot('A', 1, { cycles: ['ESME'] }),
      cot('B', 1, { cycles: ['ESME'] }),
      /power-cycles the ESME, which [AB] power-cycles too/,
    ],
    [
      'a Change of Tenancy during a watch',
      cot('IHD-COT-005', 29, { powered: ['CH', 'ESME', 'IHD'], triggers: ['change-of-tenancy'] }),
      ppmidWatch,
      /sends a Change of Tenancy, which changes what every device holds under PPMID-COT-004, which sends none/,
    ],
    [
      'a client off for a Change of Tenancy during the watch of the same client around the same change',
      cot('IHD-COT-008', 4, {
        cycles: ['IHD'],
        triggers: ['change-of-tenancy'],
        shares: { act: 'change-of-tenancy:ESME', afterMs: 2 * H },
      }),
      cot('IHD-COT-005', 29, {
        powered: ['CH', 'ESME', 'IHD'],
        triggers: ['change-of-tenancy'],
        shares: { act: 'change-of-tenancy:ESME', afterMs: 2 * H },
      }),
      /IHD-COT-008 power-cycles the IHD, which IHD-COT-005 keeps powered/,
    ],
    [
      'Changes of Tenancy to different meters',
      cot('ESME-COT-010', 25, { triggers: ['change-of-tenancy'], shares: { act: 'change-of-tenancy:ESME', afterMs: 24 * H } }),
      cot('GPF-COT-010', 25, {
        powered: ['CH'],
        triggers: ['change-of-tenancy'],
        shares: { act: 'change-of-tenancy:GPF', afterMs: 24 * H },
      }),
      /sends a Change of Tenancy to the (ESME|GPF), (GPF|ESME)-COT-010 to the (GPF|ESME): each would change what the other watches/,
    ],
    [
      'a Change of Tenancy that does not say to which meter',
      cot('A', 1, { triggers: ['change-of-tenancy'] }),
      cot('B', 1, { triggers: ['change-of-tenancy'], shares: { act: 'change-of-tenancy:ESME', afterMs: H } }),
      /A sends a Change of Tenancy without saying to which meter, so none can be shared with it/,
    ],
    [
      'a Change of Tenancy beside a WAN cut, though both send a Change of Tenancy to the ESME',
      cot('A', 1, { triggers: ['change-of-tenancy'], shares: { act: 'change-of-tenancy:ESME', afterMs: H } }),
      cot('B', 1, { triggers: ['change-of-tenancy', 'wan-cut'], shares: { act: 'change-of-tenancy:ESME', afterMs: H } }),
      /B cuts the CH's WAN, which changes what every device holds under A/,
    ],
    ["the CH's WAN cut during a watch", cot('IHD-RCN-003', 1, { triggers: ['wan-cut'] }), ppmidWatch, /cuts the CH's WAN/],
    [
      'the GPF out of reach during a watch',
      cot('IHD-RCN-011', 2, { triggers: ['gpf-out-of-reach'] }),
      ppmidWatch,
      /takes the GPF out of reach/,
    ],
    [
      'a case that declares no needs',
      { id: 'OLD', title: 'old', bench: 'b', suite: 'change-of-tenancy.spec.ts', plannedMs: H },
      ihdWatch,
      /OLD has not declared what it needs/,
    ],
  ];
  for (const [what, a, b, why] of disturbing) {
    test(`never side by side: ${what}`, () => {
      expect(cannotShare(a, b)).toMatch(why);
      expect(cannotShare(b, a)).toMatch(why);
      const plan = planCampaign([a, b], [{ id: 'b', virtual: true }]);
      expect(plan.benches[0].cases.map((c) => c.group)).toEqual([0, 1]);
      expect(plan.totalMs).toBe((a.plannedMs ?? 0) + (b.plannedMs ?? 0));
    });
  }

  test('cases that send a Change of Tenancy to the same meter share one: it goes out when the last is ready, each case runs on after it', () => {
    const at = (meter: 'ESME' | 'GPF', afterMs: number) => ({
      triggers: ['change-of-tenancy' as const],
      shares: { act: `change-of-tenancy:${meter}` as const, afterMs },
    });
    const publish = cot('ESME-COT-001', 0.5, { powered: ['CH', 'ESME', 'IHD', 'PPMID'], ...at('ESME', 0.25 * H) });
    const clears = cot('IHD-COT-005', 29, { powered: ['CH', 'ESME', 'IHD'], ...at('ESME', 2 * H) });
    const logs = cot('ESME-COT-010', 25, at('ESME', 24 * H));
    const gpf = cot('GPF-COT-001', 0.5, { powered: ['CH', 'IHD', 'PPMID'], ...at('GPF', 0.25 * H) });
    for (const [a, b] of [
      [publish, clears],
      [publish, logs],
      [clears, logs],
    ])
      expect(cannotShare(a, b), `${a.id} beside ${b.id}`).toBeUndefined();
    const plan = planCampaign([publish, clears, gpf, logs], [{ id: 'b', virtual: true }]);
    // The change goes out 24 h in at the latest (ESME-COT-010's logs); each case needs its own time after it.
    expect(plan.benches[0].cases).toEqual([
      { id: 'ESME-COT-001', startMs: 0, endMs: 24.25 * H, group: 0 },
      { id: 'IHD-COT-005', startMs: 0, endMs: 51 * H, group: 0 },
      { id: 'ESME-COT-010', startMs: 0, endMs: 25 * H, group: 0 },
      { id: 'GPF-COT-001', startMs: 51 * H, endMs: 51.5 * H, group: 1 },
    ]);
    expect(plan.totalMs).toBe(51.5 * H);
    expect(planLines(plan, [publish, clears, gpf, logs], 0).join('\n')).toContain(
      'sends a Change of Tenancy to the ESME; alongside IHD-COT-005, ESME-COT-010',
    );
    // A trigger case alone plans as it always did.
    expect(planCampaign([gpf], [{ id: 'b', virtual: true }]).totalMs).toBe(0.5 * H);
  });

  // The other acts cases may share: one ESME or CH power cycle, the WAN cut, a meter out of reach (harness/shared-act.ts).
  const share = (act: SharedActName, afterMs = H) => ({ shares: { act, afterMs } });
  const esmeCycle = (role: string) =>
    cot(`${role}-COT-003`, 0.8, { powered: ['CH', 'ESME', role as 'IHD'], cycles: ['ESME'], ...share('power-cycle:ESME', 0.6 * H) });
  const chCycle = (role: 'ESME' | 'IHD' | 'PPMID', hours = 1.2) =>
    cot(`${role}-PWR-001`, hours, { powered: ['CH', role], cycles: ['CH'], ...share('power-cycle:CH', 0.5 * H) }, 'power-cycle.spec.ts');
  const rcn = (id: string, needs: Partial<BenchNeeds>) => cot(id, 2.5, needs, 'reconnect.spec.ts');
  const esmeOutage = (role: 'IHD' | 'PPMID', shared = true) =>
    rcn(`${role}-RCN-00${shared ? 2 : 1}`, { powered: ['CH', 'ESME', role], cycles: ['ESME'], ...(shared && share('outage:ESME')) });
  const gpfOutage = (role: 'IHD' | 'PPMID', shared = true) =>
    rcn(`${role}-RCN-01${shared ? 2 : 1}`, { powered: ['CH', role], triggers: ['gpf-out-of-reach'], ...(shared && share('outage:GPF')) });
  const wanCut = (role: 'IHD' | 'PPMID') =>
    rcn(`${role}-RCN-003`, { powered: ['CH', 'ESME', role], triggers: ['wan-cut'], ...share('wan-cut') });

  for (const [what, a, b] of [
    ["the IHD's and the PPMID's watch around one ESME power cycle", esmeCycle('IHD'), esmeCycle('PPMID')],
    ['two devices timed from one CH power cycle', chCycle('ESME'), chCycle('IHD')],
    ['two clients refreshing after one ESME outage', esmeOutage('IHD'), esmeOutage('PPMID')],
    ['two clients refreshing after one GPF outage', gpfOutage('IHD'), gpfOutage('PPMID')],
    ["two clients' reads through one WAN cut", wanCut('IHD'), wanCut('PPMID')],
  ] as const)
    test(`side by side when they declare it shared: ${what}`, () => {
      expect(cannotShare(a, b)).toBeUndefined();
      const plan = planCampaign([a, b], [{ id: 'b', virtual: true }]);
      expect(plan.benches[0].cases.map((c) => c.group)).toEqual([0, 0]);
      expect(needsText(a.needs)).toMatch(/shares |\(shared\)/);
    });

  for (const [what, a, b, why] of [
    [
      // RCN-1 brings the meter back just after its own client's next request: another client's return would not catch its back-off.
      "the IHD's and the PPMID's back-off, each outage ended after its own client's request",
      esmeOutage('IHD', false),
      esmeOutage('PPMID', false),
      /power-cycles the ESME, which PPMID-RCN-001 power-cycles too/,
    ],
    ['a shared GPF outage beside an unshared one', gpfOutage('IHD'), gpfOutage('PPMID', false), /takes the GPF out of reach/],
    ['a shared ESME power cycle beside a shared ESME outage', esmeCycle('IHD'), esmeOutage('PPMID'), /power-cycles the ESME/],
    [
      'a shared CH power cycle beside an inter-PAN case cycling the CH',
      chCycle('IHD'),
      cot('CH-IPAN-001', 1, { powered: ['CH'], cycles: ['CH'] }, 'power-cycle.spec.ts'),
      /power-cycles the CH/,
    ],
    ['a shared WAN cut beside a shared GPF outage', wanCut('IHD'), gpfOutage('PPMID'), /cuts the CH's WAN|takes the GPF out of reach/],
  ] as const)
    test(`never side by side: ${what}`, () => {
      expect(cannotShare(a, b)).toMatch(why);
      expect(planCampaign([a, b], [{ id: 'b', virtual: true }]).benches[0].cases.map((c) => c.group)).toEqual([0, 1]);
    });

  test('a shared act is done when the last sharer is ready: each case runs on after it for its own time', () => {
    const [esme, ihd, ppmid] = [chCycle('ESME', 1.2), chCycle('IHD', 1.7), chCycle('PPMID', 1.2)];
    // The PPMID's case may take longer to be ready (its device joins slowly, say).
    ppmid.needs!.shares = { act: 'power-cycle:CH', afterMs: 0.9 * H };
    const plan = planCampaign([esme, ihd, ppmid], [{ id: 'b', virtual: true }]);
    // The cycle comes 0.9 h in (the PPMID's longest wait before it); each then needs its time after its own 0.5 h or 0.9 h.
    expect(plan.benches[0].cases.map((c) => [c.id, c.endMs / H])).toEqual([
      ['ESME-PWR-001', 0.9 + 0.7],
      ['IHD-PWR-001', 0.9 + 1.2],
      ['PPMID-PWR-001', 0.9 + 0.3],
    ]);
  });

  test('power cycles of different devices share the bench; a case joins the first group it fits, in run order', () => {
    const ihdCycle = cot('IHD-COT-002', 1, { powered: ['CH', 'ESME', 'IHD'], cycles: ['IHD'] });
    const ppmidCycle = cot('PPMID-COT-002', 1, { powered: ['CH', 'ESME', 'PPMID'], cycles: ['PPMID'] });
    expect(cannotShare(ihdCycle, ppmidCycle)).toBeUndefined();
    const groups = sideBySideGroups([ihdCycle, ihdWatch, ppmidCycle, ppmidWatch, ihdRate]);
    // The PPMID's cycle fits beside the IHD's; the PPMID's watch beside the IHD's watch (not beside the PPMID's cycle).
    expect(groups.map((g) => g.map((c) => c.id))).toEqual([
      ['IHD-COT-002', 'PPMID-COT-002'],
      ['IHD-COT-004', 'PPMID-COT-004', 'IHD-COT-009'],
    ]);
  });
});

test.describe('the default campaign as `gbcs-rig plan --json` places it', () => {
  const { cases, plan } = JSON.parse(
    spawnSync(process.execPath, [BIN, 'plan', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, [INSTALL_CODE_ENV]: TEST_INSTALL_CODE },
    }).stdout,
  ) as { cases: PlannedCase[]; plan: CampaignPlan };
  const byId = new Map(cases.map((c) => [c.id, c]));
  const groups = [...new Set(plan.benches[0].cases.map((c) => c.group))].map((g) =>
    plan.benches[0].cases.filter((c) => c.group === g).map((c) => byId.get(c.id)!),
  );

  test('each case names the suite file that declares it (a group never spans two: the worker loads one file at a time)', () => {
    const files = ['change-of-tenancy.spec.ts', 'interpan-window.spec.ts', 'power-cycle.spec.ts', 'reconnect.spec.ts'];
    expect([...new Set(cases.map((c) => c.suite))].sort()).toEqual(files);
    expect(cases.find((c) => c.id === 'CH-IPAN-001')!.suite).toBe('interpan-window.spec.ts');
    for (const g of groups) expect(new Set(g.map((c) => c.suite)).size, g.map((c) => c.id).join()).toBe(1);
  });

  test('no two cases of a group could disturb each other, and every group starts when the one before it has ended', () => {
    expect(groups.some((g) => g.length > 1)).toBe(true);
    for (const g of groups)
      for (const a of g) for (const b of g) if (a !== b) expect(cannotShare(a, b), `${a.id} beside ${b.id}`).toBeUndefined();
    const spans = groups.map((g) => plan.benches[0].cases.filter((c) => g.some((m) => m.id === c.id)));
    for (let i = 1; i < spans.length; i++) {
      expect(new Set(spans[i].map((c) => c.startMs)).size).toBe(1);
      expect(spans[i][0].startMs).toBe(Math.max(...spans[i - 1].map((c) => c.endMs)));
    }
  });

  test('every power cycle and every bench-wide trigger holds the bench alone, but for cases that declared they share that act', () => {
    for (const g of groups)
      for (const c of g)
        if (c.needs!.cycles.length > 0 || c.needs!.triggers.length > 0)
          for (const m of g.filter(
            (x) => x !== c && (x.needs!.powered.some((r) => c.needs!.cycles.includes(r)) || c.needs!.triggers.length),
          ))
            expect(m.needs!.shares?.act, `${m.id} beside ${c.id}`).toBe(c.needs!.shares!.act);
    // The ESME's trigger cases but the two whose client is off for the change share one; so do the GPF's, and those two.
    expect(groupOf(plan, 'virtual-1', 'ESME-COT-010')).toEqual([
      'ESME-COT-001',
      'IHD-COT-005',
      'PPMID-COT-005',
      'ESME-COT-006',
      'ESME-COT-010',
    ]);
    expect(groupOf(plan, 'virtual-1', 'GPF-COT-010')).toEqual(['GPF-COT-001', 'GPF-COT-010']);
    expect(groupOf(plan, 'virtual-1', 'IHD-COT-008')).toEqual(['IHD-COT-008', 'PPMID-COT-008']);
  });

  test("the 73-hour watches of the IHD's and the PPMID's polls share one span", () => {
    expect(groupOf(plan, 'virtual-1', 'IHD-COT-004')).toContain('PPMID-COT-004');
    expect(plan.totalMs).toBeLessThan(cases.reduce((t, c) => t + (c.plannedMs ?? 0), 0));
  });
});

test('bench time reads in days, hours and minutes; a case without declared needs says so', () => {
  expect([benchTimeText(0), benchTimeText(12 * 60_000), benchTimeText(3 * H + 5 * 60_000), benchTimeText(73 * H + 30_000)]).toEqual([
    '0 min',
    '12 min',
    '3 h 05 min',
    '3 d 01 h 01 min',
  ]);
  expect(needsText(undefined)).toBe('needs not declared');
  expect(needsText({ powered: [], cycles: [], radio: false, triggers: [] })).toBe('');
});

test.describe('gbcs-rig plan', () => {
  const rigWith = (labSettings?: Record<string, number>) => {
    const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-plan-'));
    const file = join(dir, 'rig.yaml');
    writeFileSync(file, stringify({ ...virtualRig({ benches: 2 }), ...(labSettings && { labSettings }) }));
    return file;
  };
  const plan = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'plan', ...args], {
      encoding: 'utf8',
      env: { ...process.env, [INSTALL_CODE_ENV]: TEST_INSTALL_CODE },
    });
  /** As a lab plans away from its bench: the rig's secrets not in the environment. */
  const planWithoutSecrets = (...args: string[]) => {
    const { [INSTALL_CODE_ENV]: _, ...env } = process.env;
    return spawnSync(process.execPath, [BIN, 'plan', ...args], { encoding: 'utf8', env });
  };

  test("places Playwright's cases in run order, with their durations under the rig file's lab settings", () => {
    const json = (settings?: Record<string, number>) => {
      const r = plan('--rig', rigWith(settings), '--grep', 'CH-IPAN-00[12]', '--bench', 'virtual-2', '--json');
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { cases: PlannedCase[]; plan: ReturnType<typeof planCampaign> };
    };
    const byDefault = json();
    expect(byDefault.cases.map((c) => [c.id, c.bench])).toEqual([
      ['CH-IPAN-001', 'virtual-2'],
      ['CH-IPAN-002', 'virtual-2'],
    ]);
    expect(byDefault.cases[0].needs).toEqual({ powered: ['CH'], cycles: ['CH'], radio: true, triggers: [] });
    // CH-IPAN-001 waits out the window (60 min) and its steps (5 min); a 30-minute window makes it 35.
    expect(byDefault.cases[0].plannedMs).toBe(65 * 60_000);
    expect(json({ interPanWindowMinutes: 30 }).cases[0].plannedMs).toBe(35 * 60_000);
    const [first, second] = byDefault.plan.benches[0].cases;
    expect(second.startMs).toBe(first.endMs);
    expect(byDefault.plan.totalMs).toBe(second.endMs);
  });

  test("prints the schedule in words, without the rig's secrets; a --grep that matches nothing is a usage error naming the cases", () => {
    const r = planWithoutSecrets('--rig', rigWith(), '--grep', 'CH-IPAN-001');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('gbcs-rig plan: station test station, 2 cases on virtual-1, virtual-2');
    expect(r.stdout).toMatch(
      /bench virtual-2 \(virtual\): 1 case, 1 h 05 min\n {2}CH-IPAN-001 +\+0 min → +\+1 h 05 min {2}powers CH; cycles CH; radio/,
    );
    const none = plan('--rig', rigWith(), '--grep', 'NO-SUCH-CASE');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--grep NO-SUCH-CASE: matches no case; the cases: .*CH-IPAN-001/);
  });
});

test('the floor: no placement takes less than the heaviest set of cases that pairwise disturb each other', () => {
  const watch = cot('IHD-COT-004', 73, { powered: ['CH', 'ESME', 'IHD'] });
  const rate = cot('IHD-COT-009', 25, { powered: ['CH', 'ESME', 'IHD'] });
  const tenancy = cot('IHD-COT-005', 29, { powered: ['CH', 'ESME', 'IHD'], triggers: ['change-of-tenancy'] });
  const chCycle = cot('CH-PWR-002', 1, { powered: ['CH'], cycles: ['CH'] });
  const plan = planCampaign([watch, tenancy, rate, chCycle], [{ id: 'b', virtual: true }]);
  // The watch and the rate watch share; the trigger and the CH cycle disturb both and each other.
  expect(plan.apart).toEqual({ b: ['IHD-COT-004', 'IHD-COT-005', 'CH-PWR-002'] });
  expect(plan.floorMs).toBe((73 + 29 + 1) * H);
  expect(plan.totalMs).toBe(plan.floorMs);
  expect(planLines(plan, [watch, tenancy, rate, chCycle], 0).join('\n')).toContain(
    'no placement under these rules takes less than 4 d 07 h 00 min (1.41×): 3 cases that pairwise disturb each other, one after another' +
      ' (IHD-COT-004, IHD-COT-005, CH-PWR-002)',
  );
  expect(planCampaign([tenancy, chCycle], [{ id: 'b', virtual: true }]).floorMs).toBe(30 * H);
});

test('the floor counts cases that disturb each other though each could share with some other case', () => {
  // Two ESME power cycles (each beside an IHD power cycle, which they do not touch) and a PPMID watch beside the IHD's cycles.
  const esmeA = cot('A', 10, { cycles: ['ESME'] });
  const esmeB = cot('B', 10, { cycles: ['ESME'] });
  const ihdCycle = cot('C', 2, { powered: ['CH', 'IHD'], cycles: ['IHD'] });
  const plan = planCampaign([esmeA, ihdCycle, esmeB], [{ id: 'b', virtual: true }]);
  // None holds the bench alone (each shares with C), yet A and B cycle the same ESME: 20 h at the least.
  for (const x of [esmeA, esmeB]) expect(cannotShare(x, ihdCycle)).toBeUndefined();
  expect(plan.floorMs).toBe(20 * H);
  expect(plan.apart).toEqual({ b: ['A', 'B'] });
  expect(plan.totalMs).toBe(20 * H);
  // The search keeps the heaviest set: with weights from elsewhere (the time each case took, say) it picks by those.
  expect(heaviestApart([esmeA, ihdCycle, esmeB], (c) => (c.id === 'C' ? 50 : 1)).map((c) => c.id)).toEqual(['C']);
});
