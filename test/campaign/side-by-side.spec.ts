// Cases side by side on one bench (issue #15): the planner's groups run at once on the same devices,
// and every verdict is the one the case gives holding the bench alone (`--one-at-a-time`) on the conformant
// devices; every mutant a grouped case must catch is caught side by side too (cot-matrix catches each alone) —
// in a fraction of the bench time.
import { test, expect } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../harness/case.ts';
import { type Campaign, runCampaign } from '../support/campaign.ts';
import { COT_CONFORMANT, OTA_CAUGHT_BY, OTA_GREP, OTA_MUTANTS, judgements } from '../support/matrix.ts';
import { benchSpan, both, cotBenches, eventsOf, expectEachCaught, expectSameVerdicts, results } from '../support/side-by-side.ts';

test.describe.configure({ mode: 'default', timeout: 6 * 60_000 });

/** The COT cases the planner puts side by side: the power-up polls of both clients, the 73-hour and rate watches of both. */
const COT_GROUPED = 'COT-00[2349]';
/** A flooder of a poll every second is watched by the rate case only (COT-009 ends at its first busy minute), beside the PPMID's watches. */
const FLOODER = 'ihd-polls-every-second';
/** Every mutant one of those cases must catch, each on a bench of its own, after the conformant devices — but the flooder. */
const COT_BENCHES = cotBenches((caseId) => /COT-00[249]$/.test(caseId), [FLOODER]);

const cot = both({ perBench: COT_BENCHES.map(({ tenancy }) => ({ tenancy })), grep: COT_GROUPED }, { aloneOnFirst: true });
const flooder = both({ tenancy: { ...COT_CONFORMANT, ihd: FLOODER }, grep: 'IHD-COT-009|PPMID-COT-00[49]' });
const ota = both({ perBench: [{ tenancy: COT_CONFORMANT }, { tenancy: OTA_MUTANTS }], grep: OTA_GREP });

test('the COT cases side by side give every verdict and judgement they give alone on the conformant devices, and catch each mutant', async () => {
  const { m, a } = await expectSameVerdicts(cot);
  expectEachCaught(m, COT_BENCHES);
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
  // The FAIL names the polls of its busiest minute (the watch ends at the first minute over the limit), which the
  // report then marks as decisive: as many as the measurement counted.
  const flooded = results(m, 'virtual-1').find((r) => r.id === 'IHD-COT-009')!;
  const cited = eventsOf(m, flooded).find(
    (e) => e.kind === 'observed' && (e as { what?: string }).what === 'the polls of the busiest minute',
  ) as { polls: number; frames: number[] } | undefined;
  expect(flooded.measurements[0].value).toBeGreaterThan(1);
  expect([cited?.polls, cited?.frames.length]).toEqual([flooded.measurements[0].value, flooded.measurements[0].value]);
});

test('the OTA cases of the IHD and the PPMID run side by side with the verdicts they give alone', async () => {
  const { m } = await expectSameVerdicts(ota);
  expect(judgements(m, '', 'virtual-2')).toEqual(Object.assign({}, ...OTA_CAUGHT_BY.map(([, , v]) => v)));
  expect(results(m, 'virtual-1').every((r) => r.alongside?.length === 1)).toBe(true);
});

test('cases side by side, and cases sharing an act, are deterministic: the same seed gives byte-identical evidence', async () => {
  const hashes = (c: Campaign) =>
    Object.fromEntries(
      readdirSync(join(c.dir, 'evidence')).flatMap((d) =>
        readdirSync(join(c.dir, 'evidence', d))
          .filter((f) => f.endsWith('.pcapng') || f === 'events.jsonl')
          .map((f) => [`${d}/${f}`, sha256File(join(c.dir, 'evidence', d, f))]),
      ),
    );
  // The whole COT suite (the watches side by side, one Change of Tenancy per meter, one ESME power cycle), the PWR cases
  // sharing one CH power cycle, and the RCN cases sharing one outage per meter and one WAN cut.
  const run = () => runCampaign({ tenancy: COT_CONFORMANT, grep: 'COT|PWR|RCN-00[23]|RCN-012', seed: 11 });
  const [x, y] = [await run(), await run()];
  expect(x.results!.cases.filter((r) => r.alongside).length).toBe(27);
  // run.json names each case's suite file (the runner takes a file's cases together).
  expect(new Set(x.results!.run.planned!.map((p) => p.suite))).toEqual(
    new Set(['change-of-tenancy.spec.ts', 'power-cycle.spec.ts', 'reconnect.spec.ts']),
  );
  expect(x.results!.cases.filter((r) => r.verdict === 'PASS').length).toBe(27);
  expect(Object.keys(hashes(x)).length).toBeGreaterThanOrEqual(54);
  expect(hashes(x)).toEqual(hashes(y));
});
