// `run` checks each bench as `gbcs-rig check` does before its first case: a bench that fails the
// check gets every case INCONCLUSIVE at once, with the fault's kind and its fix, and no case touches it.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign, verdicts } from '../support/campaign.ts';

test('a bench whose relay does not answer the pre-check gets its cases INCONCLUSIVE at once, with the reason and the fix', async () => {
  const c = await runCampaign({
    grep: 'CH-IPAN-00[12]',
    faults: [{ kind: 'relay-silent', afterSeconds: 0 }],
    labSettings: { relayConfirmSeconds: 0.5 },
  });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c)).toEqual({ 'CH-IPAN-001': 'INCONCLUSIVE', 'CH-IPAN-002': 'INCONCLUSIVE' });
  for (const r of c.results!.cases) {
    expect(r.fault).toBe('relay-unconfirmed');
    expect(r.reason).toMatch(
      /^bench virtual-1 pre-check: relay ch-power \(powers ch\): relay-unconfirmed: .*no confirmation of state query/,
    );
    expect(r.fix).toMatch(/Tasmota device/);
    // Refused before it began: the case never switched a relay nor sent a frame.
    const events = readFileSync(join(c.dir, 'evidence', `${r.id}--virtual-1`, 'events.jsonl'), 'utf8');
    expect(events).toMatch(/"verdict"/);
    expect(events).not.toMatch(/"power-|"radio-tx"/);
  }
});
