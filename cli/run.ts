// `gbcs-rig run`: validates the rig file and the options (refusing them before anything moves),
// then runs the conformance suites through Playwright — every case on every picked bench, one
// worker per bench — and summarises the verdicts.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256File } from '../harness/case.ts';
import { RUN_ENV } from '../harness/run-context.ts';
import { VERDICTS, type Verdict } from '../harness/verdicts.ts';
import { fromHex } from '../protocol/bytes.ts';
import { KeyTable } from '../protocol/security.ts';
import { MANIFEST, verifyRun } from '../reports/integrity.ts';
import { ChangedSinceSigned, changesSinceSigned, type Published, publishedLines, publishRun } from '../reports/publish.ts';
import { caseFolder } from '../reports/run-folder.ts';
import { RUN_INFO_FILE, type RunInfo, type RunResults } from '../reports/results.ts';
import type { LoadedRig } from '../rigs/load.ts';
import { type LineOutput, linesWhileRead, packageVersion as version, ROOT } from './common.ts';
import { UsageError } from './errors.ts';
import { planResume, readResumable, recordResume, TAKEN_FROM_RUN } from './resume.ts';
import {
  caseIds,
  checkChromium,
  checkGrep,
  checkOutFolder,
  checkSigningKeyOption,
  commaList,
  loadRunRig,
  planBenches,
  restoreRunFolder,
  suitesEnv,
  suitesCommand,
  topEntries,
} from './run-checks.ts';
import { counted } from '../protocol/words.ts';

/**
 * Exit codes of `run`: the verdicts are data, the exit code says whether the rig could run —
 * and, with `--fail-on`, whether a verdict the caller named came out (for CI).
 */
export const RUN_EXIT = { ran: 0, couldNotRun: 1, usage: 2, failedOn: 3 } as const;

/** `--fail-on` values: the verdict each stands for; `not-run` is a case that ended without a verdict. */
const FAIL_ON: Record<string, Verdict | 'not-run'> = { fail: 'FAIL', inconclusive: 'INCONCLUSIVE', error: 'ERROR', 'not-run': 'not-run' };

function parseFailOn(values: string[] | undefined): Set<Verdict | 'not-run'> {
  const picked = new Set<Verdict | 'not-run'>();
  for (const v of commaList(values)) {
    const meant = FAIL_ON[v.toLowerCase()];
    if (!meant) throw new UsageError(`--fail-on ${v}: not a value; use a comma list of ${Object.keys(FAIL_ON).join(', ')}`);
    picked.add(meant);
  }
  if (values?.length && picked.size === 0)
    throw new UsageError(`--fail-on needs a value: a comma list of ${Object.keys(FAIL_ON).join(', ')}`);
  return picked;
}

