// Start-up of whole commands, as a user meets it: `gbcs-rig help` and `--version` from the build in
// dist/ and from the TypeScript sources (GBCS_RIG_FROM_SOURCE), against `node -e 0` in the same run.
// Each figure is the best of seven spawns (the machine is shared and noisy).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/gbcs-rig.js', import.meta.url));
const RUNS = 7;

function best(args: string[], env: Record<string, string> = {}): number {
  let t = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    execFileSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env } });
    t = Math.min(t, performance.now() - start);
  }
  return t;
}

// Measure the build, not a stale one the entry point would skip: build first.
execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) });
const node = best(['-e', '0']);
const rows: [string, number][] = [
  ['node -e 0 (the floor)', node],
  ['gbcs-rig help, build', best([BIN, 'help'])],
  ['gbcs-rig --version, build', best([BIN, '--version'])],
  ['gbcs-rig help, sources (tsx)', best([BIN, 'help'], { GBCS_RIG_FROM_SOURCE: '1' })],
];
for (const [what, ms] of rows) console.log(`${what.padEnd(30)} ${(ms / 1000).toFixed(3)} s  (${(ms / node).toFixed(1)}× node)`);
console.log('goal: gbcs-rig help ≤ 0.3 s from the build');
