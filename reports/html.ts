// report.html: one self-contained, certification-style file (inline CSS and SVG, no scripts, no
// fetches) — cover, devices under test, summary, a section per test, audit trail per device.
import type { CaseResult } from '../harness/case.ts';
import type { Measurement } from '../harness/measurements.ts';
import { benchTimeText, type CampaignPlan } from '../harness/plan.ts';
import { VERDICTS } from '../harness/verdicts.ts';
import { LAB_SETTINGS, interpretingSettings, type LabSettingName } from '../rigs/lab-settings.ts';
import type { AuditEntry, DeviceUnderTest } from './audit.ts';
import { deviceKey } from './audit.ts';
import { escapeText as e, token } from './escape.ts';
import { elapsed, isoMs, uncertaintyText, utc, valueText } from './format.ts';
import type { RunResults } from './results.ts';
import { deviations, deviceConclusions, equipmentUsed, reportId, virtualBenches } from './statement.ts';
import type { CaseEvidence } from './run-folder.ts';
import { planSvg } from './plan-figure.ts';
import { FRAME_KINDS, type FrameDrawing, decidingMoment, timelineFigure, verdictColour } from './timeline.ts';
import { counted } from '../protocol/words.ts';

export interface ReportModel {
  results: RunResults;
  /** results.json was missing and was rebuilt from the cases' result.json files. */
  rebuilt: boolean;
  /** In the order of results.cases. */
  cases: CaseEvidence[];
  devices: DeviceUnderTest[];
  audit: Map<string, AuditEntry[]>;
  /** Captures the audit trail could read only in part. */
  auditProblems: string[];
  generatedAt: string;
  /** The gbcs-rig that built the report (the run's own version is in results.run). */
  builtBy: string;
  /** The key the run folder is signed with, when the report is built to be signed. */
  signedBy?: SignedBy;
}

export interface SignedBy {
  fingerprint: string;
  source: 'env' | 'file' | 'given' | 'ephemeral';
  /** The folder had changed since its last signing and the person reporting it accepted that (report --accept-changes). */
  changedSinceSigned?: { files: string[]; superseded: string };
}

/** Lab settings as results.json may carry them (`run.labSettings`: value and source per setting). */
type RecordedLabSettings = Record<string, { value: unknown; source?: string }>;

const verdictClass = (v: string) => `v-${token(v.toLowerCase().replace(/ /g, '-'))}`;
export const caseAnchor = (c: Pick<CaseResult, 'id' | 'bench'>) => `case-${token(`${c.id}--${c.bench}`)}`;

function verdictBadge(v: string): string {
  return `<span class="verdict ${verdictClass(v)}" data-verdict="${e(v)}">${e(v)}</span>`;
}

const orNote = (value: string | undefined, note = 'not recorded') => (value ? e(value) : `<span class="note">${e(note)}</span>`);

/**
 * The measurement that decided the verdict: for a FAIL the one that failed, for an INCONCLUSIVE the
 * one too close to its limit to tell; undefined when an observation decided it (no answer, a frame
 * heard) — a passing measurement never stands beside a FAIL as if it were the reason.
 */
export function decidingMeasurement(c: CaseResult): Measurement | undefined {
  if (c.verdict === 'FAIL') return c.measurements.find((m) => m.outcome === 'fail');
  if (c.verdict === 'INCONCLUSIVE') return c.measurements.find((m) => m.outcome === 'indeterminate');
  return undefined;
}

/** The measurement the summary shows: the deciding one, or for a verdict no measurement decided, the first with a limit (PASS only). */
export function keyMeasurement(c: CaseResult): Measurement | undefined {
  if (c.verdict === 'FAIL' || c.verdict === 'INCONCLUSIVE') return decidingMeasurement(c);
  return c.measurements.find((m) => m.limit) ?? c.measurements[0];
}

function measurementLine(m: Measurement | undefined, c: CaseResult): string {
  if (!m) {
    if (c.verdict === 'FAIL' || c.verdict === 'INCONCLUSIVE')
      return `<span class="note">decided by an observation, not a measurement${c.failedRequirement ? ` (${e(c.failedRequirement)})` : c.fault ? ` (${e(c.fault)})` : ''}</span>`;
    return '<span class="note">no measurement</span>';
  }
  const value = `${valueText(m.value, m.uncertainty, m.unit)}${m.uncertainty ? ` ${uncertaintyText(m.uncertainty, m.unit)}` : ''}`;
  return `${e(m.name)}: <b>${e(value)}</b>${m.limit ? ` vs ${e(m.limit.text)}` : ''} <span class="outcome o-${token(m.outcome)}">${e(m.outcome)}</span>`;
}

