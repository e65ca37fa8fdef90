// How a suite declares a conformance test case: `conformanceCase(definition, body)`. One
// Playwright worker drives one bench (worker fixture); each case gets its evidence folder,
// capture, power, HHT and recorder, and ends in exactly one verdict, written as result.json.
import { test as base } from '@playwright/test';
import * as allure from 'allure-js-commons';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyTable } from '../protocol/security.ts';
import type { LabSettings } from '../rigs/lab-settings.ts';
import { loadRig, type LoadedRig, type RigDevice } from '../rigs/load.ts';
import { openBench, type OpenBench } from './bench.ts';
import { CaseRecorder, hashEvidence, type CaseDefinition } from './case.ts';
import { Capture } from './capture.ts';
import type { BenchClock } from './clock.ts';
import { EvidenceLog } from './evidence.ts';
import { HandHeldTerminal } from './hht.ts';
import { BenchPower } from './power.ts';
import { RESULT_ANNOTATION, RUN_ENV } from './run-context.ts';
import { DeviceFailure, NotApplicable } from './verdicts.ts';
import { RigFault } from '../drivers/faults.ts';

/** A bench as a worker holds it: open, or the reason it could not be opened (a rig fault, not a device failure). */
interface BenchSlot {
  id: string;
  open?: OpenBench;
  failure?: unknown;
}

export interface CaseContext {
  rec: CaseRecorder;
  bench: OpenBench;
  device: RigDevice;
  settings: LabSettings;
  clock: BenchClock;
  capture: Capture;
  power: BenchPower;
  hht: HandHeldTerminal;
  evidence: EvidenceLog;
}

const test = base.extend<object, { rig: LoadedRig; benchSlot: BenchSlot }>({
  rig: [async ({}, use) => use(await loadRig(process.env[RUN_ENV.rig] || undefined)), { scope: 'worker' }],
  benchSlot: [async ({ rig }, use, workerInfo) => {
    const spec = rig.benches[workerInfo.parallelIndex % rig.benches.length];
    const slot: BenchSlot = { id: spec.id };
    try {
      slot.open = await openBench(rig, spec.id);
    } catch (e) {
      slot.failure = e;
    }
    await use(slot);
    await slot.open?.close();
  }, { scope: 'worker', timeout: 60_000 }],
});

/** The epic an Allure reader groups by: the clauses and modifications, e.g. `GBCS 10.5 / SECMP0037`. */
function epicOf(def: CaseDefinition): string {
  return [...def.references].sort().join(' / ');
}

export function conformanceCase(def: CaseDefinition, body: (ctx: CaseContext) => Promise<void>): void {
  test(`${def.id} ${def.title}`, { tag: [`@${def.id}`, ...def.requirements.map((r) => `@${r}`)] }, async ({ rig, benchSlot }, testInfo) => {
    const out = process.env[RUN_ENV.out] ?? testInfo.outputDir;
    const dir = join(out, 'evidence', `${def.id}--${benchSlot.id}`);
    const bench = benchSlot.open;
    const evidence = new EvidenceLog(dir, () => bench?.clock.now() ?? Date.now());
    const rec = new CaseRecorder(def, evidence, () => bench?.clock.now() ?? Date.now());
    const device = bench?.device(def.role);
    let outcome: unknown;
    let capture: Capture | undefined;
    try {
      if (!bench) throw benchSlot.failure;
      if (!device) throw new NotApplicable(`bench ${bench.id} has no ${def.role}`);
      const keys = new KeyTable();
      if (bench.keys.networkKey) keys.addNetworkKey(bench.keys.networkKey);
      capture = new Capture(bench.sniffers.map((s) => ({ id: s.id, source: s.driver, channel: s.channel })), evidence, bench.clock, keys);
      capture.start();
      const ch = bench.device('CH');
      const hht = new HandHeldTerminal(bench.radio, capture, evidence, bench.clock,
        { ieee: bench.spec.radio.ieee, entityId: bench.spec.radio.ieee, networkKey: bench.keys.networkKey, installCode: bench.keys.installCode },
        { ieee: ch?.ieee ?? device.ieee, pin: bench.spec.han },
        rig.settings.captureWithinSeconds * 1000);
      const power = new BenchPower(bench.relays, evidence, bench.clock);
      await body({ rec, bench, device, settings: rig.settings, clock: bench.clock, capture, power, hht, evidence });
    } catch (e) {
      outcome = e ?? new Error('a step threw nothing');
    }
    capture?.stop();
    // No verdict rests on a HAN the rig could not read: a wrong or missing network key is a rig fault, never a device's.
    const sealed = capture?.cannotDecrypt();
    if (sealed && (outcome === undefined || outcome instanceof DeviceFailure || outcome instanceof RigFault)) outcome = sealed;
    const result = rec.finish(outcome, {
      bench: benchSlot.id,
      device: device && {
        id: device.id, ieee: device.ieee, firmware: device.firmware.id, claims: [...device.firmware.claims],
        manufacturer: device.firmware.manufacturer, model: device.firmware.model, version: device.firmware.version,
        gbcsVersion: device.firmware.gbcsVersion, smetsVersion: device.firmware.smetsVersion, sha256: device.firmware.image.sha256,
      },
    });
    await evidence.close();
    result.evidence = hashEvidence(evidence.evidenceFiles);
    const file = join(dir, 'result.json');
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    testInfo.annotations.push({ type: RESULT_ANNOTATION, description: file });
    await allure.epic(epicOf(def));
    await allure.feature(def.area);
    await allure.story(def.requirements.join(', '));
    await allure.severity('critical');
    await allure.parameter('bench', benchSlot.id);
    if (device) await allure.parameter('firmware', device.firmware.id);
    for (const f of evidence.evidenceFiles) await allure.attachmentPath(f.split('/').pop()!, f, { contentType: f.endsWith('.pcapng') ? 'application/vnd.tcpdump.pcap' : 'application/x-ndjson' });
    // Playwright's own status mirrors the verdict; results.json holds the verdict itself.
    if (result.verdict === 'NOT APPLICABLE') test.skip(true, `NOT APPLICABLE: ${result.reason}`);
    if (result.verdict !== 'PASS') throw new Error(`${result.verdict}: ${result.reason}${result.fix ? ` (fix: ${result.fix})` : ''}`);
  });
}
