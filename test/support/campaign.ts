// Runs the conformance campaign as a user does (`gbcs-rig run --rig … --out …`) on a virtual
// rig made for the test, and reads back its results.json.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RunResults } from '../../reports/results.ts';
import type { VirtualFaultKind } from '../../rigs/schema.ts';

const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));

export interface CampaignOptions {
  firmware?: string;
  transport?: 'mock' | 'pty';
  brokerUrl?: string;
  seed?: number;
  faults?: { kind: VirtualFaultKind; afterSeconds: number }[];
  labSettings?: Record<string, unknown>;
  grep?: string;
  /** Names of environment variables with MQTT credentials and the network key, as a real lab's rig gives them. */
  secretsEnv?: { mqttUser: string; mqttPassword: string; networkKey: string };
  /** Extra environment for the run (the secrets' values). */
  env?: Record<string, string>;
  /** The HHT's install code the rig's environment gives; default TEST_INSTALL_CODE (never the virtual bench's built-in one). */
  installCode?: string;
  /** What the rig file pins of the bench's HAN. */
  han?: { pan?: number; channel?: number };
  /** Firmware of an ESME, IHD and PPMID to add beside the CH (the Change of Tenancy suite's devices). */
  tenancy?: { esme: string; ihd: string; ppmid: string; gpf?: string };
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

export function virtualRig(o: CampaignOptions): Record<string, unknown> {
  return {
    station: {
      name: 'test station', lab: 'gbcs-rig tests',
      mqtt: { url: o.brokerUrl ?? 'embedded', ...(o.secretsEnv && { usernameEnv: o.secretsEnv.mqttUser, passwordEnv: o.secretsEnv.mqttPassword }) },
    },
    keys: { installCodeEnv: INSTALL_CODE_ENV, ...(o.secretsEnv && { networkKeyEnv: o.secretsEnv.networkKey }) },
    firmwareManifests: [],
    ...(o.labSettings && { labSettings: o.labSettings }),
    benches: [{
      id: 'virtual-1',
      virtual: { seed: o.seed ?? 1, transport: o.transport ?? 'mock', ...(o.faults && { faults: o.faults }) },
      devices: [
        { id: 'ch', role: 'CH', ieee: '00:db:12:34:56:78:90:a2', firmware: o.firmware ?? 'ch-conformant', relay: 'ch-power', ...(o.tenancy?.gpf && { gpf: { ieee: '00:db:12:34:56:78:90:a3', firmware: o.tenancy.gpf } }) },
        ...(o.tenancy ? [
          { id: 'esme', role: 'ESME', ieee: '00:db:12:34:56:78:90:a0', firmware: o.tenancy.esme, relay: 'esme-power' },
          { id: 'ihd', role: 'IHD', ieee: '00:db:12:34:56:78:90:b0', firmware: o.tenancy.ihd, relay: 'ihd-power' },
          { id: 'ppmid', role: 'PPMID', ieee: '00:db:12:34:56:78:90:b1', firmware: o.tenancy.ppmid, relay: 'ppmid-power' },
        ] : []),
      ],
      relays: [
        { id: 'ch-power', vendor: 'tasmota', topic: `test-ch-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, channel: 1 },
        ...(o.tenancy ? ['esme', 'ihd', 'ppmid'].map((d, i) => ({ id: `${d}-power`, vendor: 'tasmota', topic: `test-board-${process.pid}`, channel: i + 1 })) : []),
      ],
      sniffers: [{ id: 'han', kind: 'nrf802154', channel: 11 }],
      radio: { channel: 11, ieee: '00:db:12:34:56:78:90:f0' },
      ...(o.han && { han: o.han }),
    }],
  };
}

export async function runCampaign(o: CampaignOptions = {}): Promise<Campaign> {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-campaign-'));
  const rigFile = join(dir, 'rig.yaml');
  const rig = virtualRig(o);
  // The relay topic must not change between two runs that are compared byte for byte.
  if (o.seed !== undefined) (rig.benches as { relays: { topic: string }[] }[])[0].relays[0].topic = `test-ch-seed-${o.seed}`;
  writeFileSync(rigFile, stringify(rig));
  const out = join(dir, 'run');
  const args = [BIN, 'run', '--rig', rigFile, '--out', out, ...(o.grep ? ['--grep', o.grep] : [])];
  // Allure history stays with the test run, not in the checkout's reports/history/.
  const child = spawn(process.execPath, args, { env: { ...process.env, GBCS_RIG_ALLURE_HISTORY: join(dir, 'allure-history'), [INSTALL_CODE_ENV]: o.installCode ?? TEST_INSTALL_CODE, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exitCode = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? 1)));
  const resultsFile = join(out, 'results.json');
  const results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults) : undefined;
  return { dir: out, exitCode, stdout, stderr, results };
}

/** Verdicts by case id, for assertions and readable failure messages. */
export function verdicts(c: Campaign, idPrefix = ''): Record<string, string> {
  return Object.fromEntries((c.results?.cases ?? []).filter((r) => r.id.startsWith(idPrefix)).map((r) => [r.id, r.verdict + (r.failedRequirement ? ` ${r.failedRequirement}` : '')]));
}
