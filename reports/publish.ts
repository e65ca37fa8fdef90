// Everything a run folder publishes, in order: results.json, report.html and junit.xml (from
// the evidence alone), report.pdf, the Allure site, and last the signed manifest over all of it.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyTable } from '../protocol/security.ts';
import { buildAllureSite, type AllureOutcome } from './allure-site.ts';
import { buildReport, type BuiltReport } from './build.ts';
import type { SignedBy } from './html.ts';
import {
  filesAgainst,
  type IntegrityProblem,
  MANIFEST,
  type Manifest,
  manifestOf,
  SIGNATURE,
  signingKey,
  writeManifest,
} from './integrity.ts';
import { renderPdf, type PdfOutcome } from './pdf.ts';
import { devicesUnderTest } from './audit.ts';
import { pageFurniture } from './statement.ts';

/** The run folder changed since it was signed, and the person publishing it did not accept that. */
export class ChangedSinceSigned extends Error {}

/**
 * A folder signed before (manifest.json) is published again only as it was signed: a change to the run's own files (its
 * evidence, results, run.json) would otherwise be signed as the run's. The files are compared with the manifest whatever
 * its signature (a run stopped between writing the manifest and signing it left no signature, and changed nothing).
 * `accept` (report --accept-changes): the changes are named in the report and the earlier manifest and signature are kept
 * in superseded/ (signed too). What publishing rewrites (the report formats) and a results.json gone (rebuilt from the
 * cases' own result.json files, which the manifest checks) are no change.
 */
export async function changesSinceSigned(dir: string, accept: boolean): Promise<SignedBy['changedSinceSigned']> {
  const file = join(dir, MANIFEST);
  const manifest = existsSync(file) ? manifestOf(readFileSync(file)) : undefined;
  if (!manifest) return undefined; // never signed, or no manifest of ours to compare with
  const rebuilt = (p: IntegrityProblem) => p.file === 'results.json' && p.problem === 'missing';
  const changed = (await filesAgainst(dir, manifest))
    .filter((p) => !writtenByPublishing(p.file) && !rebuilt(p))
    .map((p) => `${p.file}: ${p.problem}`);
  if (changed.length === 0) return undefined;
  if (!accept)
    throw new ChangedSinceSigned(
      `${dir} changed since it was signed at ${manifest.createdAt} (key ${manifest.publicKeyFingerprint}): ${changed.join('; ')} — ` +
        "signing it again would sign these changes as the run's; nothing was written. Check them (gbcs-rig verify), or report " +
        'the folder as it is now with gbcs-rig report --accept-changes: the report then names the changes and the earlier ' +
        'manifest is kept beside it',
    );
  const superseded = `superseded/manifest-${(manifest.createdAt ?? new Date().toISOString()).replace(/[:.]/g, '-')}`;
  mkdirSync(join(dir, 'superseded'), { recursive: true });
  renameSync(join(dir, MANIFEST), join(dir, `${superseded}.json`));
  if (existsSync(join(dir, SIGNATURE))) renameSync(join(dir, SIGNATURE), join(dir, `${superseded}.sig`));
  return { files: changed, superseded: `${superseded}.json` };
}

export interface Published {
  built: BuiltReport;
  pdf: PdfOutcome;
  allure: AllureOutcome;
  manifest: Manifest;
}

export async function publishRun(
  runDir: string,
  options: {
    keys?: KeyTable;
    redact?: (text: string) => string;
    signingKey?: string;
    historyDir?: string;
    changedSinceSigned?: SignedBy['changedSinceSigned'];
    /** Leave out the PDF or the Allure site (run --no-pdf / --no-allure: a nightly farm reads junit.xml and report.html). */
    skip?: { pdf?: boolean; allure?: boolean };
  } = {},
): Promise<Published> {
  // The key first: the report's cover names the fingerprint the manifest will be signed with.
  const signer = signingKey({ file: options.signingKey });
  const built = await buildReport(runDir, {
    keys: options.keys,
    redact: options.redact,
    signedBy: {
      fingerprint: signer.fingerprint,
      source: signer.source,
      ...(options.changedSinceSigned && { changedSinceSigned: options.changedSinceSigned }),
    },
  });
  // Chromium and the Allure generator are processes of their own, writing different files: both at once.
  const notAsked = (option: string) => Promise.resolve({ written: false as const, reason: `not asked for (${option})` });
  const [pdf, allure] = await Promise.all([
    options.skip?.pdf
      ? notAsked('--no-pdf')
      : renderPdf(built.files.html, join(runDir, 'report.pdf'), pageFurniture(built.results, devicesUnderTest(built.results.cases))),
    options.skip?.allure
      ? notAsked('--no-allure')
      : buildAllureSite(runDir, `gbcs-rig ${built.results.run.station} ${built.results.run.id}`.trim(), options.historyDir),
  ]);
  const manifest = await writeManifest(runDir, signer);
  return { built, pdf, allure, manifest };
}

/** What publishing writes anew each time (the report formats, the Allure site): their changes are not the run's. */
export function writtenByPublishing(path: string): boolean {
  return ['report.html', 'junit.xml', 'report.pdf'].includes(path) || path.startsWith('allure-report/');
}

/** The lines a person reads after publishing. */
export function publishedLines(p: Published): string[] {
  return [
    `report: ${p.built.files.html}`,
    `junit: ${p.built.files.junit}`,
    p.pdf.written ? `pdf: ${p.pdf.file}` : `pdf: not written — ${p.pdf.reason}`,
    p.allure.written ? `allure site: ${p.allure.dir} (history ${p.allure.history})` : `allure site: not written — ${p.allure.reason}`,
    `signed ${p.manifest.files.length} files in manifest.json (key ${p.manifest.keySource}, ${p.manifest.publicKeyFingerprint})`,
  ];
}
