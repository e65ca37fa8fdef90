// report.html stays printable whatever the device's traffic: a case's timeline draws a bounded number
// of marks (the frames the verdict rests on one by one, the rest as bins with counts) and the audit trail
// lists a bounded number of frames per case, each saying that it summarised and where every frame is.
import { test, expect } from '@playwright/test';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseResult } from '../../harness/case.ts';
import { benchIso, type EvidenceEvent } from '../../harness/evidence.ts';
import { measure } from '../../harness/measurements.ts';
import { type AuditEntry, deviceKey, devicesUnderTest } from '../../reports/audit.ts';
import { MAX_AUDIT_FRAMES_PER_CASE, renderHtml } from '../../reports/html.ts';
import { findChromium, renderPdf } from '../../reports/pdf.ts';
import type { CaseEvidence } from '../../reports/run-folder.ts';
import { MAX_CITED_FRAMES, MAX_FRAME_MARKS } from '../../reports/timeline.ts';

const START = Date.parse('2026-01-02T07:00:00Z');
const HOUR = 3_600_000;
const DIR = 'evidence/IHD-COT-004--virtual-1';
/** The case section may not grow past this, however many frames its device sent. */
const SECTION_LIMIT = 150_000;

const POLL = 'ZCL 0x0708 Get Change of Tenancy → 0x0002';
const ANSWER = 'ZCL 0x0708 Default Response → 0x0003 to 0x00, Not Found';

/** A 25-hour IHD-COT-004 whose device sent about `frames` frames, spread evenly, polls and their answers in turn. */
function chattyCase(frames: number, verdict: 'PASS' | 'FAIL' = 'FAIL'): CaseEvidence {
  const span = 25 * HOUR;
  const at = (ms: number) => benchIso(START + ms);
  const longest =
    verdict === 'FAIL'
      ? measure('longest time without a Get Change of Tenancy', 24.5, 'h', 0.1, { high: 24, text: 'at most 24 h (COT-3)' })
      : measure('longest time without a Get Change of Tenancy', 0.02, 'h', 0.1, { high: 24, text: 'at most 24 h (COT-3)' });
  const measuredAt = 20 * HOUR + 12_345;
  const events: EvidenceEvent[] = [
    { t: at(0), kind: 'case-start', id: 'IHD-COT-004', title: 'the IHD asks at least once every 24 hours' },
    { t: at(0), kind: 'power-command', device: 'ihd', relay: 'tasmota board POWER2', state: 'ON' },
    { t: at(0), kind: 'power-confirmed', device: 'ihd', relay: 'tasmota board POWER2', state: 'ON' },
    { t: at(1), kind: 'step', name: 'watch the IHD’s polls for a day' },
    { t: at(2 * HOUR), kind: 'mark', label: 'a day after power-up', at: at(24 * HOUR) },
  ];
  for (let n = 1; n <= frames; n++) {
    const t = Math.round((n * span) / (frames + 1));
    // Only the frame put beside the measurement below is within a second of it.
    if (Math.abs(t - measuredAt) < 1500) continue;
    events.push({ t: at(t), kind: 'frame', sniffer: 'han', n, summary: n % 2 ? POLL : ANSWER, rssi: -40, lqi: 200 });
  }
  // What the verdict rests on: a frame an observation cites, and a measurement with a frame beside it.
  events.push({ t: at(span / 2), kind: 'observed', what: 'the poll that ended the longest wait', frame: 12_345 });
  events.push({ t: at(measuredAt - 200), kind: 'frame', sniffer: 'han', n: frames + 1, summary: POLL, rssi: -40, lqi: 200 });
  events.push({ t: at(measuredAt), kind: 'measurement', ...longest });
  events.push({ t: at(span), kind: 'verdict', verdict, reason: 'decided' });
  events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  const result = {
    id: 'IHD-COT-004',
    title: 'the IHD asks at least once every 24 hours',
    requirements: ['COT-3'],
    references: ['SECMP0056'],
    requirement: 'The IHD sends Get Change of Tenancy at least once every 24 hours.',
    role: 'IHD',
    area: 'Change of Tenancy',
    verdict,
    reason: verdict === 'FAIL' ? 'the IHD went 24.5 h without a poll' : 'every check held',
    ...(verdict === 'FAIL' && { failedRequirement: 'COT-3' }),
    bench: 'virtual-1',
    device: { id: 'ihd', ieee: '00:db:12:34:56:78:90:b0', firmware: 'ihd-polls-every-minute', claims: [] },
    startedAt: at(0),
    endedAt: at(span),
    steps: [{ name: 'watch the IHD’s polls for a day', at: at(1) }],
    measurements: [longest],
    evidence: [],
  } as unknown as CaseResult;
  return { result, dir: DIR, events, unreadableEvents: 0, captures: [`${DIR}/han.pcapng`], files: [] };
}

