// `gbcs-rig run --resume DIR`: continues a campaign that stopped (a crash, a power cut, kill -9, a
// bench fault) in its own run folder. The rig, benches and --grep come from run.json, and the rig
// file and suites must be as they were; cases with a verdict are kept, a case cut in the middle is
// run again from its start (what it left moved aside as `<case>--<bench>.partial-<n>`, named in
// run.json and the report), and the cases never started are run. The manifest is signed anew at the end.
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256File } from '../harness/case.ts';
import { removeBenchProgress } from '../harness/progress.ts';
import { MANIFEST, SIGNATURE } from '../reports/integrity.ts';
import { caseFolder } from '../reports/run-folder.ts';
import { type PlannedCase, RUN_INFO_FILE, type RunInfo, readRunInfo } from '../reports/results.ts';
import { ROOT } from './common.ts';
import { UsageError } from './errors.ts';

/** The options `run --resume` takes from run.json, so they cannot be given beside it. */
export const TAKEN_FROM_RUN = ['out', 'rig', 'bench', 'grep', 'one-at-a-time'] as const;

export interface ResumePlan {
  dir: string;
  info: RunInfo;
  /** The campaign's cases with a verdict, kept as they are. */
  kept: PlannedCase[];
  /** Cut short: moved aside, run again from their start. */
  rerun: { id: string; bench: string; partial: string }[];
  /** Every case still to run (the rerun ones too), by bench. */
  remaining: Map<string, string[]>;
}

const key = (c: Pick<PlannedCase, 'id' | 'bench'>) => `${c.id}--${c.bench}`;

/** Reads the run folder and checks it can be resumed as it was started; throws UsageError naming what is wrong. */
export function readResumable(given: string): { dir: string; info: RunInfo } {
  const dir = resolve(given);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--resume ${given}: no such folder`);
  let info: RunInfo | undefined;
  try {
    info = readRunInfo(dir);
  } catch (e) {
    throw new UsageError(`--resume ${given}: ${RUN_INFO_FILE} is unreadable (${(e as Error).message}); cannot know what the run was`);
  }
  if (!info)
    throw new UsageError(`--resume ${given}: not a run folder (no ${RUN_INFO_FILE}, which gbcs-rig run writes before anything moves)`);
  const rig = info.rig;
  if (!rig || !existsSync(rig))
    throw new UsageError(`--resume ${given}: the run's rig file ${rig || '(none recorded)'} is gone; a resumed run needs it`);
  const now = sha256File(rig);
  if (info.rigSha256 && now !== info.rigSha256)
    throw new UsageError(
      `--resume ${given}: the rig file ${rig} changed since the run started (sha256 ${info.rigSha256.slice(0, 12)}… then, ` +
        `${now.slice(0, 12)}… now): its verdicts so far belong to the rig as it was — restore the file, or start a new run`,
    );
  for (const { suite, sha256 } of info.testPlan ?? []) {
    const file = join(ROOT, suite);
    const then = existsSync(file) ? sha256File(file) : 'gone';
    if (then !== sha256)
      throw new UsageError(
        `--resume ${given}: ${suite} changed since the run started (${then === 'gone' ? 'it is gone' : 'its sha256 differs'}): ` +
          'the cases left would not be the cases planned — run the gbcs-rig the run started with, or start a new run',
      );
  }
  return { dir, info };
}

/** The next free `.partial-<n>` name for a case's folder. */
function partialName(dir: string, folder: string): string {
  const base = folder.split('/').pop()!;
  const taken = existsSync(join(dir, 'evidence'))
    ? readdirSync(join(dir, 'evidence')).map((n) => (n.startsWith(`${base}.partial-`) ? Number(n.slice(base.length + 9)) || 0 : 0))
    : [];
  // One past the highest: an earlier partial folder is never overwritten, even with a gap in the numbers.
  return `${folder}.partial-${Math.max(0, ...taken) + 1}`;
}

/**
 * What is left of the campaign: `planned` is the campaign's cases (run.json's plan, or, when the run
 * stopped before recording it, the cases listed now). Cases cut short are moved aside here.
 */
export function planResume(dir: string, info: RunInfo, planned: readonly PlannedCase[]): ResumePlan {
  const kept: PlannedCase[] = [];
  const rerun: ResumePlan['rerun'] = [];
  const remaining = new Map<string, string[]>();
  for (const p of planned) {
    const folder = caseFolder(p);
    if (existsSync(join(dir, folder, 'result.json'))) {
      kept.push(p);
      continue;
    }
    if (existsSync(join(dir, folder))) {
      const partial = partialName(dir, folder);
      renameSync(join(dir, folder), join(dir, partial));
      rerun.push({ id: p.id, bench: p.bench, partial });
    }
    remaining.set(p.bench, [...(remaining.get(p.bench) ?? []), p.id]);
  }
  return { dir, info, kept, rerun, remaining };
}

/** Records the resume in run.json (and the plan, when the stopped run had not), and clears what the last part left unsigned. */
export function recordResume(plan: ResumePlan, planned: readonly PlannedCase[]): RunInfo {
  const info: RunInfo = {
    ...plan.info,
    planned: plan.info.planned ?? [...planned],
    endedAt: '',
    resumes: [
      ...(plan.info.resumes ?? []),
      {
        at: new Date().toISOString(),
        kept: plan.kept.map(key),
        rerun: plan.rerun,
        remaining: [...plan.remaining].flatMap(([bench, ids]) => ids.map((id) => key({ id, bench }))),
      },
    ],
  };
  writeFileSync(join(plan.dir, RUN_INFO_FILE), JSON.stringify(info, null, 2) + '\n');
  // A signature over the folder as it was would not hold once the run goes on: it is made again at the end.
  for (const f of [MANIFEST, SIGNATURE, 'results.json']) rmSync(join(plan.dir, f), { force: true });
  removeBenchProgress(plan.dir);
  return info;
}
