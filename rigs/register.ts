// Registrations from outside the checkout: GBCS_RIG_REGISTER names modules (paths, separated by
// the platform's path delimiter) that add rows to the registries in drivers/ and sim/ when they
// are imported — a lab's own relay vendor or sniffer kind, or the project's tests' fake ones. The
// rig loader imports them before it reads a rig file, in every process that reads one (the CLI and
// each Playwright worker), so the rows exist wherever the rig file is read and its bench opened.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REGISTER_ENV = 'GBCS_RIG_REGISTER';

let registered: Promise<void> | undefined;

/** Imports each module GBCS_RIG_REGISTER names, once per process; a module that cannot be imported is an error naming it. */
export function importRegistrations(env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  registered ??= (async () => {
    for (const file of (env[REGISTER_ENV] ?? '').split(path.delimiter).filter(Boolean)) {
      try {
        await import(pathToFileURL(path.resolve(file)).href);
      } catch (cause) {
        throw new Error(`${REGISTER_ENV} names ${file}, which could not be imported: ${(cause as Error).message}`, { cause });
      }
    }
  })();
  return registered;
}
