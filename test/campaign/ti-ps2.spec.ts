// The IPAN suite on a virtual bench whose sniffer is a TI Packet Sniffer 2 LaunchPad (`kind:
// ti-ps2`): every frame the verdicts rest on crosses the TI firmware's binary packets, driver and
// twin, and the verdicts are those the nRF sniffer gives (test/campaign/ipan-matrix.spec.ts holds
// the nRF campaign to the same table, so it is not run again here).
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign, verdicts } from '../support/campaign.ts';
import { IPAN_CAUGHT_BY, IPAN_CONFORMANT_VERDICTS } from '../support/matrix.ts';

const TI = { sniffer: { kind: 'ti-ps2' } };
const BROKEN = 'ch-window-45min';

const events = (dir: string, caseId: string) =>
  readFileSync(join(dir, 'evidence', `${caseId}--virtual-1`, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; [field: string]: unknown });

test("the IPAN suite with a ti-ps2 sniffer gives the nRF sniffer's verdicts, on the conformant CH and on one that breaks IPAN-1", async () => {
  // Two campaigns side by side, on a shared machine.
  test.setTimeout(300_000);
  const [conformant, broken] = await Promise.all([
    runCampaign({ ...TI, grep: 'CH-IPAN' }),
    runCampaign({ ...TI, firmware: BROKEN, grep: IPAN_CAUGHT_BY[BROKEN][0] }),
  ]);
  expect(conformant.exitCode, conformant.stderr).toBe(0);
  expect(verdicts(conformant)).toEqual(IPAN_CONFORMANT_VERDICTS);
  expect(verdicts(broken)).toEqual({ [IPAN_CAUGHT_BY[BROKEN][0]]: `FAIL ${IPAN_CAUGHT_BY[BROKEN][1]}` });
  // The verdicts rest on frames the TI sniffer heard, and nothing it sent was unreadable.
  const log = events(conformant.dir, 'CH-IPAN-001');
  expect(log.filter((e) => e.kind === 'frame' && e.sniffer === 'han').length).toBeGreaterThan(0);
  expect(log.filter((e) => e.kind === 'sniffer-line-unread')).toEqual([]);
});

test('a ti-ps2 sniffer that sends garbage mid-case, or is unplugged, makes the case INCONCLUSIVE, never FAIL', async () => {
  test.setTimeout(300_000);
  // 30 minutes in: CH-IPAN-001 is waiting for its 59:00 probe.
  const [garbled, unplugged] = await Promise.all(
    (['sniffer-garbage', 'sniffer-unplugged'] as const).map((kind) =>
      runCampaign({ ...TI, grep: 'CH-IPAN-001', faults: [{ kind, afterSeconds: 30 * 60 }], labSettings: { relayConfirmSeconds: 0.5 } }),
    ),
  );
  for (const c of [garbled, unplugged]) {
    expect(c.exitCode, c.stderr).toBe(0);
    expect(verdicts(c)).toEqual({ 'CH-IPAN-001': 'INCONCLUSIVE' });
  }
  expect(garbled.results!.cases[0].reason).toMatch(/could not be read as frames|defective packets in a row/);
  expect(unplugged.results!.cases[0].reason).toMatch(/sniffer han/);
  // Each defective packet is evidence, with its bytes.
  expect(events(garbled.dir, 'CH-IPAN-001').filter((e) => e.kind === 'sniffer-line-unread').length).toBeGreaterThan(0);
});
