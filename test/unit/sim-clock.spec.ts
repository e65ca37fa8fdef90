// The discrete-event clock of the virtual bench: (time, insertion) order, the drain barrier awaited
// after every event, same-instant chains, sleeps (one or several at once) and its refusals.
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { DEFAULT_BENCH_EPOCH_MS, DiscreteEventClock } from '../../sim/clock.ts';
import { HardwareClock } from '../../harness/clock.ts';

const T0 = DEFAULT_BENCH_EPOCH_MS;

test('starts at its epoch: now() in ms since the Unix epoch, nowUs() the same instant in µs', () => {
  const clock = new DiscreteEventClock();
  expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
  expect(clock.nowUs()).toBe(BigInt(Date.UTC(2026, 0, 1)) * 1000n);
  expect(clock.virtual).toBe(true);
  const other = new DiscreteEventClock({ epochMs: 1_000 });
  expect(other.now()).toBe(1_000);
  expect(other.elapsed()).toBe(0);
});

test('advanceTo runs due events in (time, insertion) order, each with now() at its time, and stops at the target', async () => {
  const clock = new DiscreteEventClock();
  const ran: Array<[string, number]> = [];
  const mark = (label: string) => () => ran.push([label, clock.now() - T0]);
  clock.at(T0 + 300, mark('c'), 'c');
  clock.at(T0 + 100, mark('a1'), 'a1');
  clock.after(200, mark('b'), 'b');
  clock.at(T0 + 100, mark('a2'), 'a2');
  clock.at(T0 + 500, mark('late'), 'late');
  expect(clock.pending).toBe(5);
  expect(clock.nextEventAt).toBe(T0 + 100);

  await clock.advanceTo(T0 + 300);
  expect(ran).toEqual([
    ['a1', 100],
    ['a2', 100],
    ['b', 200],
    ['c', 300],
  ]);
  expect(clock.now()).toBe(T0 + 300);
  expect(clock.pending).toBe(1);

  await clock.advanceTo(T0 + 450);
  expect(clock.now()).toBe(T0 + 450);
  expect(ran).toHaveLength(4);
  await clock.advanceTo(T0 + 1000);
  expect(ran.at(-1)).toEqual(['late', 500]);
  expect(clock.now()).toBe(T0 + 1000);
  expect(clock.pending).toBe(0);
});

test('the drain barrier is awaited before time moves, after each event and before returning', async () => {
  const clock = new DiscreteEventClock();
  const log: string[] = [];
  let drained = 0;
  // A barrier that takes real turns of the event loop, as reading a serial line does.
  const barrier = async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    drained++;
    log.push(`drained@${clock.now() - T0}`);
  };
  for (const t of [10, 20, 20, 30]) {
    clock.at(T0 + t, () => {
      // Every earlier event's barrier has completed before this one runs.
      log.push(`event@${t} after ${drained} drains`);
    });
  }
  await clock.advanceTo(T0 + 40, barrier);
  expect(log).toEqual([
    'drained@0',
    'event@10 after 1 drains',
    'drained@10',
    'event@20 after 2 drains',
    'drained@20',
    'event@20 after 3 drains',
    'drained@20',
    'event@30 after 4 drains',
    'drained@30',
    'drained@40',
  ]);
});

test('the default barrier (constructor option, changeable later) is used when none is given', async () => {
  let calls = 0;
  const clock = new DiscreteEventClock({ barrier: async () => void calls++ });
  clock.after(5, () => {});
  await clock.sleep(10);
  expect(calls).toBe(3);
  clock.barrier = async () => void (calls += 100);
  await clock.sleep(1);
  expect(calls).toBe(203);
});

test('events scheduled by an event at the same instant run after the ones already due then, in order, before later ones', async () => {
  const clock = new DiscreteEventClock();
  const ran: string[] = [];
  clock.at(T0 + 10, () => {
    ran.push('first');
    clock.after(0, () => {
      ran.push('child-1');
      clock.at(clock.now(), () => ran.push('grandchild'));
    });
    clock.at(T0 + 10, () => ran.push('child-2'));
    clock.at(T0 + 11, () => ran.push('later-child'));
  });
  clock.at(T0 + 10, () => ran.push('second'));
  clock.at(T0 + 11, () => ran.push('later'));
  await clock.advanceTo(T0 + 10);
  expect(ran).toEqual(['first', 'second', 'child-1', 'child-2', 'grandchild']);
  await clock.advanceTo(T0 + 11);
  expect(ran.slice(5)).toEqual(['later', 'later-child']);
});

