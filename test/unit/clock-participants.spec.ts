// Cases side by side on one virtual bench (issue #15): participants of the discrete-event clock.
// Time moves only while every participant waits on it, one wake at a time, so what a case does
// between its waits (I/O of any wall duration) takes no bench time and the interleaving is fixed.
import { test, expect } from '@playwright/test';
import { stat } from 'node:fs/promises';
import { RigFault } from '../../drivers/faults.ts';
import { CaseClock, HardwareClock, VirtualBenchClock, hours, minutes } from '../../harness/clock.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';
import { openCotBench } from '../support/cot-bench.ts';

test.setTimeout(20_000);

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const wallMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Non-clock work of random wall duration, as a case's file I/O, MQTT round trips and serial reads are. */
async function wallWork(): Promise<void> {
  await wallMs(Math.floor(Math.random() * 6));
  for (let i = Math.floor(Math.random() * 5); i > 0; i--) await immediate();
  await stat(process.cwd());
  await Promise.resolve();
  if (Math.random() < 0.5) await wallMs(Math.floor(Math.random() * 3));
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Three cases that sleep, work on the wall clock, schedule device events and wake at shared instants. */
async function threeCases(sideBySide: boolean): Promise<string[]> {
  const clock = new DiscreteEventClock();
  const t0 = clock.now();
  const trace: string[] = [];
  const mark = (who: string, what: string) => trace.push(`${who} ${what} @${clock.now() - t0}`);
  const run = (name: string, fn: () => Promise<void>) => (sideBySide ? clock.participate(name, fn) : fn());
  const a = async () => {
    // Before its first wait, as C does: participants start one after another, so these two land in a fixed order.
    await wallWork();
    clock.after(25, () => mark('A-device', 'hello'));
    for (let i = 0; i < 4; i++) {
      await clock.sleep(10);
      mark('A', 'woke');
      await wallWork();
      mark('A', 'worked');
      clock.after(5, () => mark('A-device', `answer ${i}`));
    }
  };
  const b = async () => {
    await clock.sleep(20);
    mark('B', 'woke');
    await wallWork();
    clock.after(0, () => mark('B-device', 'same-instant event'));
    clock.after(7, () => mark('B-device', 'reply'));
    await clock.advanceTo(t0 + 30);
    mark('B', 'woke');
    await wallWork();
    await clock.sleep(12);
    mark('B', 'done');
  };
  const c = async () => {
    await wallWork();
    clock.after(25, () => mark('C-device', 'beacon'));
    await clock.sleep(40);
    mark('C', 'woke');
    await wallWork();
    await clock.sleep(10);
    mark('C', 'done');
  };
  await Promise.all([run('A', a), run('B', b), run('C', c)]);
  expect(clock.participants).toBe(0);
  return trace;
}

test('side by side, cases doing wall work of random duration between waits give the same trace every run', async () => {
  const first = await threeCases(true);
  for (let i = 0; i < 19; i++) expect(await threeCases(true)).toEqual(first);
  // Each case sees exactly the times it asked for: no bench time passes while one works.
  const seen = (who: string) => first.filter((l) => l.startsWith(`${who} `)).map((l) => l.replace(/^\S+ /, ''));
  expect(seen('A')).toEqual(['woke @10', 'worked @10', 'woke @20', 'worked @20', 'woke @30', 'worked @30', 'woke @40', 'worked @40']);
  expect(seen('B')).toEqual(['woke @20', 'woke @30', 'done @42']);
  expect(seen('C')).toEqual(['woke @40', 'done @50']);
  // At 40 C (asked at 0) is woken before A (asked at 30), and A works at 40 before C's next wait ends.
  expect(first.indexOf('C woke @40')).toBeLessThan(first.indexOf('A woke @40'));
  // Device events in time order; A's answer to its wake at 20 (due 25) comes after C's beacon scheduled earlier for 25.
  expect(first.filter((l) => l.includes('-device'))).toEqual([
    'A-device answer 0 @15',
    'B-device same-instant event @20',
    'A-device hello @25',
    'C-device beacon @25',
    'A-device answer 1 @25',
    'B-device reply @27',
    'A-device answer 2 @35',
    'A-device answer 3 @45',
  ]);
});

test('without participants a case busy between its waits has time run on under it; with them it does not', async () => {
  const scenario = async (sideBySide: boolean) => {
    const clock = new DiscreteEventClock();
    const t0 = clock.now();
    const seen: number[] = [];
    let partnerEnded = -1;
    const run = (name: string, fn: () => Promise<void>) => (sideBySide ? clock.participate(name, fn) : fn());
    await Promise.all([
      run('short', async () => {
        await clock.sleep(10);
        seen.push(clock.now() - t0);
        // Twenty turns of the event loop: a deterministic stand-in for a slow MQTT round trip.
        for (let i = 0; i < 20; i++) await immediate();
        seen.push(clock.now() - t0);
        await clock.sleep(10);
        seen.push(clock.now() - t0);
      }),
      run('long', async () => {
        await clock.sleep(100);
        partnerEnded = clock.now() - t0;
      }),
    ]);
    return { seen, partnerEnded };
  };
  // Today's behaviour, and why participants exist: the partner's wake at 100 passed while "short" worked.
  const alone = await scenario(false);
  expect(alone.seen[0]).toBe(10);
  expect(alone.seen[1]).toBe(100);
  expect(alone.seen[2]).toBe(110);
  expect(await scenario(true)).toEqual({ seen: [10, 10, 20], partnerEnded: 100 });
});

test('participants woken at the same instant resume one after another, in the order they asked', async () => {
  const clock = new DiscreteEventClock();
  const log: string[] = [];
  const wakeAt20 = (name: string, workTurns: number) =>
    clock.participate(name, async () => {
      await clock.advanceTo(clock.epochMs + 20);
      log.push(`${name} woke`);
      for (let i = 0; i < workTurns; i++) await immediate();
      log.push(`${name} done`);
    });
  // The first has far more work: were both resumed together, "second" would finish first.
  await Promise.all([wakeAt20('first', 30), wakeAt20('second', 0)]);
  expect(log).toEqual(['first woke', 'first done', 'second woke', 'second done']);
  expect(clock.elapsed()).toBe(20);

  // With no participants left, concurrent sleeps to one instant are woken together, as before.
  const plain: string[] = [];
  await Promise.all([
    clock.sleep(5).then(async () => {
      for (let i = 0; i < 30; i++) await immediate();
      plain.push('first');
    }),
    clock.sleep(5).then(() => plain.push('second')),
  ]);
  expect(plain).toEqual(['second', 'first']);

  // Participants again on the same clock: one at a time again.
  log.length = 0;
  const wakeAt30 = (name: string, workTurns: number) =>
    clock.participate(name, async () => {
      await clock.advanceTo(clock.epochMs + 30);
      for (let i = 0; i < workTurns; i++) await immediate();
      log.push(name);
    });
  await Promise.all([wakeAt30('first', 30), wakeAt30('second', 0)]);
  expect(log).toEqual(['first', 'second']);
});

test('a participant that throws unregisters and the others go on; participate returns what fn returns', async () => {
  const clock = new DiscreteEventClock();
  const t0 = clock.now();
  const seen: Array<[number, number]> = [];
  const failing = clock.participate('failing', async () => {
    await clock.sleep(5);
    await wallWork();
    throw new Error('case defect');
  });
  const steady = clock.participate('steady', async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(10);
      seen.push([clock.now() - t0, clock.participants]);
    }
    return 'steady verdict';
  });
  expect(clock.participants).toBe(2);
  await expect(failing).rejects.toThrow('case defect');
  expect(await steady).toBe('steady verdict');
  expect(seen).toEqual([
    [10, 1],
    [20, 1],
    [30, 1],
  ]);
  expect(clock.participants).toBe(0);
});

