// Runs the conformance campaign as a user does (`gbcs-rig run --rig … --out …`) on a virtual
// rig made for the test, and reads back its results.json.
import { expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { caseIds as listedCaseIds, suitesCommand, suitesEnv } from '../../cli/run-checks.ts';
import type { CampaignPlan } from '../../harness/plan.ts';
import type { RunResults } from '../../reports/results.ts';
import type { VirtualFaultKind } from '../../rigs/schema.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));

export interface CampaignOptions {
  firmware?: string;
  transport?: 'mock' | 'pty';
  brokerUrl?: string;
  seed?: number;
  faults?: { kind: VirtualFaultKind; afterSeconds: number; device?: string }[];
  labSettings?: Record<string, unknown>;
  grep?: string;
  /** Names of environment variables with MQTT credentials and the network key, as a real lab's rig gives them. */
  secretsEnv?: { mqttUser: string; mqttPassword: string; networkKey: string };
  /** Extra environment for the run (the secrets' values). */
  env?: Record<string, string>;
  /** Runs on the run folder before the campaign starts (e.g. to make evidence files unwritable). */
  beforeRun?: (outDir: string) => void;
  /** The HHT's install code the rig's environment gives; default TEST_INSTALL_CODE (never the virtual bench's built-in one). */
  installCode?: string;
  /** What the rig file pins of the bench's HAN. */
  han?: { pan?: number; channel?: number };
  /** Firmware of an ESME, IHD and PPMID to add beside the CH (the Change of Tenancy suite's devices). */
  tenancy?: { esme: string; ihd: string; ppmid: string; gpf?: string };
  /**
   * Per bench (from virtual-1), what differs from the options above: its devices' firmware, its faults. Gives the
   * number of benches: several mutants (or faults) in one campaign, each on a bench of its own.
   */
  perBench?: { firmware?: string; tenancy?: Partial<NonNullable<CampaignOptions['tenancy']>>; faults?: CampaignOptions['faults'] }[];
  /** How many virtual benches the rig has (default 1): `virtual-1`, `virtual-2`, …, each its own seed (seed + n − 1), addresses and relay topics. */
  benches?: number;
  /** `--bench` values, as given on the command line. */
  bench?: string[];
  /** The `--fail-on` value. */
  failOn?: string;
  /** `--one-at-a-time`: every case holds its bench whole (no cases side by side). */
  oneAtATime?: boolean;
  /** The CH relay entry's fields beside its id (default: Tasmota, a topic of its own, channel 1): another vendor's. */
  chRelay?: Record<string, unknown>;
  /** How many sniffers listen on the HAN (default 1): each hears every frame. */
  sniffers?: number;
  /** The sniffer entry's fields beside its id and channel (default: kind nrf802154): another kind's. */
  sniffer?: Record<string, unknown>;
  /** The radio entry's fields beside its channel and ieee (default: no kind, so the gbcs-rig radio): another kind's. */
  radio?: Record<string, unknown>;
  /**
   * Every report format, the PDF and the Allure site too. By default a test campaign leaves those two out (`--no-pdf
   * --no-allure`, as a nightly farm would): rendering them took about 2 s of CPU a campaign, and only the report's own
   * tests look at them.
   */
  allFormats?: boolean;
}

export interface Campaign {
  dir: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  results?: RunResults;
}

/** The install code a test campaign's rig gives the HHT through its environment: not the virtual bench's default, so a built-in code shows. */
export const TEST_INSTALL_CODE = '0102030405060708090a0b0c0d0e0f10';
export const INSTALL_CODE_ENV = 'GBCS_RIG_TEST_INSTALL_CODE';

/** A bench's address: bench n (from 0) differs in the sixth byte, so every device on the station has its own. */
const address = (n: number, last: string) => `00:db:12:34:56:78:${(0x90 + n).toString(16)}:${last}`;

/** The CH relay's topic: fixed by the seed, as two runs compared byte for byte need; else unique. */
function chTopic(o: CampaignOptions, n: number): string {
  return o.seed !== undefined ? `test-ch-seed-${o.seed + n}` : `test-ch-${process.pid}-${n + 1}-${Math.random().toString(36).slice(2, 8)}`;
}

function virtualBench(common: CampaignOptions, n: number): Record<string, unknown> {
  const own = common.perBench?.[n];
  // A bench's devices over the common ones: a whole tenancy where the options give none.
  const tenancy = common.tenancy || own?.tenancy ? ({ ...common.tenancy, ...own?.tenancy } as CampaignOptions['tenancy']) : undefined;
  const o: CampaignOptions = {
    ...common,
    ...(own?.firmware && { firmware: own.firmware }),
    ...(tenancy && { tenancy }),
    ...(own?.faults && { faults: own.faults }),
  };
  return {
    id: `virtual-${n + 1}`,
    virtual: { seed: (o.seed ?? 1) + n, transport: o.transport ?? 'mock', ...(o.faults && { faults: o.faults }) },
    devices: [
      {
        id: 'ch',
        role: 'CH',
        ieee: address(n, 'a2'),
        firmware: o.firmware ?? 'ch-conformant',
        relay: 'ch-power',
        ...(o.tenancy?.gpf && { gpf: { ieee: address(n, 'a3'), firmware: o.tenancy.gpf } }),
      },
      ...(o.tenancy
        ? [
            { id: 'esme', role: 'ESME', ieee: address(n, 'a0'), firmware: o.tenancy.esme, relay: 'esme-power' },
            { id: 'ihd', role: 'IHD', ieee: address(n, 'b0'), firmware: o.tenancy.ihd, relay: 'ihd-power' },
            { id: 'ppmid', role: 'PPMID', ieee: address(n, 'b1'), firmware: o.tenancy.ppmid, relay: 'ppmid-power' },
          ]
        : []),
    ],
    relays: [
      { id: 'ch-power', ...(o.chRelay ?? { vendor: 'tasmota', topic: chTopic(o, n), channel: 1 }) },
      ...(o.tenancy
        ? ['esme', 'ihd', 'ppmid'].map((d, i) => ({
            id: `${d}-power`,
            vendor: 'tasmota',
            topic: `test-board-${process.pid}-${n + 1}`,
            channel: i + 1,
          }))
        : []),
    ],
    sniffers: Array.from({ length: o.sniffers ?? 1 }, (_, i) => ({
      id: i === 0 ? 'han' : `han-${i + 1}`,
      ...(o.sniffer ?? { kind: 'nrf802154' }),
      channel: 11,
    })),
    radio: { ...o.radio, channel: 11, ieee: address(n, 'f0') },
    ...(o.han && { han: o.han }),
  };
}

export function virtualRig(o: CampaignOptions): Record<string, unknown> {
  return {
    station: {
      name: 'test station',
      lab: 'gbcs-rig tests',
      mqtt: {
        url: o.brokerUrl ?? 'embedded',
        ...(o.secretsEnv && { usernameEnv: o.secretsEnv.mqttUser, passwordEnv: o.secretsEnv.mqttPassword }),
      },
    },
    keys: { installCodeEnv: INSTALL_CODE_ENV, ...(o.secretsEnv && { networkKeyEnv: o.secretsEnv.networkKey }) },
    firmwareManifests: [],
    ...(o.labSettings && { labSettings: o.labSettings }),
    benches: Array.from({ length: o.perBench?.length ?? o.benches ?? 1 }, (_, n) => virtualBench(o, n)),
  };
}

/** The scratch folders this test process made (scratchDir). */
const SCRATCH = new Set<string>();

/**
 * A scratch folder for the test process, removed when it exits (a campaign's evidence runs to gigabytes: left behind, a few
 * test runs filled the disk); GBCS_RIG_KEEP_TEST_RUNS=1 keeps them to look at.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!process.env.GBCS_RIG_KEEP_TEST_RUNS) {
    if (SCRATCH.size === 0) process.once('exit', () => SCRATCH.forEach((d) => rmSync(d, { recursive: true, force: true })));
    SCRATCH.add(dir);
  }
  return dir;
}

export async function runCampaign(o: CampaignOptions = {}): Promise<Campaign> {
  const dir = scratchDir('gbcs-rig-campaign-');
  const rigFile = join(dir, 'rig.yaml');
  writeFileSync(rigFile, stringify(virtualRig(o)));
  const out = join(dir, 'run');
  o.beforeRun?.(out);
  const args = [
    BIN,
    'run',
    '--rig',
    rigFile,
    '--out',
    out,
    ...(o.grep ? ['--grep', o.grep] : []),
    ...(o.bench ?? []).flatMap((b) => ['--bench', b]),
    ...(o.failOn !== undefined ? ['--fail-on', o.failOn] : []),
    ...(o.oneAtATime ? ['--one-at-a-time'] : []),
    ...(o.allFormats ? [] : ['--no-pdf', '--no-allure']),
  ];
  // Allure history stays with the test run, not in the checkout's reports/history/.
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      GBCS_RIG_ALLURE_HISTORY: join(dir, 'allure-history'),
      [INSTALL_CODE_ENV]: o.installCode ?? TEST_INSTALL_CODE,
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exitCode = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? 1)));
  const resultsFile = join(out, 'results.json');
  const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults) : undefined;
  return { dir: out, exitCode, stdout, stderr, results };
}

/** Verdicts by case id on one bench (default: the first), for assertions and readable failure messages. */
export function verdicts(c: Campaign, idPrefix = '', bench = 'virtual-1'): Record<string, string> {
  const cases = (c.results?.cases ?? []).filter((r) => r.bench === bench && r.id.startsWith(idPrefix));
  return Object.fromEntries(cases.map((r) => [r.id, r.verdict + (r.failedRequirement ? ` ${r.failedRequirement}` : '')]));
}

/** A shared run, made the first time a test asks for it (tests of one file that share it run in one worker). */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** Verdicts by bench, then by case id: every (case, bench) pair of the run. */
export function verdictsByBench(c: Campaign): Record<string, Record<string, string>> {
  const benches = [...new Set((c.results?.cases ?? []).map((r) => r.bench))].sort();
  return Object.fromEntries(benches.map((b) => [b, verdicts(c, '', b)]));
}

/**
 * Every case that ran took no longer (in bench time) than it planned: the plans the report shows and the deadlines rest on are
 * honest. A case that shares a Change of Tenancy is planned in run.json's plan to wait for the others' (its span there).
 */
export function expectWithinPlan(c: Campaign, bench?: string): void {
  const ran = (c.results?.cases ?? []).filter((r) => r.verdict !== 'NOT APPLICABLE' && (bench === undefined || r.bench === bench));
  expect(ran.length).toBeGreaterThan(0);
  const plan = (JSON.parse(readFileSync(join(c.dir, 'run.json'), 'utf8')) as { plan?: CampaignPlan }).plan;
  for (const r of ran) {
    expect(r.plannedMs, r.id).toBeGreaterThan(0);
    const placed = plan?.benches.find((b) => b.bench === r.bench)?.cases.find((x) => x.id === r.id);
    const planned = Math.max(r.plannedMs!, placed ? placed.endMs - placed.startMs : 0);
    expect(Date.parse(r.endedAt) - Date.parse(r.startedAt), `${r.id} took longer than its plan`).toBeLessThanOrEqual(planned);
  }
}

/** Every case id the suites define, as Playwright lists them (no bench needed). */
export function caseIds(): string[] {
  return listedCaseIds(suitesCommand(), suitesEnv({}));
}
