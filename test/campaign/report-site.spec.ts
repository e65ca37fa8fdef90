// The certification report as a reviewer sees it: report.html and the first PDF page opened in
// headless Chromium (Debian's), checked through the DOM, with screenshots kept as artefacts;
// and the Allure site, built offline, grouped by modification, area and requirement.
import { test, expect, chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_ARGS, findChromium } from '../../reports/pdf.ts';
import { runCampaign } from '../support/campaign.ts';

test('report.html and the first PDF page open in headless Chromium with the summary, verdicts, plots and devices', async ({}, testInfo) => {
  const c = await runCampaign({ firmware: 'ch-window-45min', grep: 'CH-IPAN', allFormats: true });
  expect(c.exitCode, c.stderr).toBe(0);
  const executablePath = findChromium();
  expect(executablePath, 'Debian chromium is installed (.ci/run installs it)').toBeTruthy();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const fetched: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) fetched.push(r.url());
    });
    await page.goto(pathToFileURL(join(c.dir, 'report.html')).href);
    await expect(page.locator('table#summary tr[data-case]')).toHaveCount(7);
    await expect(page.locator('table#summary tr[data-case="CH-IPAN-001"] .verdict')).toHaveText('FAIL');
    // Its premise (a window open at 59:00) unmet on this CH.
    await expect(page.locator('table#summary tr[data-case="CH-IPAN-002"] .verdict')).toHaveText('INCONCLUSIVE');
    await expect(page.locator('table#summary tr[data-case="CH-IPAN-007"] .verdict')).toHaveText('NOT APPLICABLE');
    await expect(page.locator('svg.timeline')).toHaveCount(7);
    // The campaign plan: each case's planned span, and the span it took in its verdict's colour.
    await expect(page.locator('svg#plan-figure g[data-plan-case]')).toHaveCount(7);
    await expect(page.locator('svg#plan-figure [data-plan-case="CH-IPAN-001--virtual-1"] rect.took')).toHaveAttribute(
      'data-verdict',
      'FAIL',
    );
    expect(await page.locator('svg.timeline').first().boundingBox()).toMatchObject({ width: expect.any(Number) });
    const device = page.locator('table#devices tr[data-device="virtual-1/ch"]');
    await expect(device).toContainText('ch-window-45min');
    await expect(device).toContainText('gbcs-rig virtual');
    await expect(page.locator('table#device-images tr[data-device="virtual-1/ch"] [data-field="sha256"]')).toContainText('verified');
    await expect(page.locator('[data-field="baseline"]')).toHaveText('GBCS 4.1');
    await expect(page.locator('[data-field="test-plan"]')).toContainText('suites/interpan-window.spec.ts');
    await expect(page.locator('table#lab-settings')).toContainText('interPanWindowMinutes');
    expect(fetched, 'the report fetches nothing from the network').toEqual([]);
    await testInfo.attach('report.png', { body: await page.screenshot({ fullPage: false }), contentType: 'image/png' });

    // The first PDF page, rendered to PNG by pdftoppm and shown in Chromium.
    const pdf = join(c.dir, 'report.pdf');
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }))?.[1]);
    expect(pages).toBeGreaterThan(1);
    // Every page: the lab, the report id, the devices, the date, "page X of Y" and — a virtual bench — the warning.
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    const sheets = text.split('\f').filter((p) => p.trim());
    expect(sheets.length).toBe(pages);
    sheets.forEach((sheet, i) => {
      expect(sheet).toContain(`page ${i + 1} of ${pages}`);
      expect(sheet).toContain('Results from a simulated bench (virtual-1) — not a device test');
      expect(sheet).toMatch(/report GBCS-RIG-\S+ · DUT CH ch · \d{4}-\d\d-\d\d/);
    });
    const png = join(testInfo.outputDir, 'report-page');
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', pdf, png]);
    await page.goto(pathToFileURL(`${png}.png`).href);
    const size = await page.locator('img').evaluate((img: HTMLImageElement) => ({ w: img.naturalWidth, h: img.naturalHeight }));
    expect(size.w).toBeGreaterThan(300);
    expect(size.h).toBeGreaterThan(size.w); // A4 portrait
    await testInfo.attach('report-pdf-page-1.png', { body: readFileSync(`${png}.png`), contentType: 'image/png' });
  } finally {
    await browser.close();
  }
});

test('run --no-pdf --no-allure leaves those two out and says so; the rest is written and signed', async () => {
  const c = await runCampaign({ grep: 'CH-IPAN-006' });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(c.stdout).toContain('pdf: not written — not asked for (--no-pdf)');
  expect(c.stdout).toContain('allure site: not written — not asked for (--no-allure)');
  expect([existsSync(join(c.dir, 'report.pdf')), existsSync(join(c.dir, 'allure-report'))]).toEqual([false, false]);
  for (const f of ['report.html', 'junit.xml', 'manifest.json']) expect(existsSync(join(c.dir, f)), f).toBe(true);
});

test('the Allure site builds offline and groups the IPAN suite by modification, area and requirement', async () => {
  const c = await runCampaign({ grep: 'CH-IPAN', allFormats: true });
  const tree = JSON.parse(readFileSync(join(c.dir, 'allure-report', 'widgets', 'tree.json'), 'utf8')) as {
    root: { groups?: string[] };
    groupsById: Record<string, { name: string; groups?: string[]; leaves?: string[] }>;
  };
  const groups = (ids: string[] | undefined) => (ids ?? []).map((id) => tree.groupsById[id]);
  const [epic] = groups(tree.root.groups);
  expect(epic.name).toBe('GBCS 10.5 / SECMP0037');
  const [area] = groups(epic.groups);
  expect(area.name).toMatch(/CH inter-PAN join window/);
  const stories = Object.fromEntries(groups(area.groups).map((g) => [g.name, g.leaves?.length ?? 0]));
  expect(stories).toEqual({ 'IPAN-1': 1, 'IPAN-2': 1, 'IPAN-3': 1, 'IPAN-4': 2, 'IPAN-5': 1, 'IPAN-6': 1 });
});
