// A relay vendor and a sniffer kind the checkout does not have, added through the registries alone
// (test/support/fake-kinds.ts: a driver, a virtual twin and a registry row each, imported through
// GBCS_RIG_REGISTER), run a whole `gbcs-rig run` campaign with the verdicts of the built-in ones.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGISTER_ENV } from '../../rigs/register.ts';
import { runCampaign, verdicts } from '../support/campaign.ts';

const FAKE_KINDS = fileURLToPath(new URL('../support/fake-kinds.ts', import.meta.url));
const CASES = 'CH-IPAN-00[12]';
// Spelled out, not imported: this process must not register the fake kinds itself.
const FAKE = { chRelay: { vendor: 'fake-outlets', strip: 'strip-1', outlet: 3 }, sniffer: { kind: 'fake-binary' } };

const events = (dir: string, caseId: string) =>
  readFileSync(join(dir, 'evidence', `${caseId}--virtual-1`, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; [field: string]: unknown });

test("a fake relay vendor and a fake byte-framed sniffer kind, registered alone, run a campaign with the built-in kinds' verdicts", async () => {
  // Two campaigns side by side, on a shared machine.
  test.setTimeout(300_000);
  const [builtIn, added] = await Promise.all([
    runCampaign({ grep: CASES }),
    runCampaign({ grep: CASES, ...FAKE, env: { [REGISTER_ENV]: FAKE_KINDS } }),
  ]);
  expect(builtIn.exitCode, builtIn.stderr).toBe(0);
  expect(added.exitCode, added.stderr).toBe(0);
  expect(verdicts(added)).toEqual(verdicts(builtIn));
  expect(verdicts(added)['CH-IPAN-001']).toBe('PASS');
  // The CH was powered through the fake strip's outlet, and the verdict rests on frames the fake sniffer heard.
  const log = events(added.dir, 'CH-IPAN-001');
  expect(log.filter((e) => e.kind === 'power-confirmed').map((e) => e.relay)).toContain('fake-outlets strip-1 outlet 3');
  expect(log.filter((e) => e.kind === 'frame').length).toBeGreaterThan(0);
});

test('without the registration, a rig naming the fake kinds is refused before anything moves, naming the known ones', async () => {
  const refused = await runCampaign({ grep: CASES, ...FAKE });
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr).toContain('benches[0].relays[0].vendor = "fake-outlets": expected one of "tasmota", "shelly-gen2"');
  expect(refused.stderr).toContain('benches[0].sniffers[0].kind = "fake-binary": expected one of "nrf802154", "ti-ps2", "ot-rcp"');
});
