// Simulated seconds per wall second over the conformance campaign on the virtual bench
// (target ≥ 10,000×): runs `gbcs-rig run` on the embedded virtual rig as a user would, and
// reads each case's virtual start and end from results.json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResults } from '../reports/results.ts';

const BIN = fileURLToPath(new URL('../bin/gbcs-rig.js', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'gbcs-rig-bench-')), 'run');

const t0 = process.hrtime.bigint();
const r = spawnSync(process.execPath, [BIN, 'run', '--out', out], { encoding: 'utf8' });
const wallAll = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.status !== 0) {
  console.error(r.stdout, r.stderr);
  process.exit(1);
}
const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
const simulated = results.cases.reduce((s, c) => s + (Date.parse(c.endedAt) - Date.parse(c.startedAt)) / 1000, 0);
// Wall time of the suites themselves, from Playwright's own timing of the run (start-up excluded).
const wallSuites = (Date.parse(results.run.endedAt) - Date.parse(results.run.startedAt)) / 1000;
console.log(
  `cases: ${results.cases.length} (${Object.entries(results.totals)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ')})`,
);
console.log(`simulated bench time: ${simulated.toFixed(0)} s (${(simulated / 3600).toFixed(1)} h)`);
console.log(`wall time: ${wallSuites.toFixed(2)} s in the suites, ${wallAll.toFixed(2)} s including start-up`);
console.log(
  `simulated seconds per wall second: ${Math.round(simulated / wallSuites).toLocaleString('en')}× in the suites, ${Math.round(simulated / wallAll).toLocaleString('en')}× overall (target ≥ 10,000×)`,
);