/** What in the results `--fail-on` names, e.g. `2 FAIL`, `1 not-run`; empty when nothing. */
function failedOn(results: RunResults, failOn: ReadonlySet<Verdict | 'not-run'>): string[] {
  const notRun = results.missing.length + (results.notRun?.length ?? 0);
  const found = [...failOn].map((v) => [v, v === 'not-run' ? notRun : results.totals[v]] as const);
  return found.filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`);
}

/** The git commit gbcs-rig runs from, when it runs from a checkout. */
function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** run.json: what the run is about (`reports/results.ts`, RunInfo). */
function runInfo(id: string, rig: LoadedRig, benches: readonly string[], grep: string | undefined, oneAtATime: boolean): RunInfo {
  return {
    id,
    rig: rig.file,
    rigSha256: sha256File(rig.file),
    benches: planBenches(rig, benches),
    station: rig.station.name,
    lab: rig.station.lab,
    operator: rig.station.operator,
    startedAt: new Date().toISOString(),
    endedAt: '',
    gbcsRig: version(),
    commit: commit(),
    labSettings: rig.labSettings,
    testPlan: readdirSync(join(ROOT, 'suites'))
      .filter((f) => f.endsWith('.spec.ts'))
      .sort()
      .map((f) => ({ suite: `suites/${f}`, sha256: sha256File(join(ROOT, 'suites', f)) })),
    ...(grep !== undefined && { grep }),
    ...(oneAtATime && { oneAtATime }),
  };
}

export async function runCommand(argv: string[], stdout: LineOutput): Promise<number> {
  // A reader that goes away (`gbcs-rig run … | head`) ends the output, not the campaign: its report is still signed.
  const out = linesWhileRead(stdout);
  const { values } = parseArgs({
    args: argv,
    options: {
      rig: { type: 'string' },
      out: { type: 'string' },
      grep: { type: 'string' },
      'signing-key': { type: 'string' },
      bench: { type: 'string', multiple: true },
      'fail-on': { type: 'string', multiple: true },
      resume: { type: 'string' },
      'one-at-a-time': { type: 'boolean' },
      'no-pdf': { type: 'boolean' },
      'no-allure': { type: 'boolean' },
    },
  });
  const skip = { pdf: values['no-pdf'] === true, allure: values['no-allure'] === true };
  const failOn = parseFailOn(values['fail-on']);
  if (values.resume !== undefined) {
    const given = TAKEN_FROM_RUN.filter((o) => values[o] !== undefined).map((o) => `--${o}`);
    if (given.length > 0)
      throw new UsageError(
        `--resume ${values.resume} takes the rig, benches, --grep and output folder from its run.json: leave out ${given.join(', ')}`,
      );
  }
  const resuming = values.resume !== undefined ? readResumable(values.resume) : undefined;
  const { rig, benches } = await loadRunRig(
    resuming ? resuming.info.rig : values.rig,
    resuming?.info.benches ? resuming.info.benches.map((b) => b.id) : values.bench,
  );
  const runId = resuming?.info.id ?? new Date().toISOString().replace(/[:.]/g, '-');
  const dir = resuming?.dir ?? resolve(values.out ?? join(ROOT, 'reports', 'out', runId));
  const grep = resuming ? resuming.info.grep : values.grep;
  // Everything the end of the run needs is checked now: hours of bench time must not end in a refusal.
  checkGrep(grep);
  checkSigningKeyOption(values['signing-key']);
  if (!skip.pdf) checkChromium();
  // One Playwright project per bench (suites/playwright.config.ts), one worker each.
  const args = suitesCommand();
  const env = suitesEnv({
    [RUN_ENV.rig]: rig.file ?? '',
    [RUN_ENV.benches]: benches.join(','),
    [RUN_ENV.out]: dir,
    [RUN_ENV.runId]: runId,
    [RUN_ENV.station]: rig.station.name,
    [RUN_ENV.version]: version(),
    [RUN_ENV.labSettings]: JSON.stringify(rig.settings),
  });
  let found: string[] | undefined;
  if (resuming) {
    // The plan run.json recorded, or, when the run stopped before recording it, the cases its --grep picks now.
    const listed = () => caseIds([...args, ...(grep ? ['--grep', grep] : [])], env);
    const planned = resuming.info.planned ?? listed().flatMap((id) => benches.map((bench) => ({ id, title: '', bench })));
    const left = planned.filter((p) => !existsSync(join(dir, caseFolder(p), 'result.json')));
    if (left.length === 0) return finishedRun(dir, resuming.info, planned.length, rig, values['signing-key'], skip, failOn, out);
    const plan = planResume(dir, resuming.info, planned);
    recordResume(plan, planned);
    env[RUN_ENV.benches] = [...plan.remaining.keys()].join(',');
    env[RUN_ENV.remaining] = JSON.stringify(Object.fromEntries(plan.remaining));
    const partial = plan.rerun.map((r) => r.partial).join(', ') || 'none';
    out(
      `gbcs-rig run ${runId} resumed: ${counted(plan.kept.length, 'case')} kept with their verdicts, ` +
        `${plan.rerun.length} cut short and run again from the start (partial evidence kept: ${partial}), ` +
        `${left.length - plan.rerun.length} never started; output ${dir}`,
    );
  } else {
    if (values.out !== undefined) checkOutFolder(dir, values.out, runId);
    found = topEntries(dir);
    mkdirSync(dir, { recursive: true });
    // What the run is about, written before anything moves: the report can be rebuilt from the folder alone.
    writeFileSync(
      join(dir, RUN_INFO_FILE),
      JSON.stringify(runInfo(runId, rig, benches, grep, values['one-at-a-time'] === true), null, 2) + '\n',
    );
    // No case matched is told below as a usage error, with the case ids, rather than as Playwright's error.
    if (grep) args.push('--grep', grep, '--pass-with-no-tests');
    out(
      `gbcs-rig run ${runId}: station ${rig.station.name}, bench${benches.length === 1 ? '' : 'es'} ${benches.join(', ')}, output ${dir}`,
    );
  }
  const code = await new Promise<number>((done) => {
    // Playwright's lines come through this process, not straight to stdout: a closed stdout would kill it (EPIPE).
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', out);
    child.on('close', (c) => done(c ?? 1));
  });
  const resultsFile = join(dir, 'results.json');
  if (!existsSync(resultsFile)) {
    process.stderr.write(`gbcs-rig run: the suites did not complete (Playwright exit ${code}); no results.json in ${dir}\n`);
    return RUN_EXIT.couldNotRun;
  }
  const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
  if (!resuming && grep && results.cases.length === 0 && results.missing.length === 0) {
    // Playwright found no case before any fixture ran: nothing moved; the folder is left as it was found.
    restoreRunFolder(dir, found);
    const ids = caseIds(args.slice(0, 4), env).sort();
    const cases = ids.length > 0 ? `the cases: ${ids.join(', ')}` : 'the suites list no case';
    throw new UsageError(`--grep ${grep}: matches no case, so nothing was run and no report signed; ${cases}`);
  }
  printResults(results, out);
  await publish(dir, rig, values['signing-key'], skip, out);
  return exitFor(results, failOn, out);
}

function printResults(results: RunResults, out: (line: string) => void): void {
  out('');
  for (const c of results.cases)
    out(`${c.verdict.padEnd(15)} ${c.id.padEnd(12)} ${c.bench.padEnd(12)} ${c.title}${c.verdict === 'PASS' ? '' : ` — ${c.reason}`}`);
  out(`verdicts: ${VERDICTS.map((v) => `${results.totals[v]} ${v}`).join(', ')}`);
  if (results.missing.length > 0) out(`cases that ended without a verdict (rig crash): ${results.missing.join(', ')}`);
}

/** The report in every format, and last the signed manifest over the whole folder. */
async function publish(
  dir: string,
  rig: LoadedRig,
  signingKey: string | undefined,
  skip: { pdf: boolean; allure: boolean },
  out: (line: string) => void,
): Promise<Published> {
  const keys = new KeyTable();
  if (rig.secrets.networkKey) keys.addNetworkKey(fromHex(rig.secrets.networkKey));
  const published = await publishRun(dir, { keys, redact: (text) => rig.secrets.redact(text), signingKey, skip });
  for (const line of publishedLines(published)) out(line);
  out(`run folder: ${dir}`);
  return published;
}

/** `--resume` of a run whose every planned case has its verdict: said so; if it stopped before signing, its report is made now. */
async function finishedRun(
  dir: string,
  info: RunInfo,
  cases: number,
  rig: LoadedRig,
  signingKey: string | undefined,
  skip: { pdf: boolean; allure: boolean },
  failOn: ReadonlySet<Verdict | 'not-run'>,
  out: (line: string) => void,
): Promise<number> {
  const complete = `run ${info.id} is complete: all ${cases} planned case${cases === 1 ? ' has its verdict' : 's have their verdicts'}`;
  if (existsSync(join(dir, MANIFEST)) && (await verifyRun(dir)).ok) {
    out(`--resume ${dir}: ${complete} and the folder is signed; nothing to resume`);
    return RUN_EXIT.ran;
  }
  // A folder whose signature is missing or bad but whose files changed since its manifest is not "stopped before signing".
  try {
    await changesSinceSigned(dir, false);
  } catch (e) {
    if (!(e instanceof ChangedSinceSigned)) throw e;
    process.stderr.write(`gbcs-rig run: --resume ${dir}: ${complete}, but ${e.message}\n`);
    return RUN_EXIT.couldNotRun;
  }
  out(`--resume ${dir}: ${complete}, but it stopped before its report was signed: the report is made and signed now`);
  // Rebuilt from the evidence: a results.json the stopped run left may not be the whole campaign's.
  rmSync(join(dir, 'results.json'), { force: true });
  const { built } = await publish(dir, rig, signingKey, skip, out);
  printResults(built.results, out);
  return exitFor(built.results, failOn, out);
}

/** The exit code for the results: couldNotRun when a case has no verdict, else failedOn when `--fail-on` names a verdict that came out. */
function exitFor(results: RunResults, failOn: ReadonlySet<Verdict | 'not-run'>, out: (line: string) => void): number {
  if (results.missing.length > 0) return RUN_EXIT.couldNotRun;
  const named = failedOn(results, failOn);
  if (named.length === 0) return RUN_EXIT.ran;
  out(`--fail-on ${[...failOn].map((v) => v.toLowerCase()).join(',')}: ${named.join(', ')} (exit ${RUN_EXIT.failedOn})`);
  return RUN_EXIT.failedOn;
}
