// A rig fault is never a device failure: with the relay silent, the broker gone or the sniffer
// unplugged mid-test, the cases it touches end INCONCLUSIVE with what to fix, and none FAILs.
import { test, expect } from '@playwright/test';
import { runCampaign, verdicts } from '../support/campaign.ts';

const FAST = { relayConfirmSeconds: 0.5 };

test('a relay that never confirms makes every case INCONCLUSIVE', async () => {
  const c = await runCampaign({ faults: [{ kind: 'relay-silent', afterSeconds: 0 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(Object.values(v).filter((x) => x.startsWith('FAIL')), JSON.stringify(v)).toEqual([]);
  expect(v['CH-IPAN-001']).toBe('INCONCLUSIVE');
  const first = c.results!.cases.find((r) => r.id === 'CH-IPAN-001')!;
  expect(first.reason).toMatch(/did not confirm|confirm/i);
  expect(first.fix).toBeTruthy();
});

test('the broker going away mid-campaign makes the cases after it INCONCLUSIVE, never FAIL', async () => {
  // 2 hours of virtual time: CH-IPAN-001 and part of CH-IPAN-002 have run by then.
  const c = await runCampaign({ faults: [{ kind: 'broker-down', afterSeconds: 2 * 3600 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(v['CH-IPAN-001']).toBe('PASS');
  expect(Object.values(v).filter((x) => x.startsWith('FAIL')), JSON.stringify(v)).toEqual([]);
  const inconclusive = c.results!.cases.filter((r) => r.verdict === 'INCONCLUSIVE');
  expect(inconclusive.length).toBeGreaterThan(0);
  expect(inconclusive.map((r) => r.reason).join('\n')).toMatch(/broker|MQTT|offline|unreachable/i);
});

test('a sniffer unplugged mid-test makes the case INCONCLUSIVE, never FAIL', async () => {
  // 30 minutes in: CH-IPAN-001 is waiting for its 59:00 probe.
  const c = await runCampaign({ faults: [{ kind: 'sniffer-unplugged', afterSeconds: 30 * 60 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(v['CH-IPAN-001'], JSON.stringify(v)).toBe('INCONCLUSIVE');
  expect(Object.values(v).filter((x) => x.startsWith('FAIL')), JSON.stringify(v)).toEqual([]);
  expect(c.results!.cases.find((r) => r.id === 'CH-IPAN-001')!.reason).toMatch(/sniffer/i);
});

const TENANCY = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant', gpf: 'gpf-conformant' };

test('Change of Tenancy cases: a relay that never confirms makes them INCONCLUSIVE, never FAIL', async () => {
  const c = await runCampaign({ tenancy: TENANCY, grep: 'COT', faults: [{ kind: 'relay-silent', afterSeconds: 0 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(Object.keys(v).length).toBeGreaterThanOrEqual(13);
  expect(Object.entries(v).filter(([, x]) => x !== 'INCONCLUSIVE'), JSON.stringify(v)).toEqual([]);
});

test('Change of Tenancy cases: a change that never reaches the meter makes every case that triggers one INCONCLUSIVE, never FAIL', async () => {
  // Even on meters that never publish and keep their logs: without the change arriving, nothing they do proves a fault.
  const c = await runCampaign({ tenancy: { ...TENANCY, esme: 'esme-never-publishes' }, grep: 'COT-0(01|05|06|08)|COT-010', faults: [{ kind: 'tenancy-lost', afterSeconds: 0 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(Object.keys(v).sort()).toEqual(['ESME-COT-001', 'ESME-COT-006', 'ESME-COT-010', 'GPF-COT-001', 'GPF-COT-010', 'IHD-COT-005', 'IHD-COT-008', 'PPMID-COT-005', 'PPMID-COT-008']);
  expect(Object.entries(v).filter(([, x]) => x !== 'INCONCLUSIVE'), JSON.stringify(v)).toEqual([]);
  for (const r of c.results!.cases) expect(r.reason, r.id).toMatch(/neither holds the implementation time sent/);
});

test('Change of Tenancy cases: a sniffer unplugged mid-campaign fails no device', async () => {
  // Three hours in: during IHD-COT-004's watch of poll periods.
  const c = await runCampaign({ tenancy: TENANCY, grep: 'COT', faults: [{ kind: 'sniffer-unplugged', afterSeconds: 3 * 3600 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(Object.values(v).filter((x) => x.startsWith('FAIL')), JSON.stringify(v)).toEqual([]);
  expect(Object.values(v).filter((x) => x === 'INCONCLUSIVE').length, JSON.stringify(v)).toBeGreaterThan(0);
});
