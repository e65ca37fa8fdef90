// report.pdf from report.html, rendered by Chromium (Debian's `chromium`, driven through
// playwright-core with an executablePath: nothing is downloaded). No Chromium: said plainly.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from '@playwright/test';

/** Where Chromium is looked for: GBCS_RIG_CHROMIUM first, then Debian's and other usual paths. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return [env.GBCS_RIG_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
    (p): p is string => !!p && existsSync(p),
  );
}

/** Flags for a headless Chromium on a closed network, as root. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type PdfOutcome = { written: true; file: string } | { written: false; reason: string };

export async function renderPdf(htmlFile: string, pdfFile: string): Promise<PdfOutcome> {
  const executablePath = findChromium();
  if (!executablePath)
    return {
      written: false,
      reason:
        "no Chromium found (install Debian's chromium, or set GBCS_RIG_CHROMIUM to its path); report.html and everything else were written",
    };
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlFile).href);
    await page.pdf({
      path: pdfFile,
      format: 'A4',
      printBackground: true,
      margin: { top: '14mm', bottom: '14mm', left: '12mm', right: '12mm' },
    });
    return { written: true, file: pdfFile };
  } finally {
    await browser.close();
  }
}
