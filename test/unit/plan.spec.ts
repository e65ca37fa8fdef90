// The campaign plan (harness/plan.ts): each case placed on its bench's timeline from its planned
// bench time, the benches in parallel, the total against the longest case — and `gbcs-rig plan`
// printing it from Playwright's own list of the cases, with durations under the rig's lab settings.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { benchTimeText, needsText, planCampaign, planLines, type BenchNeeds, type PlannedCase } from '../../harness/plan.ts';
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
  expect(plan.benches[0].cases).toEqual([
    { id: 'A', startMs: 0, endMs: 2 * H },
    { id: 'B', startMs: 2 * H, endMs: 7 * H },
  ]);
  expect(plan.benches[1]).toEqual({ bench: 'b2', virtual: true, cases: [{ id: 'A', startMs: 0, endMs: 2 * H }], totalMs: 2 * H });
  expect(plan.totalMs).toBe(7 * H);
  expect([plan.longestChain, plan.longestChainMs]).toEqual(['B', 5 * H]);
  const lines = planLines(plan, cases, Date.UTC(2026, 11, 7, 12));
  expect(lines).toContain('bench b1: 2 cases, 7 h 00 min');
  expect(lines.join('\n')).toMatch(/B +\+2 h 00 min → +\+7 h 00 min {2}powers CH, ESME; cycles CH; radio; sends a Change of Tenancy/);
  expect(lines.join('\n')).toContain('7 h 00 min against the longest chain 5 h 00 min (B): 1.40×');
  // Only the real bench has a wall-clock end: 7 hours from the start.
  expect(lines.join('\n')).toContain('estimated end on the real bench: 2026-12-07T19:00:00.000Z');
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
