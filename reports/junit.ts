// junit.xml for CI dashboards: one testsuite per bench, one testcase per case. A device FAIL is a
// <failure>; a rig fault or rig defect an <error> (never a device failure); NOT APPLICABLE <skipped>.
import type { CaseResult } from '../harness/case.ts';
import type { RunResults } from './results.ts';
import { escapeText as x } from './escape.ts';
import { isoMs, uncertaintyText, valueText } from './format.ts';

/** The requirement area a case belongs to: `IPAN` from `IPAN-1` (else from the case id, `CH-IPAN`). */
export function requirementArea(c: Pick<CaseResult, 'id' | 'requirements'>): string {
  const r = c.requirements[0];
  return r ? r.replace(/-\d+[a-z]?$/i, '') : c.id.replace(/-\d+$/, '');
}

/** Bench time the case took, in seconds (simulated time on a virtual bench). */
function seconds(c: CaseResult): string {
  const s = (isoMs(c.endedAt) - isoMs(c.startedAt)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s.toFixed(3) : '0';
}

function details(c: CaseResult): string {
  const lines = [`${c.verdict}: ${c.reason}`];
  if (c.failedRequirement) lines.push(`failed requirement: ${c.failedRequirement}`);
  if (c.fix) lines.push(`fix: ${c.fix}`);
  for (const m of c.measurements) {
    lines.push(
      `${m.name} = ${valueText(m.value, m.uncertainty, m.unit)} ${uncertaintyText(m.uncertainty, m.unit)}${m.limit ? ` vs ${m.limit.text}` : ''}${m.margin !== undefined ? `, margin ${valueText(m.margin, m.uncertainty, m.unit)}` : ''} → ${m.outcome}`,
    );
  }
  return lines.join('\n');
}

function testcase(c: CaseResult): string {
  const props = [
    ['verdict', c.verdict],
    ['requirements', c.requirements.join(' ')],
    ['references', c.references.join(', ')],
    ...(c.device
      ? [
          ['device', `${c.device.id} ${c.device.ieee}`],
          ['firmware', c.device.firmware],
        ]
      : []),
  ]
    .map(([name, value]) => `<property name="${x(name)}" value="${x(value)}"/>`)
    .join('');
  const open = `    <testcase classname="${x(requirementArea(c))}" name="${x(`${c.id} ${c.title}`)}" time="${seconds(c)}">\n      <properties>${props}</properties>\n`;
  let body = '';
  if (c.verdict === 'FAIL')
    body = `      <failure type="FAIL ${x(c.failedRequirement ?? '')}" message="${x(c.reason)}">${x(details(c))}</failure>\n`;
  else if (c.verdict === 'INCONCLUSIVE' || c.verdict === 'ERROR')
    body = `      <error type="${x(c.verdict)}" message="${x(c.reason)}">${x(details(c))}</error>\n`;
  else if (c.verdict === 'NOT APPLICABLE') body = `      <skipped message="${x(`NOT APPLICABLE: ${c.reason}`)}"/>\n`;
  return `${open}${body}    </testcase>\n`;
}

function counts(cases: readonly CaseResult[], extraErrors = 0) {
  return `tests="${cases.length + extraErrors}" failures="${cases.filter((c) => c.verdict === 'FAIL').length}" errors="${cases.filter((c) => c.verdict === 'INCONCLUSIVE' || c.verdict === 'ERROR').length + extraErrors}" skipped="${cases.filter((c) => c.verdict === 'NOT APPLICABLE').length}"`;
}

export function renderJunit(results: RunResults): string {
  const benches = [...new Set(results.cases.map((c) => c.bench))].sort();
  const suites = benches.map((bench) => {
    const cases = results.cases.filter((c) => c.bench === bench);
    const time = cases.reduce((s, c) => s + Number(seconds(c)), 0).toFixed(3);
    return `  <testsuite name="${x(bench)}" ${counts(cases)} time="${time}" timestamp="${x(results.run.startedAt)}" hostname="${x(results.run.station)}">\n${cases.map(testcase).join('')}  </testsuite>\n`;
  });
  // Cases that ended without a verdict belong to no known bench: their own suite, as errors.
  if (results.missing.length > 0) {
    const missing = results.missing
      .map(
        (title) =>
          `    <testcase classname="no verdict" name="${x(title)}" time="0">\n      <error type="NO VERDICT" message="the case ended without a verdict (the rig crashed inside it)"/>\n    </testcase>\n`,
      )
      .join('');
    suites.push(`  <testsuite name="ended without a verdict" ${counts([], results.missing.length)} time="0">\n${missing}  </testsuite>\n`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${x(`gbcs-rig ${results.run.id}`)}" ${counts(results.cases, results.missing.length)}>\n${suites.join('')}</testsuites>\n`;
}
