// One bench, one driver: a lock file per (run, bench) held by the worker process that has the
// bench open. Playwright starts a worker's successor before the old one has closed its bench
// (a failed test stops its worker without waiting), so the successor waits here.
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether a process is still there (a lock of a dead worker is stale). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file of a bench within a run (the run named by its output folder). */
export function benchLockFile(run: string, benchId: string): string {
  const key = createHash('sha256').update(`${run}\0${benchId}`).digest('hex').slice(0, 24);
  return join(tmpdir(), 'gbcs-rig-bench-locks', `${key}.lock`);
}

/**
 * Takes the bench's lock, waiting while another live process holds it. Returns the release.
 * A holder that is gone (crashed worker) leaves a stale lock, which is taken over.
 */
export async function lockBench(run: string, benchId: string, waitMs: number): Promise<() => void> {
  const file = benchLockFile(run, benchId);
  mkdirSync(join(file, '..'), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // Released between our open and our read: try again.
    }
    // A holder that has not yet written its pid reads as 0: wait for it like a live one.
    if (holder > 0 && !alive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      const by = holder || '(starting)';
      throw new Error(
        `bench ${benchId} is still held by worker process ${by} after ${waitMs / 1000} s (lock ${file}); two workers must never drive one bench`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
