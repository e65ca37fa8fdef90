// Cases side by side against `--one-at-a-time` (issue #15): the same run options twice, and what both must give —
// every case of every bench the same verdict and judged measurements, each mutant caught by its case.
import { expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseResult } from '../../harness/case.ts';
import { type Campaign, type CampaignOptions, once, runCampaign } from './campaign.ts';
import { COT_CAUGHT_BY, COT_CONFORMANT, judgements } from './matrix.ts';

/** A bench of a side-by-side matrix: its devices, and the case that must FAIL which requirement on them ('' on the conformant devices). */
export interface MatrixBench {
  name: string;
  caseId: string;
  requirement: string;
  tenancy: typeof COT_CONFORMANT;
}

/** The conformant COT devices, then every COT mutant whose catching case `catches` picks (but those `leaveOut` names), each on a bench of its own. */
export function cotBenches(catches: (caseId: string) => boolean, leaveOut: readonly string[] = []): MatrixBench[] {
  return [
    { name: 'conformant', caseId: '', requirement: '', tenancy: COT_CONFORMANT },
    ...COT_CAUGHT_BY.filter(([, profile, caseId]) => catches(caseId) && !leaveOut.includes(profile)).map(
      ([device, profile, caseId, requirement, others]) => ({
        name: profile,
        caseId,
        requirement,
        tenancy: { ...COT_CONFORMANT, ...others, [device]: profile },
      }),
    ),
  ];
}

/**
 * One grouping, run with cases side by side and again one at a time. `aloneOnFirst`: one at a time on the first bench only
 * (the conformant devices) — where each mutant's case already runs alone in its matrix (cot-matrix: `--grep <case>`), the
 * side-by-side run need only show it caught there too (expectEachCaught).
 */
export function both(
  options: CampaignOptions,
  { aloneOnFirst = false } = {},
): { merged: () => Promise<Campaign>; alone: () => Promise<Campaign> } {
  const alone = aloneOnFirst && options.perBench ? { ...options, perBench: options.perBench.slice(0, 1) } : options;
  return { merged: once(() => runCampaign(options)), alone: once(() => runCampaign({ ...alone, oneAtATime: true })) };
}

export const results = (c: Campaign, bench: string): CaseResult[] => (c.results?.cases ?? []).filter((r) => r.bench === bench);
const benchesOf = (c: Campaign) => [...new Set((c.results?.cases ?? []).map((r) => r.bench))].sort();

/** What a case measured, as a verdict rests on it: each measurement's name, unit, limit and outcome (its value moves with the device's jitter at another bench time). */
const judged = (r: CaseResult) => r.measurements.map((m) => ({ name: m.name, unit: m.unit, limit: m.limit, outcome: m.outcome }));

/** Bench time from the first case's start to the last one's end on a bench. */
export function benchSpan(c: Campaign, bench: string): number {
  const rs = results(c, bench);
  return Math.max(...rs.map((r) => Date.parse(r.endedAt))) - Math.min(...rs.map((r) => Date.parse(r.startedAt)));
}

/** Both runs gave every case of every bench run both ways the same verdict and the same judged measurements; the merged one ran groups side by side. */
export async function expectSameVerdicts({ merged, alone }: ReturnType<typeof both>): Promise<{ m: Campaign; a: Campaign }> {
  const [m, a] = await Promise.all([merged(), alone()]);
  expect(m.exitCode, m.stderr).toBe(0);
  expect(a.exitCode, a.stderr).toBe(0);
  expect(benchesOf(a).length).toBeGreaterThan(0);
  expect(benchesOf(m)).toEqual(expect.arrayContaining(benchesOf(a)));
  for (const bench of benchesOf(a)) {
    expect(judgements(m, '', bench), `bench ${bench}`).toEqual(judgements(a, '', bench));
    for (const r of results(m, bench)) {
      const same = results(a, bench).find((x) => x.id === r.id)!;
      expect(judged(r), `${r.id} on ${bench}`).toEqual(judged(same));
      expect(same.alongside, `${r.id} alone`).toBeUndefined();
    }
  }
  expect(m.results!.cases.some((r) => (r.alongside?.length ?? 0) > 0)).toBe(true);
  return { m, a };
}

/** On bench `virtual-<i+1>` of `m`, every case PASSes on the conformant devices, and the mutant's case FAILs its requirement. */
export function expectEachCaught(m: Campaign, benches: readonly MatrixBench[]): void {
  for (const [i, { name, caseId, requirement }] of benches.entries()) {
    const v = judgements(m, '', `virtual-${i + 1}`);
    if (caseId) expect(v[caseId], `${name}: ${JSON.stringify(v)}`).toBe(`FAIL ${requirement}`);
    else
      expect(
        Object.values(v).every((x) => x === 'PASS'),
        JSON.stringify(v),
      ).toBe(true);
  }
}

/** A case's evidence events (events.jsonl), with the fields the shared-act tests read. */
export const eventsOf = (c: Campaign, r: CaseResult) =>
  readFileSync(join(c.dir, 'evidence', `${r.id}--${r.bench}`, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) => JSON.parse(l) as { kind: string; part?: string; for?: string[]; sharedWith?: string; at?: string; implementationUtc?: string },
    );

/**
 * On `bench` of `c`, the cases of `group` ran side by side and shared one act (harness/shared-act.ts) of `kind`: its first
 * case did it for the others; each other case took that one, from the same bench time.
 */
export function expectOneActShared(c: Campaign, bench: string, group: readonly string[], kind: string): void {
  const [first, ...rest] = group.map((id) => results(c, bench).find((r) => r.id === id)!);
  for (const r of [first, ...rest]) expect(r.alongside, r.id).toEqual(group.filter((id) => id !== r.id));
  const started = (r: CaseResult) => eventsOf(c, r).filter((e) => e.kind === `${kind}-shared` && e.part === 'start');
  expect(started(first).map((e) => e.for)).toEqual([rest.map((r) => r.id)]);
  const took = rest.map((r) => started(r));
  for (const [i, t] of took.entries())
    expect(
      t.map((e) => e.sharedWith),
      rest[i].id,
    ).toEqual([first.id]);
  expect(new Set(took.map((t) => t[0].at)).size).toBe(1);
}

/** How many of the cases of `group` on `bench` logged an event of `kind` whose fields include `fields`: a shared act's edge is done once. */
export function countEvents(c: Campaign, bench: string, group: readonly string[], kind: string, fields: Record<string, unknown>): number {
  return group
    .map((id) => results(c, bench).find((r) => r.id === id)!)
    .flatMap((r) => eventsOf(c, r))
    .filter((e) => e.kind === kind && Object.entries(fields).every(([k, v]) => (e as Record<string, unknown>)[k] === v)).length;
}
