// What `gbcs-rig run` (and `plan`) check before anything moves: the rig file and --bench, the
// signing key, Chromium for the PDF, --grep, and the --out folder; and how they list the suites' cases.
import { spawnSync } from 'node:child_process';
import { type Dirent, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative, resolve } from 'node:path';
import { loadRig, RigFileError, type LoadedRig, type LoadRigOptions } from '../rigs/load.ts';
import { ROOT } from './common.ts';
import { chromiumProblem } from '../reports/pdf.ts';
import { checkSigningKey, SigningKeyError } from '../reports/integrity.ts';
import { readRunInfo } from '../reports/results.ts';
import { SuitesNotListed, UsageError } from './errors.ts';
import { counted } from '../protocol/words.ts';
import type { PlanBench } from '../harness/plan.ts';

/** Comma lists of an option, given once or repeated, as one list without blanks or repeats. */
export function commaList(values: string[] | undefined): string[] {
  return [
    ...new Set(
      (values ?? [])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean),
    ),
  ];
}

/** The rig file (refused before anything moves) and the benches --bench picks from it (default: all). */
export async function loadRunRig(
  rigOption: string | undefined,
  benchOption: string[] | undefined,
  options: LoadRigOptions = {},
): Promise<{ rig: LoadedRig; benches: string[] }> {
  let rig: LoadedRig;
  try {
    rig = await loadRig(rigOption ? resolve(rigOption) : undefined, options);
  } catch (e) {
    if (e instanceof RigFileError) throw new UsageError(`the rig file is refused; nothing was switched:\n${e.message}`);
    throw e;
  }
  const known = rig.benches.map((b) => b.id);
  const benches = benchOption ? commaList(benchOption) : known;
  if (benches.length === 0) throw new UsageError(`--bench needs a bench id; the rig's benches: ${known.join(', ')}`);
  const unknown = benches.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new UsageError(
      `--bench ${unknown.join(', ')}: no such bench in ${rig.file ?? 'the embedded virtual rig'}; its benches: ${known.join(', ')}`,
    );
  }
  return { rig, benches };
}

/** The benches as the plan takes them: virtual or not, and the roles of their devices (GPF for a CH's gas proxy function). */
export function planBenches(rig: LoadedRig, ids: readonly string[]): PlanBench[] {
  return ids.map((id) => {
    const spec = rig.benches.find((b) => b.id === id);
    const roles = [...new Set([...(spec?.devices ?? []).map((d) => d.role), ...(spec?.devices.some((d) => d.gpf) ? ['GPF'] : [])])];
    return { id, virtual: spec?.virtual !== undefined, roles };
  });
}

/** The Playwright command that runs (or, with --list, lists) the conformance suites: one project per bench. */
export function suitesCommand(): string[] {
  const playwright = join(createRequire(import.meta.url).resolve('@playwright/test/package.json'), '..', 'cli.js');
  return [playwright, 'test', '-c', join(ROOT, 'suites', 'playwright.config.ts')];
}

/**
 * What a caller's own Playwright setup (a lab's CI, a test runner, PWDEBUG) sets to redirect or reshape reporters and
 * timeouts: the suites' Playwright must not follow it (PLAYWRIGHT_JSON_OUTPUT_FILE sent the case list to a file).
 */
const CALLERS_PLAYWRIGHT = /^(PLAYWRIGHT_|PW_|PWDEBUG$)/;

/** The environment of the suites' Playwright: the caller's, without CALLERS_PLAYWRIGHT, and the run's own variables. */
export function suitesEnv(own: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CALLERS_PLAYWRIGHT.test(name)));
  return { ...env, ...own };
}

/** The signing key (--signing-key, else GBCS_RIG_SIGNING_KEY): one that cannot sign is refused now, not after the campaign. */
export function checkSigningKeyOption(file: string | undefined): void {
  try {
    checkSigningKey({ file });
  } catch (e) {
    if (e instanceof SigningKeyError) throw new UsageError(`${file ? '--signing-key ' : ''}${e.message}; nothing was run`);
    throw e;
  }
}

/** GBCS_RIG_CHROMIUM naming no file is refused: the PDF is never quietly rendered by another browser, nor left out. */
export function checkChromium(): void {
  const problem = chromiumProblem();
  if (problem) throw new UsageError(`${problem}; nothing was run`);
}

