// The per-bench lock: a worker waits for the bench until the worker before it has let it go.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchLockFile, lockBench } from '../../harness/bench-lock.ts';

const run = () => `lock-test-${process.pid}-${Math.random().toString(36).slice(2)}`;

test('a second holder waits until the first releases the bench; other benches are not held up', async () => {
  const r = run();
  const release = await lockBench(r, 'b1', 5_000);
  const order: string[] = [];
  const second = lockBench(r, 'b1', 5_000).then((rel) => (order.push('second holds b1'), rel));
  const other = await lockBench(r, 'b2', 5_000);
  order.push('b2 taken');
  await new Promise((done) => setTimeout(done, 200));
  order.push('first releases b1');
  release();
  (await second)();
  other();
  expect(order).toEqual(['b2 taken', 'first releases b1', 'second holds b1']);
  expect(existsSync(benchLockFile(r, 'b1'))).toBe(false);
});

test('a lock left by a process that is gone is taken over; a live holder past the wait is named', async () => {
  const r = run();
  const file = benchLockFile(r, 'b1');
  mkdirSync(dirname(file), { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(file, dead);
  const release = await lockBench(r, 'b1', 1_000);
  const refused = await lockBench(r, 'b1', 100).catch((e: Error) => e.message);
  expect(refused).toContain(`bench b1 is still held by worker process ${process.pid}`);
  release();
});
