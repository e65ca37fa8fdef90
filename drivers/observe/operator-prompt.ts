// The observation port of a device without a debug port: a person at the bench looks at the
// display and answers yes or no, on the terminal or on a local web page that also takes a photo.
// The first answer wins and goes into the evidence; no answer in time is a rig fault
// (INCONCLUSIVE), never a FAIL: an absent operator says nothing about the device.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { RigFault } from '../faults.ts';

export type YesNo = 'yes' | 'no';

/** Where the answer goes: harness/evidence.ts's EvidenceLog is one (drivers do not import the harness). */
export interface OperatorEvidence {
  event(kind: string, fields?: Record<string, unknown>): unknown;
  /** Writes a further evidence file and returns its path. */
  attach(name: string, content: string | Uint8Array): string;
}

export interface OperatorQuestion {
  /** The device the operator looks at, as the operator knows it, e.g. `IHD "ihd-1" (bench A)`. */
  device: string;
  /** A yes/no question about what the device shows now. */
  question: string;
  /** The answer a conformant device gives. */
  expected: YesNo;
  /** Where to look or what to press first, if anything. */
  instructions?: string;
  timeoutMs: number;
  evidence: OperatorEvidence;
  /** Ends the wait early (a cancelled test): rejects with the signal's reason, closes the page. */
  signal?: AbortSignal;
}

export interface OperatorPhoto {
  /** The evidence file's path, as OperatorEvidence.attach returned it. */
  file: string;
  type: string;
  bytes: number;
  sha256: string;
}

export interface OperatorAnswer {
  answer: YesNo;
  expected: YesNo;
  matchesExpected: boolean;
  via: 'terminal' | 'web';
  /** Wall time from showing the question to the answer. */
  waitedMs: number;
  note?: string;
  photo?: OperatorPhoto;
}

/** What the operator is shown, for a harness that also wants to show it elsewhere (a bench screen). */
export interface ShownPrompt {
  url: string;
  device: string;
  question: string;
  expected: YesNo;
}

/** stdin as far as the prompt needs it: a readable that may be a TTY. */
export type OperatorInput = NodeJS.ReadableStream & { isTTY?: boolean };

export interface OperatorPromptOptions {
  /** Where y/n is typed; read only when it is a TTY (default process.stdin). */
  input?: OperatorInput;
  /** Where the question is printed (default process.stdout). */
  output?: NodeJS.WritableStream;
  /** Called once the page is being served. */
  onShown?: (prompt: ShownPrompt) => void;
  /** How often to say it is still waiting, on the terminal and in the evidence (default 60 s). */
  remindEveryMs?: number;
}

/** A phone photo in base64 is well under this; anything bigger is not a photo of a display. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MAX_NOTE_CHARS = 2000;

const PHOTO_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'image/bmp': 'bmp',
};

/** Per evidence log, so photos of several prompts in one case never overwrite each other. */
const photoCounts = new WeakMap<OperatorEvidence, number>();

export class OperatorPrompt {
  readonly #input: OperatorInput;
  readonly #output: NodeJS.WritableStream;
  readonly #onShown: ((prompt: ShownPrompt) => void) | undefined;
  readonly #remindEveryMs: number;

  /** Asks on process.stdin/stdout and the web page. */
  static ask(question: OperatorQuestion): Promise<OperatorAnswer> {
    return new OperatorPrompt().ask(question);
  }

  constructor(options: OperatorPromptOptions = {}) {
    this.#input = options.input ?? process.stdin;
    this.#output = options.output ?? process.stdout;
    this.#onShown = options.onShown;
    this.#remindEveryMs = options.remindEveryMs ?? 60_000;
  }

