// `gbcs-rig power` on a rig file with one real bench, for the CLI's tests: the command as a
// person at a bench runs it, and the rig file it runs on.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const BIN = fileURLToPath(new URL('../../bin/gbcs-rig.js', import.meta.url));

export function power(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'power', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code: code ?? 1, stdout, stderr })));
}

/** The station's MQTT settings beside the URL: the names of the environment variables with the credentials. */
export interface StationMqtt {
  clientId?: string;
  usernameEnv?: string;
  passwordEnv?: string;
  caFileEnv?: string;
}

/** A rig file with one real bench whose CH is powered by channel 2 of the Tasmota board `topic` (and a spare relay on a board that is not there). */
export function rigFile(url: string, topic: string, mqtt: StationMqtt = { clientId: 'lab-acl-prefix' }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-power-'));
  const file = join(dir, 'rig.yaml');
  writeFileSync(
    file,
    stringify({
      station: { name: 'power test', lab: 'gbcs-rig tests', mqtt: { url, ...mqtt } },
      firmwareManifests: [fileURLToPath(new URL('../../rigs/example-lab-firmware.yaml', import.meta.url))],
      benches: [
        {
          id: 'bench-1',
          devices: [{ id: 'ch', role: 'CH', ieee: '00:db:12:34:56:78:90:a2', firmware: 'example-ch-4-2-1', relay: 'mains-ch' }],
          relays: [
            { id: 'mains-ch', vendor: 'tasmota', topic, channel: 2 },
            { id: 'mains-spare', vendor: 'tasmota', topic: `${topic}-gone`, channel: 1 },
          ],
          sniffers: [{ id: 'han', kind: 'nrf802154', path: '/dev/null', channel: 11 }],
          radio: { path: '/dev/zero', channel: 11, ieee: '00:db:12:34:56:78:90:f0' },
        },
      ],
    }),
  );
  return file;
}
