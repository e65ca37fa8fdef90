// report.pdf from report.html, rendered by Chromium (Debian's `chromium`, driven through
// playwright-core with an executablePath: nothing is downloaded). No Chromium: said plainly.
import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from '@playwright/test';
import { escapeText as e } from './escape.ts';

/** Where Chromium is looked for when GBCS_RIG_CHROMIUM is not set: Debian's and other usual paths. */
const USUAL_CHROMIUMS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** GBCS_RIG_CHROMIUM when set (and only that: a wrong path never falls back to another browser), else the first usual path there. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GBCS_RIG_CHROMIUM) return existsSync(env.GBCS_RIG_CHROMIUM) ? env.GBCS_RIG_CHROMIUM : undefined;
  return USUAL_CHROMIUMS.find((p) => existsSync(p));
}

/** What is wrong with GBCS_RIG_CHROMIUM, if it names no file: commands refuse it before they start. */
export function chromiumProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.GBCS_RIG_CHROMIUM;
  if (!given || existsSync(given)) return undefined;
  return `GBCS_RIG_CHROMIUM=${given}: no such file; set it to Chromium's path, or unset it to use the first of ${USUAL_CHROMIUMS.join(', ')}`;
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

/** What every page of the PDF carries: a header line (lab, report id, devices, date) and, for a simulated bench, the warning. */
export interface PageFurniture {
  header: string;
  /** Printed in bold on every page, e.g. that the results come from a simulated bench. */
  warning?: string;
}

/** Chromium's header and footer templates: its own `pageNumber` / `totalPages` fill "page X of Y". Sizes must be set: the templates start at 0. */
export function pageTemplates(f: PageFurniture): { headerTemplate: string; footerTemplate: string } {
  const style = 'font-family: system-ui, sans-serif; font-size: 8px; width: 100%; margin: 0 12mm; color: #333;';
  const warning = f.warning
    ? `<div style="font-weight: 700; color: #6b3f00; background: #fff3cd; text-align: center; padding: 1px 0;">${e(f.warning)}</div>`
    : '';
  return {
    headerTemplate: `<div style="${style}">${warning}<div>${e(f.header)}</div></div>`,
    footerTemplate: `<div style="${style} display: flex; justify-content: space-between;"><span>${e(f.header)}</span><span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
  };
}

export async function renderPdf(htmlFile: string, pdfFile: string, furniture?: PageFurniture): Promise<PdfOutcome> {
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
      ...(furniture && { displayHeaderFooter: true, ...pageTemplates(furniture) }),
      margin: { top: furniture?.warning ? '20mm' : '16mm', bottom: '16mm', left: '12mm', right: '12mm' },
    });
    return { written: true, file: pdfFile };
  } catch (e) {
    // A report too large to lay out in time (hundreds of cases on many benches) must not cost the run its signature.
    const mb = (statSync(htmlFile).size / 1e6).toFixed(1);
    return {
      written: false,
      reason: `Chromium could not make a PDF of report.html (${mb} MB): ${(e as Error).message.split('\n')[0]}; report.html and everything else were written`,
    };
  } finally {
    await browser.close();
  }
}