  /** Shows the question and resolves with the first answer; rejects with a RigFault ('operator-no-answer') on timeout. */
  async ask(q: OperatorQuestion): Promise<OperatorAnswer> {
    if (!Number.isFinite(q.timeoutMs) || q.timeoutMs <= 0)
      throw new Error(`operator prompt for ${q.device}: timeoutMs must be a positive number of ms, not ${q.timeoutMs}`);
    q.signal?.throwIfAborted();
    const say = (text: string) => this.#output.write(`[operator] ${terminalSafe(text)}\n`);
    const slot = new AnswerSlot(q, say);
    // A token in the path: a stale tab of an earlier prompt, or another local page, cannot answer this one.
    const token = randomBytes(16).toString('hex');
    const page = await servePrompt(token, q, slot);
    const stopWaiting = this.#remindAndTimeOut(q, slot, say);
    let rl: Interface | undefined;
    try {
      // The URL and token stay out of the evidence: they are random, and evidence must be reproducible.
      q.evidence.event('operator-prompt', {
        device: q.device,
        question: q.question,
        expected: q.expected,
        ...(q.instructions ? { instructions: q.instructions } : {}),
        timeoutMs: q.timeoutMs,
      });
      const terminal = this.#input.isTTY === true;
      say(`${q.device}: ${q.question}`);
      if (q.instructions) say(q.instructions);
      say(`expected answer for a conformant device: ${q.expected}`);
      say(
        terminal ? `type y or n here (a note may follow), or answer with a photo at ${page.url}` : `answer (with a photo) at ${page.url}`,
      );
      this.#onShown?.({ url: page.url, device: q.device, question: q.question, expected: q.expected });
      if (terminal) rl = listenOnTerminal(this.#input, slot, say);
      q.evidence.event('operator-waiting', { device: q.device, waitedMs: 0, remainingMs: q.timeoutMs });
      say(`waiting for the operator (up to ${Math.round(q.timeoutMs / 1000)} s)`);

      const result = await slot.outcome;
      if ('error' in result) {
        if (result.error instanceof RigFault) {
          q.evidence.event('operator-no-answer', { device: q.device, question: q.question, waitedMs: slot.waitedMs() });
          say(`no answer within ${Math.round(q.timeoutMs / 1000)} s: the case is INCONCLUSIVE`);
        }
        throw result.error;
      }
      return result.answer;
    } finally {
      stopWaiting();
      rl?.close();
      await page.close();
    }
  }

  /** Reminders on the terminal and in the evidence, the timeout (a rig fault) and the abort signal; returns what stops them. */
  #remindAndTimeOut(q: OperatorQuestion, slot: AnswerSlot, say: (text: string) => void): () => void {
    const reminder = setInterval(() => {
      const waitedMs = slot.waitedMs();
      q.evidence.event('operator-waiting', { device: q.device, waitedMs, remainingMs: Math.max(0, q.timeoutMs - waitedMs) });
      say(`still waiting for the operator (${Math.round(waitedMs / 1000)} s of ${Math.round(q.timeoutMs / 1000)} s)`);
    }, this.#remindEveryMs);
    const timer = setTimeout(
      () =>
        slot.giveUp(
          new RigFault(
            'operator-no-answer',
            `operator at ${q.device}`,
            `no answer to "${q.question}" within ${Math.round(q.timeoutMs / 1000)} s`,
            'An operator must answer at the bench (y/n on the rig terminal, or Yes/No on the prompt page); re-run the case with an operator present or a longer prompt timeout.',
          ),
        ),
      q.timeoutMs,
    );
    const onAbort = () => slot.giveUp(q.signal?.reason ?? new Error('operator prompt aborted'));
    q.signal?.addEventListener('abort', onAbort, { once: true });
    return () => {
      clearTimeout(timer);
      clearInterval(reminder);
      q.signal?.removeEventListener('abort', onAbort);
    };
  }
}

type Outcome = { answer: OperatorAnswer } | { error: unknown };

/** The one answer a question gets: the first of terminal, web page, timeout or abort wins; the others find it settled. */
class AnswerSlot {
  readonly outcome: Promise<Outcome>;
  #settled = false;
  #settle!: (outcome: Outcome) => void;
  readonly #started = Date.now();

