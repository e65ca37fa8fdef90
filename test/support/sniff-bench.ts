// `gbcs-rig sniff` and the extcap as a person at a bench runs them: the command in its own process
// on the host end of a socat pty, and a sniffer kind's virtual firmware on the device end.
import { expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { snifferKindNamed } from '../../drivers/sniffer/registry.ts';
import { createPtyPair, type PtyPair } from '../../sim/pty.ts';
import { openPtyDeviceLine, type AirReception } from '../../sim/serial-devices.ts';
import { snifferTwinNamed, type VirtualSnifferFirmware } from '../../sim/sniffer-registry.ts';
import { BIN } from './power-rig.ts';

/** A MAC data frame (PAN 0x1234, broadcast, from 0x0001) with sequence number `seq`: tshark shows the number as wpan.seq_no. */
export function dataFrame(seq: number): Uint8Array {
  return Uint8Array.of(0x41, 0x88, seq, 0x34, 0x12, 0xff, 0xff, 0x01, 0x00, 0xde, 0xad, seq);
}

/** What the air gives the frame with sequence number `seq`: RSSI and LQI that differ per frame, so tshark's fields can be matched to it. */
export function reception(seq: number, channel: number, atUs: bigint): AirReception {
  return { rssi: -40 - seq, lqi: 100 + seq, channel, atUs };
}

/** A sniffer kind's virtual firmware on the device end of a fresh pty pair in `dir` (the host end is `<dir>/b`). */
export async function plugVirtualSniffer(kind: string, dir: string): Promise<{ pair: PtyPair; fw: VirtualSnifferFirmware }> {
  const twin = snifferTwinNamed(snifferKindNamed(kind)!.virtualTwin)!;
  const pair = await createPtyPair(dir);
  const line = await openPtyDeviceLine(pair.devicePath, () => pair.close());
  return { pair, fw: twin.boot(line) };
}

/** Delivers the frame once the sniffer listens (its firmware drops frames until its host started it). */
export async function deliverWhenListening(fw: VirtualSnifferFirmware, frame: Uint8Array, air: AirReception): Promise<void> {
  await expect.poll(() => fw.deliver(frame, air), { timeout: 30_000, message: 'the sniffer never started listening' }).toBe(true);
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

function saidOnStderr(stderr: () => string, pattern: RegExp): Promise<void> {
  return expect.poll(stderr, { timeout: 30_000, message: `stderr never said ${pattern}` }).toMatch(pattern);
}

/** A gbcs-rig child process with its stderr kept, and a wait for a line of it. */
export class RigProcess {
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** `gbcs-rig <args> <rest>` run by the shell (e.g. rest `| head -c 1`); stderr ends with `gbcs-rig exit N`. */
  static shell(args: string[], rest: string): RigProcess {
    const script = `{ ${[process.execPath, BIN, ...args].map(quote).join(' ')}; echo "gbcs-rig exit $?" >&2; } ${rest}`;
    return new RigProcess(spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] }));
  }

  /** Runs `gbcs-rig <args>` (or `program` with them) to its end. */
  static async run(
    args: string[],
    program?: string,
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const p = program ? RigProcess.program(program, args, 'pipe', env) : RigProcess.start(args, 'pipe', env);
    let stdout = '';
    p.child.stdout!.on('data', (d) => (stdout += d));
    const code = await p.exited;
    return { code, stdout, stderr: p.stderr };
  }

  static start(args: string[], stdout: 'pipe' | 'ignore', env: Record<string, string> = {}): RigProcess {
    return RigProcess.program(process.execPath, [BIN, ...args], stdout, env);
  }

  /** Another way in to gbcs-rig, e.g. bin/gbcs-rig-extcap as Wireshark runs it. */
  static program(path: string, args: string[], stdout: 'pipe' | 'ignore', env: Record<string, string> = {}): RigProcess {
    return new RigProcess(spawn(path, args, { stdio: ['ignore', stdout, 'pipe'], env: { ...process.env, ...env } }));
  }

  stderrMatches(pattern: RegExp): Promise<void> {
    return saidOnStderr(() => this.stderr, pattern);
  }
}

/**
 * `gbcs-rig <args> | tshark <input> - …` run by the shell, as a person types it, so the two are
 * joined by a real pipe: tshark (`-r -`, or `-i -` as a live capture, as `wireshark -k -i -`)
 * prints `fields` per frame, each line flushed as its packet is read (`-l`).
 */
export class TsharkPipeline {
  /** gbcs-rig's stderr. */
  stderr = '';
  #stdout = '';
  #tsharkErr = '';
  /** gbcs-rig's exit code, then tshark's rows once both ended. */
  readonly done: Promise<{ code: number; rows: string[][] }>;

  constructor(args: string[], fields: string[], input: '-r' | '-i' = '-r') {
    const tshark = [
      'tshark',
      input,
      '-',
      '-l',
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=f',
      ...fields.flatMap((f) => ['-e', f]),
    ];
    // tshark's own stderr goes to fd 3, so the shell's stderr is gbcs-rig's alone.
    const script = `{ ${[process.execPath, BIN, ...args].map(quote).join(' ')}; echo "gbcs-rig exit $?" >&2; } | ${tshark.map(quote).join(' ')} 2>&3`;
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (this.#stdout += d));
    child.stderr!.on('data', (d) => (this.stderr += d));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d) => (this.#tsharkErr += d));
    this.done = new Promise((resolve, reject) =>
      child.on('exit', (tsharkCode) => {
        const code = /gbcs-rig exit (\d+)/.exec(this.stderr)?.[1];
        if (tsharkCode !== 0 || code === undefined)
          reject(new Error(`tshark exited ${tsharkCode}: ${this.#tsharkErr}\ngbcs-rig: ${this.stderr}`));
        else resolve({ code: Number(code), rows: this.rows() });
      }),
    );
  }

  /** The lines tshark printed so far, split into fields. */
  rows(): string[][] {
    return this.#stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'));
  }

  stderrMatches(pattern: RegExp): Promise<void> {
    return saidOnStderr(() => this.stderr, pattern);
  }
}

/** A rig file with one real bench whose sniffers are `sniffers` (the broker is never reached: sniffing needs none). */
export function snifferRigFile(dir: string, sniffers: Array<{ id: string; kind: string; path: string; channel: number }>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'rig.yaml');
  writeFileSync(
    file,
    stringify({
      station: { name: 'sniff test', lab: 'gbcs-rig tests', mqtt: { url: 'mqtt://127.0.0.1:1', clientId: 'sniff-test' } },
      firmwareManifests: [fileURLToPath(new URL('../../rigs/example-lab-firmware.yaml', import.meta.url))],
      benches: [
        {
          id: 'bench-1',
          devices: [{ id: 'ch', role: 'CH', ieee: '00:db:12:34:56:78:90:a2', firmware: 'example-ch-4-2-1', relay: 'mains-ch' }],
          relays: [{ id: 'mains-ch', vendor: 'tasmota', topic: 'sniff-test', channel: 1 }],
          sniffers,
          radio: { path: '/dev/zero', channel: 11, ieee: '00:db:12:34:56:78:90:f0' },
        },
      ],
    }),
  );
  return file;
}
