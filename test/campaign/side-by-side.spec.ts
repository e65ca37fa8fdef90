// Cases side by side on one bench (issue #15): the planner's groups run at once on the same devices,
// and every verdict is the one the case gives holding the bench alone (`--one-at-a-time`) — on the
// conformant devices and on every mutant a grouped case must catch — in a fraction of the bench time.
import { test, expect } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../harness/case.ts';
import type { CaseResult } from '../../harness/case.ts';
import { type Campaign, type CampaignOptions, once, runCampaign } from '../support/campaign.ts';
import { COT_CAUGHT_BY, COT_CONFORMANT, OTA_CAUGHT_BY, OTA_GREP, OTA_MUTANTS, judgements } from '../support/matrix.ts';

test.describe.configure({ mode: 'default', timeout: 6 * 60_000 });

/** The COT cases the planner puts side by side: the power-up polls of both clients, the 73-hour and rate watches of both. */
const COT_GROUPED = 'COT-00[2349]';
/** Every mutant one of those cases must catch, each on a bench of its own, after the conformant devices — but the flooder (below). */
const COT_BENCHES = [
  { name: 'conformant', caseId: '', requirement: '', tenancy: COT_CONFORMANT },
  ...COT_CAUGHT_BY.filter(([, profile, caseId]) => /COT-00[249]$/.test(caseId) && profile !== 'ihd-polls-every-second').map(
    ([device, profile, caseId, requirement]) => ({ name: profile, caseId, requirement, tenancy: { ...COT_CONFORMANT, [device]: profile } }),
  ),
];
/** A flooder of a poll every second is watched by the rate case only (COT-009 ends at its first busy minute), beside the PPMID's watches. */
const FLOODER = 'ihd-polls-every-second';

/** One grouping, run with cases side by side and again one at a time. */
function both(options: CampaignOptions): { merged: () => Promise<Campaign>; alone: () => Promise<Campaign> } {
  return { merged: once(() => runCampaign(options)), alone: once(() => runCampaign({ ...options, oneAtATime: true })) };
}
const cot = both({ perBench: COT_BENCHES.map(({ tenancy }) => ({ tenancy })), grep: COT_GROUPED });
const flooder = both({ tenancy: { ...COT_CONFORMANT, ihd: FLOODER }, grep: 'IHD-COT-009|PPMID-COT-00[49]' });
const ota = both({ perBench: [{ tenancy: COT_CONFORMANT }, { tenancy: OTA_MUTANTS }], grep: OTA_GREP });

const results = (c: Campaign, bench: string): CaseResult[] => (c.results?.cases ?? []).filter((r) => r.bench === bench);
const benchesOf = (c: Campaign) => [...new Set((c.results?.cases ?? []).map((r) => r.bench))].sort();

/** What a case measured, as a verdict rests on it: each measurement's name, unit, limit and outcome (its value moves with the device's jitter at another bench time). */
const judged = (r: CaseResult) => r.measurements.map((m) => ({ name: m.name, unit: m.unit, limit: m.limit, outcome: m.outcome }));

/** Both runs gave every case of every bench the same verdict and the same judged measurements; the merged one ran groups side by side. */
async function expectSameVerdicts({ merged, alone }: ReturnType<typeof both>): Promise<{ m: Campaign; a: Campaign }> {
  const [m, a] = await Promise.all([merged(), alone()]);
  expect(m.exitCode, m.stderr).toBe(0);
  expect(a.exitCode, a.stderr).toBe(0);
  expect(benchesOf(m)).toEqual(benchesOf(a));
  for (const bench of benchesOf(m)) {
    expect(judgements(m, '', bench), `bench ${bench}`).toEqual(judgements(a, '', bench));
    for (const r of results(m, bench)) {
      const same = results(a, bench).find((x) => x.id === r.id)!;
      expect(judged(r), `${r.id} on ${bench}`).toEqual(judged(same));
      expect(same.alongside, `${r.id} alone`).toBeUndefined();
    }
  }
  expect(m.results!.cases.some((r) => (r.alongside?.length ?? 0) > 0)).toBe(true);
  return { m, a };
}

