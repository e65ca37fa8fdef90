// The console's view of a run as it goes: one line per case as it ends, with its verdict (not
// Playwright's pass/fail: a FAIL verdict is a result the rig expected to be able to give).
import type { FullConfig, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { benchOf, caseResultOf } from './results-reporter.ts';

export default class VerdictListReporter implements Reporter {
  private total = 0;
  private done = 0;

  onBegin(_config: FullConfig, suite: Suite): void {
    this.total = suite.allTests().length;
    process.stdout.write(`${this.total} case(s) to run\n`);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    this.done++;
    const c = caseResultOf(test, result);
    const n = `[${this.done}/${this.total}]`;
    if (!c) {
      process.stdout.write(
        `${n} NO VERDICT     ${test.title} on bench ${benchOf(test) ?? '?'} (${result.status}${result.error?.message ? `: ${result.error.message.split('\n')[0]}` : ''})\n`,
      );
      return;
    }
    const why = c.verdict === 'PASS' ? '' : ` — ${c.reason}`;
    process.stdout.write(`${n} ${c.verdict.padEnd(14)} ${c.id} on ${c.bench} (${Math.round(result.duration / 100) / 10} s)${why}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
