import { expect, test } from '@playwright/test';
import { workersFor } from '../../harness/run-context.ts';

// How many benches a run drives at once: every real bench, and the virtual ones at most one per core.
test('every real bench gets a worker; virtual benches at most one per core', () => {
  expect(workersFor([false, false, false], 2)).toBe(3);
  expect(workersFor(Array(25).fill(true), 2)).toBe(2);
  expect(workersFor([true], 8)).toBe(1);
  expect(workersFor([false, true, true, true], 2)).toBe(3);
  expect(workersFor([], 2)).toBe(1);
});
