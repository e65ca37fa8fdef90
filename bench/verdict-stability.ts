// Verdict stability over bench seeds (goal: 0 flips): runs the conformant campaigns and each
// mutant's catching case of the mutation matrix (test/support/matrix.ts) on virtual benches of
// seeds 1..N — each seed lines the devices' timers up differently (sim/jitter.ts) — and prints,
// per case, how often each verdict came and the seeds whose verdict was not the expected one.
// Each campaign runs 25 seeds as 25 virtual benches (bench k has seed first + k − 1, and its own
// device addresses), so one Playwright start serves many seeds.
//   npm run bench:verdict-stability -- [--seeds N] [--first-seed K] [--jobs J] [--only REGEX]
// Exits 1 if any case flipped, 2 on a usage error.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runCampaign, type Campaign, type CampaignOptions } from '../test/support/campaign.ts';
import {
  COT_ALL_PASS,
  COT_CAUGHT_BY,
  COT_CONFORMANT,
  COT_CONFORMANT_POLLERS,
  COT_MINUTE_POLLER,
  COT_SLOW,
  IPAN_CAUGHT_BY,
  IPAN_CONFORMANT_VERDICTS,
  IPAN_SECMP0037_VERDICTS,
  IPAN_SLOW,
  casesOf,
  judgements,
  OTA_ALL_PASS,
  OTA_CAUGHT_BY,
  OTA_GREP,
  OTA_MUTANTS,
  PWR_ALL_PASS,
  RCN_ALL_PASS,
  RCN_CAUGHT_BY,
  RCN_GREP,
  RCN_LIMITS,
  PWR_CAUGHT_BY,
  PWR_GREP,
  pwrCampaign,
} from '../test/support/matrix.ts';
import { counted } from '../protocol/words.ts';

/** One campaign of the matrix, run on every seed: its options (but the seed) and the verdict each case must give. */
export interface StabilityRow {
  name: string;
  options: Omit<CampaignOptions, 'seed'>;
  expected: Record<string, string>;
}

/** Every row: the conformant campaigns first, then each mutant on the case that must catch it (alone, as the matrix tests run it), then each slow device. */
export function stabilityRows(): StabilityRow[] {
  return [
    { name: 'conformant CH', options: { firmware: 'ch-conformant', grep: 'CH-IPAN' }, expected: IPAN_CONFORMANT_VERDICTS },
    { name: 'conformant CH, SECMP0037', options: { firmware: 'ch-secmp0037', grep: 'CH-IPAN' }, expected: IPAN_SECMP0037_VERDICTS },
    { name: 'conformant ESME, GPF, IHD, PPMID', options: { tenancy: COT_CONFORMANT, grep: 'COT' }, expected: COT_ALL_PASS },
    ...COT_CONFORMANT_POLLERS.map((ihd) => ({
      name: `conformant ${ihd}`,
      options: { tenancy: { ...COT_CONFORMANT, ihd }, grep: 'IHD-COT' },
      expected: casesOf(COT_ALL_PASS, 'IHD'),
    })),
    {
      name: `conformant ${COT_MINUTE_POLLER}`,
      options: { tenancy: { ...COT_CONFORMANT, ihd: COT_MINUTE_POLLER }, grep: 'COT' },
      expected: COT_ALL_PASS,
    },
    ...Object.entries(IPAN_CAUGHT_BY).map(([profile, [caseId, requirement]]) => ({
      name: `mutant ${profile}`,
      options: { firmware: profile, grep: caseId },
      expected: { [caseId]: `FAIL ${requirement}` },
    })),
    ...COT_CAUGHT_BY.map(([device, profile, caseId, requirement, others]) => ({
      name: `mutant ${profile}${others ? ` (with ${Object.values(others).join(', ')})` : ''}`,
      options: { tenancy: { ...COT_CONFORMANT, ...others, [device]: profile }, grep: caseId },
      expected: { [caseId]: `FAIL ${requirement}` },
    })),
    {
      name: 'conformant CH, ESME, IHD, PPMID (power cycles)',
      options: { tenancy: COT_CONFORMANT, grep: PWR_GREP },
      expected: PWR_ALL_PASS,
    },
    ...PWR_CAUGHT_BY.map(([device, profile, expected]) => ({
      name: `mutant ${profile} (power cycles)`,
      options: pwrCampaign(device, profile, expected),
      expected,
    })),
    {
      name: 'conformant IHD, PPMID (reconnect)',
      options: { tenancy: COT_CONFORMANT, grep: RCN_GREP, labSettings: RCN_LIMITS },
      expected: RCN_ALL_PASS,
    },
    ...RCN_CAUGHT_BY.map(([device, profile, expected]) => ({
      name: `mutant ${profile} (reconnect)`,
      options: { tenancy: { ...COT_CONFORMANT, [device]: profile }, grep: Object.keys(expected).join('|'), labSettings: RCN_LIMITS },
      expected,
    })),
    { name: 'conformant IHD, PPMID (OTA upgrade)', options: { tenancy: COT_CONFORMANT, grep: OTA_GREP }, expected: OTA_ALL_PASS },
    {
      name: `mutants ${OTA_CAUGHT_BY.map(([, profile]) => profile).join(', ')} (OTA upgrade)`,
      options: { tenancy: OTA_MUTANTS, grep: OTA_GREP },
      expected: Object.assign({}, ...OTA_CAUGHT_BY.map(([, , v]) => v)),
    },
    ...Object.entries(IPAN_SLOW).map(([profile, [caseId, fault]]) => ({
      name: `slow ${profile}`,
      options: { firmware: profile, grep: caseId },
      expected: { [caseId]: `INCONCLUSIVE ${fault}` },
    })),
    ...COT_SLOW.map(([device, profile, caseId, fault]) => ({
      name: `slow ${profile}`,
      options: { tenancy: { ...COT_CONFORMANT, [device]: profile }, grep: caseId },
      expected: { [caseId]: `INCONCLUSIVE ${fault}` },
    })),
  ];
}

