import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

// Prints the closing line CI reads: `N passed, N failed[, N skipped]`, counting each test once (its last retry).
export default class SummaryReporter implements Reporter {
  private readonly outcomes = new Map<string, 'passed' | 'failed' | 'skipped'>();

  onTestEnd(test: TestCase, result: TestResult): void {
    const outcome = test.outcome();
    if (outcome === 'skipped') this.outcomes.set(test.id, 'skipped');
    else if (outcome === 'expected' || outcome === 'flaky') this.outcomes.set(test.id, 'passed');
    else if (result.status !== 'skipped' || outcome === 'unexpected') this.outcomes.set(test.id, 'failed');
  }

  onEnd(_result: FullResult): void {
    let passed = 0,
      failed = 0,
      skipped = 0;
    for (const o of this.outcomes.values()) {
      if (o === 'passed') passed++;
      else if (o === 'failed') failed++;
      else skipped++;
    }
    console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
