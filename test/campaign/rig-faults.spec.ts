// A rig fault is never a device failure: with the relay silent or reporting the wrong state, the
// broker gone, the sniffer unplugged or sending garbage, the radio mute, the devices dead or the
// evidence disk full, the cases it touches end INCONCLUSIVE with what to fix, and none FAILs.
import { test, expect } from '@playwright/test';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { caseIds, runCampaign, verdicts, type Campaign } from '../support/campaign.ts';

const FAST = { relayConfirmSeconds: 0.5 };

test('a relay that never confirms makes every case INCONCLUSIVE', async () => {
  const c = await runCampaign({ faults: [{ kind: 'relay-silent', afterSeconds: 0 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(
    Object.values(v).filter((x) => x.startsWith('FAIL')),
    JSON.stringify(v),
  ).toEqual([]);
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
  expect(
    Object.values(v).filter((x) => x.startsWith('FAIL')),
    JSON.stringify(v),
  ).toEqual([]);
  const inconclusive = c.results!.cases.filter((r) => r.verdict === 'INCONCLUSIVE');
  expect(inconclusive.length).toBeGreaterThan(0);
  expect(inconclusive.map((r) => r.reason).join('\n')).toMatch(/broker|MQTT|offline|unreachable/i);
  // Noticed by the watchdog during a wait, not at the next switch of a relay.
  expect(inconclusive.map((r) => r.reason).join('\n')).toMatch(/broker is down \(watching the relay\)/);
});

test('a sniffer unplugged mid-test makes the case INCONCLUSIVE, never FAIL', async () => {
  // 30 minutes in: CH-IPAN-001 is waiting for its 59:00 probe.
  const c = await runCampaign({ faults: [{ kind: 'sniffer-unplugged', afterSeconds: 30 * 60 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(v['CH-IPAN-001'], JSON.stringify(v)).toBe('INCONCLUSIVE');
  expect(
    Object.values(v).filter((x) => x.startsWith('FAIL')),
    JSON.stringify(v),
  ).toEqual([]);
  expect(c.results!.cases.find((r) => r.id === 'CH-IPAN-001')!.reason).toMatch(/sniffer/i);
});

const TENANCY = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant', gpf: 'gpf-conformant' };

test('Change of Tenancy cases: a relay that never confirms makes them INCONCLUSIVE, never FAIL', async () => {
  const c = await runCampaign({ tenancy: TENANCY, grep: 'COT', faults: [{ kind: 'relay-silent', afterSeconds: 0 }], labSettings: FAST });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(Object.keys(v).length).toBeGreaterThanOrEqual(13);
  expect(
    Object.entries(v).filter(([, x]) => x !== 'INCONCLUSIVE'),
    JSON.stringify(v),
  ).toEqual([]);
});

test('Change of Tenancy cases: a change that never reaches the meter makes every case that triggers one INCONCLUSIVE, never FAIL', async () => {
  // Even on meters that never publish and keep their logs: without the change arriving, nothing they do proves a fault.
  const c = await runCampaign({
    tenancy: { ...TENANCY, esme: 'esme-never-publishes' },
    grep: 'COT-0(01|05|06|08)|COT-010',
    faults: [{ kind: 'tenancy-lost', afterSeconds: 0 }],
    labSettings: FAST,
  });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(Object.keys(v).sort()).toEqual([
    'ESME-COT-001',
    'ESME-COT-006',
    'ESME-COT-010',
    'GPF-COT-001',
    'GPF-COT-010',
    'IHD-COT-005',
    'IHD-COT-008',
    'PPMID-COT-005',
    'PPMID-COT-008',
  ]);
  expect(
    Object.entries(v).filter(([, x]) => x !== 'INCONCLUSIVE'),
    JSON.stringify(v),
  ).toEqual([]);
  for (const r of c.results!.cases) expect(r.reason, r.id).toMatch(/neither holds the implementation time sent/);
});

test('Change of Tenancy cases: a sniffer unplugged mid-campaign fails no device', async () => {
  // Three hours in: during IHD-COT-004's watch of poll periods.
  const c = await runCampaign({
    tenancy: TENANCY,
    grep: 'COT',
    faults: [{ kind: 'sniffer-unplugged', afterSeconds: 3 * 3600 }],
    labSettings: FAST,
  });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(
    Object.values(v).filter((x) => x.startsWith('FAIL')),
    JSON.stringify(v),
  ).toEqual([]);
  expect(Object.values(v).filter((x) => x === 'INCONCLUSIVE').length, JSON.stringify(v)).toBeGreaterThan(0);
});

/** Every case has a verdict, none FAILs, and each one that is not PASS says why and what to fix. */
function noFailEachExplained(c: Campaign, reason: RegExp): void {
  expect(c.exitCode, c.stderr).toBe(0);
  expect(c.results?.missing, 'cases without a verdict').toEqual([]);
  const v = verdicts(c);
  expect(
    Object.entries(v).filter(([, x]) => x.startsWith('FAIL') || x === 'ERROR'),
    JSON.stringify(v, null, 1),
  ).toEqual([]);
  const inconclusive = c.results!.cases.filter((r) => r.verdict === 'INCONCLUSIVE');
  expect(inconclusive.length, JSON.stringify(v, null, 1)).toBeGreaterThan(0);
  for (const r of inconclusive) {
    expect(r.reason, r.id).toMatch(reason);
    expect(r.fix, r.id).toBeTruthy();
  }
}

// The whole campaign (inter-PAN and Change of Tenancy cases together) on a bench with every device.
test.describe.configure({ timeout: 5 * 60_000 });
// Relays get 2 s to confirm: long enough under a loaded test machine, so every INCONCLUSIVE is the fault's.
const EVERY_CASE = { tenancy: TENANCY, labSettings: { relayConfirmSeconds: 2 } };
// Half an hour in: the cases that finish by then PASS, the ones running or starting later meet the fault.
const MID_RUN = 30 * 60;
// Faults that cost real seconds per case (a relay's or the radio's answer awaited): one case of each kind of device and suite.
const SAMPLE = 'ESME-COT-001|IHD-COT-00[23]|PPMID-COT-002|CH-IPAN-00[126]|ESME-PWR-001|CH-PWR-002';

test('a relay reporting the wrong state makes the cases that switch it INCONCLUSIVE, never FAIL', async () => {
  const c = await runCampaign({ ...EVERY_CASE, grep: SAMPLE, faults: [{ kind: 'relay-wrong-state', afterSeconds: MID_RUN }] });
  noFailEachExplained(c, /reported (ON|OFF) and never (ON|OFF).*contradicts the command|no confirmation of (ON|OFF)/);
  // The campaign's first case (the Change of Tenancy suite runs first) ends before the fault strikes.
  expect(verdicts(c)['ESME-COT-001'], 'switched before the fault').toBe('PASS');
});

test('a sniffer sending garbage: unreadable lines are counted and logged, void every absence, and a sniffer sending only garbage is a rig fault', async () => {
  const c = await runCampaign({ ...EVERY_CASE, faults: [{ kind: 'sniffer-garbage', afterSeconds: MID_RUN }] });
  noFailEachExplained(c, /could not be read as frames.*absence proves nothing|lines in a row that are neither frames nor answers/);
  // Each case meets the garbage from its start and stops at the first unread line; a sniffer sending nothing
  // else (16 in a row) is the unit tests' (test/unit/sniffer.spec.ts).
  const garbled = c.results!.cases.find((r) => /could not be read as frames/.test(r.reason))!;
  const events = readFileSync(join(c.dir, 'evidence', `${garbled.id}--${garbled.bench}`, 'events.jsonl'), 'utf8');
  expect(events, 'each unread line is logged as evidence').toMatch(
    /"kind":"sniffer-line-unread".*"reason":"a \\"received:\\" line that does not match/,
  );
});

test('a rig radio that stops answering makes the cases that transmit INCONCLUSIVE, never FAIL', async () => {
  const c = await runCampaign({ ...EVERY_CASE, grep: SAMPLE, faults: [{ kind: 'radio-silent', afterSeconds: MID_RUN }] });
  noFailEachExplained(c, /^rig radio: no answer to "/);
});

test('devices that stop transmitting are never failed: every case that rests on their silence is INCONCLUSIVE', async () => {
  // They die a second after the bench starts: before each case has powered them on.
  const c = await runCampaign({ ...EVERY_CASE, faults: [{ kind: 'device-dead', afterSeconds: 1 }] });
  noFailEachExplained(c, /not heard|nothing was heard|no answer|not answer|answered none/i);
  // Heard before judged: every case that needed a device it could not hear says so.
  expect(
    c
      .results!.cases.filter((r) => r.verdict === 'INCONCLUSIVE' && r.fault !== 'dut-not-heard' && r.fault !== 'tenancy-not-delivered')
      .map((r) => `${r.id}: ${r.reason}`),
  ).toEqual([]);
});

test('a full evidence disk (ENOSPC): each case ends INCONCLUSIVE, what was written is kept, and the run says so', async () => {
  const ids = caseIds();
  expect(ids.length).toBeGreaterThan(20);
  // Every case's capture file is /dev/full: its writes fail with ENOSPC, as on a full disk.
  const c = await runCampaign({
    ...EVERY_CASE,
    beforeRun: (out) => {
      for (const id of ids) {
        const dir = join(out, 'evidence', `${id}--virtual-1`);
        mkdirSync(dir, { recursive: true });
        symlinkSync('/dev/full', join(dir, 'han.pcapng'));
      }
    },
  });
  noFailEachExplained(c, /cannot write han\.pcapng: ENOSPC: no space left on device.*what was written before is kept/);
  const ran = c.results!.cases.filter((r) => r.verdict !== 'NOT APPLICABLE');
  expect(ran.map((r) => r.verdict).filter((x) => x !== 'INCONCLUSIVE')).toEqual([]);
  for (const r of ran) {
    expect(r.fix, r.id).toMatch(/evidence disk is full/);
    const dir = join(c.dir, 'evidence', `${r.id}--${r.bench}`);
    expect(existsSync(join(dir, 'result.json')), r.id).toBe(true);
    // The event log was written to the end, and is still evidence; the capture that failed is not.
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8'), r.id).toMatch(/"kind":"case-start"[\s\S]*"kind":"verdict"/);
    expect(
      r.evidence.map((e) => e.file),
      r.id,
    ).toEqual(['events.jsonl']);
  }
  expect(c.stdout, 'the run prints each case with its reason').toMatch(/INCONCLUSIVE\s+CH-IPAN-001 .*ENOSPC/);
});

test("a device's relay switched by something other than the rig mid-watch makes the watch INCONCLUSIVE, not the device's FAIL", async () => {
  // 30 h into IHD-COT-004's 73-hour watch the IHD's relay button is pressed: the IHD goes dark, its polls stop.
  const pressed = { kind: 'relay-toggled' as const, device: 'ihd', afterSeconds: 30 * 3600 };
  const [c, quiet] = await Promise.all([
    runCampaign({ tenancy: TENANCY, grep: 'IHD-COT-004', faults: [pressed] }),
    runCampaign({ tenancy: TENANCY, grep: 'IHD-COT-004' }),
  ]);
  expect(verdicts(quiet)).toEqual({ 'IHD-COT-004': 'PASS' });
  noFailEachExplained(
    c,
    /^tasmota \S+ POWER\d: reported OFF \(.+\) at 2026-01-02T06:00:00.000Z though the rig last switched it ON: something other than the rig/,
  );
  const r = c.results!.cases[0];
  expect(r.fix).toMatch(/only controller/);
  // The silence that follows would have read as the IHD's (it was heard in its power period): the relay's report says why.
  const events = readFileSync(join(c.dir, 'evidence', `${r.id}--${r.bench}`, 'events.jsonl'), 'utf8');
  expect(events).toMatch(/"kind":"frame"/);
  expect(Date.parse(r.endedAt) - Date.parse(r.startedAt)).toBeLessThan(31 * 3600_000);
});