/** What one case gave over the seeds. */
export interface CaseStability {
  row: string;
  caseId: string;
  expected: string;
  /** How many seeds gave each verdict ('no verdict' when the campaign gave none for the case). */
  counts: Record<string, number>;
  /** The seeds whose verdict was not the expected one. */
  flippedSeeds: number[];
  /** The seeds run again because a part of the station faulted (see STATION_FAULTS). */
  rerunSeeds: number[];
}

/** Runs `count` jobs, at most `jobs` at once, in order of index. */
export async function pool<T>(count: number, jobs: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) out[i] = await run(i);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, count) }, worker));
  return out;
}

/**
 * Faults of the station's own parts — a relay's confirmation, the broker, a sniffer's or the radio's
 * line. On the virtual bench they come from the machine's load (a 5-s relay confirmation missed on a
 * starved CPU), not from the seed: such a seed is run again, and said so, before it counts as a flip.
 */
export const STATION_FAULTS: ReadonlySet<string> = new Set([
  'relay-unconfirmed',
  'relay-offline',
  'broker-unreachable',
  'sniffer-stopped',
  'sniffer-unavailable',
  'serial-port-lost',
  'radio-unavailable',
]);

/** How often a seed whose case met a station fault is run again before its verdict counts. */
const STATION_FAULT_RERUNS = 2;

/** Seeds per campaign: each seed is one virtual bench (`virtual-k` has seed first + k − 1), so one Playwright start serves many seeds. */
const SEEDS_PER_CAMPAIGN = 25;

/** One seed's verdicts, and whether a station fault touched any of the row's cases. */
interface SeedOutcome {
  got: Record<string, string>;
  stationFault: boolean;
}

function outcome(c: Campaign, bench: string, row: StabilityRow): SeedOutcome {
  const cases = (c.results?.cases ?? []).filter((r) => r.bench === bench && r.id in row.expected);
  return { got: judgements(c, '', bench), stationFault: cases.some((r) => r.fault !== undefined && STATION_FAULTS.has(r.fault)) };
}

/** What one campaign's seeds gave against the row's expectations, as they come: a run cut short still shows what it saw. */
function batchNote(seeds: readonly ({ row: StabilityRow; seed: number } & SeedOutcome)[]): string {
  const faulted = seeds.filter((s) => s.stationFault).length;
  const unexpected = seeds.flatMap((s) =>
    s.stationFault
      ? []
      : Object.entries(s.row.expected)
          .filter(([caseId, expected]) => (s.got[caseId] ?? 'no verdict') !== expected)
          .map(([caseId]) => `seed ${s.seed} ${caseId} ${s.got[caseId] ?? 'no verdict'}`),
  );
  return `; ${unexpected.length} unexpected${unexpected.length ? ` (${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''})` : ''}${
    faulted ? `; ${counted(faulted, 'seed')} with a station fault, run again at the end` : ''
  }`;
}