test('a participant that ends releases the gate: the others, all waiting, go on', async () => {
  const clock = new DiscreteEventClock();
  const t0 = clock.now();
  const log: string[] = [];
  const [waiter, worker] = await Promise.all([
    clock.participate('waiter', async () => {
      await clock.sleep(100);
      log.push(`waiter woke @${clock.now() - t0}`);
      return 'w';
    }),
    clock.participate('worker', async () => {
      // Never waits on the clock: ends long (in wall time) after the waiter started waiting.
      await wallMs(30);
      await wallWork();
      log.push(`worker ended @${clock.now() - t0}`);
      return 'k';
    }),
  ]);
  expect([waiter, worker]).toEqual(['w', 'k']);
  expect(log).toEqual(['worker ended @0', 'waiter woke @100']);
});

test('a wait made outside any participant is served in time order but neither holds nor opens the gate', async () => {
  const clock = new DiscreteEventClock();
  const t0 = clock.now();
  const log: string[] = [];
  const caseEnded = deferred();
  const outsider = (async () => {
    await clock.sleep(50);
    log.push(`outsider woke @${clock.now() - t0}`);
    // Waits (not on the clock) for the case to end: were it a gate holder, nothing would move again.
    await caseEnded.promise;
    log.push(`outsider saw the case end @${clock.now() - t0}`);
  })();
  await clock.participate('case', async () => {
    await clock.sleep(10);
    await wallWork();
    log.push(`case worked @${clock.now() - t0}`);
    await clock.sleep(100);
    log.push(`case woke @${clock.now() - t0}`);
  });
  caseEnded.resolve();
  await outsider;
  expect(log).toEqual(['case worked @10', 'outsider woke @50', 'case woke @110', 'outsider saw the case end @110']);
});

