// protocol/ is pure: it turns bytes into values and back, and imports neither I/O modules nor
// other layers of the rig (drivers/, harness/, sim/, reports/, rigs/, cli/, io/ …). This scans
// the imports of every protocol/**/*.ts file, as TypeScript reads them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { test, expect } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROTOCOL = join(ROOT, 'protocol');

/** Node modules that reach files, sockets, processes or terminals. */
const IO_MODULES = new Set([
  'fs',
  'fs/promises',
  'net',
  'child_process',
  'dgram',
  'http',
  'https',
  'http2',
  'tls',
  'readline',
  'worker_threads',
]);
/** The packages the rig's drivers use for serial ports and MQTT. */
const IO_PACKAGES = ['serialport', '@serialport', 'mqtt', 'aedes'];

/** Every module specifier a source imports or re-exports (type-only and dynamic imports too). */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** Why `file` (absolute) importing `specifier` breaks protocol/'s purity; undefined when it does not. */
function layeringFault(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    const inside = relative(PROTOCOL, target);
    if (inside.startsWith('..') || isAbsolute(inside)) return `imports ${specifier}, which is ${relative(ROOT, target)}, outside protocol/`;
    return undefined;
  }
  const name = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
  if (IO_MODULES.has(name))
    return `imports ${specifier}: protocol/ does no I/O (file, socket and process access belong in io/ or drivers/)`;
  if (IO_PACKAGES.some((p) => name === p || name.startsWith(p + '/')))
    return `imports ${specifier}, an I/O package (drivers/ use it, not protocol/)`;
  return undefined;
}

function protocolFiles(): string[] {
  return readdirSync(PROTOCOL, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(PROTOCOL, f))
    .sort();
}

test('protocol/ imports no I/O module and nothing outside protocol/', () => {
  const files = protocolFiles();
  const faults: string[] = [];
  let imports = 0;
  for (const file of files) {
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      imports++;
      const fault = layeringFault(file, specifier);
      if (fault) faults.push(`${relative(ROOT, file)} ${fault}`);
    }
  }
  // The scan saw the tree: the split modules in their folders and their imports of each other.
  expect(files.map((f) => relative(PROTOCOL, f))).toEqual(
    expect.arrayContaining(['decoder.ts', join('pcapng', 'reader.ts'), join('security', 'ccm.ts')]),
  );
  expect(imports).toBeGreaterThan(files.length);
  expect(faults).toEqual([]);
});

test('the layering check names I/O modules and other layers, and lets protocol/ import itself', () => {
  const decoder = join(PROTOCOL, 'decoder.ts');
  const reader = join(PROTOCOL, 'pcapng', 'reader.ts');
  const faulty: Array<[string, string]> = [
    [decoder, 'node:fs'],
    [decoder, 'fs/promises'],
    [decoder, 'node:net'],
    [decoder, 'node:child_process'],
    [decoder, '@serialport/stream'],
    [decoder, '../drivers/faults.ts'],
    [decoder, '../io/capture-files.ts'],
    [reader, '../../harness/evidence.ts'],
    [reader, '../../sim/meter.ts'],
  ];
  for (const [file, specifier] of faulty) expect(layeringFault(file, specifier), specifier).toBeDefined();
  expect(layeringFault(decoder, '../drivers/faults.ts')).toContain('drivers/faults.ts, outside protocol/');
  for (const [file, specifier] of [
    [decoder, './security.ts'],
    [reader, '../bytes.ts'],
    [reader, './blocks.ts'],
    [decoder, 'node:crypto'],
  ]) {
    expect(layeringFault(file, specifier), specifier).toBeUndefined();
  }
  // Type-only imports, re-exports and dynamic imports are imports too.
  const source =
    "import type { A } from './a.ts';\nexport { B } from '../b.ts';\nexport * from 'node:net';\nconst c = await import('node:fs');\n";
  expect(importsOf(source)).toEqual(['./a.ts', '../b.ts', 'node:net', 'node:fs']);
});
