// The operator prompt (drivers/observe/operator-prompt.ts) end to end: its page in headless
// Chromium (Debian's, as the report uses), its terminal on an injected stdin, and the evidence.
import { test, expect, chromium, type Browser, type TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import { RigFault } from '../../drivers/faults.ts';
import { OperatorPrompt, type OperatorInput, type OperatorQuestion, type ShownPrompt } from '../../drivers/observe/operator-prompt.ts';
import { EvidenceLog, type EvidenceEvent } from '../../harness/evidence.ts';
import { verdictOf } from '../../harness/verdicts.ts';
import { CHROMIUM_ARGS, findChromium } from '../../reports/pdf.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');

/** A small real PNG (an 8×8 gradient): the "photo of the display". */
function smallPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Array.from({ length: 8 }, (_, y) => Buffer.from([0, ...Array.from({ length: 8 }, (_, x) => [x * 32, y * 32, 128]).flat()]));
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A terminal: stdin whose TTY-ness the test chooses, and stdout as text. */
function terminal(isTTY: boolean) {
  const input = Object.assign(new PassThrough(), { isTTY }) as PassThrough & OperatorInput;
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { input, output, text: () => text };
}

function evidenceFor(testInfo: TestInfo): EvidenceLog {
  return new EvidenceLog(testInfo.outputPath('evidence'), () => T0);
}

const events = (evidence: EvidenceLog): EvidenceEvent[] =>
  readFileSync(evidence.eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EvidenceEvent);

async function launch(): Promise<Browser> {
  const executablePath = findChromium();
  expect(executablePath, 'Debian chromium is installed (.ci/run installs it)').toBeTruthy();
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** Resolves with what the prompt showed, once it is served. */
function shown() {
  let resolve!: (p: ShownPrompt) => void;
  const promise = new Promise<ShownPrompt>((r) => (resolve = r));
  return { promise, onShown: resolve };
}

const refused = (url: string) =>
  fetch(url).then(
    () => 'served',
    (e: unknown) => (e as Error).message,
  );

test('the page: photo uploaded, Yes clicked; the answer and the same photo bytes are in the evidence', async ({}, testInfo) => {
  const browser = await launch();
  try {
    const evidence = evidenceFor(testInfo);
    const term = terminal(false);
    const { promise: page$, onShown } = shown();
    const prompt = new OperatorPrompt({ input: term.input, output: term.output, onShown });
    const question: OperatorQuestion = {
      device: 'PPMID "ppmid-1" <bench A>',
      question: 'Is the top-up history screen empty? (check "Top-ups" & <History>)',
      instructions: 'Press the menu button twice; <script>alert(1)</script> must show as text.',
      expected: 'yes',
      timeoutMs: 60_000,
      evidence,
    };
    const asked = prompt.ask(question);
    const { url } = await page$;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/prompt\/[0-9a-f]{32}\/$/);

    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(url);
    // Every text is escaped: the page shows it as written, and nothing in it runs.
    await expect(page.locator('[data-field=device]')).toHaveText(question.device);
    await expect(page.locator('[data-field=question]')).toHaveText(question.question);
    await expect(page.locator('[data-field=instructions]')).toHaveText(question.instructions!);
    await expect(page.locator('[data-field=expected]')).toHaveText('yes');
    await expect(page.locator('input[type=file]')).toHaveAttribute('accept', 'image/*');
    await expect(page.locator('input[type=file]')).toHaveAttribute('capture', /.*/);
    await testInfo.attach('operator-prompt.png', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });

    await expect(page.locator('#preview')).toBeHidden();
    const png = smallPng();
    await page.setInputFiles('input[type=file]', { name: 'ppmid-top-ups.png', mimeType: 'image/png', buffer: png });
    await expect(page.locator('#preview')).toBeVisible();
    await page.fill('#note', 'history screen says "No top-ups"');
    await page.getByRole('button', { name: 'Yes' }).click();
    await expect(page.getByRole('status')).toHaveText(/^Recorded: YES, with the photo \(\d+ bytes, saved as operator-photo-1\.png\)/);
    await expect(page.getByRole('status')).toHaveAttribute('data-state', 'recorded');
    await testInfo.attach('operator-prompt-recorded.png', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });

    const answer = await asked;
    expect(answer).toMatchObject({
      answer: 'yes',
      expected: 'yes',
      matchesExpected: true,
      via: 'web',
      note: 'history screen says "No top-ups"',
    });
    expect(answer.photo).toMatchObject({ type: 'image/png', bytes: png.length, file: join(evidence.dir, 'operator-photo-1.png') });
    expect(readFileSync(answer.photo!.file).equals(png)).toBe(true);
    expect(evidence.evidenceFiles).toContain(answer.photo!.file);

    const log = events(evidence);
    expect(log.map((e) => e.kind)).toEqual(['operator-prompt', 'operator-waiting', 'operator-answer']);
    expect(log[0]).toMatchObject({ device: question.device, question: question.question, expected: 'yes', timeoutMs: 60_000 });
    // The port and token are random: kept out of the evidence so the same run writes the same bytes.
    expect(JSON.stringify(log)).not.toContain('127.0.0.1');
    expect(log[2]).toMatchObject({
      device: question.device,
      answer: 'yes',
      matchesExpected: true,
      via: 'web',
      note: 'history screen says "No top-ups"',
      photo: { file: 'operator-photo-1.png', type: 'image/png', bytes: png.length, sha256: answer.photo!.sha256 },
    });

    // Offline: the page fetched nothing but itself, its own answer and the photo preview; nothing broke its policy.
    expect(requests.filter((r) => !r.startsWith(url) && !r.startsWith('blob:'))).toEqual([]);
    expect(problems).toEqual([]);
    expect(term.text()).toContain(`answer (with a photo) at ${url}`);
    expect(term.text()).toContain('recorded: yes (web), photo operator-photo-1.png');
    // The server is closed once the answer is in.
    expect(await refused(url)).not.toBe('served');
  } finally {
    await browser.close();
  }
});

