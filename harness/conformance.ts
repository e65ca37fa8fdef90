// How a suite declares a conformance test case: `conformanceCase(definition, body)`. One
// Playwright worker drives one bench (worker fixture; the bench is its project's `benchId`,
// see suites/playwright.config.ts), so every case runs on every bench; each case gets its evidence folder,
// capture, power, HHT and recorder, and ends in exactly one verdict, written as result.json.
import { test as base } from '@playwright/test';
import * as allure from 'allure-js-commons';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyTable } from '../protocol/security.ts';
import { resolveLabSettings, type LabSettings } from '../rigs/lab-settings.ts';
import { loadRig, type LoadedRig, type RigDevice } from '../rigs/load.ts';
import { openBench, type OpenBench } from './bench.ts';
import { benchCheckFault, checkOpenBench } from './bench-check.ts';
import { RigFault } from '../drivers/faults.ts';
import { lockBench } from './bench-lock.ts';
import {
  groupEnds,
  groupOf,
  PLAN_ANNOTATION,
  SHARED_ACTS,
  type BenchNeeds,
  type CampaignPlan,
  type PlanAnnotation,
  type SharedActName,
  type TenancyMeter,
} from './plan.ts';
import { CaseRecorder, hashEvidence, type CaseDefinition, type CaseResult } from './case.ts';
import { Capture } from './capture.ts';
import { CaseClock, minutes, type BenchClock } from './clock.ts';
import { Liveness } from './liveness.ts';
import { EvidenceLog } from './evidence.ts';
import { HandHeldTerminal, radioShared, type RadioShared } from './hht.ts';
import { alone, SharedAct, type Together } from './shared-act.ts';
import { changeOfTenancy as shareTenancy, type TenancyAct, type TenancySent } from './shared-tenancy.ts';
import { BenchPower, PowerHolds, type PowerEdge, type RelayRestored, restoreRelays } from './power.ts';
import { BenchProgressFile, CaseProgress } from './progress.ts';
import { RESULT_ANNOTATION, RUN_ENV } from './run-context.ts';
import { DeviceFailure, NotApplicable } from './verdicts.ts';
import { testEquipment } from './test-equipment.ts';