/** --grep is a regular expression as Playwright reads it (`/re/flags`, else case-insensitive). */
export function checkGrep(grep: string | undefined): void {
  if (grep === undefined) return;
  if (grep === '') throw new UsageError('--grep needs a pattern, e.g. --grep CH-IPAN-001');
  const m = grep.match(/^\/(.*)\/([gi]*)$/);
  try {
    new RegExp(m ? m[1] : grep, m ? m[2] : 'gi');
  } catch (e) {
    throw new UsageError(`--grep ${grep}: not a regular expression (${(e as Error).message})`);
  }
}

/** The files under a folder (relative paths, sorted): what a manifest of it would sign; folders and links are not files. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((d) => !d.isDirectory() && !d.isSymbolicLink())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/**
 * --out must be a new folder or one holding no files (empty folders and links may be there):
 * then every file in it when the run ends, and so every file the manifest signs, is this run's.
 * A folder holding another run's files, or anyone's, is refused, never mixed in.
 */
export function checkOutFolder(dir: string, given: string, runId: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${given}: a file, not a folder`);
  const files = filesUnder(dir);
  if (files.length === 0) return;
  let earlier: string | undefined;
  try {
    const info = readRunInfo(dir);
    if (info) earlier = `run ${info.id}, started ${info.startedAt}: `;
  } catch {
    earlier = 'an unreadable run.json: ';
  }
  // Where the files are, at the folder's top (`evidence/`, `run.json`): what a person recognises.
  const tops = [...new Set(files.map((f) => f.replace(/\/.*/s, '/')))];
  const shown = `${counted(files.length, 'file')} in ${tops.slice(0, 8).join(', ')}${tops.length > 8 ? ', …' : ''}`;
  throw new UsageError(
    `--out ${given}: the folder holds ${earlier ?? ''}${shown} — a run writes into a new folder or one without files, ` +
      `so that its manifest signs only what it wrote: give a new folder (e.g. --out ${join(given, runId)}), or move the files away`,
  );
}

/** What a folder holds at its top (nothing if it does not exist): taken before a run, to put the folder back as it was. */
export function topEntries(dir: string): string[] | undefined {
  return existsSync(dir) ? readdirSync(dir) : undefined;
}

/** Removes what a run added at the top of its folder (`before`: its entries then), and the folder if the run made it. */
export function restoreRunFolder(dir: string, before: string[] | undefined): void {
  if (before === undefined) rmSync(dir, { recursive: true, force: true });
  else for (const entry of readdirSync(dir)) if (!before.includes(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
}

/** A case as Playwright lists it (`--list`, nothing runs): its test title, bench and annotations (the plan's among them). */
export interface ListedCase {
  title: string;
  bench: string;
  /** The suite file that declares it, e.g. `change-of-tenancy.spec.ts`. */
  suite: string;
  annotations: { type: string; description?: string }[];
}

/** The cases of the suites on each bench, in run order, as Playwright lists them (none: --grep matched none); SuitesNotListed when it could not list them. */
export function listCases(playwrightArgs: readonly string[], env: NodeJS.ProcessEnv): ListedCase[] {
  const listed = spawnSync(process.execPath, [...playwrightArgs, '--list', '--reporter=json'], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  type Test = { projectName?: string; annotations?: ListedCase['annotations'] };
  type Suite = { file?: string; specs?: { title: string; tests?: Test[] }[]; suites?: Suite[] };
  const cases: ListedCase[] = [];
  // The suite file is the top-level suite's: a spec's own `file` is where test() was called (harness/conformance.ts).
  const walk = (s: Suite, file: string) => {
    for (const spec of s.specs ?? [])
      for (const t of spec.tests ?? [])
        cases.push({
          title: spec.title,
          bench: (t.projectName ?? '').replace(/^bench:/, ''),
          suite: file,
          annotations: t.annotations ?? [],
        });
    for (const inner of s.suites ?? []) walk(inner, file);
  };
  let suites: Suite[];
  try {
    suites = (JSON.parse(listed.stdout) as { suites: Suite[] }).suites;
  } catch {
    const said = `${listed.stderr ?? ''}\n${listed.stdout ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new SuitesNotListed(
      `the conformance suites could not be listed, so nothing was run (Playwright ${listed.error ? listed.error.message : `exit ${listed.status}`}):\n${said}`,
    );
  }
  for (const s of suites) walk(s, basename(s.file ?? ''));
  return cases;
}

/** The case ids of the suites, in file order, as Playwright lists them (`--list`, nothing runs). */
export function caseIds(playwrightArgs: readonly string[], env: NodeJS.ProcessEnv): string[] {
  return [...new Set(listCases(playwrightArgs, env).map((c) => c.title.split(' ')[0]))];
}