  constructor(
    private readonly q: OperatorQuestion,
    private readonly say: (text: string) => void,
  ) {
    this.outcome = new Promise<Outcome>((resolve) => (this.#settle = resolve));
  }

  get settled(): boolean {
    return this.#settled;
  }

  waitedMs(): number {
    return Date.now() - this.#started;
  }

  /** Writes the first answer to the evidence; undefined when another already won. `answered` it once its reply is out. */
  record(
    answer: YesNo,
    via: OperatorAnswer['via'],
    extra: { note?: string; photo?: { type: string; bytes: Buffer } } = {},
  ): OperatorAnswer | undefined {
    if (this.#settled) return undefined;
    this.#settled = true;
    const q = this.q;
    const result: OperatorAnswer = { answer, expected: q.expected, matchesExpected: answer === q.expected, via, waitedMs: this.waitedMs() };
    if (extra.note) result.note = extra.note;
    try {
      if (extra.photo) result.photo = attachPhoto(q.evidence, extra.photo.type, extra.photo.bytes);
      q.evidence.event('operator-answer', {
        device: q.device,
        question: q.question,
        expected: q.expected,
        answer,
        matchesExpected: result.matchesExpected,
        via,
        waitedMs: result.waitedMs,
        ...(result.note ? { note: result.note } : {}),
        ...(result.photo ? { photo: { ...result.photo, file: basename(result.photo.file) } } : {}),
      });
    } catch (error) {
      // An answer that cannot be written is no evidence: the wait ends with the rig's own error.
      this.#settle({ error });
      throw error;
    }
    this.say(
      `recorded: ${answer} (${via})${result.photo ? `, photo ${basename(result.photo.file)}` : ''}${result.matchesExpected ? '' : ' — not the expected answer'}`,
    );
    return result;
  }

  /** Ends the wait with a recorded answer. */
  answered(answer: OperatorAnswer): void {
    this.#settle({ answer });
  }

  /** Ends the wait with an error, unless an answer already won. */
  giveUp(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle({ error });
  }
}

/** The prompt page on loopback only (the page is for the bench host; a phone reaches it through a forward). */
async function servePrompt(token: string, q: OperatorQuestion, slot: AnswerSlot): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const handler: Handler = {
      token,
      q,
      record: (answer, via, extra) => slot.record(answer, via, extra),
      answered: (answer) => slot.answered(answer),
      isSettled: () => slot.settled,
    };
    handleRequest(req, res, handler).catch((error) => {
      if (!res.headersSent) reply(res, 500, { error: `the rig could not take the answer: ${(error as Error).message}` });
    });
  });
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prompt/${token}/`,
    close: async () => {
      // A web answer settles only once its reply is handed to the OS, so no connection may linger now.
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** y/n (a note may follow) typed on the rig's terminal. */
function listenOnTerminal(input: OperatorInput, slot: AnswerSlot, say: (text: string) => void): Interface {
  const rl = createInterface({ input, terminal: false });
  rl.on('line', (line) => {
    const m = /^\s*(y|yes|n|no)\b\s*(.*)$/i.exec(line);
    if (!m) return void say('type y or n (a note may follow)');
    let answer: OperatorAnswer | undefined;
    try {
      answer = slot.record(
        m[1].toLowerCase().startsWith('y') ? 'yes' : 'no',
        'terminal',
        m[2] ? { note: m[2].slice(0, MAX_NOTE_CHARS) } : {},
      );
    } catch {
      return; // Already settled with that error; thrown in a listener it would end the process.
    }
    if (answer) slot.answered(answer);
  });
  return rl;
}

type Handler = {
  token: string;
  q: OperatorQuestion;
  record: (answer: YesNo, via: 'web', extra: { note?: string; photo?: { type: string; bytes: Buffer } }) => OperatorAnswer | undefined;
  /** Ends the wait with this answer. */
  answered: (answer: OperatorAnswer) => void;
  isSettled: () => boolean;
};

async function handleRequest(req: IncomingMessage, res: ServerResponse, h: Handler): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const base = `/prompt/${h.token}/`;
  if (req.method === 'GET' && path === base.slice(0, -1)) {
    res.writeHead(308, { location: base }).end();
  } else if (req.method === 'GET' && path === base) {
    const nonce = randomBytes(16).toString('base64');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Nothing but this page's own script and style: it works offline and nothing injected can run.
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src blob:; connect-src 'self'; form-action 'none'; base-uri 'none'`,
      'x-content-type-options': 'nosniff',
    });
    res.end(promptPage(h.q, nonce));
  } else if (req.method === 'POST' && path === `${base}answer`) {
    if (h.isSettled())
      return reply(res, 409, { error: 'this question was already answered (perhaps on the terminal), or the rig stopped waiting' });
    const body = await readBody(req);
    if (body === undefined)
      return reply(res, 413, { error: `the photo is too large (more than ${MAX_BODY_BYTES / 1024 / 1024} MB with its encoding)` });
    const parsed = parseWebAnswer(body);
    if ('error' in parsed) return reply(res, 400, { error: parsed.error });
    const answer = h.record(parsed.answer, 'web', parsed);
    if (!answer)
      return reply(res, 409, { error: 'this question was already answered (perhaps on the terminal), or the rig stopped waiting' });
    // The page shows "recorded" only from this reply: the server closes after it is out, not before.
    res.once('close', () => h.answered(answer));
    reply(res, 200, {
      recorded: true,
      answer: answer.answer,
      ...(answer.photo ? { photo: { file: basename(answer.photo.file), bytes: answer.photo.bytes, sha256: answer.photo.sha256 } } : {}),
    });
  } else {
    reply(res, 404, { error: 'no such page' });
  }
}

