// The mutation matrix of the inter-PAN window suite: every case PASSes (or is NOT APPLICABLE by
// claim) on the conformant CH, FAILs with the right requirement id on each CH built to break it,
// and gives alone (`--grep <case>`) the verdict it gives in the whole suite (on the conformant CH, the
// CH whose verdicts once depended on the order, and the mutants it catches; `npm run
// bench:order-independence` takes every profile). Every profile has a
// bench of its own in one run, so the matrix costs a few runs, not dozens.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type Campaign, expectWithinPlan, once, runCampaign, verdicts } from '../support/campaign.ts';
import {
  IPAN_CASES,
  IPAN_CAUGHT_BY as CAUGHT_BY,
  IPAN_CONFORMANT_VERDICTS,
  IPAN_SECMP0037_VERDICTS,
  IPAN_SLOW,
  judgements,
} from '../support/matrix.ts';

const PROFILES = fileURLToPath(new URL('../../firmware-images/profiles/', import.meta.url));

// The runs are shared by the file's tests: one worker takes the whole file.
test.describe.configure({ mode: 'default', timeout: 6 * 60_000 });

/** Every CH profile of the matrix, each on its bench: virtual-1 the conformant CH, virtual-2 SECMP0037, then each mutant and slow CH. */
const ON_BENCHES = ['ch-conformant', 'ch-secmp0037', ...Object.keys(CAUGHT_BY), ...Object.keys(IPAN_SLOW)];
const benchOf = (profile: string) => `virtual-${ON_BENCHES.indexOf(profile) + 1}`;
const perBench = ON_BENCHES.map((firmware) => ({ firmware }));
/** The whole suite on every profile. */
const suite = once(() => runCampaign({ perBench, grep: 'CH-IPAN' }));
/** The CH whose verdicts once depended on the cases before them (a window only at the first power-on): every case is run alone on it. */
const ORDER_SENSITIVE = 'ch-no-reopen-on-power-cycle';
/** The profiles a case is run alone on: the conformant CH, ORDER_SENSITIVE and the mutants it must catch (the benchmark takes every profile). */
const aloneOn = (caseId: string) => [
  ...new Set(['ch-conformant', ORDER_SENSITIVE, ...Object.keys(CAUGHT_BY).filter((p) => CAUGHT_BY[p][0] === caseId)]),
];
/** Each case alone, on a bench no other case touched. */
const alone = new Map(
  IPAN_CASES.map((caseId) => [
    caseId,
    once(() => runCampaign({ perBench: aloneOn(caseId).map((firmware) => ({ firmware })), grep: caseId })),
  ]),
);

async function suiteRan(): Promise<Campaign> {
  const c = await suite();
  expect(c.exitCode, c.stderr).toBe(0);
  return c;
}

test('every IPAN case passes on the conformant CH; CH-IPAN-007 is not applicable without SECMP0037', async () => {
  const c = await suiteRan();
  expect(verdicts(c, 'CH-IPAN', benchOf('ch-conformant'))).toEqual(IPAN_CONFORMANT_VERDICTS);
  expectWithinPlan(c, benchOf('ch-conformant'));
});

test('on SECMP0037 firmware IPAN-2 is not applicable and IPAN-6 is checked', async () => {
  expect(verdicts(await suiteRan(), 'CH-IPAN', benchOf('ch-secmp0037'))).toEqual(IPAN_SECMP0037_VERDICTS);
});

test('every CH profile that breaks an IPAN requirement is in the matrix (or the slow table), and every IPAN case catches one', () => {
  const broken = readdirSync(PROFILES)
    .map((f) => parse(readFileSync(PROFILES + f, 'utf8')) as { id: string; kind: string; breaks: string[] })
    .filter((p) => p.kind === 'comms-hub' && p.breaks.some((b) => b.startsWith('IPAN-')));
  expect(broken.map((p) => p.id).sort()).toEqual([...Object.keys(CAUGHT_BY), ...Object.keys(IPAN_SLOW)].sort());
  const requirementOf = (id: string) => CAUGHT_BY[id]?.[1] ?? IPAN_SLOW[id]?.[2];
  for (const p of broken) expect(p.breaks, p.id).toContain(requirementOf(p.id));
  expect(new Set(Object.values(CAUGHT_BY).map(([caseId]) => caseId))).toEqual(new Set(IPAN_CASES));
});

for (const [profile, [caseId, requirement]] of Object.entries(CAUGHT_BY)) {
  test(`${caseId} FAILs ${requirement} on ${profile}; a case whose premise the CH breaks is INCONCLUSIVE, none ERROR`, async () => {
    const c = await suiteRan();
    const v = verdicts(c, 'CH-IPAN', benchOf(profile));
    expect(v[caseId], JSON.stringify(v)).toBe(`FAIL ${requirement}`);
    // E.g. a window that closes at 45 min leaves IPAN-2 nothing to see close: "refused after the window" proves nothing then.
    const others = c.results!.cases.filter((r) => r.bench === benchOf(profile) && /INCONCLUSIVE|ERROR/.test(r.verdict));
    expect(others.filter((r) => r.fault !== 'precondition-unmet').map((r) => `${r.id} ${r.verdict} ${r.reason}`)).toEqual([]);
  });
}

for (const caseId of IPAN_CASES) {
  test(`${caseId} alone gives, on the conformant CH, ${ORDER_SENSITIVE} and each mutant it catches, the verdict it gives in the whole suite`, async () => {
    const [c, a] = await Promise.all([suiteRan(), alone.get(caseId)!()]);
    expect(a.exitCode, a.stderr).toBe(0);
    const profiles = aloneOn(caseId);
    expect(profiles.map((p, i) => `${p}: ${judgements(a, caseId, `virtual-${i + 1}`)[caseId]}`)).toEqual(
      profiles.map((p) => `${p}: ${judgements(c, caseId, benchOf(p))[caseId]}`),
    );
  });
}

for (const [profile, [caseId, fault, requirement]] of Object.entries(IPAN_SLOW)) {
  test(`a CH that answers CCS01 after the capture window (${profile}) is INCONCLUSIVE (${fault}) on every case that asks it, never FAIL; given the time, ${caseId} FAILs ${requirement}`, async () => {
    const [c, roomy] = await Promise.all([
      suiteRan(),
      runCampaign({ firmware: profile, grep: caseId, labSettings: { captureWithinSeconds: 10 } }),
    ]);
    // Its late acceptance must not read as a refusal (a FAIL of IPAN-1 or IPAN-3, a PASS of IPAN-2).
    expect(judgements(c, 'CH-IPAN', benchOf(profile))).toEqual(
      Object.fromEntries(IPAN_CASES.map((id) => [id, id === 'CH-IPAN-007' ? 'NOT APPLICABLE' : `INCONCLUSIVE ${fault}`])),
    );
    expect(verdicts(roomy)).toEqual({ [caseId]: `FAIL ${requirement}` });
  });
}
