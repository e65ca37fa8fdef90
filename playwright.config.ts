import { defineConfig } from '@playwright/test';

// The project's own tests. Conformance suites run through `gbcs-rig run`, with their own config.
export default defineConfig({
  testDir: 'test',
  timeout: 120_000,
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['./test/summary-reporter.ts']],
  projects: [
    { name: 'unit', testDir: 'test/unit' },
    { name: 'oracle', testDir: 'test/oracle' },
    { name: 'campaign', testDir: 'test/campaign' },
  ],
});
