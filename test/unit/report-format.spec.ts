// Numbers as the report prints them: an uncertainty at two significant digits in the time unit that
// reads best, a value rounded to the digit its uncertainty speaks for, margins with their unit.
import { test, expect } from '@playwright/test';
import { measure } from '../../harness/measurements.ts';
import { decidingMeasurement, keyMeasurement } from '../../reports/html.ts';
import { renderJunit } from '../../reports/junit.ts';
import { uncertaintyText, valueText } from '../../reports/format.ts';

test('an uncertainty reads in the unit that gives it a whole part, at two significant digits', () => {
  expect(uncertaintyText(5 / 60, 'min')).toBe('±5 s');
  expect(uncertaintyText(1 / 60 / 1e6, 'min')).toBe('±1 µs');
  expect(uncertaintyText(0.25, 'h')).toBe('±15 min');
  expect(uncertaintyText(1.23456, 's')).toBe('±1.2 s');
  expect(uncertaintyText(90, 's')).toBe('±1.5 min');
  expect(uncertaintyText(0, 'min')).toBe('±0 min');
  // A unit that is not a time stays as it is.
  expect(uncertaintyText(0.123456, 'per min')).toBe('±0.12 per min');
});

test('a value is rounded to the last digit its uncertainty speaks for, in its own unit', () => {
  expect(valueText(59.016666666666666, 5 / 60, 'min')).toBe('59.017 min');
  expect(valueText(1081.0000001, 0.5, 'min')).toBe('1081 min');
  expect(valueText(0.30000000000000004, undefined, 'per min')).toBe('0.3 per min');
  expect(valueText(-0.9833333333, 1 / 60, 'min')).toBe('-0.983 min');
  expect(valueText(undefined, 1, 'min')).toBe('');
});

test('the JUnit measurement line uses the same readable numbers, the margin with its unit', () => {
  const m = measure('window end after power-on', 61.016666666666666, 'min', 5 / 60, { high: 60, text: '≤ 60 min (IPAN-1)' });
  const xml = renderJunit({
    schema: 'gbcs-rig/results@1',
    run: { id: 'r', rig: '', station: '', startedAt: '', endedAt: '', gbcsRig: '' },
    cases: [
      {
        id: 'CH-IPAN-001',
        role: 'CH',
        area: 'a',
        title: 't',
        requirements: ['IPAN-1'],
        references: [],
        requirement: 'r',
        verdict: 'FAIL',
        reason: '',
        bench: 'b',
        plannedMs: 1,
        startedAt: '2026-01-01T00:00:00Z',
        endedAt: '2026-01-01T01:00:00Z',
        steps: [],
        measurements: [m],
        evidence: [],
      } as never,
    ],
    totals: { PASS: 0, FAIL: 1, INCONCLUSIVE: 0, 'NOT APPLICABLE': 0, ERROR: 0 },
    missing: [],
  });
  expect(xml).toContain('window end after power-on = 61.017 min ±5 s vs ≤ 60 min (IPAN-1), margin -1.017 min → fail');
});

test('the measurement that decided a verdict: the failed one for a FAIL, the undecided one for an INCONCLUSIVE, none for an observation', () => {
  const timing = measure('probe time', 59, 'min', 0.05, { high: 60, text: '≤ 60 min' });
  const rate = measure('poll rate', 60, 'per min', 0, { high: 1, text: '≤ 1 per min' });
  const close = measure('window end', 60.01, 'min', 0.05, { high: 60, text: '≤ 60 min' });
  const c = (verdict: string, measurements: ReturnType<typeof measure>[]) => ({ verdict, measurements }) as never;
  expect(decidingMeasurement(c('FAIL', [timing, rate]))).toBe(rate);
  expect(keyMeasurement(c('FAIL', [timing, rate]))).toBe(rate);
  // A FAIL an observation decided (a refusal heard on air) shows no passing measurement as its key.
  expect(decidingMeasurement(c('FAIL', [timing]))).toBeUndefined();
  expect(keyMeasurement(c('FAIL', [timing]))).toBeUndefined();
  expect(decidingMeasurement(c('INCONCLUSIVE', [timing, close]))).toBe(close);
  expect(decidingMeasurement(c('PASS', [timing]))).toBeUndefined();
  expect(keyMeasurement(c('PASS', [timing]))).toBe(timing);
});
