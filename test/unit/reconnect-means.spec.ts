// The reconnect suite's means on a real bench (harness/reconnect.ts): the ESME out of reach by its relay, no
// way for a GPF alone (it shares the CH's relay), the CH's WAN through the rig file's relay or lab hook — a
// hook that fails is a rig fault naming what to fix, and every switch is evidence.
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RigFault } from '../../drivers/faults.ts';
import type { PowerSwitch } from '../../drivers/power/types.ts';
import type { BenchClock } from '../../harness/clock.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { BenchPower, PowerHolds } from '../../harness/power.ts';
import { reconnectFor, type BenchHands } from '../../harness/reconnect.ts';
import type { RigBench, RigDevice } from '../../rigs/load.ts';

const ESME = { id: 'esme', role: 'ESME', ieee: '00:db:12:34:56:78:90:a0', relay: { id: 'esme-power' } } as RigDevice;
const GPF = { id: 'ch-gpf', role: 'CH', ieee: '00:db:12:34:56:78:90:a3' } as RigDevice;
const bench = (wan?: RigBench['wan']) => ({ id: 'b', devices: [], ...(wan && { wan }) }) as unknown as RigBench;

/** A case's hands on a bench whose ESME relay confirms each switch at 2 s, 50 ms after the command; `holds` when side by side. */
function hands(shared?: { holds: PowerHolds; caseId: string }): BenchHands & { evidence: EvidenceLog; switched: [string, boolean][] } {
  const evidence = new EvidenceLog(mkdtempSync(join(tmpdir(), 'rcn-means-')), () => 1_000);
  const switched: [string, boolean][] = [];
  const relay = {
    where: 'tasmota esme POWER1',
    switch: async (on: boolean) => (switched.push(['esme', on]), { on, publishedAt: 1_950, confirmedAt: 2_000, confirmedBy: 'state' }),
  } as unknown as PowerSwitch;
  const clock = { now: () => 3_000 } as BenchClock;
  return { power: new BenchPower(new Map([['esme-power', relay]]), evidence, clock, shared), evidence, clock, switched };
}
const kinds = (e: EvidenceLog) =>
  readFileSync(e.eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; state?: string });

test('a real ESME goes out of reach by its relay; a real GPF cannot alone; no wan: in the rig file, no way to cut the WAN', async () => {
  const r = reconnectFor(bench(), new Map());
  const h = hands();
  const outage = r.outage(ESME)!;
  expect(await outage.begin(ESME, h)).toEqual({ on: false, atMs: 2_000, uncertaintyMs: 50 });
  await outage.end(ESME, h);
  expect(h.switched).toEqual([
    ['esme', false],
    ['esme', true],
  ]);
  expect(r.outage(GPF)).toBeUndefined();
  await h.evidence.close();
  expect(r.wan).toBeUndefined();
  expect(r.topUp.how).toMatch(/operator/);
});

test("an ESME outage shared by two cases side by side switches the ESME's relay though both hold it on", async () => {
  const holds = new PowerHolds();
  const [a, b] = [hands({ holds, caseId: 'IHD-RCN-002' }), hands({ holds, caseId: 'PPMID-RCN-002' })];
  await a.power.set(ESME, true);
  await b.power.set(ESME, true);
  const outage = reconnectFor(bench(), new Map()).outage(ESME)!;
  await outage.begin(ESME, a);
  await outage.end(ESME, a);
  // B found it on (power-shared); A's outage switched it off and on for both: a hold does not keep it on.
  expect([...a.switched, ...b.switched]).toEqual([
    ['esme', true],
    ['esme', false],
    ['esme', true],
  ]);
  await Promise.all([a.evidence.close(), b.evidence.close()]);
});

test("the CH's WAN through the rig file's relay: off cuts it, on restores it, the relay's confirmation timed", async () => {
  const calls: boolean[] = [];
  const relay = {
    where: 'tasmota antenna POWER1',
    switch: async (on: boolean) => (calls.push(on), { on, publishedAt: 10_000, confirmedAt: 10_040, confirmedBy: 'state' }),
  } as unknown as PowerSwitch;
  const wan = reconnectFor(bench({ kind: 'relay', relay: 'wan-antenna' }), new Map([['wan-antenna', relay]])).wan!;
  const h = hands();
  expect(await wan.set(false, h)).toEqual({ atMs: 10_040, uncertaintyMs: 40 });
  await wan.set(true, h);
  expect(calls).toEqual([false, true]);
  await h.evidence.close();
  expect(
    kinds(h.evidence)
      .filter((e) => e.kind === 'wan')
      .map((e) => e.state),
  ).toEqual(['down', 'up']);
});

test('a WAN lab hook runs with GBCS_RIG_WAN=down, then up; one that fails is a rig fault saying what to check', async () => {
  const hook = ['sh', '-c', 'test "$GBCS_RIG_WAN" = down'];
  const wan = reconnectFor(bench({ kind: 'lab-hook', command: hook }), new Map()).wan!;
  const h = hands();
  expect(await wan.set(false, h)).toEqual({ atMs: 3_000, uncertaintyMs: 0 });
  const up = await wan.set(true, h).catch((e: unknown) => e);
  expect(up).toBeInstanceOf(RigFault);
  expect((up as RigFault).kind).toBe('rig-misconfigured');
  expect((up as RigFault).message).toMatch(/failed to bring the WAN up \(exit code 1\)/);
  expect((up as RigFault).fix).toMatch(/GBCS_RIG_WAN=down and up/);
});
