// Watchdogs: every bench wait, on the virtual and the hardware clock, ends with the part's RigFault
// as soon as the bench's health fails; and a part lost in one case and found again by its USB
// serial number is reopened before the next (the virtual bench's MockBinding hub, unplugged and replugged).
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RigFault } from '../../drivers/faults.ts';
import { openBench, type OpenBench } from '../../harness/bench.ts';
import { HardwareClock, VirtualBenchClock, hours, minutes } from '../../harness/clock.ts';
import { loadRig } from '../../rigs/load.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';
import type { VirtualNrfSnifferFirmware } from '../../sim/serial-devices.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, virtualRig } from '../support/campaign.ts';

const unplugged = () => new RigFault('sniffer-stopped', 'sniffer han', 'stopped while receiving', 'replug it');

test('virtual clock: an hour-long sleep and a wait end with the fault at the very event that caused it', async () => {
  const sim = new DiscreteEventClock();
  let fault: RigFault | undefined;
  const clock = new VirtualBenchClock(
    sim,
    async () => {},
    () => fault,
  );
  sim.after(minutes(10), () => (fault = unplugged()), 'sniffer unplugged');
  sim.after(minutes(20), () => {}, 'later event');
  const ended = await clock.sleep(hours(1)).then(
    () => 'slept',
    (e: unknown) => e,
  );
  expect(ended).toBe(fault);
  expect(clock.now() - sim.epochMs).toBe(minutes(10));
  // The part stays faulted: the next wait ends at once, where it starts.
  await expect(clock.waitFor(() => false, hours(1))).rejects.toMatchObject({ kind: 'sniffer-stopped' });
  expect(clock.now() - sim.epochMs).toBe(minutes(10));
});

test('virtual clock: with every part healthy, a sleep lasts its full length', async () => {
  const sim = new DiscreteEventClock();
  const clock = new VirtualBenchClock(
    sim,
    async () => {},
    () => undefined,
  );
  sim.after(minutes(10), () => {}, 'event');
  await clock.sleep(hours(1));
  expect(clock.now() - sim.epochMs).toBe(hours(1));
});

test('hardware clock: a long sleep and a wait wake to ask the watchdog and end with the fault', async () => {
  let fault: RigFault | undefined;
  const clock = new HardwareClock(() => fault, 10);
  setTimeout(() => (fault = unplugged()), 30);
  // Without the watchdog the sleep would last an hour: the test's own timeout would end it first.
  await expect(clock.sleep(hours(1))).rejects.toMatchObject({ kind: 'sniffer-stopped', where: 'sniffer han' });
  await expect(clock.waitFor(() => false, hours(1))).rejects.toMatchObject({ kind: 'sniffer-stopped' });
  const healthy = new HardwareClock(() => undefined, 10);
  expect(await healthy.waitFor(() => true, hours(1))).toBe(true);
});

async function virtualBench(): Promise<OpenBench> {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-watchdog-'));
  const file = join(dir, 'rig.yaml');
  writeFileSync(file, stringify(virtualRig({})));
  return openBench(await loadRig(file, { env: { ...process.env, [INSTALL_CODE_ENV]: TEST_INSTALL_CODE } }), 'virtual-1');
}

/** Until the bench's watchdog reports a fault (the drivers notice an unplug through real I/O). */
async function faultOf(bench: OpenBench): Promise<RigFault> {
  for (let i = 0; i < 500 && !bench.health(); i++) await new Promise((r) => setTimeout(r, 10));
  return bench.health()!;
}

test('a sniffer unplugged and found again by its USB serial number at a new path is reopened before the next case', async () => {
  const bench = await virtualBench();
  try {
    const before = bench.sniffers[0].driver;
    expect(bench.health()).toBeUndefined();
    // Still gone: nothing to reopen, and the watchdog keeps saying why.
    await bench.virtual!.sniffers.get('han')!.stop('unplug');
    expect((await faultOf(bench)).kind).toBe('sniffer-stopped');
    expect(await bench.reopenLost()).toEqual([]);
    expect(bench.health()?.where).toBe('sniffer han');
    await expect(bench.clock.sleep(minutes(1))).rejects.toMatchObject({ kind: 'sniffer-stopped' });

    // USB re-enumeration: the same dongle at another path.
    expect(bench.virtual!.replugSniffers()).toEqual(['han']);
    const reopened = await bench.reopenLost();
    expect(reopened).toHaveLength(1);
    expect(reopened[0]).toMatch(/^sniffer han at \/dev\/gbcs-rig-virtual\/.*\/sniffer-han-re1$/);
    const after = bench.sniffers[0].driver;
    expect(after).not.toBe(before);
    expect(after.location).not.toBe(before.location);
    expect(bench.health()).toBeUndefined();
    // The fresh firmware was started by the fresh driver: it receives on the bench's channel.
    const firmware = bench.virtual!.sniffers.get('han') as VirtualNrfSnifferFirmware;
    await firmware.whenCommand('receive');
    expect({ receiving: firmware.receiving, channel: firmware.channel }).toEqual({ receiving: true, channel: 11 });
    await bench.clock.sleep(minutes(1));
  } finally {
    await bench.close();
  }
});

test('a rig radio that stopped answering is reopened before the next case, and stays faulted while it still does not answer', async () => {
  const bench = await virtualBench();
  try {
    const before = bench.radio;
    bench.virtual!.radio.mute();
    await expect(bench.radio.setPan(0x1234)).rejects.toMatchObject({ kind: 'radio-unavailable' });
    expect(bench.health()?.kind).toBe('radio-unavailable');
    await expect(bench.clock.sleep(minutes(1))).rejects.toMatchObject({ kind: 'radio-unavailable' });
    expect(await bench.reopenLost()).toEqual([]);
    // Its port opens again, but the radio does not answer the version asked at open: not reopened, and the watchdog still says so.
    expect(bench.radio).toBe(before);
    expect(bench.health()).toMatchObject({ kind: 'radio-unavailable', where: 'rig radio' });
  } finally {
    await bench.close();
  }
});