test('a throwing event rejects every waiting participant; both unregister', async () => {
  const clock = new DiscreteEventClock();
  clock.after(15, () => {
    throw new Error('virtual device defect');
  });
  const results = await Promise.allSettled([
    clock.participate('a', () => clock.sleep(20)),
    clock.participate('b', async () => {
      await clock.sleep(5);
      await wallWork();
      await clock.sleep(30);
    }),
  ]);
  expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'fulfilled'))).toEqual([
    'Error: virtual device defect',
    'Error: virtual device defect',
  ]);
  expect(clock.participants).toBe(0);
  expect(clock.elapsed()).toBe(15);
  // The clock stays usable.
  await clock.sleep(1);
  expect(clock.elapsed()).toBe(16);
});

test('waitFor (event by event) inside participants stops at the event that makes it hold, even one a partner scheduled later', async () => {
  const sim = new DiscreteEventClock();
  let drains = 0;
  const bench = new VirtualBenchClock(sim, async () => {
    await immediate();
    drains++;
  });
  const t0 = sim.now();
  let lampOn = false;
  let ticks = 0;
  const log: string[] = [];
  await Promise.all([
    bench.sideBySide('watcher', async () => {
      // Nothing is scheduled yet when this watch starts: the event that ends it comes from the partner.
      const held = await bench.waitFor(() => lampOn, 1000);
      log.push(`watcher ${held} @${sim.now() - t0}`);
      // Its own device's ticks, seen one by one: it stops at the third.
      for (let i = 1; i <= 5; i++) sim.after(i * 10, () => ticks++);
      log.push(`ticks ${await bench.waitFor(() => ticks >= 3, 1000)} @${sim.now() - t0}`);
      log.push(`never ${await bench.waitFor(() => false, 200)} @${sim.now() - t0}`);
    }),
    bench.sideBySide('switcher', async () => {
      await bench.sleep(100);
      await wallWork();
      sim.after(200, () => {
        lampOn = true;
      });
      await bench.sleep(500);
      log.push(`switcher done @${sim.now() - t0}`);
    }),
  ]);
  expect(log).toEqual(['watcher true @300', 'ticks true @330', 'never false @530', 'switcher done @600']);
  expect(drains).toBeGreaterThan(0);

  // A watch satisfied by what a partner does between its waits (no clock event) stops at that instant.
  let relayOn = false;
  const seen: string[] = [];
  await Promise.all([
    bench.sideBySide('relay watch', async () => {
      const held = await bench.waitFor(() => relayOn, 1000);
      seen.push(`watch ${held} @${sim.now() - t0}`);
    }),
    bench.sideBySide('operator', async () => {
      await bench.sleep(700);
      await wallWork();
      relayOn = true;
      await bench.sleep(50);
      seen.push(`operator done @${sim.now() - t0}`);
    }),
  ]);
  expect(seen).toEqual(['watch true @1300', 'operator done @1350']);
});