/** Runs every row on seeds 1..seeds — many seeds to a campaign, `jobs` campaigns (child processes) at a time. */
export async function measureStability(
  rows: readonly StabilityRow[],
  seeds: number,
  jobs: number,
  progress?: (line: string) => void,
  firstSeed = 1,
): Promise<CaseStability[]> {
  const last = firstSeed + seeds - 1;
  const runs = rows.flatMap((row) =>
    Array.from({ length: Math.ceil(seeds / SEEDS_PER_CAMPAIGN) }, (_, i) => {
      const first = firstSeed + i * SEEDS_PER_CAMPAIGN;
      return { row, first, count: Math.min(SEEDS_PER_CAMPAIGN, last - first + 1) };
    }),
  );
  let done = 0;
  const batches = await pool(runs.length, jobs, async (i) => {
    const { row, first, count } = runs[i];
    const c = await runCampaign({ ...row.options, seed: first, benches: count });
    const seeds = Array.from({ length: count }, (_, k) => ({ row, seed: first + k, ...outcome(c, `virtual-${k + 1}`, row), reruns: 0 }));
    progress?.(
      `[${++done}/${runs.length}] ${row.name}, seeds ${first}–${first + count - 1}: ${c.exitCode === 0 ? 'ran' : `exit ${c.exitCode}`}` +
        batchNote(seeds),
    );
    return seeds;
  });
  const results = batches.flat();
  // A seed a station fault touched is run again on its own (as bench virtual-1), up to STATION_FAULT_RERUNS times.
  for (const r of results) {
    while (r.stationFault && r.reruns < STATION_FAULT_RERUNS) {
      r.reruns++;
      Object.assign(r, outcome(await runCampaign({ ...r.row.options, seed: r.seed }), 'virtual-1', r.row));
      progress?.(
        `${r.row.name}, seed ${r.seed}: run again after a station fault (${r.reruns}/${STATION_FAULT_RERUNS})${r.stationFault ? ' — faulted again' : ''}`,
      );
    }
  }
  return rows.flatMap((row) =>
    Object.entries(row.expected).map(([caseId, expected]) => {
      const counts: Record<string, number> = {};
      const flippedSeeds: number[] = [];
      const rerunSeeds: number[] = [];
      for (const r of results.filter((x) => x.row === row)) {
        const verdict = r.got[caseId] ?? 'no verdict';
        counts[verdict] = (counts[verdict] ?? 0) + 1;
        if (verdict !== expected) flippedSeeds.push(r.seed);
        if (r.reruns > 0) rerunSeeds.push(r.seed);
      }
      return { row: row.name, caseId, expected, counts, flippedSeeds, rerunSeeds };
    }),
  );
}

/** One line per case: its row, case, expected verdict, the counts, and the flipped seeds (the first ten). */
export function stabilityTable(cases: readonly CaseStability[]): string[] {
  const rowWidth = Math.max(...cases.map((c) => c.row.length));
  const expectedWidth = Math.max(15, ...cases.map((c) => c.expected.length));
  return cases.map((c) => {
    const counts = Object.entries(c.counts)
      .map(([v, n]) => `${n} ${v}`)
      .join(', ');
    const n = c.flippedSeeds.length;
    const flips = n === 0 ? '0 flips' : `${counted(n, 'flip')} (seeds ${c.flippedSeeds.slice(0, 10).join(', ')}${n > 10 ? ', …' : ''})`;
    const reruns =
      c.rerunSeeds.length === 0
        ? ''
        : `; seeds run again after a station fault: ${c.rerunSeeds.slice(0, 10).join(', ')}${c.rerunSeeds.length > 10 ? ', …' : ''}`;
    return `${c.row.padEnd(rowWidth)}  ${c.caseId.padEnd(13)} expected ${c.expected.padEnd(expectedWidth)} ${counts} — ${flips}${reruns}`;
  });
}

const USAGE =
  'usage: verdict-stability [--seeds N] [--first-seed K] [--jobs J] [--only REGEX]  (seeds K..K+N−1: N ≥ 1, default 100; K ≥ 1, default 1; ' +
  'J ≥ 1, default 1 — each campaign runs two Playwright workers; REGEX picks rows by name)';

/** A whole-number option ≥ 1, or its default; anything else is a usage error naming the option. */
export function whole(value: string | undefined, fallback: number, option: string, usage = USAGE): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${option} ${value}: needs a whole number ≥ 1\n${usage}`);
  return n;
}

/** The rows whose name `--only` matches (all without it); none matching is a usage error that lists them. */
export function onlyRows<T extends { name: string }>(rows: T[], only: string | undefined): T[] {
  if (only === undefined) return rows;
  const picked = rows.filter((r) => new RegExp(only).test(r.name));
  if (picked.length === 0) throw new Error(`--only ${only}: no row's name matches; the rows: ${rows.map((r) => r.name).join('; ')}`);
  return picked;
}

async function main(): Promise<number> {
  let seeds: number, first: number, jobs: number, rows: StabilityRow[];
  try {
    const { values } = parseArgs({
      options: { seeds: { type: 'string' }, 'first-seed': { type: 'string' }, jobs: { type: 'string' }, only: { type: 'string' } },
    });
    seeds = whole(values.seeds, 100, 'seeds');
    first = whole(values['first-seed'], 1, 'first-seed');
    jobs = whole(values.jobs, 1, 'jobs');
    rows = onlyRows(stabilityRows(), values.only);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const t0 = process.hrtime.bigint();
  console.log(`verdict stability: ${counted(rows.length, 'campaign')} × seeds ${first}..${first + seeds - 1}, ${jobs} at a time`);
  const cases = await measureStability(rows, seeds, jobs, (line) => console.error(line), first);
  for (const line of stabilityTable(cases)) console.log(line);
  const flips = cases.reduce((n, c) => n + c.flippedSeeds.length, 0);
  const flipped = cases.filter((c) => c.flippedSeeds.length > 0).length;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const reruns = new Set(cases.flatMap((c) => c.rerunSeeds.map((s) => `${c.row}/${s}`))).size;
  console.log(
    `total: ${counted(flips, 'flip')} in ${flipped} of ${cases.length} cases over ${counted(seeds, 'seed')} (goal 0); ` +
      `${counted(reruns, 'campaign seed')} run again after a station fault; wall time ${wall.toFixed(0)} s`,
  );
  return flips === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
