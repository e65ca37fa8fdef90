// bin/gbcs-rig.js runs the JavaScript build only while it is newer than every source it was built
// from; a source edited since (or no build at all) runs from TypeScript, so a stale build never runs.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A package with the real entry point, a one-module "build" and its "source", each saying which it is. */
function tree(): { dir: string; run: (env?: Record<string, string>) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-entry-'));
  for (const d of ['bin', 'cli', 'dist/cli']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(join(ROOT, 'bin', 'gbcs-rig.js'), join(dir, 'bin', 'gbcs-rig.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ include: ['cli'] }));
  writeFileSync(join(dir, 'cli', 'main.ts'), "export const main = async (): Promise<number> => (console.log('source'), 0);\n");
  writeFileSync(join(dir, 'dist', 'cli', 'main.js'), "export const main = async () => (console.log('dist'), 0);\n");
  const run = (env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [join(dir, 'bin', 'gbcs-rig.js')], { encoding: 'utf8', env: { ...process.env, ...env } }).trim();
  return { dir, run };
}

const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);

test('the build runs while it is newer than every source; an edited source, a missing stamp or GBCS_RIG_FROM_SOURCE runs the sources', () => {
  const { dir, run } = tree();
  const source = join(dir, 'cli', 'main.ts');
  const stamp = join(dir, 'dist', '.built');
  at(source, 1_000_000);
  expect(run(), 'no build stamp').toBe('source');
  writeFileSync(stamp, '');
  at(stamp, 2_000_000);
  expect(run(), 'built after the last edit').toBe('dist');
  expect(run({ GBCS_RIG_FROM_SOURCE: '1' })).toBe('source');
  // A lab's registration modules are TypeScript filling the sources' registries: they run with the sources.
  expect(run({ GBCS_RIG_REGISTER: '/lab/kinds.ts' })).toBe('source');
  at(source, 3_000_000);
  expect(run(), 'a source edited after the build').toBe('source');
  // A new source file the build never saw is an edit too.
  at(source, 1_000_000);
  writeFileSync(join(dir, 'cli', 'new.ts'), 'export {};\n');
  expect(run(), 'a source added after the build').toBe('source');
});