test('sideBySide: the virtual bench and a case clock on it take part in the sim clock; wall time just runs fn', async () => {
  const sim = new DiscreteEventClock();
  const bench = new VirtualBenchClock(sim, async () => undefined);
  const overran = () => new RigFault('case-overran', 'case T-1', 'ran past its plan', 'check the lab settings');
  const caseClock = new CaseClock(bench, sim.now() + 60_000, overran);
  const counts: number[] = [];
  await Promise.all([
    caseClock.sideBySide('T-1', async () => {
      counts.push(sim.participants);
      await caseClock.sleep(10);
    }),
    bench.sideBySide('T-2', async () => {
      await bench.sleep(20);
      counts.push(sim.participants);
    }),
  ]);
  expect(counts).toEqual([2, 1]);
  expect(await new HardwareClock().sideBySide('T-3', async () => 'ran')).toBe('ran');
});

test('participate refuses a bad name, a name already taking part, a non-function, and a start from inside an event', async () => {
  const clock = new DiscreteEventClock();
  await expect(clock.participate('', async () => {})).rejects.toThrow(/non-empty/);
  await expect(clock.participate('x', 'nope' as unknown as () => Promise<void>)).rejects.toThrow(/"x".*function/);
  const first = clock.participate('twin', () => clock.sleep(10));
  await expect(clock.participate('twin', async () => {})).rejects.toThrow(/"twin".*already running/);
  await first;
  let inner: Promise<unknown> | undefined;
  clock.after(5, () => {
    inner = clock.participate('inside', async () => {}).catch((e: unknown) => e);
  });
  await clock.sleep(10);
  expect(String(await inner)).toMatch(/"inside".*inside a clock event/);
  expect(clock.participants).toBe(0);
});

/** The IHD and the PPMID watched side by side on one virtual bench, through the real drivers (MQTT relays, sniffer). */
async function twoWatchesOnOneBench(run: number): Promise<string[]> {
  const topic = `side-${process.pid}-${run}`;
  const { bench, capture, evidence } = await openCotBench('side-1', topic);
  const trace: string[] = [];
  try {
    const t0 = bench.clock.now();
    const at = () => bench.clock.now() - t0;
    const polls = (device: string) => {
      const src = `0x${bench.virtual!.hanAddresses.get(device)?.short.toString(16).padStart(4, '0')}`;
      return capture.all((f) => f.zcl?.name === 'Get Change of Tenancy' && f.nwk?.src === src).length;
    };
    const watch = (device: string, relay: string, offsetMs: number) =>
      bench.clock.sideBySide!(device, async () => {
        await bench.clock.sleep(offsetMs);
        await wallWork();
        const confirmed = await bench.relays.get(relay)!.switch(true);
        trace.push(`${device} powered @${at()}, confirmed @${confirmed.confirmedAt - t0}`);
        const polled = await bench.clock.waitFor(() => bench.virtual!.hanAddresses.has(device) && polls(device) > 0, hours(4));
        trace.push(`${device} first poll ${polled} @${at()}`);
        await wallWork();
        await bench.clock.sleep(hours(3));
        trace.push(`${device} ${polls(device)} polls @${at()}`);
      });
    await Promise.all([
      bench.clock.sideBySide!('ch', async () => {
        for (const relay of ['ch-power', 'esme-power']) {
          const confirmed = await bench.relays.get(relay)!.switch(true);
          trace.push(`${relay} on @${at()}, confirmed @${confirmed.confirmedAt - t0}`);
        }
      }),
      watch('ihd', 'ihd-power', minutes(1)),
      watch('ppmid', 'ppmid-power', minutes(1) + 7),
    ]);
    trace.push(`frames ${capture.frames.map((f) => f.atMs - t0).join(',')}`);
    capture.stop();
    await evidence.close();
  } finally {
    await bench.close();
  }
  return trace;
}

test('two watches side by side on one virtual bench, through MQTT relays and the sniffer, give the same trace every run', async () => {
  const first = await twoWatchesOnOneBench(0);
  expect(first.filter((l) => / first poll true /.test(l))).toHaveLength(2);
  for (let run = 1; run < 4; run++) expect(await twoWatchesOnOneBench(run)).toEqual(first);
});
