// Builds a run's certification report from the run folder alone (results.json, the cases'
// result.json, event logs and captures), so a crashed or copied run can still be reported.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { KeyTable } from '../protocol/security.ts';
import { auditTrail, devicesUnderTest } from './audit.ts';
import { renderHtml, type SignedBy } from './html.ts';
import { renderJunit } from './junit.ts';
import type { RunResults } from './results.ts';
import { RunFolderError, evidenceFolders, readJson, readRunInfo, resultsFromEvidence, type RunInfo } from './results.ts';
import { readCaseEvidence } from './run-folder.ts';
import { ROOT } from '../paths.ts';

export interface BuildReportOptions {
  /** Keys to decrypt HAN frames for the audit trail's titles (never printed). */
  keys?: KeyTable;
  /** Applied to every text the report writes, e.g. `rig.secrets.redact` — a second guard; the report prints no payloads. */
  redact?: (text: string) => string;
  /** Run metadata for a results.json rebuilt from evidence (the evidence does not record it). Default: the folder's name as id. */
  run?: Partial<RunInfo>;
  /** The report's build time. Default now. */
  now?: Date;
  /** The key the run folder will be signed with, named on the cover. */
  signedBy?: SignedBy;
}

export interface BuiltReport {
  results: RunResults;
  /** results.json was missing and has been written from the evidence. */
  resultsRebuilt: boolean;
  /** Absolute paths of what was written. */
  files: { results: string; html: string; junit: string };
}

function ownVersion(): string {
  const pkg = join(ROOT, 'package.json');
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '';
  } catch {
    return '';
  }
}

export async function buildReport(runDir: string, options: BuildReportOptions = {}): Promise<BuiltReport> {
  const dir = resolve(runDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RunFolderError(dir, 'no such run folder');
  const resultsFile = join(dir, 'results.json');
  let results: RunResults;
  let rebuilt = false;
  if (existsSync(resultsFile)) {
    results = readJson<RunResults>(resultsFile);
    if (results?.schema !== 'gbcs-rig/results@1' || !Array.isArray(results.cases))
      throw new RunFolderError(
        resultsFile,
        `not a gbcs-rig results file (schema ${JSON.stringify(results?.schema)}, expected "gbcs-rig/results@1")`,
      );
  } else {
    if (evidenceFolders(dir).length === 0)
      throw new RunFolderError(dir, 'not a run folder: no results.json and no evidence/<case>--<bench>/ folders');
    // What run.json recorded at the start still holds after a crash: station, rig, lab, plan.
    const run: RunInfo = {
      id: basename(dir),
      rig: '',
      station: '',
      startedAt: '',
      endedAt: '',
      gbcsRig: '',
      ...readRunInfo(dir),
      ...options.run,
    };
    results = resultsFromEvidence(dir, run);
    // Written as the reporter would have: the report and its manifest then describe the same thing.
    writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
    rebuilt = true;
  }

  const cases = [];
  for (const c of results.cases) cases.push(await readCaseEvidence(dir, c));
  const devices = devicesUnderTest(results.cases);
  const { trail, problems } = await auditTrail(dir, cases, devices, options.keys ?? new KeyTable());
  const redact = options.redact ?? ((t: string) => t);
  const html = redact(
    renderHtml({
      results,
      rebuilt,
      cases,
      devices,
      audit: trail,
      auditProblems: problems,
      generatedAt: (options.now ?? new Date()).toISOString(),
      builtBy: ownVersion(),
      signedBy: options.signedBy,
    }),
  );
  const junit = redact(renderJunit(results));
  const files = { results: resultsFile, html: join(dir, 'report.html'), junit: join(dir, 'junit.xml') };
  writeFileSync(files.html, html);
  writeFileSync(files.junit, junit);
  return { results, resultsRebuilt: rebuilt, files };
}
