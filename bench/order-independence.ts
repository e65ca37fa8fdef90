// Order independence (goal: 0 differences): every case of every profile of the mutation matrix
// (test/support/matrix.ts) run alone (`--grep <case>`) must give the verdict it gives in its whole
// suite's campaign — a case's verdict depends on the device, never on the cases before it.
//   npm run bench:order-independence -- [--jobs J] [--only REGEX]
// Exits 1 if any case differs, 2 on a usage error.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runCampaign, type CampaignOptions } from '../test/support/campaign.ts';
import {
  COT_CAUGHT_BY,
  COT_CONFORMANT,
  COT_MINUTE_POLLER,
  COT_SLOW,
  IPAN_CAUGHT_BY,
  IPAN_SLOW,
  judgements,
  PWR_CAUGHT_BY,
  PWR_GREP,
  pwrCampaign,
  RCN_CAUGHT_BY,
  RCN_GREP,
  RCN_LIMITS,
} from '../test/support/matrix.ts';
import { onlyRows, pool, whole } from './verdict-stability.ts';

/** One profile set and the suite whose whole campaign it is compared against. */
export interface OrderRow {
  name: string;
  options: CampaignOptions;
}

export function orderRows(): OrderRow[] {
  const ipan = (firmware: string) => ({ name: `${firmware} (IPAN suite)`, options: { firmware, grep: 'CH-IPAN' } });
  const cot = (name: string, tenancy: CampaignOptions['tenancy']) => ({ name: `${name} (COT suite)`, options: { tenancy, grep: 'COT' } });
  return [
    ipan('ch-conformant'),
    ipan('ch-secmp0037'),
    ...[...Object.keys(IPAN_CAUGHT_BY), ...Object.keys(IPAN_SLOW)].map(ipan),
    cot('conformant', COT_CONFORMANT),
    cot(COT_MINUTE_POLLER, { ...COT_CONFORMANT, ihd: COT_MINUTE_POLLER }),
    // The every-second poller's whole suite is ≈ 260 bench hours of a poll a second: it is only ever run on its own case.
    ...COT_CAUGHT_BY.filter(
      ([, profile], i, all) => all.findIndex(([, p]) => p === profile) === i && profile !== 'ihd-polls-every-second',
    ).map(([device, profile, , , others]) => cot(profile, { ...COT_CONFORMANT, ...others, [device]: profile })),
    ...COT_SLOW.map(([device, profile]) => cot(profile, { ...COT_CONFORMANT, [device]: profile })),
    // The power-cycle suite whole (every PWR case), against each of its cases alone.
    { name: 'conformant (PWR suite)', options: { tenancy: COT_CONFORMANT, grep: PWR_GREP } },
    ...PWR_CAUGHT_BY.map(([device, profile]) => ({
      name: `${profile} (PWR suite)`,
      options: { ...pwrCampaign(device, profile, {}), grep: PWR_GREP },
    })),
    // The reconnect suite's RCN-1…3 whole, under the matrix's lab limits, against each case alone.
    { name: 'conformant (RCN suite)', options: { tenancy: COT_CONFORMANT, grep: RCN_GREP, labSettings: RCN_LIMITS } },
    ...RCN_CAUGHT_BY.map(([device, profile]) => ({
      name: `${profile} (RCN suite)`,
      options: { tenancy: { ...COT_CONFORMANT, [device]: profile }, grep: RCN_GREP, labSettings: RCN_LIMITS },
    })),
  ];
}

export interface OrderDifference {
  row: string;
  caseId: string;
  inCampaign: string;
  alone: string;
}

/** Runs each row's whole campaign, then each of its cases alone; returns the cases whose verdicts differ, and how many were compared. */
export async function measureOrder(
  rows: readonly OrderRow[],
  jobs: number,
  progress?: (line: string) => void,
): Promise<{ compared: number; differences: OrderDifference[] }> {
  let campaigns = 0;
  const whole = await pool(rows.length, jobs, async (i) => {
    const v = judgements(await runCampaign(rows[i].options));
    progress?.(`[campaign ${++campaigns}/${rows.length}] ${rows[i].name}: ${Object.keys(v).length} cases`);
    return v;
  });
  const singles = rows.flatMap((row, i) => Object.keys(whole[i]).map((caseId) => ({ row, i, caseId })));
  let done = 0;
  const alone = await pool(singles.length, jobs, async (k) => {
    const { row, i, caseId } = singles[k];
    const v = judgements(await runCampaign({ ...row.options, grep: caseId }))[caseId] ?? 'no verdict';
    progress?.(
      `[${++done}/${singles.length}] ${row.name} ${caseId}: ${v} alone, ${whole[i][caseId]} in the campaign${v === whole[i][caseId] ? '' : ' — DIFFERS'}`,
    );
    return v;
  });
  const differences = singles.flatMap(({ row, i, caseId }, k) =>
    alone[k] === whole[i][caseId] ? [] : [{ row: row.name, caseId, inCampaign: whole[i][caseId], alone: alone[k] }],
  );
  return { compared: singles.length, differences };
}

const USAGE = 'usage: order-independence [--jobs J] [--only REGEX]  (J ≥ 1, default 2; REGEX picks rows by name)';

async function main(): Promise<number> {
  let jobs: number, rows: OrderRow[];
  try {
    const { values } = parseArgs({ options: { jobs: { type: 'string' }, only: { type: 'string' } } });
    jobs = whole(values.jobs, 2, 'jobs', USAGE);
    rows = onlyRows(orderRows(), values.only);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const t0 = process.hrtime.bigint();
  console.log(`order independence: ${rows.length} profile sets, each case alone against its whole suite, ${jobs} at a time`);
  const { compared, differences } = await measureOrder(rows, jobs, (line) => console.error(line));
  for (const d of differences) console.log(`${d.row}  ${d.caseId}: ${d.inCampaign} in the campaign, ${d.alone} alone`);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `total: ${differences.length} of ${compared} cases differ alone and in the campaign (goal 0); wall time ${wall.toFixed(0)} s`,
  );
  return differences.length === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
