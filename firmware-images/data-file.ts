// The YAML or JSON files the rig reads (rig files, firmware manifests, behaviour profiles) and the
// problems found in them. Every problem names file, line, path, value, expectation and fix, and a
// file is checked to the end, so one pass lists everything a person has to correct.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { counted } from '../protocol/words.ts';

/** Where a value sits in a parsed file: object keys and list indexes. */
export type DataPath = readonly (string | number)[];

export interface FileProblem {
  /** The file as a person would type it: relative to the working directory when inside it. */
  readonly file: string;
  /** 1-based line of the value (or of its nearest enclosing value) when the file is YAML/JSON text. */
  readonly line?: number;
  /** e.g. `benches[0].devices[1].ieee`. */
  readonly path: string;
  /** The value as found, formatted and with secrets redacted; `(missing)` when absent. */
  readonly value: string;
  /** What would have been accepted, e.g. `a channel from 11 to 26`. */
  readonly expected: string;
  /** What to do about it. */
  readonly hint: string;
}

/** `<file>[:line]: <path> = <value>: expected <expectation>. <hint>` */
export function formatProblem(p: FileProblem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  return `${where}: ${p.path} = ${p.value}: expected ${p.expected.replace(/\.$/, '')}. ${p.hint}`;
}

/** One or more problems in files the rig reads; the message lists every one, one per line. */
export class FileProblemsError extends Error {
  override name = 'FileProblemsError';

  constructor(
    summary: string,
    readonly problems: readonly FileProblem[],
  ) {
    super([summary, ...problems.map(formatProblem)].join('\n'));
  }
}

export function displayFile(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

export function displayPath(at: DataPath): string {
  if (at.length === 0) return '(document)';
  return at.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}

// Names a secret would go under; `…Env` names (which only name an environment variable) are fine.
const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|install_?code|key)$|password/i;

export function isSecretKey(key: string | number): boolean {
  return typeof key === 'string' && !/env$/i.test(key) && SECRET_KEY.test(key);
}

/** `mqtt://user:pw@host` → `mqtt://user:***@host`: a password must not reach an error message. */
export function redactUrlPassword(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^/@:\s"']*):[^/@\s"']*@/gi, '$1:***@');
}

