// Suites speak verdicts, not drivers: a suite imports only harness/ (its case API, verdicts and the
// bench as the harness shows it) and protocol/ (the protocol tables), and no package but the test runner.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SUITES = fileURLToPath(new URL('../../suites/', import.meta.url));
const ROOT = path.resolve(SUITES, '..');
const ALLOWED_LAYERS = ['harness', 'protocol'];
/** Packages a suite file may name: the test runner (suites/playwright.config.ts) and Node's own modules. */
const ALLOWED_PACKAGES = ['@playwright/test'];

/** Every module a source text imports or re-exports, statically or dynamically. */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** Why `specifier`, imported by the suite file `file`, breaks the layering; undefined when it does not. */
function breach(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('node:') || ALLOWED_PACKAGES.includes(specifier)) return undefined;
  if (!specifier.startsWith('.')) return `${file} imports the package "${specifier}": a suite reaches packages only through harness/`;
  const target = path.relative(ROOT, path.resolve(SUITES, specifier));
  const layer = target.split(path.sep)[0];
  if (ALLOWED_LAYERS.includes(layer)) return undefined;
  return `${file} imports "${specifier}" (${target}): a suite imports only harness/ and protocol/; ask the harness (ctx.rec.inconclusive for a rig fault)`;
}

test('the import scanner finds static, type-only, multi-line, re-exported and dynamic imports', () => {
  const source = [
    "import { a } from '../harness/case.ts';",
    "import type { B } from '../drivers/faults.ts';",
    'import {\n  c,\n  d,\n} from "../rigs/load.ts";',
    "export { e } from '../protocol/zcl/index.ts';",
    "const f = await import('../sim/bench.ts');",
  ].join('\n');
  expect(importsOf(source)).toEqual([
    '../harness/case.ts',
    '../drivers/faults.ts',
    '../rigs/load.ts',
    '../protocol/zcl/index.ts',
    '../sim/bench.ts',
  ]);
  expect(
    importsOf(source)
      .map((s) => breach('x.spec.ts', s))
      .filter((b) => b !== undefined),
  ).toHaveLength(3);
  expect(breach('x.spec.ts', 'serialport')).toContain('the package "serialport"');
});

test('suites import only harness/ and protocol/', () => {
  const files = readdirSync(SUITES).filter((f) => f.endsWith('.ts'));
  expect(files).toContain('change-of-tenancy.spec.ts');
  const seen: string[] = [];
  const breaches: string[] = [];
  for (const file of files) {
    for (const specifier of importsOf(readFileSync(path.join(SUITES, file), 'utf8'))) {
      seen.push(specifier);
      const why = breach(`suites/${file}`, specifier);
      if (why) breaches.push(why);
    }
  }
  expect(seen.length, 'the suites import something').toBeGreaterThan(0);
  expect(breaches).toEqual([]);
});
