// report.pdf (reports/pdf.ts): a PDF that cannot be made is said, with the reason and the report's size,
// never thrown — the run's other outputs and its signed manifest must not depend on it.
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, renderPdf } from '../../reports/pdf.ts';

test('a PDF Chromium cannot write is reported as not written, with the reason, not thrown', async () => {
  test.skip(!findChromium(), 'no Chromium on this machine');
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-pdf-'));
  const html = join(dir, 'report.html');
  writeFileSync(html, '<html><body><h1>report</h1></body></html>');
  const made = await renderPdf(html, join(dir, 'report.pdf'));
  expect(made).toEqual({ written: true, file: join(dir, 'report.pdf') });
  // Beneath a file, where no folder can be made: Chromium lays the page out, then cannot write it.
  const failed = await renderPdf(html, join(html, 'report.pdf'));
  expect(failed.written).toBe(false);
  expect(!failed.written && failed.reason).toMatch(
    /^Chromium could not make a PDF of report\.html \(0\.0 MB\): .+; report\.html and everything else were written$/,
  );
});
