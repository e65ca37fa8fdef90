#!/usr/bin/env node
// gbcs-rig's entry point. It runs the JavaScript build in dist/ (tsconfig.build.json; `npm ci`
// makes it) while the build is newer than every TypeScript source it was made from, and the
// sources themselves through tsx otherwise: a stale build is never run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');

/** The newest modification time of the .ts files under `path`. */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return path.endsWith('.ts') ? stat.mtimeMs : 0;
  let t = 0;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

function builtFresh() {
  let built;
  try {
    built = statSync(join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return false;
  }
  const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  return include.every((source) => newest(join(root, source)) <= built);
}

let main;
// Registration modules (GBCS_RIG_REGISTER) are TypeScript that fill the sources' registries: run from the sources with them.
if (!process.env.GBCS_RIG_FROM_SOURCE && !process.env.GBCS_RIG_REGISTER && builtFresh()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