test('left unanswered: a RigFault operator-no-answer (INCONCLUSIVE), the wait is logged, and the page says it was not recorded', async ({}, testInfo) => {
  const browser = await launch();
  try {
    const evidence = evidenceFor(testInfo);
    // Not a TTY (CI, a Playwright worker): what is typed there is not read.
    const term = terminal(false);
    const { promise: page$, onShown } = shown();
    const prompt = new OperatorPrompt({ input: term.input, output: term.output, onShown, remindEveryMs: 250 });
    const asked = prompt
      .ask({ device: 'IHD "ihd-1"', question: 'Is the consumption history empty?', expected: 'yes', timeoutMs: 3000, evidence })
      .catch((e: unknown) => e);
    const { url } = await page$;
    // The page must open before the timeout: 3 s leaves room for a loaded machine to start a tab.
    term.input.write('y\n');
    const page = await browser.newPage();
    await page.goto(url);

    const error = await asked;
    expect(error).toBeInstanceOf(RigFault);
    expect(error).toMatchObject({ kind: 'operator-no-answer', where: 'operator at IHD "ihd-1"' });
    expect(verdictOf(error).verdict).toBe('INCONCLUSIVE');
    expect(verdictOf(error).fix).toContain('operator');

    await page.getByRole('button', { name: 'Yes' }).click();
    await expect(page.getByRole('status')).toHaveText(/^Not recorded: the rig is no longer waiting/);
    await testInfo.attach('operator-prompt-timed-out.png', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });

    const kinds = events(evidence).map((e) => e.kind);
    expect(kinds[0]).toBe('operator-prompt');
    expect(kinds.filter((k) => k === 'operator-waiting').length).toBeGreaterThanOrEqual(3);
    expect(kinds.at(-1)).toBe('operator-no-answer');
    expect(kinds).not.toContain('operator-answer');
    expect(term.text()).toContain('waiting for the operator (up to 3 s)');
    expect(term.text()).toContain('still waiting for the operator');
    expect(term.text()).toContain('INCONCLUSIVE');
    expect(await refused(url)).not.toBe('served');
  } finally {
    await browser.close();
  }
});

test('the terminal: y/n typed on a TTY stdin answers (a note may follow); other input is asked again', async ({}, testInfo) => {
  const evidence = evidenceFor(testInfo);
  const term = terminal(true);
  const { promise: page$, onShown } = shown();
  const prompt = new OperatorPrompt({ input: term.input, output: term.output, onShown });
  const asked = prompt.ask({
    device: 'IHD "ihd-1"',
    question: 'Is the supplier message gone?',
    expected: 'yes',
    timeoutMs: 30_000,
    evidence,
  });
  const { url } = await page$;
  term.input.write('maybe\n');
  term.input.write('N  the October message is still shown\n');
  const answer = await asked;
  expect(answer).toMatchObject({
    answer: 'no',
    expected: 'yes',
    matchesExpected: false,
    via: 'terminal',
    note: 'the October message is still shown',
  });
  expect(answer.photo).toBeUndefined();
  expect(events(evidence).at(-1)).toMatchObject({
    kind: 'operator-answer',
    answer: 'no',
    via: 'terminal',
    matchesExpected: false,
    note: 'the October message is still shown',
  });
  const text = term.text();
  expect(text).toContain('[operator] IHD "ihd-1": Is the supplier message gone?');
  expect(text).toContain('[operator] expected answer for a conformant device: yes');
  expect(text).toContain(`type y or n here (a note may follow), or answer with a photo at ${url}`);
  expect(text).toContain('[operator] type y or n');
  expect(text).toContain('recorded: no (terminal) — not the expected answer');
  await testInfo.attach('terminal.txt', { body: text, contentType: 'text/plain' });
  // First answer wins: the page is gone.
  expect(await refused(url)).not.toBe('served');
});

test('the answer endpoint checks what it is sent; the first valid answer wins', async ({}, testInfo) => {
  const evidence = evidenceFor(testInfo);
  const term = terminal(false);
  const { promise: page$, onShown } = shown();
  const asked = new OperatorPrompt({ input: term.input, output: term.output, onShown }).ask({
    device: 'IHD "ihd-1"',
    question: 'Is the debt screen empty?',
    expected: 'yes',
    timeoutMs: 30_000,
    evidence,
  });
  const { url } = await page$;
  const post = (body: string) => fetch(`${url}answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect((await post('not json')).status).toBe(400);
  expect((await post(JSON.stringify({ answer: 'maybe' }))).status).toBe(400);
  expect((await post(JSON.stringify({ answer: 'yes', photoBase64: 'not base64!', photoType: 'image/png' }))).status).toBe(400);
  expect((await fetch(url.replace(/[0-9a-f]{32}/, '0'.repeat(32)))).status).toBe(404);
  const ok = await post(JSON.stringify({ answer: 'no', photoBase64: Buffer.from('jpeg').toString('base64'), photoType: 'image/jpeg' }));
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ recorded: true, answer: 'no', photo: { file: 'operator-photo-1.jpg', bytes: 4 } });
  expect(await asked).toMatchObject({ answer: 'no', via: 'web', matchesExpected: false });
  expect(
    await post(JSON.stringify({ answer: 'yes' })).then(
      (r) => r.status,
      () => 'closed',
    ),
  ).toBe('closed');
  expect(events(evidence).filter((e) => e.kind === 'operator-answer')).toHaveLength(1);
});