/** The request body, or undefined when it is larger than a photo can be. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

type WebAnswer = { answer: YesNo; note?: string; photo?: { type: string; bytes: Buffer } };

/** The page's JSON {answer, photoBase64?, photoType?, note?}, checked field by field. */
export function parseWebAnswer(body: Buffer): WebAnswer | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { error: 'the answer is not JSON' };
  }
  if (typeof json !== 'object' || json === null) return { error: 'the answer is not a JSON object' };
  const { answer, photoBase64, photoType, note } = json as Record<string, unknown>;
  if (answer !== 'yes' && answer !== 'no') return { error: 'answer must be "yes" or "no"' };
  const result: WebAnswer = { answer };
  if (note !== undefined && note !== null && note !== '') {
    if (typeof note !== 'string') return { error: 'note must be text' };
    result.note = note.slice(0, MAX_NOTE_CHARS);
  }
  if (photoBase64 !== undefined && photoBase64 !== null && photoBase64 !== '') {
    if (typeof photoBase64 !== 'string' || photoBase64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(photoBase64))
      return { error: 'photoBase64 is not base64' };
    const type = typeof photoType === 'string' && photoType ? photoType.toLowerCase() : 'application/octet-stream';
    if (!/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type)) return { error: 'photoType is not a media type' };
    result.photo = { type, bytes: Buffer.from(photoBase64, 'base64') };
  }
  return result;
}

