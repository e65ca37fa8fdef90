// `gbcs-rig verify <run-folder>`: checks the folder against its signed manifest — the signature,
// then every file: changed, missing, or there but not listed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { verifyRun } from '../reports/integrity.ts';
import { UsageError } from './errors.ts';
import { VERIFY_USAGE } from './usage.ts';
import { counted } from '../protocol/words.ts';

/** Exit codes: 0 the folder is as signed; 1 a file changed, is missing or unexpected, or the signature is bad; 2 usage. */
export const VERIFY_EXIT = { intact: 0, notIntact: 1, usage: 2 } as const;

export async function verifyCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'public-key': { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError(`verify takes one run folder, got ${positionals.length}\n${VERIFY_USAGE}`);
  const dir = resolve(positionals[0]);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${positionals[0]}: no such run folder`);
  let trustedPublicKey: string | undefined;
  if (values['public-key']) {
    try {
      trustedPublicKey = readFileSync(values['public-key'], 'utf8');
    } catch (e) {
      throw new UsageError(
        `--public-key ${values['public-key']}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  const result = await verifyRun(dir, { trustedPublicKey });
  for (const p of result.problems) out(`${p.problem}: ${p.file}`);
  if (!result.ok) {
    out(`${dir}: NOT intact (${counted(result.problems.length, 'problem')})`);
    return VERIFY_EXIT.notIntact;
  }
  const m = result.manifest!;
  out(`${dir}: intact — ${m.files.length} files as signed at ${m.createdAt} (key ${m.keySource}, ${m.publicKeyFingerprint})`);
  if (m.keySource === 'ephemeral' && !trustedPublicKey)
    out('note: signed with a throw-away key: this shows the folder matches its manifest, not who signed it');
  return VERIFY_EXIT.intact;
}
