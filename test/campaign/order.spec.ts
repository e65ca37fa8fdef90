// Order independence, as CI can afford it: every inter-PAN case of the CH whose verdicts once
// depended on the cases before it (a window only at the first power-on) judges alone as it does in
// the whole suite. `npm run bench:order-independence` runs every profile, the conformant ones too.
import { test, expect } from '@playwright/test';
import { measureOrder, orderRows } from '../../bench/order-independence.ts';

test('IPAN cases alone give the verdicts they give in the campaign: ch-no-reopen-on-power-cycle', async () => {
  test.setTimeout(5 * 60_000);
  const rows = orderRows().filter((r) => /^ch-no-reopen-on-power-cycle \(IPAN suite\)$/.test(r.name));
  expect(rows.length).toBe(1);
  const { compared, differences } = await measureOrder(rows, 2);
  expect(compared).toBe(7);
  expect(differences).toEqual([]);
});
