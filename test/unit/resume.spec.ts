// What `run --resume` makes of a stopped run's folder, before anything runs: the cases kept, the
// cut ones moved aside (numbered, never overwriting an earlier resume's), the ones left by bench.
import { expect, test } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planResume, recordResume } from '../../cli/resume.ts';
import { type PlannedCase, type RunInfo, resultsFromEvidence } from '../../reports/results.ts';

const planned: PlannedCase[] = [
  { id: 'CH-IPAN-001', title: 'one', bench: 'b1' },
  { id: 'CH-IPAN-002', title: 'two', bench: 'b1' },
  { id: 'CH-IPAN-003', title: 'three', bench: 'b1' },
  { id: 'CH-IPAN-001', title: 'one', bench: 'b2' },
];

function caseFolder(run: string, name: string, files: Record<string, string>): void {
  mkdirSync(join(run, 'evidence', name), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(run, 'evidence', name, f), text);
}

test('kept, cut and never started: a cut case moves aside under the next free .partial number, the plan and the resume go into run.json', () => {
  const run = mkdtempSync(join(tmpdir(), 'gbcs-rig-resume-unit-'));
  const info: RunInfo = { id: 'r1', rig: 'rig.yaml', station: 's', startedAt: 't0', endedAt: '', gbcsRig: '0', planned };
  writeFileSync(join(run, 'run.json'), JSON.stringify(info));
  writeFileSync(join(run, 'manifest.json'), '{}');
  const result = { id: 'CH-IPAN-001', bench: 'b1', verdict: 'PASS', reason: '', steps: [], measurements: [], evidence: [] };
  caseFolder(run, 'CH-IPAN-001--b1', { 'events.jsonl': '', 'result.json': JSON.stringify(result) });
  caseFolder(run, 'CH-IPAN-002--b1', { 'events.jsonl': '{"t":"x","kind":"case-start","id":"CH-IPAN-002","title":"two"}\n' });
  // Earlier resumes' partial folders of the same case stay as they are (the first one removed by hand: a gap).
  caseFolder(run, 'CH-IPAN-002--b1.partial-2', { 'events.jsonl': 'second\n' });

  const plan = planResume(run, info, planned);
  expect(plan.kept.map((p) => `${p.id}--${p.bench}`)).toEqual(['CH-IPAN-001--b1']);
  expect(plan.rerun).toEqual([{ id: 'CH-IPAN-002', bench: 'b1', partial: 'evidence/CH-IPAN-002--b1.partial-3' }]);
  expect(Object.fromEntries(plan.remaining)).toEqual({ b1: ['CH-IPAN-002', 'CH-IPAN-003'], b2: ['CH-IPAN-001'] });
  expect(readdirSync(join(run, 'evidence')).sort()).toEqual(['CH-IPAN-001--b1', 'CH-IPAN-002--b1.partial-2', 'CH-IPAN-002--b1.partial-3']);
  expect(readFileSync(join(run, 'evidence', 'CH-IPAN-002--b1.partial-2', 'events.jsonl'), 'utf8')).toBe('second\n');

  const recorded = recordResume(plan, planned);
  const written = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as RunInfo;
  expect(written).toEqual(recorded);
  expect(written.resumes).toEqual([
    {
      at: expect.any(String),
      kept: ['CH-IPAN-001--b1'],
      rerun: plan.rerun,
      remaining: ['CH-IPAN-002--b1', 'CH-IPAN-003--b1', 'CH-IPAN-001--b2'],
    },
  ]);
  // The old signature no longer holds: it is made again when the run ends.
  expect(existsSync(join(run, 'manifest.json'))).toBe(false);
  // Partial folders are not cases: a report rebuilt from the evidence neither counts nor misses them.
  const rebuilt = resultsFromEvidence(run, written);
  expect(rebuilt.cases.map((c) => c.id)).toEqual(['CH-IPAN-001']);
  expect(rebuilt.missing).toEqual([]);
  expect(rebuilt.notRun?.map((p) => `${p.id}--${p.bench}`)).toEqual(['CH-IPAN-002--b1', 'CH-IPAN-003--b1', 'CH-IPAN-001--b2']);
});
