import { defineConfig } from '@playwright/test';
import { availableParallelism } from 'node:os';

// The project's own tests. Conformance suites run through `gbcs-rig run`, with their own config.
export default defineConfig({
  testDir: 'test',
  timeout: 120_000,
  fullyParallel: true,
  // Half the cores, but never fewer than two: Playwright's default gives a 2-core CI machine one
  // worker, and the campaign tests spend much of their time waiting on their child runs.
  workers: Math.max(2, Math.floor(availableParallelism() / 2)),
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['./test/summary-reporter.ts']],
  projects: [
    { name: 'unit', testDir: 'test/unit' },
    { name: 'oracle', testDir: 'test/oracle' },
    { name: 'campaign', testDir: 'test/campaign' },
  ],
});
