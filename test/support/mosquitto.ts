// A real Debian mosquitto on a free loopback port, for tests that must hold against a lab's broker, not only aedes.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

/** A second listener as a lab's broker has it: TLS with the given certificate, and a user name and password. */
export interface SecureListener {
  readonly certFile: string;
  readonly keyFile: string;
  readonly username: string;
  readonly password: string;
}

export interface SecureMosquitto extends Mosquitto {
  /** `mqtts://127.0.0.1:<port>` of the TLS + password listener (the plain listener stays anonymous, for virtual devices). */
  readonly secureUrl: string;
}

export async function startMosquitto(): Promise<Mosquitto>;
export async function startMosquitto(secure: SecureListener): Promise<SecureMosquitto>;
export async function startMosquitto(secure?: SecureListener): Promise<Mosquitto | SecureMosquitto> {
  const port = await freeLoopbackPort();
  const dir = await mkdtemp(join(tmpdir(), 'gbcs-rig-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  let config = `per_listener_settings true\npersistence false\nlog_dest stderr\nlistener ${port} 127.0.0.1\nallow_anonymous true\n`;
  const securePort = secure ? await freeLoopbackPort() : undefined;
  if (secure) {
    const passwords = join(dir, 'passwords');
    await writeFile(passwords, '');
    execFileSync('mosquitto_passwd', ['-b', passwords, secure.username, secure.password]);
    // Started as root, mosquitto drops to its own user: it must be able to read the files it is given.
    await chmod(dir, 0o755);
    for (const f of [passwords, secure.certFile, secure.keyFile]) await chmod(f, 0o644);
    config += `listener ${securePort} 127.0.0.1\nallow_anonymous false\npassword_file ${passwords}\ncertfile ${secure.certFile}\nkeyfile ${secure.keyFile}\n`;
  }
  await writeFile(conf, config);

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
  if (securePort !== undefined) await acceptsConnections(securePort, 5_000);
  const broker = { url: `mqtt://127.0.0.1:${port}`, port, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
  return securePort === undefined ? broker : { ...broker, secureUrl: `mqtts://127.0.0.1:${securePort}` };
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

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl), in `dir`: their paths. */
export function makeCertificates(dir: string, name = 'ca'): { caFile: string; certFile: string; keyFile: string } {
  const at = (f: string) => join(dir, `${name}-${f}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=gbcs-rig test ${name}`,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', at('server.key'), '-out', at('server.csr'));
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('san.ext'),
    '-out',
    at('server.pem'),
  );
  chmodSync(dir, 0o755);
  return { caFile: at('ca.pem'), certFile: at('server.pem'), keyFile: at('server.key') };
}
