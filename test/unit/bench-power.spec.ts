// A case's bench power (harness/power.ts): `during` switches a case's devices on in order and every one it tried off
// again in reverse, whatever the body does — so no device talks into the next case, and a relay that failed half-way
// leaves nothing on that the case switched.
import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RigFault } from '../../drivers/faults.ts';
import type { PowerSwitch } from '../../drivers/power/types.ts';
import type { BenchClock } from '../../harness/clock.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { BenchPower, PowerHolds, restoreRelays } from '../../harness/power.ts';
import type { RigDevice } from '../../rigs/load.ts';

const device = (id: string) => ({ id, role: id.toUpperCase(), relay: { id: `${id}-power` } }) as unknown as RigDevice;
const [CH, ESME, IHD] = ['ch', 'esme', 'ihd'].map(device);

/** Relays that confirm at once, in the order switched; `refuses` names a relay whose switching on throws a rig fault. */
function power(refuses?: string) {
  const { relays, switched, evidence, clock } = bench(refuses);
  return { p: new BenchPower(relays, evidence, clock), switched, evidence };
}

function bench(refuses?: string) {
  const switched: string[] = [];
  let t = 1_000;
  const relay = (id: string) =>
    ({
      where: `tasmota ${id}`,
      switch: async (on: boolean) => {
        if (on && id === refuses) throw new RigFault('relay-unconfirmed', id, 'no confirmation', 'check the relay');
        switched.push(`${id} ${on ? 'on' : 'off'}`);
        t += 100;
        return { on, publishedAt: t - 10, confirmedAt: t, confirmedBy: 'state' };
      },
    }) as unknown as PowerSwitch;
  const relays = new Map([CH, ESME, IHD].map((d) => [d.relay.id, relay(d.id)]));
  const evidence = new EvidenceLog(mkdtempSync(join(tmpdir(), 'bench-power-')), () => t);
  const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) } as BenchClock;
  return { relays, switched, evidence, clock };
}

test('on in order, the body given each power-on, off in reverse after it', async () => {
  const { p, switched, evidence } = power();
  const edges = await p.during([CH, ESME, IHD], async (ons) => ons.map((e) => e.atMs));
  expect(edges).toEqual([1_100, 1_200, 1_300]);
  expect(switched).toEqual(['ch on', 'esme on', 'ihd on', 'ihd off', 'esme off', 'ch off']);
  await evidence.close();
});

test('a body that throws still switches everything off, and its error is the one that comes out', async () => {
  const { p, switched, evidence } = power();
  const failed = new Error('the device did not answer');
  await expect(p.during([CH, IHD], async () => Promise.reject(failed))).rejects.toBe(failed);
  expect(switched).toEqual(['ch on', 'ihd on', 'ihd off', 'ch off']);
  await evidence.close();
});

test('a relay that fails half-way: what was tried goes off again, what was not tried is not touched', async () => {
  const { p, switched, evidence } = power('esme');
  await expect(p.during([CH, ESME, IHD], async () => 'never')).rejects.toMatchObject({ kind: 'relay-unconfirmed' });
  // The ESME's relay may have switched before it failed to confirm: it is switched off too; the IHD was never switched.
  expect(switched).toEqual(['ch on', 'esme off', 'ch off']);
  await evidence.close();
});

test("a relay switched for all the cases alongside (a shared outage) is every holder's power period, not only the switching case's", async () => {
  const { relays, evidence, clock } = bench();
  const holds = new PowerHolds();
  const [a, b] = ['RCN-A', 'RCN-B'].map((caseId) => new BenchPower(relays, evidence, clock, { holds, caseId }));
  const first = await a.set(ESME, true);
  expect((await b.set(ESME, true)).atMs).toBe(first.atMs);
  expect(b.lastOn(ESME)).toEqual(first);
  // A takes the meter out of reach for both: while it is off, neither case has a power period for it.
  await a.setForAll(ESME, false);
  expect(a.lastOn(ESME)).toBeUndefined();
  expect(b.lastOn(ESME)).toBeUndefined();
  const back = await a.setForAll(ESME, true);
  expect(back.atMs).toBeGreaterThan(first.atMs);
  // B did not switch it, but the meter it watches booted at A's power-on.
  expect(b.lastOn(ESME)).toEqual(back);
  expect(a.lastOn(ESME)).toEqual(back);
  // A case that let the relay go has no period for it, though the other holds it on.
  await b.set(ESME, false);
  expect(b.lastOn(ESME)).toBeUndefined();
  expect(a.lastOn(ESME)).toEqual(back);
});

test('between cases the relays something else switched go back as the rig left them; other faults and quiet relays are not touched', async () => {
  const asked: string[] = [];
  const relay = (where: string, fault: RigFault | undefined, restore: () => Promise<boolean | undefined>) =>
    ({
      where,
      fault,
      restore: async () => {
        asked.push(where);
        const on = await restore();
        return on === undefined ? undefined : { where, on, publishedAt: 1, confirmedAt: 2, confirmedBy: 'stat/x/POWER' };
      },
    }) as unknown as PowerSwitch;
  const changed = (where: string) => new RigFault('relay-changed', where, 'reported ON though the rig last switched it OFF', 'fix');
  const relays = new Map([
    ['ihd', relay('tasmota ihd POWER1', changed('tasmota ihd POWER1'), async () => false)],
    ['wan', relay('tasmota wan POWER1', changed('tasmota wan POWER1'), async () => true)],
    ['esme', relay('tasmota esme POWER1', new RigFault('relay-offline', 'esme', 'offline', 'fix'), async () => false)],
    ['ch', relay('tasmota ch POWER1', undefined, async () => false)],
    [
      'ppmid',
      relay('tasmota ppmid POWER1', changed('tasmota ppmid POWER1'), async () => {
        throw new RigFault('relay-unconfirmed', 'ppmid', 'no confirmation within 5000 ms', 'fix');
      }),
    ],
  ]);
  expect(await restoreRelays(relays)).toEqual([
    { relay: 'tasmota ihd POWER1', changed: 'tasmota ihd POWER1: reported ON though the rig last switched it OFF', restored: 'OFF' },
    // The WAN's relay goes back ON: the state the rig left it in, not off.
    { relay: 'tasmota wan POWER1', changed: 'tasmota wan POWER1: reported ON though the rig last switched it OFF', restored: 'ON' },
    {
      relay: 'tasmota ppmid POWER1',
      changed: 'tasmota ppmid POWER1: reported ON though the rig last switched it OFF',
      failed: 'ppmid: no confirmation within 5000 ms',
    },
  ]);
  expect(asked).toEqual(['tasmota ihd POWER1', 'tasmota wan POWER1', 'tasmota ppmid POWER1']);
});
