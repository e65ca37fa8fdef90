// What the report states beyond the verdicts: deviations from the method and a conclusion per device.
import { test, expect } from '@playwright/test';
import type { CaseResult } from '../../harness/case.ts';
import { brokerAddress } from '../../harness/test-equipment.ts';
import type { DeviceUnderTest } from '../../reports/audit.ts';
import type { RunResults } from '../../reports/results.ts';
import { interpretingSettings } from '../../rigs/lab-settings.ts';
import { deviations, deviceConclusions, pageFurniture, reportId, virtualBenches } from '../../reports/statement.ts';

const run = {
  id: '2026-12-07T10-00-00-000Z',
  rig: 'lab.yaml',
  station: 'Station 2 / Room 4',
  startedAt: '',
  endedAt: '',
  gbcsRig: '0.1.0',
};
const device = (id: string, bench = 'bench-1', manufacturer = 'Acme'): DeviceUnderTest =>
  ({
    id,
    bench,
    role: 'IHD',
    ieee: '00:00:00:00:00:00:00:01',
    firmware: `${id}-fw`,
    claims: [],
    cases: [],
    manufacturer,
  }) as DeviceUnderTest;
const result = (id: string, verdict: string, extra: Partial<CaseResult> = {}): CaseResult =>
  ({ id, verdict, bench: 'bench-1', device: { id: 'ihd' }, requirements: ['COT-3'], ...extra }) as unknown as CaseResult;

test('the report id names the station and the run', () => {
  expect(reportId(run)).toBe('GBCS-RIG-Station-2-Room-4-2026-12-07T10-00-00-000Z');
});

test('deviations: lab settings the rig file moved from their default, and cases that never got a verdict', () => {
  const results = {
    run: {
      ...run,
      labSettings: {
        interPanBoundaryMarginSeconds: { value: 30, source: 'rig file' },
        cotPollPeriodHours: { value: 24, source: 'rig file' }, // set, but to the default: no deviation
        reconnectRecoveryMinutes: { value: null, source: 'default' },
        rejoinLimitMinutes: { value: 15, source: 'default' },
      },
    },
    missing: ['CH-IPAN-004 … on bench bench-1'],
  } as unknown as RunResults;
  expect(deviations(results)).toEqual([
    {
      what: 'lab setting interPanBoundaryMarginSeconds',
      detail: expect.stringMatching(/^30 s instead of the default 60 s \(IPAN-1, IPAN-2, IPAN-3; default: /),
    },
    { what: 'case not run to its end', detail: 'CH-IPAN-004 … on bench bench-1: no verdict (the rig stopped)' },
  ]);
  expect(deviations({ run, missing: [] } as unknown as RunResults)).toEqual([]);
});

test('deviations: a value measured against no limit (the lab set none) and a --grep selection are named, with the cases', () => {
  const rate = (value: number) => ({
    name: 'most requests in any minute',
    value,
    unit: 'per min',
    unsetLimit: 'reconnectRequestRateLimitPerMinute',
  });
  const results = {
    run: { ...run, grep: 'RCN-001' },
    cases: [
      result('IHD-RCN-001', 'PASS', { measurements: [rate(60)] } as Partial<CaseResult>),
      result('PPMID-RCN-001', 'PASS', { measurements: [rate(2)] } as Partial<CaseResult>),
    ],
    missing: [],
  } as unknown as RunResults;
  expect(deviations(results)).toEqual([
    {
      what: 'measured, not judged',
      detail:
        'no reconnectRequestRateLimitPerMinute set (RCN-1), so the value was measured and shown but judged against no limit: ' +
        'IHD-RCN-001 on bench-1: 60 per min; PPMID-RCN-001 on bench-1: 2 per min',
    },
    { what: 'cases selected', detail: "only the suites' cases matching --grep RCN-001 were run (2 cases); the others were not" },
  ]);
  // The device's conclusion is only as wide as what was judged.
  const c = deviceConclusions([device('ihd')], results.cases)[0];
  expect(c.conclusion).toBe('conforms');
  expect(c.text).toBe(
    'Conforms to the requirements tested (COT-3); measured but not judged, as the lab set no reconnectRequestRateLimitPerMinute (see Deviations); nothing is said of requirements not tested.',
  );
});

test('a conclusion per device: a FAIL says which requirement, an INCONCLUSIVE leaves it open, PASS and N/A conform only to what was tested', () => {
  const ihd = device('ihd');
  const at = (cases: CaseResult[]) => deviceConclusions([ihd], cases)[0];
  const failed = at([result('IHD-COT-004', 'FAIL', { failedRequirement: 'COT-3' }), result('IHD-COT-009', 'INCONCLUSIVE')]);
  expect([failed.conclusion, failed.text]).toEqual(['does not conform', 'Does not conform: it failed COT-3.']);
  const open = at([result('IHD-COT-004', 'PASS'), result('IHD-COT-009', 'INCONCLUSIVE')]);
  expect(open.conclusion).toBe('not established');
  expect(open.text).toMatch(/^Conformance not established: IHD-COT-009 ended without a PASS or FAIL/);
  const good = at([
    result('IHD-COT-004', 'PASS'),
    result('IHD-COT-002', 'PASS', { requirements: ['COT-2'] }),
    result('IHD-COT-007', 'NOT APPLICABLE'),
  ]);
  expect(good).toMatchObject({ conclusion: 'conforms', counts: { PASS: 2, 'NOT APPLICABLE': 1 } });
  expect(good.text).toBe('Conforms to the requirements tested (COT-2, COT-3); nothing is said of requirements not tested.');
  // Another bench's device with the same id is not this one.
  expect(deviceConclusions([device('ihd', 'bench-2')], [result('IHD-COT-004', 'FAIL')])[0].conclusion).toBe('conforms');
});

test('a simulated bench is named on every PDF page; a real one carries only the header line', () => {
  const results = {
    run: {
      ...run,
      lab: 'Example Lab',
      endedAt: '2026-12-08T01:00:00Z',
      benches: [
        { id: 'bench-1', virtual: false },
        { id: 'sim', virtual: true },
      ],
    },
  } as unknown as RunResults;
  const f = pageFurniture(results, [device('ihd'), device('ch', 'sim')]);
  expect(f.header).toBe(`Example Lab · report ${reportId(results.run)} · DUT IHD ihd, IHD ch · 2026-12-08`);
  expect(f.warning).toBe('Results from a simulated bench (sim) — not a device test');
  const real = pageFurniture({ run: { ...results.run, benches: [{ id: 'bench-1', virtual: false }] } } as unknown as RunResults, [
    device('ihd'),
  ]);
  expect(real.warning).toBeUndefined();
  // Runs that did not record their benches: the virtual bench's firmware says it.
  expect(virtualBenches(run, [device('ihd', 'virtual-1', 'gbcs-rig virtual'), device('esme')])).toEqual(['virtual-1']);
});

test('the lab settings that read silent or disputed text are named for the cases that serve their requirements', () => {
  expect(interpretingSettings(['COT-4', 'COT-5']).map((s) => s.setting)).toEqual(['cotImplementationTime']);
  expect(interpretingSettings(['PWR-2']).map((s) => s.setting)).toEqual(['deviceLogSurvivesPowerCycle']);
  expect(interpretingSettings(['IPAN-1', 'COT-3'])).toEqual([]);
});

test('the broker is named by its address, never its credentials', () => {
  expect(brokerAddress('mqtts://station-2:correct%20horse@broker.lab.example:8883')).toBe('mqtts://broker.lab.example:8883');
  expect(brokerAddress('embedded')).toBe('embedded');
});
