// A pty pair joined by socat: the virtual device opens one end, the unchanged driver opens the
// other with the real serialport bindings, so the virtual bench exercises the real serial stack.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  /** The end the virtual device (firmware) opens. */
  devicePath: string;
  /** The end the driver opens, as it would open /dev/ttyACM0. */
  hostPath: string;
  /** Kills socat: both ends vanish, as a USB device does when unplugged. */
  close(): Promise<void>;
}

/** Starts `socat -d -d pty,… pty,…` with links `<dir>/a` (device) and `<dir>/b` (host); resolves once both exist. */
export async function createPtyPair(dir: string, options: { startTimeoutMs?: number } = {}): Promise<PtyPair> {
  mkdirSync(dir, { recursive: true });
  const devicePath = join(dir, 'a');
  const hostPath = join(dir, 'b');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`socat did not start within ${options.startTimeoutMs ?? 5000} ms`), options.startTimeoutMs ?? 5000);
    const fail = (why: string) => {
      clearTimeout(timer);
      socat.kill();
      reject(new Error(`cannot create a pty pair in ${dir}: ${why}${stderr ? `\nsocat said:\n${stderr}` : ''}`));
    };
    socat.once('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ENOENT' ? 'socat is not installed (apt-get install socat)' : err.message),
    );
    const earlyExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`socat exited (${signal ?? code})`);
    socat.once('exit', earlyExit);
    // With -d -d socat logs "starting data transfer loop" after it opened both ptys and made both links.
    socat.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('starting data transfer loop') && existsSync(devicePath) && existsSync(hostPath)) {
        clearTimeout(timer);
        socat.removeListener('exit', earlyExit);
        resolve();
      }
    });
  });

  let closing: Promise<void> | undefined;
  return {
    devicePath,
    hostPath,
    close() {
      closing ??= (async () => {
        if (socat.exitCode === null && socat.signalCode === null) socat.kill('SIGTERM');
        await exited;
      })();
      return closing;
    },
  };
}