const hoursText = (ms: number) => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`);

/** A bench as a worker holds it: open, or the reason it could not be opened (a rig fault, not a device failure). */
interface BenchSlot {
  id: string;
  /** The cases of this run the worker has run on the bench, with what their tests report. */
  ran: Map<string, CaseRun>;
  open?: OpenBench;
  failure?: unknown;
  /** Bench time at which the bench's last case ended (the virtual bench's clock runs on from there). */
  lastEndMs?: number;
  /** The bench's progress file, for the run's status.json. */
  progress?: BenchProgressFile;
}

/** Where a bench's cases of this run reached in bench time, from their result.json files (for a worker that took over a bench). */
function benchTimeReached(out: string, benchId: string): number | undefined {
  const evidence = join(out, 'evidence');
  if (!existsSync(evidence)) return undefined;
  const ends = readdirSync(evidence)
    .filter((d) => d.endsWith(`--${benchId}`) && existsSync(join(evidence, d, 'result.json')))
    .map((d) => Date.parse((JSON.parse(readFileSync(join(evidence, d, 'result.json'), 'utf8')) as { endedAt: string }).endedAt));
  return ends.length > 0 ? Math.max(...ends) : undefined;
}

/**
 * A virtual bench gives each case fresh devices, its clock running on from where the bench's last
 * case ended, as a real bench's would: a case's verdict never depends on what the cases before it left behind.
 */
async function freshVirtualBench(rig: LoadedRig, slot: BenchSlot, out: string): Promise<void> {
  const from = slot.lastEndMs ?? benchTimeReached(out, slot.id);
  if (!slot.open?.virtual || from === undefined) return;
  await slot.open.close();
  slot.open = undefined;
  try {
    slot.open = await openBench(rig, slot.id, from);
  } catch (e) {
    slot.failure = e;
  }
}

/**
 * Opens the bench and checks it as `gbcs-rig check` does (harness/bench-check.ts), before its first
 * case: a bench that fails throws one rig fault naming each ✗ and its fix, so every case is INCONCLUSIVE at once.
 */
async function preCheckedBench(rig: LoadedRig, id: string): Promise<OpenBench> {
  const bench = await openBench(rig, id);
  let fault: RigFault | undefined;
  try {
    fault = benchCheckFault(id, await checkOpenBench(bench));
  } catch (e) {
    await bench.close();
    throw e;
  }
  // The check used virtual time and the air: the first case gets the bench as it was, fresh.
  if (fault || bench.virtual) await bench.close();
  if (fault) throw fault;
  return bench.virtual ? openBench(rig, id) : bench;
}

// What a suite needs from outside harness/, so suites import only harness/ and protocol/.
export type { LabSettings } from '../rigs/lab-settings.ts';
export type { RigDevice } from '../rigs/load.ts';
export { derivedSecondHhtIeee } from '../rigs/schema.ts';
export { isRigFault, type InconclusiveKind } from './verdicts.ts';

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
  /** Heard before judged: confirms a device was heard alive before a verdict rests on its silence. */
  live: Liveness;
  /** What the case waits for, in words, for the run's progress (`waiting('poll period 2 of 3', untilMs)`). */
  progress: CaseProgress;
  /**
   * The case's Change of Tenancy at `meter`, implementation `offsetMs` after it goes out: sent by the case alone, or once for
   * the cases alongside that declared one to the same meter (needs.shares), when the last is ready, at the longest offset asked.
   */
  changeOfTenancy(meter: TenancyMeter, offsetMs: number, act: TenancyAct): Promise<TenancySent>;
  /**
   * The act the case declared it shares (needs.shares: a power cycle, the WAN cut, a meter out of reach): begun once for
   * the cases alongside that declared the same, when the last is ready, and (a span) ended once, when the last is done
   * with it; by the case itself when it runs alone.
   */
  together: Together;
}

/**
 * A power cycle of `device` the case shares (needs.shares `power-cycle:<role>`): off, a pause, on, once for all the cases
 * alongside that declared it; each counts from the same power-on.
 */
export async function powerCycleTogether(ctx: CaseContext, device: RigDevice): Promise<PowerEdge> {
  const cycled = await ctx.together.begin(() => ctx.power.cycle(device, { forAll: true }));
  if (cycled.by) ctx.power.adopt(device, cycled.value, cycled.by);
  return cycled.value;
}

/** The lab settings' values as `gbcs-rig run` passes them (else the defaults): a case's planned duration is known when it is declared. */
function plannedSettings(): LabSettings {
  const given = process.env[RUN_ENV.labSettings];
  if (given) return JSON.parse(given) as LabSettings;
  return Object.fromEntries(Object.entries(resolveLabSettings(undefined)).map(([k, v]) => [k, v.value])) as unknown as LabSettings;
}

/** A case as a suite declares it: its definition, and how long and how it needs the bench under the lab's settings. */
export interface CaseSpec extends CaseDefinition {
  /** Planned bench time (ms) under these settings: every wait the case makes, at its longest. */
  duration(settings: LabSettings): number;
  /** What it holds of the bench while it runs (harness/plan.ts), under these settings when it depends on them: the campaign plan reads it. */
  needs: BenchNeeds | ((settings: LabSettings) => BenchNeeds);
  /** `gpf`: the device under test is the CH's GPF (it lives in the CH, so the case's role is the CH's): its results, and its silence, are the GPF's. */
  examines?: 'gpf';
}

export type { BenchNeeds, SharedActName, TenancyMeter } from './plan.ts';
export type { TenancySent } from './shared-tenancy.ts';

/** How far past its plan a case may run before it is stopped: a quarter of the plan, at least 10 minutes. */
export const overrunAllowance = (plannedMs: number): number => Math.max(plannedMs / 4, minutes(10));
/** Wall time a hardware case may take beyond its deadline before the runner stops it (closing the evidence). */
const HARDWARE_RUNNER_MARGIN_MS = minutes(15);

/** A device's name in verdicts and the report: its role, or GPF for the gas proxy function inside a CH. */
export const roleOf = (d: RigDevice): string => (d.inside !== undefined ? 'GPF' : d.role);

/** The bench a Playwright project drives: its `use: { benchId }`. */
export interface BenchOption {
  benchId: string;
}

const test = base.extend<object, BenchOption & { rig: LoadedRig; benchSlot: BenchSlot }>({
  benchId: ['', { scope: 'worker', option: true }],
  rig: [async ({}, use) => use(await loadRig(process.env[RUN_ENV.rig] || undefined)), { scope: 'worker' }],
  benchSlot: [
    async ({ rig, benchId }, use) => {
      const id = benchId || rig.benches[0].id;
      const slot: BenchSlot = { id, ran: new Map() };
      const out = process.env[RUN_ENV.out];
      const virtual = rig.benches.find((b) => b.id === id)?.virtual !== undefined;
      if (out) slot.progress = new BenchProgressFile(out, id, virtual, () => slot.open?.clock.now() ?? Date.now());
      let release: (() => void) | undefined;
      try {
        // The worker that ran this bench before may still be closing it.
        release = await lockBench(process.env[RUN_ENV.out] ?? process.cwd(), id, 40_000);
        slot.open = await preCheckedBench(rig, id);
      } catch (e) {
        slot.failure = e;
      }
      try {
        await use(slot);
        await slot.open?.close();
      } finally {
        release?.();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],
});

/** The epic an Allure reader groups by: the clauses and modifications, e.g. `GBCS 10.5 / SECMP0037`. */
function epicOf(def: CaseDefinition): string {
  return [...def.references].sort().join(' / ');
}

/** A case as this worker declared it: a group runs the bodies of its cases side by side. */
interface DeclaredCase {
  spec: CaseSpec;
  body: (ctx: CaseContext) => Promise<void>;
}

/** Every case declared in this worker, by id (a suite file's cases are declared when Playwright loads it). */
const DECLARED = new Map<string, DeclaredCase>();

/** What a case needs of the bench under the settings. */
const needsUnder = (spec: CaseSpec, settings: LabSettings): BenchNeeds =>
  typeof spec.needs === 'function' ? spec.needs(settings) : spec.needs;

/** A declared case's planned bench time under the settings and its needs. */
const planOf = (id: string, settings: LabSettings): PlanAnnotation => {
  const { spec } = DECLARED.get(id)!;
  return { plannedMs: spec.duration(settings), needs: needsUnder(spec, settings) };
};

/** What a case's run left for its test to report: its result.json and evidence files. */
interface CaseRun {
  result: CaseResult;
  file: string;
  evidenceFiles: string[];
}

/**
 * The cases that run side by side with `caseId` on the bench: its group in the plan the run recorded (run.json),
 * less those that have run already or, on `--resume`, have their verdicts. Just the case itself outside `gbcs-rig run`.
 */
function sideBySideWith(out: string | undefined, slot: BenchSlot, caseId: string): string[] {
  const plan =
    out && existsSync(join(out, 'run.json'))
      ? (JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { plan?: CampaignPlan }).plan
      : undefined;
  if (!plan) return [caseId];
  const remaining = process.env[RUN_ENV.remaining]
    ? (JSON.parse(process.env[RUN_ENV.remaining]!) as Record<string, string[]>)[slot.id]
    : undefined;
  return groupOf(plan, slot.id, caseId).filter(
    (id) => id === caseId || (DECLARED.has(id) && !slot.ran.has(id) && (remaining === undefined || remaining.includes(id))),
  );
}

/**
 * Runs a group of cases on the bench at once, from one fresh virtual bench (its clock running on from the last
 * case's end): each case keeps its own evidence, clock deadline, capture and verdict; they share the devices'
 * power (on with the first case that needs it, off with the last) and the rig radio's HAN membership. On the
 * virtual bench the clock moves only when every case of the group waits on it, so the run stays deterministic.
 */
async function runSideBySide(rig: LoadedRig, slot: BenchSlot, out: string, ids: readonly string[]): Promise<void> {
  await freshVirtualBench(rig, slot, out);
  const bench = slot.open;
  // Before anything of the group moves: every relay as the rig left it (each case's evidence says what was put back).
  const restored = bench ? await restoreRelays(bench.relays) : [];
  if (ids.length === 1) {
    slot.ran.set(ids[0], await runCase(DECLARED.get(ids[0])!, rig, slot, out, undefined, restored));
  } else {
    const group: SideBySide = { holds: new PowerHolds(), radio: radioShared(true), ids, acts: sharedActs(rig, ids) };
    const runs = await Promise.all(
      ids.map((id) => {
        const run = () => runCase(DECLARED.get(id)!, rig, slot, out, group, restored);
        return bench?.clock.sideBySide ? bench.clock.sideBySide(id, run) : run();
      }),
    );
    ids.forEach((id, i) => slot.ran.set(id, runs[i]));
  }
  if (bench) slot.lastEndMs = bench.clock.now();
}

/** What cases side by side on one bench share. */
interface SideBySide {
  holds: PowerHolds;
  radio: RadioShared;
  ids: readonly string[];
  /** Each act one or more of its cases declared they share (needs.shares), for those cases. */
  acts: Map<SharedActName, SharedAct<number | undefined>>;
}

/** The group's cases that share each act; each may wait for the others as long as the longest of them may run. */
function sharedActs(rig: LoadedRig, ids: readonly string[]): SideBySide['acts'] {
  const byAct = new Map<SharedActName, string[]>();
  for (const id of ids) {
    const act = needsUnder(DECLARED.get(id)!.spec, rig.settings).shares?.act;
    if (act) byAct.set(act, [...(byAct.get(act) ?? []), id]);
  }
  const longest = (members: string[]) => Math.max(...members.map((id) => deadlineOf(0, planOf(id, rig.settings).plannedMs)));
  return new Map(
    [...byAct].map(([act, members]) => [
      act,
      new SharedAct<number | undefined>(SHARED_ACTS[act].text, SHARED_ACTS[act].kind, members, longest(members)),
    ]),
  );
}

/** The case's deadline in bench time: its planned duration and the overrun allowance from its start. */
const deadlineOf = (startedAt: number, plannedMs: number) => startedAt + plannedMs + overrunAllowance(plannedMs);

/** One case on its bench, from its set-up to its result.json: never throws (any outcome becomes its verdict). */
async function runCase(
  { spec, body }: DeclaredCase,
  rig: LoadedRig,
  benchSlot: BenchSlot,
  out: string,
  group?: SideBySide,
  restored: readonly RelayRestored[] = [],
): Promise<CaseRun> {
  const { duration, needs: _needs, examines, ...def } = spec;
  const needs = needsUnder(spec, rig.settings);
  const dir = join(out, 'evidence', `${def.id}--${benchSlot.id}`);
  const bench = benchSlot.open;
  const evidence = new EvidenceLog(dir, () => bench?.clock.now() ?? Date.now());
  const now = () => bench?.clock.now() ?? Date.now();
  const progress = new CaseProgress(benchSlot.progress, def.id, now);
  const rec = new CaseRecorder(def, evidence, now, (step) => progress.step(step));
  const device = bench?.device(def.role);
  // The device the verdict is about: the case's, or the GPF inside its CH.
  const dut = examines === 'gpf' ? bench?.gpf() : device;
  const plannedMs = duration(rig.settings);
  const alongside = group?.ids.filter((id) => id !== def.id);
  let outcome: unknown;
  let capture: Capture | undefined;
  let live: Liveness | undefined;
  const startedAt = now();
  benchSlot.progress?.caseStarted({ id: def.id, title: def.title, startedAtMs: startedAt, plannedEndMs: startedAt + plannedMs });
  // A full evidence disk ends every wait of the case, as a lost sniffer does.
  const unwatch = bench?.watchCase(() => evidence.fault);
  try {
    if (!bench) throw benchSlot.failure;
    if (!device) throw new NotApplicable(`bench ${bench.id} has no ${def.role}`);
    if (!dut) throw new NotApplicable(`the ${def.role} of bench ${bench.id} names no GPF`);
    if (alongside?.length) evidence.event('side-by-side', { alongside });
    for (const r of restored) evidence.event('relay-restored', { ...r });
    // A sniffer or radio lost in an earlier case and found again (by USB serial number) serves this one.
    for (const part of await bench.reopenLost()) evidence.event('part-reopened', { part });
    evidence.event('test-equipment', { items: testEquipment(bench) });
    const deadline = deadlineOf(startedAt, plannedMs);
    const clock = new CaseClock(
      bench.clock,
      deadline,
      () =>
        new RigFault(
          'case-overran',
          `case ${def.id}`,
          `the case ran past its planned ${hoursText(plannedMs)} and its margin of ${hoursText(overrunAllowance(plannedMs))} (deadline ${new Date(deadline).toISOString()})`,
          'check that the lab settings match the devices, and that nothing on the bench held the case up (operator prompts, relays, radio); the evidence so far is kept',
        ),
      (kind, untilMs) => progress.clockWait(kind, untilMs),
    );
    evidence.event('case-plan', { plannedMinutes: Math.round(plannedMs / 60_000), deadline: new Date(deadline).toISOString() });
    const keys = new KeyTable();
    if (bench.keys.networkKey) keys.addNetworkKey(bench.keys.networkKey);
    capture = new Capture(
      bench.sniffers.map((s) => ({ id: s.id, source: s.driver, channel: s.channel })),
      evidence,
      clock,
      keys,
    );
    capture.start();
    const ch = bench.device('CH');
    const hht = new HandHeldTerminal(
      bench.radio,
      capture,
      evidence,
      clock,
      {
        ieee: bench.spec.radio.ieee,
        entityId: bench.spec.radio.ieee,
        networkKey: bench.keys.networkKey,
        installCode: bench.keys.installCode,
      },
      { ieee: ch?.ieee ?? device.ieee, pin: bench.spec.han },
      rig.settings.captureWithinSeconds * 1000,
      group?.radio,
    );
    const power = new BenchPower(bench.relays, evidence, clock, group && { holds: group.holds, caseId: def.id });
    live = new Liveness(capture, hht, power, evidence, startedAt, bench.spec.radio.channel);
    const sharing = { clock, evidence, progress };
    // Only the act the case declared: another case's of the same kind is not its to join.
    const act = needs.shares && group?.acts.get(needs.shares.act);
    const tenancyTo = (meter: TenancyMeter) =>
      needs.shares?.act === `change-of-tenancy:${meter}` ? (act as SharedAct<number>) : undefined;
    const changeOfTenancy = (meter: TenancyMeter, offsetMs: number, change: TenancyAct) =>
      shareTenancy(tenancyTo(meter), def.id, sharing, offsetMs, change);
    const together = act && SHARED_ACTS[needs.shares!.act].kind !== 'tenancy' ? act.for(def.id, sharing, undefined) : alone(clock);
    await body({
      rec,
      bench,
      device,
      settings: rig.settings,
      clock,
      capture,
      power,
      hht,
      evidence,
      live,
      progress,
      changeOfTenancy,
      together,
    });
  } catch (e) {
    outcome = e ?? new Error('a step threw nothing');
  }
  // The cases alongside no longer wait for this one's share of a Change of Tenancy or another act.
  for (const shared of group?.acts.values() ?? []) shared.leave(def.id);
  // Heard before judged: a device the case never heard can be neither passed nor failed.
  if (live && dut && (outcome === undefined || outcome instanceof DeviceFailure) && !live.heard(dut, startedAt)) {
    const name = roleOf(dut);
    outcome = new RigFault(
      'dut-not-heard',
      `${name} ${dut.id}`,
      `nothing was heard from the ${name} (${dut.ieee}) during the case, so it cannot be judged${outcome ? ` (the check that failed: ${(outcome as Error).message})` : ''}`,
      `is the ${name} powered, within range and on channel ${bench!.spec.radio.channel}?`,
    );
  }
  capture?.stop();
  // No verdict rests on a HAN the rig could not read: a wrong or missing network key is a rig fault, never a device's.
  const sealed = capture?.cannotDecrypt();
  if (sealed && (outcome === undefined || outcome instanceof DeviceFailure || outcome instanceof RigFault)) outcome = sealed;
  unwatch?.();
  await evidence.close();
  // Evidence that could not be written voids any verdict: what was kept stays, the case is INCONCLUSIVE.
  if (evidence.fault && !(outcome instanceof NotApplicable)) outcome = evidence.fault;
  const result = rec.finish(outcome, {
    bench: benchSlot.id,
    plannedMs,
    device: dut && {
      id: dut.id,
      ...(dut.inside !== undefined && { role: roleOf(dut) }),
      ieee: dut.ieee,
      firmware: dut.firmware.id,
      claims: [...dut.firmware.claims],
      manufacturer: dut.firmware.manufacturer,
      model: dut.firmware.model,
      ...(dut.serialNumber && { serialNumber: dut.serialNumber }),
      ...(dut.hardwareRevision && { hardwareRevision: dut.hardwareRevision }),
      version: dut.firmware.version,
      gbcsVersion: dut.firmware.gbcsVersion,
      smetsVersion: dut.firmware.smetsVersion,
      sha256: dut.firmware.image.sha256,
    },
    ...(alongside?.length && { alongside }),
  });
  benchSlot.progress?.caseEnded(def.id);
  result.evidence = hashEvidence(evidence.evidenceFiles);
  const file = join(dir, 'result.json');
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return { result, file, evidenceFiles: [...evidence.evidenceFiles] };
}

export function conformanceCase(spec: CaseSpec, body: (ctx: CaseContext) => Promise<void>): void {
  const { duration, needs: _needs, examines: _examines, ...def } = spec;
  const settings = plannedSettings();
  const plan: PlanAnnotation = { plannedMs: duration(settings), needs: needsUnder(spec, settings) };
  const details = {
    tag: [`@${def.id}`, ...def.requirements.map((r) => `@${r}`)],
    annotation: { type: PLAN_ANNOTATION, description: JSON.stringify(plan) },
  };
  DECLARED.set(def.id, { spec, body });
  test(`${def.id} ${def.title}`, details, async ({ rig, benchSlot }, testInfo) => {
    const out = process.env[RUN_ENV.out] ?? testInfo.outputDir;
    // The first case of a side-by-side group runs the whole group; the others report what they did in it.
    if (!benchSlot.ran.has(def.id)) {
      const ids = sideBySideWith(process.env[RUN_ENV.out], benchSlot, def.id);
      // A hardware case lasts hours: the runner's own timeout must outlast the group's last deadline.
      if (benchSlot.open && !benchSlot.open.clock.virtual) {
        // A case that shares a Change of Tenancy may wait for the others' before its own time after it.
        const members = ids.map((id) => ({ id, title: id, bench: benchSlot.id, ...planOf(id, rig.settings) }));
        const longest = Math.max(...groupEnds(members), ...members.map((m) => m.plannedMs));
        test.setTimeout(deadlineOf(0, longest) + HARDWARE_RUNNER_MARGIN_MS);
      }
      await runSideBySide(rig, benchSlot, out, ids);
    }
    const { result, file, evidenceFiles } = benchSlot.ran.get(def.id)!;
    testInfo.annotations.push({ type: RESULT_ANNOTATION, description: file });
    await allure.epic(epicOf(def));
    await allure.feature(def.area);
    await allure.story(def.requirements.join(', '));
    await allure.severity('critical');
    await allure.parameter('bench', benchSlot.id);
    if (result.device) await allure.parameter('firmware', result.device.firmware);
    for (const f of evidenceFiles)
      await allure.attachmentPath(f.split('/').pop()!, f, {
        contentType: f.endsWith('.pcapng') ? 'application/vnd.tcpdump.pcap' : 'application/x-ndjson',
      });
    // Playwright's status mirrors the verdict; results.json holds the verdict itself. A verdict other than
    // PASS is an outcome the rig meant to give, so it is an expected failure: the worker and its bench go on.
    if (result.verdict === 'NOT APPLICABLE') test.skip(true, `NOT APPLICABLE: ${result.reason}`);
    if (result.verdict !== 'PASS') {
      test.fail(true, `verdict ${result.verdict}`);
      throw new Error(`${result.verdict}: ${result.reason}${result.fix ? ` (fix: ${result.fix})` : ''}`);
    }
  });
}
