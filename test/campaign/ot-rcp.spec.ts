// The inter-PAN window suite and a Change of Tenancy case on a virtual bench whose rig radio and
// sniffer are OpenThread RCPs (`kind: ot-rcp`): the harness drives them through the Spinel drivers,
// byte for byte against the emulated ot-rcp firmware, and reaches the default kinds' verdicts.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign, verdicts } from '../support/campaign.ts';

const CASES = 'CH-IPAN|ESME-COT-006';
const TENANCY = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant' };
const OT_RCP = { radio: { kind: 'ot-rcp' }, sniffer: { kind: 'ot-rcp' } };

const events = (dir: string, caseId: string) =>
  readFileSync(join(dir, 'evidence', `${caseId}--virtual-1`, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; [field: string]: unknown });

test('IPAN and ESME-COT-006 with an ot-rcp rig radio and sniffer reach the verdicts of the default kinds', async () => {
  // Two campaigns side by side, on a shared machine.
  test.setTimeout(600_000);
  const [builtIn, rcp] = await Promise.all([
    runCampaign({ grep: CASES, tenancy: TENANCY }),
    runCampaign({ grep: CASES, tenancy: TENANCY, ...OT_RCP }),
  ]);
  expect(builtIn.exitCode, builtIn.stderr).toBe(0);
  expect(rcp.exitCode, rcp.stderr).toBe(0);
  const got = verdicts(rcp);
  expect(got).toEqual(verdicts(builtIn));
  expect(Object.keys(got).filter((id) => id.startsWith('CH-IPAN')).length).toBeGreaterThanOrEqual(6);
  expect(got['CH-IPAN-001']).toBe('PASS');
  expect(got['ESME-COT-006']).toBe('PASS');
  // The HHT transmitted through STREAM_RAW and the RCP sniffer heard it: its frames are the case's evidence.
  const log = events(rcp.dir, 'ESME-COT-006');
  expect(log.filter((e) => e.kind === 'radio-tx').length).toBeGreaterThan(0);
  expect(log.filter((e) => e.kind === 'frame').length).toBeGreaterThan(0);
  expect(log.filter((e) => e.kind === 'sniffer-line-unread')).toEqual([]);
});