/** Bench time from the first case's start to the last one's end on a bench. */
const benchSpan = (c: Campaign, bench: string) => {
  const rs = results(c, bench);
  return Math.max(...rs.map((r) => Date.parse(r.endedAt))) - Math.min(...rs.map((r) => Date.parse(r.startedAt)));
};

test('the COT cases side by side give every verdict and judgement they give alone, on the conformant devices and each mutant they catch', async () => {
  const { m, a } = await expectSameVerdicts(cot);
  for (const [i, { name, caseId, requirement }] of COT_BENCHES.entries()) {
    const v = judgements(m, '', `virtual-${i + 1}`);
    if (caseId) expect(v[caseId], `${name}: ${JSON.stringify(v)}`).toBe(`FAIL ${requirement}`);
    else
      expect(
        Object.values(v).every((x) => x === 'PASS'),
        JSON.stringify(v),
      ).toBe(true);
  }
  // The 73-hour watches and the rate watches of both clients started together, and each says with which cases.
  const conformant = results(m, 'virtual-1');
  const watch = conformant.find((r) => r.id === 'IHD-COT-004')!;
  expect(watch.alongside).toEqual(['IHD-COT-009', 'PPMID-COT-004', 'PPMID-COT-009']);
  for (const id of watch.alongside!) expect(conformant.find((r) => r.id === id)!.startedAt).toBe(watch.startedAt);
  // The whole set in about its longest case (the 73-hour watch), where one at a time takes the sum.
  const longest = Math.max(...conformant.map((r) => Date.parse(r.endedAt) - Date.parse(r.startedAt)));
  const [side, sequential] = [benchSpan(m, 'virtual-1'), benchSpan(a, 'virtual-1')];
  expect(side / longest).toBeLessThan(1.1);
  expect(sequential / longest).toBeGreaterThan(2);
});

test('a flooding IHD is caught side by side as alone, and the PPMID watched beside it still passes', async () => {
  const { m } = await expectSameVerdicts(flooder);
  expect(judgements(m)).toEqual({ 'IHD-COT-009': 'FAIL COT-9', 'PPMID-COT-004': 'PASS', 'PPMID-COT-009': 'PASS' });
});

test('the OTA cases of the IHD and the PPMID run side by side with the verdicts they give alone', async () => {
  const { m } = await expectSameVerdicts(ota);
  expect(judgements(m, '', 'virtual-2')).toEqual(Object.assign({}, ...OTA_CAUGHT_BY.map(([, , v]) => v)));
  expect(results(m, 'virtual-1').every((r) => r.alongside?.length === 1)).toBe(true);
});

test('cases side by side, and cases sharing a Change of Tenancy, are deterministic: the same seed gives byte-identical evidence', async () => {
  const hashes = (c: Campaign) =>
    Object.fromEntries(
      readdirSync(join(c.dir, 'evidence')).flatMap((d) =>
        readdirSync(join(c.dir, 'evidence', d))
          .filter((f) => f.endsWith('.pcapng') || f === 'events.jsonl')
          .map((f) => [`${d}/${f}`, sha256File(join(c.dir, 'evidence', d, f))]),
      ),
    );
  // The whole COT suite: the watches side by side, and the cases sharing one Change of Tenancy per meter.
  const run = () => runCampaign({ tenancy: COT_CONFORMANT, grep: 'COT', seed: 11 });
  const [x, y] = [await run(), await run()];
  expect(x.results!.cases.filter((r) => r.alongside).length).toBe(15);
  expect(x.results!.cases.filter((r) => r.verdict === 'PASS').length).toBe(17);
  expect(Object.keys(hashes(x)).length).toBeGreaterThanOrEqual(34);
  expect(hashes(x)).toEqual(hashes(y));
});
