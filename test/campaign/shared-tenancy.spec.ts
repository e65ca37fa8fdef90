// One Change of Tenancy shared by the cases side by side that each send one to the same meter (issue #15): every
// verdict and judged measurement is the one the case gives holding the bench alone (`--one-at-a-time`) on the
// conformant devices, and every mutant a trigger case must catch is caught side by side, each on a bench of its own
// (cot-matrix catches each alone) — in less bench time.
import { test, expect } from '@playwright/test';
import { judgements } from '../support/matrix.ts';
import { benchSpan, both, cotBenches, eventsOf, expectEachCaught, expectSameVerdicts, results } from '../support/side-by-side.ts';

test.describe.configure({ mode: 'default', timeout: 10 * 60_000 });

/** The COT cases that send a Change of Tenancy: COT-001 (ESME, GPF), COT-005, COT-006, COT-010 (ESME, GPF), COT-008. */
const TRIGGER_CASES = /COT-00[1568]$|COT-010$/;
const GREP = 'COT-00[1568]|COT-010';
/** The conformant devices, then every mutant a trigger case must catch, each on a bench of its own. */
const BENCHES = cotBenches((caseId) => TRIGGER_CASES.test(caseId));
const runs = both({ perBench: BENCHES.map(({ tenancy }) => ({ tenancy })), grep: GREP }, { aloneOnFirst: true });
const { merged, alone } = runs;

test('the trigger cases sharing one Change of Tenancy give every verdict and judgement they give alone, and catch every mutant', async () => {
  const { m } = await expectSameVerdicts(runs);
  for (const [i, { name }] of BENCHES.entries()) {
    const v = judgements(m, '', `virtual-${i + 1}`);
    expect(Object.keys(v).length, `${name}: ${JSON.stringify(v)}`).toBe(9);
  }
  expectEachCaught(m, BENCHES);
  // A GPF case's verdict is the GPF's: its own address and firmware, not those of the CH it lives in.
  for (const i of BENCHES.keys()) {
    const cases = results(m, `virtual-${i + 1}`);
    for (const id of ['GPF-COT-001', 'GPF-COT-010']) {
      // The CH is …:a2 on each bench (test/support/campaign.ts), its GPF …:a3.
      expect(cases.find((r) => r.id === id)!.device, id).toMatchObject({
        id: 'ch-gpf',
        role: 'GPF',
        ieee: expect.stringMatching(/:a3$/),
        firmware: BENCHES[i].tenancy.gpf,
      });
    }
  }
});

test('one Change of Tenancy per meter: sent by one case, taken by the others, at the same trigger and implementation times', async () => {
  const m = await merged();
  const conformant = results(m, 'virtual-1');
  const esmeGroup = ['ESME-COT-001', 'IHD-COT-005', 'PPMID-COT-005', 'ESME-COT-006', 'ESME-COT-010'];
  for (const group of [esmeGroup, ['GPF-COT-001', 'GPF-COT-010'], ['IHD-COT-008', 'PPMID-COT-008']]) {
    const sent = group.flatMap((id) => {
      const r = conformant.find((x) => x.id === id)!;
      expect(r.alongside, id).toEqual(group.filter((x) => x !== id));
      return eventsOf(m, r)
        .filter((e) => e.kind === 'tenancy-trigger' || e.kind === 'tenancy-shared')
        .map((e) => ({ id, ...e }));
    });
    // One trigger for the group, from its first case; every other case says with whom it shared it, and when.
    const triggers = sent.filter((e) => e.kind === 'tenancy-trigger');
    expect(triggers.map((e) => e.id)).toEqual([group[0]]);
    const taken = sent.filter((e) => e.kind === 'tenancy-shared' && e.sharedWith);
    expect(taken.map((e) => e.id)).toEqual(group.slice(1));
    expect(new Set(taken.map((e) => e.sharedWith))).toEqual(new Set([group[0]]));
    expect(new Set(taken.map((e) => e.implementationUtc))).toEqual(new Set([triggers[0].implementationUtc]));
  }
});

test('sharing the Change of Tenancy cuts the bench time of the trigger cases (results.json, bench time)', async () => {
  const [m, a] = await Promise.all([merged(), alone()]);
  const [side, sequential] = [benchSpan(m, 'virtual-1'), benchSpan(a, 'virtual-1')];
  console.log(
    `trigger cases on the conformant devices: ${(side / 3_600_000).toFixed(1)} h side by side, ${(sequential / 3_600_000).toFixed(1)} h one at a time`,
  );
  // Alone, the nine cases take about 71 h on these devices; sharing, about 35 h: the 29-hour COT-005s and what runs beside them.
  expect(side).toBeLessThan(sequential / 2);
});
