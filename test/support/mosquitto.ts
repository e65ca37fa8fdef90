// A real Debian mosquitto on a free loopback port, for tests that must hold against a lab's broker, not only aedes.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Graceful shutdown (SIGTERM) and clean-up. */
  stop(): Promise<void>;
  /** The broker dies abruptly (SIGKILL): clients see their TCP connection drop. */
  kill(): Promise<void>;
}

const MOSQUITTO = '/usr/sbin/mosquitto';

export async function startMosquitto(): Promise<Mosquitto> {
  const port = await freeLoopbackPort();
  const dir = await mkdtemp(join(tmpdir(), 'gbcs-rig-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);

  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A crashed test worker must not leave brokers behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);

  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    process.off('exit', reap);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await Promise.race([
      acceptsConnections(port, 5_000),
      exited.then(() => {
        throw new Error(`mosquitto exited before listening on ${port}:\n${log}`);
      }),
    ]);
  } catch (err) {
    await end('SIGKILL');
    throw err;
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Retries a TCP connect until the broker accepts (it starts in a few ms); gives up after `withinMs`. */
async function acceptsConnections(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