/** Source text (a line quoted in a syntax error) with the values of secret-named keys and URL passwords hidden. */
export function redactSourceLine(text: string): string {
  return redactUrlPassword(text.trim()).replace(
    /(["']?)([A-Za-z_][\w-]*)\1(\s*:\s*)("[^"]*"?|'[^']*'?|[^,}\]\s]+)/g,
    (all, q: string, key: string, colon: string) => (isSecretKey(key) ? `${q}${key}${q}${colon}(redacted)` : all),
  );
}

const MAX_VALUE_CHARS = 80;

/** A value as it appears in a problem: JSON-like, shortened, and redacted where the key names a secret. */
export function formatValue(value: unknown, at: DataPath = []): string {
  if (value === undefined) return '(missing)';
  if (at.length && isSecretKey(at[at.length - 1]) && value !== null && value !== '') return '(redacted)';
  const text =
    typeof value === 'string' ? JSON.stringify(redactUrlPassword(value)) : (JSON.stringify(value, redactingReplacer) ?? String(value));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** A line of the file as written, in backticks, shortened. */
function sourceExcerpt(text: string): string {
  return `\`${text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text}\``;
}

function redactingReplacer(key: string, value: unknown): unknown {
  if (key && isSecretKey(key) && value !== null && value !== '' && typeof value !== 'object') return '(redacted)';
  return typeof value === 'string' ? redactUrlPassword(value) : value;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string (quote it in YAML if it looks like a number)',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of keys to values',
  array: 'a list',
  null: 'null',
};

// Levenshtein distance, to suggest the key a misspelt key probably meant.
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  // A shortened key (usbSerial for usbSerialNumber) is a likelier slip than any edit distance says.
  const extended = candidates.filter((c) => c.toLowerCase().startsWith(lower));
  if (extended.length === 1) return extended[0];
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * Per-parse zod error map: turns an issue into the expectation a person reads after `expected`.
 * Schemas that carry their own `error` (formats, ids) win over it.
 */
export function expectationOf(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_NAMES[issue.expected] ?? `a value of type ${issue.expected}`;
    case 'too_small': {
      const n = issue.minimum;
      if (issue.origin === 'string') return Number(n) === 1 ? 'a non-empty string' : `at least ${counted(n, 'character', 'characters')}`;
      if (issue.origin === 'array')
        return Number(n) === 1 ? 'a list with at least one entry' : `a list of at least ${counted(n, 'entry', 'entries')}`;
      return issue.inclusive ? `at least ${n}` : `more than ${n}`;
    }
    case 'too_big': {
      const n = issue.maximum;
      if (issue.origin === 'string') return `at most ${counted(n, 'character', 'characters')}`;
      if (issue.origin === 'array') return `a list of at most ${counted(n, 'entry', 'entries')}`;
      return issue.inclusive ? `at most ${n}` : `less than ${n}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? JSON.stringify(issue.values[0])
        : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `text matching ${issue.pattern}` : `a valid ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      const known = shape ? Object.keys(shape) : [];
      const guess = issue.keys.length === 1 ? closest(issue.keys[0], known) : undefined;
      return `only the keys ${known.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`;
    }
    case 'invalid_union': {
      const options = (issue as { options?: readonly unknown[] }).options;
      if (issue.discriminator && options) return `one of ${options.map((v) => JSON.stringify(v)).join(', ')}`;
      return 'one of the accepted forms';
    }
    default:
      return 'a valid value';
  }
}

/** A string field with a pattern; the one expectation covers both a wrong type and a wrong shape. */
export function patterned(pattern: RegExp, expectation: string) {
  return z.string({ error: expectation }).regex(pattern, { error: expectation });
}

/** A non-empty string; YAML numbers such as `version: 4.10` are refused rather than read as 4.1. */
export function nonEmpty(what: string) {
  const expectation = `${what} as a non-empty string`;
  return z.string({ error: expectation }).min(1, { error: expectation });
}

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9.-]*$/;
export const slug = (what = 'an id') => patterned(SLUG_PATTERN, `${what}: lowercase letters, digits, "-" and "."`);

/** Gives the fix for a schema problem at a path; `undefined` falls back to the caller's default. */
export type HintFor = (at: DataPath, issue: z.core.$ZodIssue) => string | undefined;

/** Looks a path up in a hint table keyed by pattern: `*` matches one list index or key, `**.key` any path ending in key. */
export function hintTable(table: Readonly<Record<string, string>>): (at: DataPath) => string | undefined {
  return (at) => {
    const pattern = at.map((k) => (typeof k === 'number' ? '*' : k)).join('.');
    if (table[pattern]) return table[pattern];
    for (let i = 1; i < at.length; i++) {
      const tail = at
        .slice(i)
        .map((k) => (typeof k === 'number' ? '*' : k))
        .join('.');
      if (table[`**.${tail}`]) return table[`**.${tail}`];
    }
    return undefined;
  };
}

/** A YAML or JSON file, parsed, that can say on which line any value sits. */
export class DataFile {
  private constructor(
    /** Absolute path. */
    readonly file: string,
    readonly data: unknown,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The file as shown in problems. */
  get shown(): string {
    return displayFile(this.file);
  }

  /**
   * Reads and parses a file. A missing or unreadable file is reported at `referrer` (the value that
   * named it) when there is one; syntax errors are reported with their line and column.
   */
  static async read(file: string, what: string, referrer?: { in: DataFile; at: DataPath }): Promise<DataFile | FileProblem[]> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(cause as Error).message}`;
      const hint = `Check the path (relative paths are resolved from the file that names them).`;
      if (referrer) return [referrer.in.problem(referrer.at, `${what} that exists (${reason})`, hint)];
      return [{ file: displayFile(file), path: '(file)', value: JSON.stringify(file), expected: `${what} that exists (${reason})`, hint }];
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length) {
      const sourceLines = text.split(/\r?\n/);
      return doc.errors.map((e) => {
        const [pos] = e.linePos ?? [];
        const line = pos?.line;
        const firstLine = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        return {
          file: displayFile(file),
          line,
          path: pos ? `(syntax, line ${pos.line} column ${pos.col})` : '(syntax)',
          value: line ? sourceExcerpt(redactSourceLine(sourceLines[line - 1] ?? '')) : '(unknown)',
          expected: `valid YAML or JSON (${firstLine})`,
          hint: 'Fix the syntax on that line: check indentation, a missing ":" or an unclosed quote or bracket.',
        };
      });
    }
    return new DataFile(file, doc.toJS({ maxAliasCount: 100 }), doc, lines);
  }

  /** The value at a path in the parsed data, or undefined. */
  valueAt(at: DataPath): unknown {
    let v: unknown = this.data;
    for (const k of at) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[k];
    }
    return v;
  }

  /** The line of the value at a path, or of its nearest enclosing value that exists. */
  lineOf(at: DataPath): number | undefined {
    for (let n = at.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(at.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
    }
    return undefined;
  }

  /** A problem at a path; the value shown is the file's own unless `value` is given. */
  problem(at: DataPath, expected: string, hint: string, value?: { shown: string }): FileProblem {
    return {
      file: this.shown,
      line: this.lineOf(at),
      path: displayPath(at),
      value: value ? value.shown : formatValue(this.valueAt(at), at),
      expected,
      hint,
    };
  }

  /** Problems for zod issues (parse with `{ error: expectationOf }`); an unknown key gets a problem of its own. */
  problemsFromIssues(issues: readonly z.core.$ZodIssue[], hintFor: HintFor, fallbackHint: string): FileProblem[] {
    const problems: FileProblem[] = [];
    for (const issue of issues) {
      const at = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          problems.push(this.problem([...at, key], issue.message, `Remove "${key}" or correct its spelling.`));
        }
        continue;
      }
      problems.push(this.problem(at, issue.message, hintFor(at, issue) ?? fallbackHint));
    }
    return problems;
  }
}
