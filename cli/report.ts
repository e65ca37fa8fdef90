// `gbcs-rig report <run-folder>`: rebuilds every report format from the run folder alone
// (results.json when missing, report.html, junit.xml, report.pdf, the Allure site), then signs it.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSigningKey, SigningKeyError } from '../reports/integrity.ts';
import { chromiumProblem } from '../reports/pdf.ts';
import { ChangedSinceSigned, changesSinceSigned, publishedLines, publishRun } from '../reports/publish.ts';
import { RunFolderError } from '../reports/results.ts';
import { VERDICTS } from '../harness/verdicts.ts';
import { UsageError } from './errors.ts';
import { keyTableOf, readKeys } from './keys.ts';
import { REPORT_USAGE } from './usage.ts';

/** Exit codes: 0 report built and signed; 1 the folder could not be reported or signed; 2 usage. */
export async function reportCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'signing-key': { type: 'string' },
      'key-file': { type: 'string', multiple: true, default: [] },
      'accept-changes': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`report takes one run folder, got ${positionals.length}\n${REPORT_USAGE}`);
  const dir = resolve(positionals[0]);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${positionals[0]}: no such run folder`);
  if (values['signing-key'] && !existsSync(values['signing-key']))
    throw new UsageError(`--signing-key ${values['signing-key']}: no such key file`);
  // Keys decrypt HAN frames for the audit trail's titles; they are redacted from everything written.
  const given = readKeys([], values['key-file']);
  const keys = keyTableOf(given);
  const secrets = given.map((k) => Buffer.from(k).toString('hex'));
  const redact = (text: string) => secrets.reduce((t, k) => t.split(k).join('(redacted)').split(k.toUpperCase()).join('(redacted)'), text);
  const chromium = chromiumProblem();
  if (chromium) throw new UsageError(chromium);
  try {
    // A key that cannot sign is said before the report is built, not after.
    checkSigningKey({ file: values['signing-key'] });
    const changedSinceSigned = await changesSinceSigned(dir, values['accept-changes'] === true);
    const published = await publishRun(dir, { keys, redact, signingKey: values['signing-key'], changedSinceSigned });
    const { built, manifest } = published;
    if (built.resultsRebuilt) out(`results.json was missing: rebuilt from evidence/*/result.json (${built.results.cases.length} cases)`);
    out(`verdicts: ${VERDICTS.map((v) => `${built.results.totals[v]} ${v}`).join(', ')}`);
    for (const line of publishedLines(published)) out(line);
    if (manifest.keySource === 'ephemeral')
      out(
        "note: no signing key given (--signing-key or GBCS_RIG_SIGNING_KEY): signed with a throw-away key, which proves integrity only to whoever trusts manifest.json's public key",
      );
    return 0;
  } catch (e) {
    if (e instanceof RunFolderError || e instanceof SigningKeyError || e instanceof ChangedSinceSigned) {
      process.stderr.write(`gbcs-rig report: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
