// Bench time (issue #15): what the campaign costs a bench, counted as a real bench would spend it.
// For the default campaign (the embedded virtual rig, one bench) and a two-bench rig, as whole
// `gbcs-rig run` commands: the bench time from the first case's start to the last one's end on each
// bench, the longest single case (the longest mandated wait chain: no placement can take less),
// their ratio (goal ≤ 1.1), the floor under the sharing rules at the times the cases took (the heaviest
// set of cases that pairwise disturb each other: no placement of them takes less), the plan's figures beside them, the same campaign with `--one-at-a-time`
// as the peer (each case holding the bench whole), and the virtual speed — simulated
// seconds, all benches together, per wall second of the whole command (goal ≥ 100,000×).
//   npm run bench:bench-time
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchTimeText, heaviestApart } from '../harness/plan.ts';
import type { RunInfo, RunResults } from '../reports/results.ts';
import { runCampaign } from '../test/support/campaign.ts';
import { COT_CONFORMANT } from '../test/support/matrix.ts';

const BIN = new URL('../bin/gbcs-rig.js', import.meta.url).pathname;

interface Measured {
  name: string;
  results: RunResults;
  plan: RunInfo['plan'];
  wallS: number;
}

async function measure(name: string, run: () => Promise<{ dir: string; exitCode: number; stderr: string }>): Promise<Measured> {
  const t0 = process.hrtime.bigint();
  const c = await run();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (c.exitCode !== 0) throw new Error(`${name}: gbcs-rig run exited ${c.exitCode}\n${c.stderr}`);
  const results = JSON.parse(readFileSync(join(c.dir, 'results.json'), 'utf8')) as RunResults;
  return { name, results, plan: results.run.plan, wallS };
}

function report(m: Measured): string[] {
  const spans = new Map<string, { from: number; to: number }>();
  let longest = { id: '', ms: 0 };
  let simulatedMs = 0;
  for (const c of m.results.cases) {
    const from = Date.parse(c.startedAt);
    const to = Date.parse(c.endedAt);
    simulatedMs += to - from;
    if (to - from > longest.ms) longest = { id: c.id, ms: to - from };
    const s = spans.get(c.bench);
    spans.set(c.bench, { from: Math.min(s?.from ?? from, from), to: Math.max(s?.to ?? to, to) });
  }
  const benchMs = Math.max(...[...spans.values()].map((s) => s.to - s.from));
  const plan = m.plan;
  // The floor again, weighed with the time each case took: how far this run is from the best placement under the rules.
  const took = new Map(m.results.cases.map((c) => [`${c.id}@${c.bench}`, Date.parse(c.endedAt) - Date.parse(c.startedAt)]));
  const floors = [...spans.keys()].map((bench) => {
    const apart = heaviestApart(
      (m.results.run.planned ?? []).filter((p) => p.bench === bench),
      (p) => took.get(`${p.id}@${p.bench}`) ?? 0,
    );
    return apart.reduce((t, p) => t + (took.get(`${p.id}@${p.bench}`) ?? 0), 0);
  });
  const floorMs = Math.max(0, ...floors);
  return [
    `${m.name}: ${m.results.cases.length} cases on ${spans.size} bench${spans.size === 1 ? '' : 'es'}, ${m.wallS.toFixed(1)} s wall`,
    `  bench time (busiest bench, first start to last end): ${benchTimeText(benchMs)} (${(benchMs / 3_600_000).toFixed(1)} h)`,
    `  longest single case: ${longest.id} ${benchTimeText(longest.ms)}; ratio ${(benchMs / longest.ms).toFixed(2)} (goal ≤ 1.1)`,
    `  floor under the sharing rules, each case at the time it took: ${benchTimeText(floorMs)} (${(floorMs / 3_600_000).toFixed(1)} h); this run ${((benchMs / floorMs - 1) * 100).toFixed(1)}% above it`,
    plan
      ? `  plan: ${benchTimeText(plan.totalMs)} against ${plan.longestChain} ${benchTimeText(plan.longestChainMs)}; ratio ${(plan.totalMs / plan.longestChainMs).toFixed(2)}`
      : '  plan: none recorded',
    `  virtual speed: ${Math.round(simulatedMs / 1000 / m.wallS).toLocaleString('en')} simulated s per wall s, all benches, whole command (goal ≥ 100,000×)`,
  ];
}

/** The default campaign as one `gbcs-rig run` with these options. */
const defaultCampaign =
  (...options: string[]) =>
  async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gbcs-rig-bench-time-')), 'run');
    const r = spawnSync(process.execPath, [BIN, 'run', '--out', dir, ...options], { encoding: 'utf8' });
    return { dir, exitCode: r.status ?? 1, stderr: r.stderr };
  };
const oneBench = await measure('default campaign (embedded virtual rig), cases side by side', defaultCampaign());
for (const line of report(oneBench)) console.log(line);
// The peer in the same run: every case holding the bench whole, as before cases shared a bench.
const oneAtATime = await measure('default campaign, --one-at-a-time', defaultCampaign('--one-at-a-time'));
for (const line of report(oneAtATime)) console.log(line);
const twoBenches = await measure('two-bench rig', () => runCampaign({ tenancy: COT_CONFORMANT, benches: 2 }));
for (const line of report(twoBenches)) console.log(line);
