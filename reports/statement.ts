// What a test report states beyond the verdicts (ISO/IEC 17025 §7.8): its own id, whether any
// result came from a simulated bench, the deviations from the standard method (lab settings away
// from their defaults, cases that did not run) and a conclusion per device under test.
import type { CaseResult } from '../harness/case.ts';
import { LAB_SETTINGS, type LabSettingName } from '../rigs/lab-settings.ts';
import type { EquipmentItem } from '../harness/test-equipment.ts';
import type { DeviceUnderTest } from './audit.ts';
import type { CaseEvidence } from './run-folder.ts';
import type { RunInfo, RunResults } from './results.ts';
import { counted } from '../protocol/words.ts';

/** The manufacturer name the virtual bench's firmware images carry: the fallback for runs that did not record their benches. */
const VIRTUAL_MANUFACTURER = 'gbcs-rig virtual';

/** The report's unique id: the station and the run (a run id is its start time, unique on a station). */
export function reportId(run: RunInfo): string {
  const station = (run.station || 'station').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `GBCS-RIG-${station}-${run.id || 'unknown-run'}`;
}

/** The benches whose devices were simulated: from run.json, else from the devices' firmware (older runs). */
export function virtualBenches(run: RunInfo, devices: readonly DeviceUnderTest[]): string[] {
  if (run.benches) return run.benches.filter((b) => b.virtual).map((b) => b.id);
  return [...new Set(devices.filter((d) => d.manufacturer === VIRTUAL_MANUFACTURER).map((d) => d.bench))].sort();
}

export interface Deviation {
  what: string;
  detail: string;
}

/** Where the run departed from the method as written: lab settings the rig file changed from their default, cases planned but not run. */
export function deviations(results: RunResults): Deviation[] {
  const out: Deviation[] = [];
  for (const [name, s] of Object.entries(results.run.labSettings ?? {})) {
    const def = LAB_SETTINGS[name as LabSettingName];
    if (!def || s?.source !== 'rig file' || JSON.stringify(s.value) === JSON.stringify(def.default)) continue;
    const unit = def.unit ? ` ${def.unit}` : '';
    const shown = (v: unknown) => (v === null ? 'not set (measure only)' : `${String(v)}${unit}`);
    out.push({
      what: `lab setting ${name}`,
      detail: `${shown(s.value)} instead of the default ${shown(def.default)} (${def.serves}; default: ${def.basis})`,
    });
  }
  // A requirement's value the lab set no limit for was measured, not judged: the PASS of its case is only as wide as that.
  const unjudged = new Map<string, string[]>();
  for (const c of results.cases ?? [])
    for (const m of c.measurements ?? [])
      if (m.unsetLimit) unjudged.set(m.unsetLimit, [...(unjudged.get(m.unsetLimit) ?? []), `${c.id} on ${c.bench}: ${m.value} ${m.unit}`]);
  for (const [setting, values] of unjudged) {
    const def = LAB_SETTINGS[setting as LabSettingName];
    out.push({
      what: 'measured, not judged',
      detail: `no ${setting} set${def ? ` (${def.serves})` : ''}, so the value was measured and shown but judged against no limit: ${values.join('; ')}`,
    });
  }
  if (results.run.grep)
    out.push({
      what: 'cases selected',
      detail: `only the suites' cases matching --grep ${results.run.grep} were run (${counted((results.cases ?? []).length + results.missing.length + (results.notRun?.length ?? 0), 'case')}); the others were not`,
    });
  for (const missing of results.missing) out.push({ what: 'case not run to its end', detail: `${missing}: no verdict (the rig stopped)` });
  for (const r of results.run.resumes ?? []) {
    out.push({
      what: 'campaign resumed',
      detail: `the run stopped and was resumed at ${r.at} (gbcs-rig run --resume): ${r.kept.length} cases kept with their verdicts, ${r.remaining.length} run after it`,
    });
    for (const c of r.rerun)
      out.push({
        what: 'case rerun from its start',
        detail: `${c.id} on bench ${c.bench} was cut short when the run stopped; its partial evidence is kept in ${c.partial}, its verdict is the rerun's`,
      });
  }
  for (const p of results.notRun ?? [])
    out.push({ what: 'case not run', detail: `${p.id} ${p.title} on bench ${p.bench}: planned, never started` });
  return out;
}

export type Conclusion = 'conforms' | 'does not conform' | 'not established';