test('sleep advances by its duration; a cancelled event never runs and leaves pending', async () => {
  const clock = new DiscreteEventClock();
  const ran: number[] = [];
  const cancel = clock.after(30, () => ran.push(30));
  clock.after(60, () => ran.push(60));
  clock.after(90_000, () => ran.push(90_000));
  expect(clock.pending).toBe(3);
  cancel();
  cancel();
  expect(clock.pending).toBe(2);
  await clock.sleep(61);
  expect(ran).toEqual([60]);
  expect(clock.elapsed()).toBe(61);
  await clock.sleep(0);
  expect(clock.elapsed()).toBe(61);
  // A day of virtual time is instant.
  await clock.sleep(24 * 3600_000);
  expect(ran).toEqual([60, 90_000]);
  expect(clock.elapsed()).toBe(24 * 3600_000 + 61);
});

test('concurrent sleeps each wake at their own time, earliest first', async () => {
  const clock = new DiscreteEventClock();
  const woke: Array<[string, number]> = [];
  const ticks: number[] = [];
  for (const t of [100, 400, 900]) clock.after(t, () => ticks.push(t));
  await Promise.all([
    clock.sleep(1000).then(() => woke.push(['long', clock.elapsed()])),
    clock.sleep(500).then(async () => {
      woke.push(['short', clock.elapsed()]);
      // The woken sleeper schedules before time moves on, and sleeps again.
      clock.after(100, () => ticks.push(600));
      await clock.sleep(200);
      woke.push(['short again', clock.elapsed()]);
    }),
  ]);
  expect(woke).toEqual([
    ['short', 500],
    ['short again', 700],
    ['long', 1000],
  ]);
  expect(ticks).toEqual([100, 400, 600, 900]);
});

test('refuses the past, non-finite times, and advancing from inside an event; a throwing event rejects the advance', async () => {
  const clock = new DiscreteEventClock();
  await clock.sleep(100);
  expect(() => clock.at(T0 + 50, () => {}, 'stale')).toThrow(/"stale".*before now/);
  expect(() => clock.after(-1, () => {})).toThrow(RangeError);
  expect(() => clock.at(Number.NaN, () => {})).toThrow(/finite/);
  await expect(clock.advanceTo(T0)).rejects.toThrow(/before now/);
  await expect(clock.sleep(-5)).rejects.toThrow(RangeError);

  let inner: Promise<unknown> | undefined;
  clock.after(10, () => {
    inner = clock.sleep(10).catch((e: unknown) => e);
  });
  await clock.sleep(20);
  expect(String(await inner)).toMatch(/inside a clock event/);

  clock.after(5, () => {
    throw new Error('virtual device defect');
  });
  await expect(clock.sleep(10)).rejects.toThrow('virtual device defect');
  // The clock stays usable, at the failed event's time.
  expect(clock.elapsed()).toBe(125);
  await clock.sleep(5);
  expect(clock.elapsed()).toBe(130);
});

test('deterministic: the same schedule gives the same trace every run', async () => {
  const run = async () => {
    const clock = new DiscreteEventClock();
    const trace: string[] = [];
    let n = 0;
    const tick = () => {
      trace.push(`${n}@${clock.elapsed()}`);
      if (++n < 200) clock.after((n * 7919) % 113, tick, `tick ${n}`);
    };
    clock.after(0, tick);
    await clock.sleep(60_000);
    return trace.join(',');
  };
  const first = await run();
  for (let i = 0; i < 3; i++) assert.equal(await run(), first);
});

test('HardwareClock is real time, for hardware benches', async () => {
  const clock = new HardwareClock();
  expect(clock.virtual).toBe(false);
  const before = clock.now();
  expect(Math.abs(before - Date.now())).toBeLessThan(1000);
  await clock.sleep(5);
  expect(clock.now()).toBeGreaterThanOrEqual(before + 4);
});