const CSS = `
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; border-bottom: 2px solid #222; padding-bottom: 3px; margin-top: 36px; }
h3 { font-size: 15px; margin: 22px 0 6px; } h4 { font-size: 13px; margin: 14px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid #c9c9c9; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f1f1f1; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.verdict { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-weight: 700; font-size: 12px; white-space: nowrap; }
.v-pass { background: #1b7f3b; } .v-fail { background: #c62828; } .v-inconclusive { background: #b26a00; }
.v-not-applicable { background: #6b7280; } .v-error { background: #6a1b9a; }
.outcome { font-size: 11px; padding: 0 4px; border: 1px solid #aaa; border-radius: 3px; }
.o-fail { color: #c62828; border-color: #c62828; } .o-indeterminate { color: #b26a00; border-color: #b26a00; } .o-pass { color: #1b7f3b; border-color: #1b7f3b; }
.note { color: #666; font-style: italic; }
.mono, td.hash, td.ieee { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; word-break: break-all; }
.fault { border-left: 4px solid #b26a00; background: #fff6e5; padding: 6px 10px; margin: 8px 0; }
.failure { border-left: 4px solid #c62828; background: #fdecea; padding: 6px 10px; margin: 8px 0; }
.status-changed, .status-missing { color: #c62828; font-weight: 700; }
section.case { page-break-inside: avoid; border-top: 1px solid #ddd; }
svg.timeline { border: 1px solid #ddd; background: #fff; max-width: 100%; }
svg.timeline .lane-label, svg.timeline .level, svg.timeline .tick { fill: #333; }
.legend span { display: inline-block; margin-right: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
tr.deciding td { font-weight: 600; background: #fff3f3; } .decider { font-size: 11px; font-weight: 600; color: #c62828; border: 1px solid #c62828; border-radius: 3px; padding: 0 4px; margin-left: 6px; }
#virtual-banner { background: #fff3cd; border: 2px solid #b26a00; color: #6b3f00; font-weight: 700; text-align: center; padding: 6px; margin-bottom: 12px; position: sticky; top: 0; z-index: 1; }
table#sign-off-table td.sign { height: 34px; min-width: 160px; }
td.ieee { white-space: nowrap; } td.case-ids span { white-space: nowrap; } #device-images td.hash { word-break: break-all; font-size: 11px; width: 40%; }
.rests-on { border-left: 4px solid #6b7280; background: #f5f5f5; padding: 6px 10px; margin: 8px 0; } .rests-on ul { margin: 4px 0 0; }
#incomplete-banner { background: #fdecea; border: 3px solid #c62828; color: #8e0000; font-size: 22px; font-weight: 800; text-align: center; padding: 10px; margin: 0 0 14px; }
.v-not-run { background: #9e9e9e; color: #fff; }
@media print { .screen-only { display: none; } #virtual-banner { position: static; } body { padding: 0; } a { color: inherit; text-decoration: none; } h2 { page-break-before: always; } #cover h2 { page-break-before: avoid; } }
`;

/** The benches the run was given (run.json), not only those that reached a verdict before a crash. */
const benchesOf = (results: RunResults): string[] =>
  results.run.benches?.map((b) => b.id) ?? [...new Set(results.cases.map((c) => c.bench))].sort();