function attachPhoto(evidence: OperatorEvidence, type: string, bytes: Buffer): OperatorPhoto {
  const n = (photoCounts.get(evidence) ?? 0) + 1;
  photoCounts.set(evidence, n);
  const file = evidence.attach(`operator-photo-${n}.${PHOTO_EXTENSIONS[type] ?? 'bin'}`, bytes);
  return { file, type, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

// Most C0 controls are forbidden in HTML; on a terminal they would be escape sequences.
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value for HTML: every text on the page is data, never markup. */
export function escapeHtml(value: string): string {
  return value.replace(CONTROLS, '\ufffd').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const terminalSafe = (text: string): string => text.replace(/[\u0000-\u0009\u000b-\u001f\u007f\u009b]/g, '\ufffd');

/** The prompt page: self-contained (no fetches but its own answer), every text escaped. */
export function promptPage(q: Pick<OperatorQuestion, 'device' | 'question' | 'expected' | 'instructions'>, nonce: string): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gbcs-rig operator question: ${e(q.device)}</title>
<style nonce="${e(nonce)}">
body { font: 18px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1b1f24; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
.rig { color: #57606a; font-size: 0.85rem; margin: 0; }
h1 { font-size: 1.2rem; margin: 0.2rem 0 1rem; }
.question { font-size: 1.4rem; font-weight: 600; background: #fff; border-left: 6px solid #0969da; padding: 0.8rem; }
.expected strong { text-transform: uppercase; }
label { display: block; margin: 1rem 0 0.3rem; }
textarea { width: 100%; min-height: 3rem; font: inherit; box-sizing: border-box; }
#preview { max-width: 100%; max-height: 16rem; display: block; margin-top: 0.5rem; border: 1px solid #d0d7de; }
[hidden] { display: none !important; }
.buttons { display: flex; gap: 1rem; margin-top: 1.2rem; }
.buttons button { flex: 1; font: inherit; font-size: 1.4rem; padding: 0.8rem; border-radius: 0.4rem; border: 0; color: #fff; cursor: pointer; }
button[value=yes] { background: #1a7f37; }
button[value=no] { background: #cf222e; }
button:disabled { opacity: 0.5; cursor: default; }
#status { margin-top: 1.2rem; padding: 0.8rem; font-weight: 600; }
#status:empty { display: none; }
#status[data-state=recorded] { background: #dafbe1; border: 1px solid #1a7f37; }
#status[data-state=refused] { background: #ffebe9; border: 1px solid #cf222e; }
#status[data-state=sending] { background: #fff8c5; border: 1px solid #9a6700; }
</style>
</head>
<body>
<main>
<p class="rig">gbcs-rig — operator question</p>
<h1 data-field="device">${e(q.device)}</h1>
<p class="question" data-field="question">${e(q.question)}</p>
${q.instructions ? `<p data-field="instructions">${e(q.instructions)}</p>\n` : ''}<p class="expected">Expected answer for a conformant device: <strong data-field="expected">${e(q.expected)}</strong></p>
<form id="answer">
<label for="photo">Photo of the display (optional, recommended)</label>
<input id="photo" name="photo" type="file" accept="image/*" capture="environment">
<img id="preview" alt="The photo to be sent" hidden>
<label for="note">Note (optional)</label>
<textarea id="note" name="note" maxlength="${MAX_NOTE_CHARS}"></textarea>
<div class="buttons"><button type="button" value="yes">Yes</button><button type="button" value="no">No</button></div>
</form>
<p id="status" role="status" aria-live="polite"></p>
</main>
<script nonce="${e(nonce)}">
'use strict';
const form = document.getElementById('answer');
const photo = document.getElementById('photo');
const preview = document.getElementById('preview');
const status = document.getElementById('status');
const buttons = form.querySelectorAll('button');
const show = (text, state) => { status.textContent = text; status.dataset.state = state; };
photo.addEventListener('change', () => {
  const file = photo.files[0];
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.hidden = !file;
  if (file) preview.src = URL.createObjectURL(file);
});
const readPhoto = (file) => new Promise((resolve, reject) => {
  const reader = new FileReader();
  reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
  reader.onerror = () => reject(reader.error);
  reader.readAsDataURL(file);
});
for (const button of buttons) button.addEventListener('click', async () => {
  for (const b of buttons) b.disabled = true;
  show('Sending…', 'sending');
  try {
    const body = { answer: button.value, note: document.getElementById('note').value };
    const file = photo.files[0];
    if (file) { body.photoBase64 = await readPhoto(file); body.photoType = file.type; }
    const res = await fetch('answer', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const reply = await res.json();
    if (res.ok) {
      show('Recorded: ' + reply.answer.toUpperCase() + (reply.photo ? ', with the photo (' + reply.photo.bytes + ' bytes, saved as ' + reply.photo.file + ')' : ', without a photo') + '. You can close this page.', 'recorded');
      form.hidden = true;
      return;
    }
    show('Not recorded: ' + reply.error, 'refused');
    if (res.status !== 409) for (const b of buttons) b.disabled = false;
  } catch (error) {
    show('Not recorded: the rig is no longer waiting for this answer (it was answered on the terminal, or timed out).', 'refused');
  }
});
</script>
</body>
</html>
`;
}