/** report.html of one case, with the audit trail given for its device. */
function render(ce: CaseEvidence, audit: AuditEntry[] = []): string {
  const devices = devicesUnderTest([ce.result]);
  return renderHtml({
    results: {
      schema: 'gbcs-rig/results@1',
      run: { id: 'r', rig: 'lab.yaml', station: 'station', startedAt: '', endedAt: '', gbcsRig: '0.1.0' },
      cases: [ce.result],
      totals: { PASS: 0, FAIL: 0, INCONCLUSIVE: 0, 'NOT APPLICABLE': 0, ERROR: 0, [ce.result.verdict]: 1 },
      missing: [],
    },
    rebuilt: false,
    cases: [ce],
    devices,
    audit: new Map([[deviceKey(devices[0]), audit]]),
    auditProblems: [],
    generatedAt: '2026-12-07T10:00:00Z',
    builtBy: '0.1.0',
  });
}

const caseSection = (html: string) => html.match(/<section class="case"[\s\S]*?<\/section>/)![0];
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;
const heard = (ce: CaseEvidence) => ce.events.filter((ev) => ev.kind === 'frame').length;

test('tens of thousands of frames: the case section stays under a fixed size, draws the deciding marks and says it summarised', () => {
  for (const frames of [30_000, 60_000]) {
    const ce = chattyCase(frames);
    const section = caseSection(render(ce));
    expect(section.length, `${frames} frames`).toBeLessThan(SECTION_LIMIT);
    // What decided the FAIL is still named: the measurement, in its table and on the figure.
    expect(section).toMatch(
      /<tr data-outcome="fail" class="deciding" data-deciding="true"><td>longest time without a Get Change of Tenancy/,
    );
    expect(section).toContain('FAIL: decided by the measurement longest time without a Get Change of Tenancy (fail)');
    expect(section).toContain('a day after power-up');
    expect(section).toMatch(/<g class="step-marker" data-step="1">/);
    // The frames it rests on are drawn one by one: the one an observation cites, the one beside the measurement.
    const cited = [...section.matchAll(/<line class="frame" data-kind="[^"]+" data-cited="true"[^>]*><title>#(\d+) /g)].map((m) =>
      Number(m[1]),
    );
    expect(cited.sort((a, b) => a - b)).toEqual([12_345, frames + 1]);
    // Every other frame is in a bin, with its count; none is lost from the counts.
    const binned = [...section.matchAll(/<rect class="frame-bin" data-kind="[^"]+" data-count="(\d+)"/g)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    expect(binned + cited.length).toBe(heard(ce));
    expect(count(section, /<line class="frame"/g)).toBeLessThanOrEqual(MAX_CITED_FRAMES);
    // And it says so, with where every frame is.
    const said = section.match(/<p class="frames-summarised"[^>]*>([\s\S]*?)<\/p>/)?.[1].replace(/<[^>]+>/g, '');
    expect(said).toContain(`${heard(ce).toLocaleString('en-GB')} frames heard; 2 frames the verdict rests on`);
    expect(said).toMatch(/\(response: [\d,]+ frames as \d+ bins; other: [\d,]+ frames as \d+ bins\)/);
    expect(said).toContain(`Every frame is in ${DIR}/events.jsonl and ${DIR}/han.pcapng, signed in manifest.json.`);
  }
});

test('the report of a case with 60,000 frames prints: Chromium lays it out into a PDF', async () => {
  test.skip(!findChromium(), 'no Chromium on this machine');
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-report-size-'));
  const html = join(dir, 'report.html');
  writeFileSync(html, render(chattyCase(60_000)));
  const made = await renderPdf(html, join(dir, 'report.pdf'));
  expect(made).toEqual({ written: true, file: join(dir, 'report.pdf') });
  expect(statSync(join(dir, 'report.pdf')).size).toBeGreaterThan(0);
});

test('a small case is drawn as before: every frame a tick of its own, and nothing said about summarising', () => {
  for (const frames of [120, MAX_FRAME_MARKS - 1]) {
    const ce = chattyCase(frames, 'PASS');
    expect(heard(ce)).toBe(frames + 1);
    const html = render(ce);
    const section = caseSection(html);
    const ticks = [...section.matchAll(/<line class="frame" data-kind="[^"]+" x1[^>]*><title>#(\d+) /g)].map((m) => Number(m[1]));
    expect(ticks.sort((a, b) => a - b)).toEqual(
      ce.events
        .filter((ev) => ev.kind === 'frame')
        .map((ev) => ev.n)
        .sort((a, b) => Number(a) - Number(b)),
    );
    expect(section).not.toContain('frame-bin');
    expect(section).not.toContain('data-cited');
    expect(html).not.toContain('Summarised');
  }
  // One frame past the limit, the figure summarises.
  const over = chattyCase(MAX_FRAME_MARKS, 'PASS');
  expect(heard(over)).toBe(MAX_FRAME_MARKS + 1);
  expect(caseSection(render(over))).toContain('class="frames-summarised"');
});

test('the audit trail lists a bounded number of frames seen on air per case, counts the rest by title and names the capture', () => {
  const ce = chattyCase(10);
  const onAir = (n: number, title: string): AuditEntry => ({
    t: benchIso(START + n * 1000),
    case: 'IHD-COT-004',
    source: 'seen on air',
    originator: '0x0003',
    title,
    addressedAs: 'broadcast 0xfffd',
    where: `han.pcapng #${n}`,
  });
  const command: AuditEntry = {
    ...onAir(0, 'GBCS CCS01 Add Device to CHF Device Log'),
    source: 'sent by the rig',
    where: `${DIR}/events.jsonl`,
  };
  const trail = [
    command,
    ...Array.from({ length: 20_000 }, (_, i) => onAir(i + 1, i % 4 ? 'NWK data 0x0005 → 0xfffd' : 'MAC Beacon Request')),
  ];
  const html = render(ce, trail);
  const audit = html.slice(html.indexOf('<section id="audit">'));
  expect(audit.length).toBeLessThan(60_000);
  expect(count(audit, /<tr data-source="seen on air">/g)).toBe(MAX_AUDIT_FRAMES_PER_CASE);
  // The rig's own commands are always listed.
  expect(count(audit, /<tr data-source="sent by the rig">/g)).toBe(1);
  const unlisted = 20_000 - MAX_AUDIT_FRAMES_PER_CASE;
  const fmt = (n: number) => n.toLocaleString('en-GB');
  expect(audit).toContain(
    `1 command(s) sent by the rig, 20000 frame(s) seen on air addressed to it (the first ${MAX_AUDIT_FRAMES_PER_CASE} of each case listed, ${fmt(unlisted)} counted below)`,
  );
  const row = audit.match(
    new RegExp(`<tr class="audit-summarised" data-case="IHD-COT-004" data-unlisted="${unlisted}">([\\s\\S]*?)</tr>`),
  )?.[1];
  // Titles by count, most first; the beacon requests are every fourth frame.
  const beacons = Math.floor(20_000 / 4) - Math.floor(MAX_AUDIT_FRAMES_PER_CASE / 4);
  expect(row?.replace(/<[^>]+>/g, '')).toBe(
    `Summarised: IHD-COT-004: ${fmt(unlisted)} more frames seen on air addressed to it, not listed (NWK data 0x0005 → 0xfffd ×${fmt(unlisted - beacons)}; MAC Beacon Request ×${fmt(beacons)}); every one is in ${DIR}/han.pcapng, signed in manifest.json`,
  );
  // A trail within the bound is listed whole.
  const small = render(ce, trail.slice(0, MAX_AUDIT_FRAMES_PER_CASE + 1));
  expect(count(small, /<tr data-source="seen on air">/g)).toBe(MAX_AUDIT_FRAMES_PER_CASE);
  expect(small).not.toContain('audit-summarised');
});