function cover(m: ReportModel): string {
  const { run } = m.results;
  const benches = benchesOf(m.results);
  const settings: RecordedLabSettings | undefined = run.labSettings;
  let lab: string;
  if (settings && typeof settings === 'object') {
    const rows = Object.entries(settings).map(([name, s]) => {
      const def = LAB_SETTINGS[name as LabSettingName];
      // A limit the lab left unset means the case measures and reports, and judges nothing by it.
      const value =
        s?.value === null
          ? '<span class="note">not set (measure only)</span>'
          : `${e(String(s?.value))}${def?.unit ? ` ${e(def.unit)}` : ''}`;
      return `<tr data-setting="${e(name)}"><td class="mono">${e(name)}</td><td>${value}</td><td>${orNote(s?.source)}</td><td>${e(def?.serves ?? '')}</td></tr>`;
    });
    lab = `<table id="lab-settings"><thead><tr><th>Lab setting</th><th>Value</th><th>Source</th><th>Serves</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  } else {
    lab = `<p id="lab-settings-missing" class="note">The lab settings in force are not recorded in results.json (no <code>run.labSettings</code>); they are those of the rig file${run.rig ? ` ${e(run.rig)}` : ''} at the time of the run, defaults where it gives none.</p>`;
  }
  const source = m.rebuilt
    ? `<span class="note">results.json was missing: rebuilt from evidence/*/result.json when this report was built; run metadata not in the evidence is marked “not recorded”</span>`
    : 'results.json';
  return `<section id="cover">
<h1>GB smart metering conformance test report</h1>
<p class="note">Built by gbcs-rig ${e(m.builtBy)} at ${e(utc(m.generatedAt))} from the run folder alone.</p>
<dl class="facts" id="run-facts">
<dt>Station</dt><dd data-field="station">${orNote(run.station)}</dd>
<dt>Bench${benches.length === 1 ? '' : 'es'}</dt><dd data-field="benches">${orNote(benches.join(', '), 'none')}</dd>
<dt>Report id</dt><dd data-field="report-id" class="mono">${e(reportId(run))}</dd>
<dt>Run id</dt><dd data-field="run-id" class="mono">${orNote(run.id)}</dd>
<dt>Rig file</dt><dd data-field="rig" class="mono">${orNote(run.rig)}${run.rigSha256 ? `<br>sha256 <span class="mono">${e(run.rigSha256)}</span>` : ''}</dd>
<dt>Started (UTC)</dt><dd data-field="started">${orNote(utc(run.startedAt))}</dd>
<dt>Ended (UTC)</dt><dd data-field="ended">${orNote(utc(run.endedAt))}</dd>
<dt>Lab</dt><dd data-field="lab">${orNote(run.lab ?? '')}</dd>
<dt>Operator</dt><dd data-field="operator">${orNote(run.operator ?? '')}</dd>
<dt>gbcs-rig version</dt><dd data-field="gbcs-rig">${orNote(run.gbcsRig)}${run.commit ? ` <span class="mono commit">(commit ${e(run.commit)})</span>` : ''}</dd>
<dt>Test plan</dt><dd data-field="test-plan">${run.testPlan?.length ? run.testPlan.map((t) => `<span class="mono">${e(t.suite)}</span> sha256 <span class="mono">${e(t.sha256)}</span>`).join('<br>') : orNote('')}</dd>
<dt>Specification baseline</dt><dd data-field="baseline">${orNote([...new Set(m.devices.map((d) => [d.gbcsVersion && `GBCS ${d.gbcsVersion}`, d.smetsVersion && `SMETS ${d.smetsVersion}`].filter(Boolean).join(' / ')).filter(Boolean))].join('; '), 'not recorded')}</dd>
<dt>Results from</dt><dd data-field="results-source">${source}</dd>
<dt>Signed with</dt><dd data-field="signed-with">${
    m.signedBy
      ? `Ed25519 key <span class="mono">${e(m.signedBy.fingerprint)}</span> (manifest.json, manifest.sig)${m.signedBy.changedSinceSigned ? ' — <b>signed again after the folder changed since its earlier signing</b> (see Deviations)' : ''}${m.signedBy.source === 'ephemeral' ? ' — <b>an ephemeral key</b>, made for this run and discarded: it does not identify the lab' : ` — the lab's key (${e(m.signedBy.source === 'env' ? 'GBCS_RIG_SIGNING_KEY' : m.signedBy.source === 'file' ? 'key file' : 'given key')})`}`
      : '<span class="note">not signed when this report was built</span>'
  }</dd>
</dl>
<p class="note" id="bench-time-note">Times in the tests are <b>bench times</b>: the clock of the bench the case ran on. On a real bench it is the wall clock (UTC); on a virtual bench it is simulated, starting at the bench's own date and running hours in seconds, so its dates are not the dates of the run. The run's wall-clock start and end are above.</p>
<h3>Lab settings</h3>
${lab}
</section>`;
}

function devices(m: ReportModel): string {
  const na = '<span class="note">not recorded</span>';
  // Two tables, so each fits an A4 page: who the device is, then its image hash, claims and cases.
  const identity = m.devices.map(
    (d) =>
      `<tr data-device="${e(deviceKey(d))}"><td>${e(d.role)}</td><td>${e(d.id)}</td><td class="ieee">${e(d.ieee)}</td><td class="mono">${e(d.firmware)}</td><td>${d.manufacturer ? e(d.manufacturer) : na}</td><td>${d.model ? e(d.model) : na}</td><td>${d.serialNumber ? e(d.serialNumber) : na}</td><td>${d.hardwareRevision ? e(d.hardwareRevision) : na}</td><td>${d.version ? e(d.version) : na}</td><td>${d.gbcsVersion ? `GBCS ${e(d.gbcsVersion)}` : na}${d.smetsVersion ? `, SMETS ${e(d.smetsVersion)}` : ''}</td><td>${e(d.bench)}</td></tr>`,
  );
  const images = m.devices.map(
    (d) =>
      `<tr data-device="${e(deviceKey(d))}"><td>${e(d.role)} ${e(d.id)}</td><td class="hash" data-field="sha256">${d.sha256 ? `${e(d.sha256)} <span class="outcome o-pass">verified</span>` : na}</td><td>${e(d.claims.join(', ')) || '<span class="note">none</span>'}</td><td class="case-ids">${d.cases.map((id) => `<span>${e(id)}</span>`).join(', ')}</td></tr>`,
  );
  return `<section id="devices-under-test"><h2>Devices under test</h2>
${identity.length ? '' : '<p class="note">No case recorded a device.</p>'}
<table id="devices"><thead><tr><th>Role</th><th>Id</th><th>IEEE</th><th>Firmware</th><th>Manufacturer</th><th>Model</th><th>Serial number</th><th>Hardware revision</th><th>Firmware version</th><th>Baseline</th><th>Bench</th></tr></thead><tbody>${identity.join('')}</tbody></table>
<table id="device-images"><thead><tr><th>Device</th><th>Image sha256</th><th>Claims</th><th>Cases</th></tr></thead><tbody>${images.join('')}</tbody></table></section>`;
}

/** Every relay, sniffer, radio and the broker, as each case found them (ISO/IEC 17025 §7.8.2: the equipment used). */
function equipment(m: ReportModel): string {
  const used = equipmentUsed(m.cases);
  const rows = used.map(
    (u) =>
      `<tr data-equipment="${e(`${u.bench}/${u.item.role}/${u.item.id}`)}"><td>${e(u.bench)}</td><td>${e(u.item.role)}</td><td>${e(u.item.id)}</td><td class="mono">${e(u.item.kind)}</td><td class="mono">${e(u.wheres.length > 2 ? `${u.wheres[0]} and ${u.wheres.length - 1} more` : u.wheres.join(', '))}</td><td>${u.item.firmware ? e(u.item.firmware) : u.item.role === 'sniffer' || u.item.role === 'rig radio' ? '<span class="note">not reported (its protocol has no way to ask)</span>' : '—'}</td><td>${e(String(u.cases.length))}</td></tr>`,
  );
  return `<section id="test-equipment"><h2>Test equipment</h2>
${rows.length ? '' : '<p class="note">No case recorded its equipment (a run from before it was recorded, or no case reached its bench).</p>'}
<table id="equipment"><thead><tr><th>Bench</th><th>Role</th><th>Id</th><th>Kind</th><th>Where</th><th>Firmware as reported</th><th>Cases</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function summary(m: ReportModel): string {
  const rows = m.results.cases.map(
    (c) =>
      `<tr data-case="${e(c.id)}" data-bench="${e(c.bench)}" data-verdict="${e(c.verdict)}"><td><a href="#${caseAnchor(c)}">${e(c.id)}</a></td><td>${e(c.title)}</td><td>${e(c.requirements.join(', '))}</td><td>${e(c.references.join(', '))}</td><td>${e(c.bench)}</td><td>${verdictBadge(c.verdict)}</td><td class="key-measurement">${measurementLine(keyMeasurement(c), c)}</td></tr>`,
  );
  const missing = m.results.missing.map(
    (title) =>
      `<tr class="missing" data-missing="${e(title)}"><td colspan="5">${e(title)}</td><td colspan="2"><span class="note">ended without a verdict (the rig crashed inside it)</span></td></tr>`,
  );
  const totals = VERDICTS.map(
    (v) => `<tr data-verdict="${e(v)}"><td>${verdictBadge(v)}</td><td class="count">${m.results.totals[v] ?? 0}</td></tr>`,
  );
  if (m.results.missing.length)
    totals.push(`<tr data-verdict="none"><td>ended without a verdict</td><td class="count">${m.results.missing.length}</td></tr>`);
  const notRun = (m.results.notRun ?? []).map(
    (p) =>
      `<tr class="not-run" data-not-run="${e(`${p.id}--${p.bench}`)}"><td>${e(p.id)}</td><td>${e(p.title)}</td><td colspan="2"></td><td>${e(p.bench)}</td><td><span class="verdict v-not-run" data-verdict="NOT RUN">NOT RUN</span></td><td><span class="note">planned, never started: the run stopped before it</span></td></tr>`,
  );
  if (notRun.length) totals.push(`<tr data-verdict="NOT RUN"><td>NOT RUN</td><td class="count">${notRun.length}</td></tr>`);
  return `<section id="summary-section"><h2>Summary</h2>
<table id="summary"><thead><tr><th>Case</th><th>Title</th><th>Requirements</th><th>References</th><th>Bench</th><th>Verdict</th><th>Key measurement vs limit</th></tr></thead><tbody>${rows.join('')}${missing.join('')}${notRun.join('')}</tbody></table>
<table id="totals" style="width:auto"><thead><tr><th>Verdict</th><th>Cases</th></tr></thead><tbody>${totals.join('')}</tbody></table></section>`;
}

function measurementsTable(c: CaseResult): string {
  const deciding = decidingMeasurement(c);
  // Which measurement decided the verdict, said in words: a FAIL beside a green "pass" row must not read as that row's doing.
  const decidedBy =
    c.verdict === 'FAIL' || c.verdict === 'INCONCLUSIVE'
      ? deciding
        ? `<p class="decided-by">The ${e(c.verdict)} was decided by the measurement <b>${e(deciding.name)}</b> (marked below).</p>`
        : `<p class="decided-by">No measurement decided this ${e(c.verdict)}: an observation did (see the reason above)${c.measurements.length ? '; the measurements below are for information' : ''}.</p>`
      : '';
  if (!c.measurements.length) return `${decidedBy}<p class="note">No measurements.</p>`;
  const rows = c.measurements.map(
    (mm) =>
      `<tr data-outcome="${e(mm.outcome)}"${mm === deciding ? ' class="deciding" data-deciding="true"' : ''}><td>${e(mm.name)}${mm === deciding ? ' <span class="decider">decided the verdict</span>' : ''}</td><td>${e(valueText(mm.value, mm.uncertainty, mm.unit))}</td><td>${e(uncertaintyText(mm.uncertainty, mm.unit))}</td><td>${mm.limit ? e(mm.limit.text) : mm.unsetLimit ? `<span class="note unset-limit">not set (measure only): ${e(mm.unsetLimit)}</span>` : '<span class="note">none (information)</span>'}</td><td>${e(valueText(mm.margin, mm.uncertainty, mm.unit))}</td><td><span class="outcome o-${token(mm.outcome)}">${e(mm.outcome)}</span></td></tr>`,
  );
  return `${decidedBy}<table class="measurements"><thead><tr><th>Measurement</th><th>Value</th><th>Uncertainty</th><th>Limit</th><th>Margin</th><th>Outcome</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** What the verdict rests on that no public text confirms: the facts the rig modelled, and lab settings that read silent text. */
function restsOnSection(ce: CaseEvidence): string {
  const c = ce.result;
  const facts = ce.events
    .filter((ev) => ev.kind === 'modelled-fact')
    .map(
      (ev) => `<li data-fact="${e(String(ev.id))}">${e(String(ev.fact))} <span class="note">— held in ${e(String(ev.heldBy))}</span></li>`,
    );
  const settings = interpretingSettings(c.requirements).map(
    (s) =>
      `<li data-setting="${e(s.setting)}">the lab's reading of silent or disputed text, lab setting <span class="mono">${e(s.setting)}</span>: ${e(s.basis)} <span class="note">— see the lab settings on the cover</span></li>`,
  );
  if (!facts.length && !settings.length) return '';
  return `<div class="rests-on"><b>This verdict rests on modelled or unconfirmed facts:</b><ul>${[...facts, ...settings].join('')}</ul></div>`;
}

const count = (n: number, what: string) => `${n.toLocaleString('en-GB')} ${what}${n === 1 ? '' : 's'}`;

/** Said under a timeline that drew a chatty device's frames as bins: how many, how drawn, and where every one of them is. */
function framesSummarised(frames: FrameDrawing | undefined, ce: CaseEvidence): string {
  if (!frames?.bins.length) return '';
  const lanes = FRAME_KINDS.filter((k) => frames.binned[k.kind].frames > 0).map(
    (k) => `${k.label}: ${count(frames.binned[k.kind].frames, 'frame')} as ${count(frames.binned[k.kind].bins, 'bin')}`,
  );
  const binned = frames.total - frames.single.length;
  const files = [`${ce.dir}/events.jsonl`, ...ce.captures].map((f) => `<span class="mono">${e(f)}</span>`).join(' and ');
  return `<p class="frames-summarised" data-frames="${frames.total}" data-drawn="${frames.single.length}" data-bins="${frames.bins.length}"><b>Summarised:</b> ${e(count(frames.total, 'frame'))} heard; ${e(count(frames.single.length, 'frame'))} the verdict rests on (cited by its observations or within a second of a measurement) drawn one by one, the other ${e(binned.toLocaleString('en-GB'))} drawn as ${e(count(frames.bins.length, 'bin'))} with their counts (${e(lanes.join('; '))}). Every frame is in ${files}, signed in manifest.json.</p>`;
}

/**
 * With which cases it ran side by side on its bench (harness/plan.ts), and each act it shared with them (a Change of
 * Tenancy, a power cycle, an outage, the WAN cut): done by it for the others, or taken from the case that did it.
 */
function sideBySide(ce: CaseEvidence): string {
  const c = ce.result;
  if (!c.alongside?.length) return '';
  const acts = ce.events
    .filter((ev) => ev.kind.endsWith('-shared') && ev.kind !== 'power-shared' && typeof ev.what === 'string')
    .map((ev) => {
      const what = `${String(ev.what)}${ev.part === 'end' ? ' (its end)' : ''}`;
      return Array.isArray(ev.for)
        ? `${what}, done by this case for ${ev.for.join(', ')} at ${utc(ev.t)}`
        : `${what}, taken from ${String(ev.sharedWith)} (done at ${utc(String(ev.at ?? ev.t))})`;
    });
  return `<dt>Side by side with</dt><dd class="alongside">${e(c.alongside.join(', '))}: on one bench at once, each case with its own evidence, clock deadline and verdict${acts.length ? `. Shared: <span class="shared-acts">${e(acts.join('; '))}</span>` : ''}</dd>`;
}

function caseSection(ce: CaseEvidence): string {
  const c = ce.result;
  const start = isoMs(c.startedAt);
  const steps = c.steps.length
    ? `<ol class="steps">${c.steps.map((s) => `<li><span class="mono">${e(utc(s.at))}</span> (${e(elapsed(isoMs(s.at) - start))}) — ${e(s.name)}</li>`).join('')}</ol>`
    : '<p class="note">No steps recorded.</p>';
  let outcome = '';
  if (c.verdict === 'FAIL')
    outcome = `<div class="failure"><b>The device broke ${e(c.failedRequirement ?? 'the requirement')}.</b> ${e(c.reason)}</div>`;
  else if (c.verdict === 'INCONCLUSIVE')
    outcome = `<div class="fault"><b>Rig fault:</b> <span class="fault-reason">${e(c.reason)}</span><br><b>Fix at the bench:</b> <span class="fix">${orNote(c.fix)}</span></div>`;
  else if (c.verdict === 'ERROR') outcome = `<div class="fault"><b>Rig defect:</b> ${e(c.reason)}</div>`;
  else outcome = `<p>${e(c.reason)}</p>`;
  const decided = decidingMoment(ce.events, c);
  const evidence = ce.files.map(
    (f) =>
      `<tr data-file="${e(f.path)}"><td class="mono"><a href="${e(f.path.split('/').map(encodeURIComponent).join('/'))}">${e(f.path.slice(ce.dir.length + 1))}</a></td><td class="hash">${e(f.recorded ?? f.actual ?? '')}</td><td class="status-${f.status.replace(/ /g, '-')}">${e(f.status === 'changed' ? `changed since the case ended (now ${f.actual})` : f.status)}</td></tr>`,
  );
  const legend = FRAME_KINDS.map((k) => `<span>${e(k.label)}</span>`).join(' · ');
  const timeline = timelineFigure(ce.events, c);
  return `<section class="case" id="${caseAnchor(c)}" data-case="${e(c.id)}" data-bench="${e(c.bench)}">
<h3>${e(c.id)} — ${e(c.title)} ${verdictBadge(c.verdict)}</h3>
<dl class="facts">
<dt>Requirement</dt><dd class="requirement">${e(c.requirement)}</dd>
<dt>Requirement ids</dt><dd>${e(c.requirements.join(', '))}</dd>
<dt>References</dt><dd>${e(c.references.join(', '))}</dd>
<dt>Bench / device</dt><dd>${e(c.bench)} / ${c.device ? `${e(c.device.id)} (${e(c.device.role ?? c.role)}, <span class="mono">${e(c.device.ieee)}</span>, firmware <span class="mono">${e(c.device.firmware)}</span>)` : `<span class="note">no ${e(c.role)} on the bench</span>`}</dd>
<dt>Bench time</dt><dd><span class="mono">${e(utc(c.startedAt))}</span> → <span class="mono">${e(utc(c.endedAt))}</span> (${e(elapsed(isoMs(c.endedAt) - start))}${c.plannedMs !== undefined ? `; planned ${e(elapsed(c.plannedMs).replace(/^\+/, ''))}` : ''})</dd>
<dt>Decided</dt><dd class="decided">${e(elapsed(isoMs(decided.t) - start))}: ${e(decided.what)}</dd>
${sideBySide(ce)}</dl>
${outcome}
${restsOnSection(ce)}
<h4>Steps</h4>${steps}
<h4>Measurements</h4>${measurementsTable(c)}
<h4>Timeline</h4>
${timeline.svg}
${framesSummarised(timeline.frames, ce)}<p class="legend note">Top: relay power (line: confirmed state; circles: commands). Lanes: ${legend}${timeline.frames?.bins.length ? " (bars: bins of frames, as high as their count against the lane's fullest bin; dark ticks: the frames the verdict rests on)" : ''}. Dashed lines: numbered steps. <span style="color:${verdictColour(c.verdict)}">Bold line</span>: the moment the verdict was decided. <span class="screen-only">Hover a mark for its time and summary.</span>${ce.unreadableEvents ? ` ${ce.unreadableEvents} line(s) of events.jsonl could not be read (cut by a crash?).` : ''}</p>
<h4>Evidence</h4>
<table class="evidence"><thead><tr><th>File</th><th>sha256 (recorded when the case ended)</th><th>Now</th></tr></thead><tbody>${evidence.join('')}</tbody></table>
</section>`;
}

/** Frames seen on air listed one by one per device and case at most: the rest are counted, so a chatty device cannot swell the trail. */
export const MAX_AUDIT_FRAMES_PER_CASE = 100;

/** The trail's rows to list: every rig command; per case, the first frames seen on air, the rest counted by title and capture. */
/** A case's frames seen on air not listed: how many, by title, and the captures that hold them. */
interface Unlisted {
  n: number;
  titles: Map<string, number>;
  where: Set<string>;
}

function auditRows(entries: readonly AuditEntry[]): { listed: AuditEntry[]; unlisted: Map<string, Unlisted> } {
  const listed: AuditEntry[] = [];
  const seen = new Map<string, number>();
  const unlisted = new Map<string, Unlisted>();
  for (const a of entries) {
    const n = a.source === 'seen on air' ? (seen.get(a.case) ?? 0) + 1 : 0;
    if (n) seen.set(a.case, n);
    if (n <= MAX_AUDIT_FRAMES_PER_CASE) {
      listed.push(a);
      continue;
    }
    const u = unlisted.get(a.case) ?? { n: 0, titles: new Map(), where: new Set() };
    u.n++;
    u.titles.set(a.title, (u.titles.get(a.title) ?? 0) + 1);
    // `han.pcapng #3`: the capture holds every frame not listed.
    u.where.add(a.where.replace(/ #\d+$/, ''));
    unlisted.set(a.case, u);
  }
  return { listed, unlisted };
}

function auditSection(m: ReportModel): string {
  const folder = new Map(m.cases.map((c) => [`${c.result.id}\n${c.result.bench}`, c.dir]));
  const parts = m.devices.map((d) => {
    const entries = m.audit.get(deviceKey(d)) ?? [];
    const { listed, unlisted } = auditRows(entries);
    const rows = listed.map(
      (a) =>
        `<tr data-source="${e(a.source)}"><td class="mono">${e(utc(a.t))}</td><td>${e(a.case)}</td><td>${e(a.source)}</td><td class="mono">${e(a.originator)}</td><td class="title">${e(a.title)}</td><td>${e(a.addressedAs)}</td><td class="mono">${e(a.where)}</td></tr>`,
    );
    for (const [id, u] of unlisted) {
      const titles = [...u.titles].sort((a, b) => b[1] - a[1]);
      const most = titles
        .slice(0, 5)
        .map(([t, n]) => `${t} ×${n.toLocaleString('en-GB')}`)
        .join('; ');
      const dir = folder.get(`${id}\n${d.bench}`) ?? `evidence/${id}--${d.bench}`;
      rows.push(
        `<tr class="audit-summarised" data-case="${e(id)}" data-unlisted="${u.n}"><td colspan="7"><b>Summarised:</b> ${e(`${id}: ${count(u.n, 'more frame')} seen on air addressed to it, not listed (${most}${titles.length > 5 ? `; ${titles.length - 5} other titles` : ''}); every one is in `)}${[...u.where].map((w) => `<span class="mono">${e(`${dir}/${w}`)}</span>`).join(', ')}, signed in manifest.json</td></tr>`,
      );
    }
    const onAir = entries.filter((a) => a.source === 'seen on air').length;
    const notListed = [...unlisted.values()].reduce((s, u) => s + u.n, 0);
    return `<section class="audit" data-device="${e(deviceKey(d))}"><h3>${e(d.role)} ${e(d.id)} <span class="mono">${e(d.ieee)}</span> on ${e(d.bench)}</h3>
<p class="note">${entries.filter((a) => a.source === 'sent by the rig').length} command(s) sent by the rig, ${onAir} frame(s) seen on air addressed to it${notListed ? ` (the first ${MAX_AUDIT_FRAMES_PER_CASE} of each case listed, ${notListed.toLocaleString('en-GB')} counted below)` : ''}.</p>
<table class="audit-trail"><thead><tr><th>Time (bench, UTC)</th><th>Case</th><th>Source</th><th>Originator</th><th>Title</th><th>Addressed as</th><th>Where</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
  });
  const problems = m.auditProblems.length
    ? `<ul class="audit-problems">${m.auditProblems.map((p) => `<li>${e(p)}</li>`).join('')}</ul>`
    : '';
  return `<section id="audit"><h2>Audit trail per device</h2>
<p class="note">Requirement E (docs/requirements.md, the audit trail): every command the rig sent to the device and every frame seen on air addressed to it (its IEEE address; short 0x0000 for a CH; broadcasts), with time, originator and title (GBCS use case or ZCL command, as decoded). Payloads are never shown.</p>
${problems}${parts.join('\n')}</section>`;
}

/** On every page of a report with a simulated bench: its results say nothing about a device. */
/** In large type on the cover: a campaign that did not reach every planned case is not a campaign's result. */
function incompleteBanner(m: ReportModel): string {
  const { results } = m;
  const notRun = results.notRun?.length ?? 0;
  const without = results.missing.length + notRun;
  if (!without && !m.rebuilt) return '';
  const planned = results.run.planned?.length;
  const what = without
    ? `${planned ? `${without} of ${counted(planned, 'planned case')}` : counted(without, 'planned case')} ${without === 1 ? 'has' : 'have'} no verdict (${notRun} never started, ${results.missing.length} cut short)`
    : 'the run ended without writing its results (they were rebuilt from the evidence)';
  return `<div id="incomplete-banner" role="alert">INCOMPLETE CAMPAIGN — ${e(what)}</div>`;
}

function virtualBanner(m: ReportModel): string {
  const benches = virtualBenches(m.results.run, m.devices);
  if (!benches.length) return '';
  return `<div id="virtual-banner" role="note">Results from a simulated bench (${e(benches.join(', '))}) — not a device test</div>`;
}

/** The campaign plan: how the cases were placed on each bench in bench time, against the longest wait chain, and what each took. */
function planSection(plan: CampaignPlan | undefined, cases: readonly CaseResult[]): string {
  if (!plan) return '';
  const ratio = plan.longestChainMs > 0 ? (plan.totalMs / plan.longestChainMs).toFixed(2) : '—';
  return `<h3>Campaign plan</h3>
<p id="plan-summary">Planned bench time ${e(benchTimeText(plan.totalMs))} against the longest single case, ${e(plan.longestChain)}, ${e(benchTimeText(plan.longestChainMs))} (${ratio}×)${plan.floorMs !== undefined ? `; no placement under the sharing rules takes less than ${e(benchTimeText(plan.floorMs))}` : ''}; placed ${e(plan.method)}. Pale bars: each case's planned span; coloured bars: the span it took, in its verdict's colour.</p>
${planSvg(plan, cases)}`;
}

function scopeAndMethod(m: ReportModel): string {
  const { run } = m.results;
  const requirements = [...new Set(m.results.cases.flatMap((c) => c.requirements))].sort();
  const references = [...new Set(m.results.cases.flatMap((c) => c.references))].sort();
  const devs = deviations(m.results);
  const changed = m.signedBy?.changedSinceSigned;
  if (changed)
    devs.unshift({
      what: 'run folder changed after signing',
      detail: `${changed.files.join('; ')} — reported and signed again as they are now (gbcs-rig report --accept-changes); the earlier signature is kept in ${changed.superseded}`,
    });
  const deviationList = devs.length
    ? `<ul id="deviations">${devs.map((d) => `<li data-deviation="${e(d.what)}"><b>${e(d.what)}</b>: ${e(d.detail)}</li>`).join('')}</ul>`
    : '<p id="deviations" class="note">None: every lab setting at its default, every planned case run to a verdict.</p>';
  return `<section id="scope-method"><h2>Scope, method and deviations</h2>
<h3>Scope</h3>
<p>${counted(m.devices.length, 'device')} under test on ${e(benchesOf(m.results).join(', ') || 'no bench')}, against the requirements ${e(requirements.join(', ') || 'none')} (${e(references.join('; ') || 'no clause recorded')}). Each test case, its requirement in words and its verdict rules are in <i>Tests</i>; nothing is concluded about a requirement no case examined.</p>
<h3>Method</h3>
<p>The test cases of the suites below, run by gbcs-rig ${e(run.gbcsRig || 'of an unrecorded version')} on the benches of the rig file${run.rigSha256 ? ` (sha256 <span class="mono">${e(run.rigSha256)}</span>)` : ''}: each case powers, observes and transmits as its steps say, records evidence (event log, capture) with its hashes, and decides its verdict by the rules in the README (<i>Verdicts</i>) and docs/verdicts.md: a fault of the rig is INCONCLUSIVE, never a device FAIL.</p>
<ul id="method-suites">${(run.testPlan ?? []).map((t) => `<li><span class="mono">${e(t.suite)}</span> sha256 <span class="mono">${e(t.sha256)}</span></li>`).join('') || '<li class="note">suites not recorded</li>'}</ul>
${planSection(run.plan, m.results.cases)}
<h3>Deviations from the method</h3>
${deviationList}
</section>`;
}

function conclusions(m: ReportModel): string {
  const rows = deviceConclusions(m.devices, m.results.cases).map(
    (c) =>
      `<tr data-device="${e(deviceKey(c.device))}" data-conclusion="${e(c.conclusion)}"><td>${e(c.device.role)} ${e(c.device.id)}</td><td class="mono">${e(c.device.firmware)}</td><td>${e(c.device.bench)}</td><td>${e(
        Object.entries(c.counts)
          .map(([v, n]) => `${n} ${v}`)
          .join(', '),
      )}</td><td>${e(c.text)}</td></tr>`,
  );
  return `<section id="conclusions"><h2>Conclusions per device</h2>
<table id="device-conclusions"><thead><tr><th>Device</th><th>Firmware</th><th>Bench</th><th>Verdicts</th><th>Conclusion</th></tr></thead><tbody>${rows.join('') || '<tr><td colspan="5" class="note">No device was examined.</td></tr>'}</tbody></table></section>`;
}

/** Filled in by the lab: who tested, reviewed and approved the report, and when. */
function signOff(m: ReportModel): string {
  const line = (role: string, name = '') =>
    `<tr data-role="${e(role)}"><td>${e(role)}</td><td>${e(name)}</td><td class="sign"></td><td class="sign"></td></tr>`;
  return `<section id="sign-off"><h2>Sign-off</h2>
<table id="sign-off-table"><thead><tr><th>Role</th><th>Name</th><th>Signature</th><th>Date</th></tr></thead><tbody>${line('Tested by', m.results.run.operator ?? '')}${line('Reviewed by')}${line('Approved by')}</tbody></table>
<p class="note">The run folder's files are listed with their sha256 in manifest.json and signed (manifest.sig); <code>gbcs-rig verify</code> checks them.</p></section>`;
}

export function renderHtml(m: ReportModel): string {
  const { run } = m.results;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gbcs-rig ${e(m.builtBy)}">
<title>${e(`gbcs-rig conformance report ${run.id} — ${run.station}`)}</title>
<style>${CSS}</style>
</head>
<body>
${virtualBanner(m)}
${incompleteBanner(m)}
${cover(m)}
${scopeAndMethod(m)}
${devices(m)}
${equipment(m)}
${summary(m)}
${conclusions(m)}
<section id="tests"><h2>Tests</h2>
${m.cases.map(caseSection).join('\n')}
</section>
${auditSection(m)}
${signOff(m)}
</body>
</html>
`;
}