export interface DeviceConclusion {
  device: DeviceUnderTest;
  conclusion: Conclusion;
  /** The sentence the report prints. */
  text: string;
  counts: Record<string, number>;
}

/**
 * A conclusion per device from its cases' verdicts: any FAIL — does not conform (naming the
 * requirements); any INCONCLUSIVE or ERROR — not established; else (PASS, NOT APPLICABLE) conforms to
 * the requirements tested. Only as wide as the cases run: never a statement about untested requirements.
 */
export function deviceConclusions(devices: readonly DeviceUnderTest[], cases: readonly CaseResult[]): DeviceConclusion[] {
  return devices.map((device) => {
    const mine = cases.filter((c) => c.bench === device.bench && c.device?.id === device.id);
    const counts: Record<string, number> = {};
    for (const c of mine) counts[c.verdict] = (counts[c.verdict] ?? 0) + 1;
    const failed = [...new Set(mine.filter((c) => c.verdict === 'FAIL').map((c) => c.failedRequirement ?? c.requirements.join(', ')))];
    const undecided = mine.filter((c) => c.verdict === 'INCONCLUSIVE' || c.verdict === 'ERROR').map((c) => c.id);
    const tested = [...new Set(mine.filter((c) => c.verdict === 'PASS').flatMap((c) => c.requirements))].sort();
    const unset = [
      ...new Set(mine.flatMap((c) => (c.verdict === 'PASS' ? (c.measurements ?? []).flatMap((m) => m.unsetLimit ?? []) : []))),
    ];
    const notJudged = unset.length ? `; measured but not judged, as the lab set no ${unset.join(' and no ')} (see Deviations)` : '';
    if (failed.length) return { device, counts, conclusion: 'does not conform', text: `Does not conform: it failed ${failed.join(', ')}.` };
    if (undecided.length)
      return {
        device,
        counts,
        conclusion: 'not established',
        text: `Conformance not established: ${undecided.join(', ')} ended without a PASS or FAIL (see each case's reason); no requirement failed.`,
      };
    return {
      device,
      counts,
      conclusion: 'conforms',
      text: tested.length
        ? `Conforms to the requirements tested (${tested.join(', ')})${notJudged}; nothing is said of requirements not tested.`
        : 'No requirement was applicable to this device in this run.',
    };
  });
}

/** The line every PDF page carries, and the simulated-bench warning when any bench was virtual. */
export function pageFurniture(results: RunResults, devices: readonly DeviceUnderTest[]): { header: string; warning?: string } {
  const { run } = results;
  const duts = devices.map((d) => `${d.role} ${d.id}`);
  const dut = duts.length > 4 ? `${duts.slice(0, 4).join(', ')} and ${duts.length - 4} more` : duts.join(', ') || 'none';
  const date = (run.endedAt || run.startedAt || '').slice(0, 10) || 'date not recorded';
  const header = `${run.lab || run.station || 'lab not recorded'} · report ${reportId(run)} · DUT ${dut} · ${date}`;
  const virtual = virtualBenches(run, devices);
  return virtual.length ? { header, warning: `Results from a simulated bench (${virtual.join(', ')}) — not a device test` } : { header };
}

/** One piece of test equipment on one bench, and the cases that ran with it. */
export interface EquipmentUse {
  bench: string;
  item: EquipmentItem;
  /** Every place it was found at (a re-plug may move a dongle; a virtual bench makes its parts anew for each case). */
  wheres: string[];
  cases: string[];
}

/**
 * The test equipment of the run, from each case's `test-equipment` event: one row per part and
 * firmware (a part that reported other firmware in a later case — a replaced dongle — is a row of its own).
 */
export function equipmentUsed(cases: readonly CaseEvidence[]): EquipmentUse[] {
  const rows = new Map<string, EquipmentUse>();
  for (const ce of cases) {
    const ev = ce.events.find((e) => e.kind === 'test-equipment');
    for (const item of (ev?.items as EquipmentItem[] | undefined) ?? []) {
      const key = JSON.stringify([ce.result.bench, item.role, item.id, item.kind, item.firmware ?? '']);
      const row = rows.get(key) ?? { bench: ce.result.bench, item, wheres: [], cases: [] };
      if (!row.wheres.includes(item.where)) row.wheres.push(item.where);
      if (!row.cases.includes(ce.result.id)) row.cases.push(ce.result.id);
      rows.set(key, row);
    }
  }
  return [...rows.values()];
}
