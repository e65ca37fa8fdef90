// `gbcs-rig check` as a person bringing a bench up runs it: a real bench of a rig file — a real
// mosquitto with TLS and a password, a virtual Tasmota board on it, and the sniffer and rig radio
// as virtual firmware on socat ptys sharing one simulated air — each part made to fail in turn.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildBeacon } from '../../protocol/beacons.ts';
import { Air, attachRadio, attachSniffer } from '../../sim/air.ts';
import { createPtyPair } from '../../sim/pty.ts';
import { VirtualNrfSnifferFirmware, VirtualRigRadioFirmware, openPtyDeviceLine } from '../../sim/serial-devices.ts';
import { VirtualTasmotaRelay } from '../../sim/tasmota-device.ts';
import { makeCertificates, startMosquitto, type SecureMosquitto } from '../support/mosquitto.ts';
import { BIN } from '../support/power-rig.ts';

const VIRTUAL_RIG = fileURLToPath(new URL('../../rigs/virtual.yaml', import.meta.url));
const CH_IEEE = '00:db:12:34:56:78:90:a2';
const RADIO_IEEE = '00:db:12:34:56:78:90:f0';
const SECRETS = { usernameEnv: 'TEST_MQTT_USER', passwordEnv: 'TEST_MQTT_PASSWORD', caFileEnv: 'TEST_MQTT_CA' };

let dir: string;
let broker: SecureMosquitto;
let board: VirtualTasmotaRelay;
let manifest: string;
const topic = `check-board-${process.pid}`;
const air = new Air({ nowUs: () => BigInt(Math.round(performance.timeOrigin + performance.now())) * 1000n });
const closers: Array<() => Promise<unknown>> = [];
let ptys = 0;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-check-'));
  const certs = makeCertificates(dir);
  broker = await startMosquitto({ certFile: certs.certFile, keyFile: certs.keyFile, username: 'station-3', password: 'correct horse' });
  process.env.TEST_MQTT_CA = certs.caFile;
  // The CH on relay 2: powered on, it answers as a coordinator does, with a beacon from short address 0x0000.
  board = await VirtualTasmotaRelay.start({
    url: broker.url,
    topic,
    relays: 2,
    onPower: (channel, on) => {
      if (channel === 2 && on) {
        const beacon = buildBeacon({ seq: 1, pan: 0x4c21, short: 0, panCoordinator: true, extendedPanId: CH_IEEE });
        setTimeout(() => air.transmit(beacon, { channel: 11, from: CH_IEEE }), 50);
      }
    },
  });
  // A board that has dropped off the network: the broker holds its retained will, Offline.
  const gone = await VirtualTasmotaRelay.start({ url: broker.url, topic: `${topic}-off` });
  await gone.goOffline();
  // The CH's firmware image and the manifest that pins it.
  const image = join(dir, 'ch.bin');
  writeFileSync(image, 'CH firmware 4.2.1');
  manifest = join(dir, 'firmware.yaml');
  writeFileSync(
    manifest,
    stringify({
      images: [
        {
          id: 'lab-ch-4-2-1',
          role: 'CH',
          manufacturer: 'Example Hubs Ltd',
          model: 'EH-CH2',
          version: '4.2.1',
          gbcsVersion: '4.1',
          claims: ['gbcs-10.5-interpan-60min'],
          image: { file: image, sha256: createHash('sha256').update('CH firmware 4.2.1').digest('hex') },
        },
      ],
    }),
  );
});

// Each test's sniffers and radio leave the air with it: a firmware whose host is gone must not stand in the next test's way.
test.afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

test.afterAll(async () => {
  await board?.stop();
  await broker?.stop();
});

/** A pty with virtual firmware on its device end: the path the rig file names. */
async function pty(name: string): Promise<{ path: string; line: Awaited<ReturnType<typeof openPtyDeviceLine>> }> {
  const pair = await createPtyPair(join(dir, `${name}-${++ptys}`));
  closers.push(() => pair.close());
  return { path: pair.hostPath, line: await openPtyDeviceLine(pair.devicePath, () => pair.close()) };
}

/** A sniffer on the air (or, `deaf`, on no air at all; `garbled`, every line it prints mangled). */
async function sniffer(o: { deaf?: boolean; garbled?: boolean } = {}): Promise<string> {
  const { path, line } = await pty('sniffer');
  const firmware = new VirtualNrfSnifferFirmware(line);
  if (o.garbled) firmware.garble();
  if (!o.deaf) {
    const detach = attachSniffer(air, firmware);
    closers.push(async () => detach());
  }
  return path;
}

/** The rig radio on the air; `mute`: it no longer answers its host. */
async function radio(o: { mute?: boolean } = {}): Promise<string> {
  const { path, line } = await pty('radio');
  const firmware = new VirtualRigRadioFirmware(line, { description: 'test radio' });
  if (o.mute) firmware.mute();
  const detach = attachRadio(air, firmware, RADIO_IEEE);
  closers.push(async () => detach());
  return path;
}

interface RigOptions {
  url?: string;
  snifferPath: string;
  radioPath: string;
  /** Extra relays beside mains-ch. */
  relays?: Record<string, unknown>[];
  /** The sniffer's channel (default 11, the radio's). */
  snifferChannel?: number;
}

function rigFile(o: RigOptions): string {
  const file = join(mkdtempSync(join(dir, 'rig-')), 'rig.yaml');
  writeFileSync(
    file,
    stringify({
      station: { name: 'check test', lab: 'gbcs-rig tests', mqtt: { url: o.url ?? broker.secureUrl, ...SECRETS } },
      labSettings: { relayConfirmSeconds: 1 },
      firmwareManifests: [manifest],
      benches: [
        {
          id: 'bench-1',
          devices: [{ id: 'ch', role: 'CH', ieee: CH_IEEE, firmware: 'lab-ch-4-2-1', relay: 'mains-ch' }],
          relays: [{ id: 'mains-ch', vendor: 'tasmota', topic, channel: 2 }, ...(o.relays ?? [])],
          sniffers: [{ id: 'han', kind: 'nrf802154', path: o.snifferPath, channel: o.snifferChannel ?? 11 }],
          radio: { path: o.radioPath, channel: 11, ieee: RADIO_IEEE },
        },
      ],
    }),
  );
  return file;
}

function check(args: string[], password = 'correct horse'): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, TEST_MQTT_USER: 'station-3', TEST_MQTT_PASSWORD: password };
  const child = spawn(process.execPath, [BIN, 'check', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code: code ?? 1, stdout, stderr })));
}

/** The line that starts so; else the whole output, so a failure shows what was said instead. */
const line = (stdout: string, start: string) => stdout.split('\n').find((l) => l.startsWith(start)) ?? `(no line "${start}" in)\n${stdout}`;

test('a working bench: every part ✓ — broker over TLS, relay, radio identity, its beacon request heard, the image — exit 0', async () => {
  const rig = rigFile({ snifferPath: await sniffer(), radioPath: await radio() });
  const r = await check(['--rig', rig, '--listen-seconds', '5']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(line(r.stdout, '✓ firmware image lab-ch-4-2-1')).toMatch(/matches its manifest/);
  expect(line(r.stdout, '✓ MQTT broker')).toMatch(/mqtts:\/\/127\.0\.0\.1:\d+\/? reachable/);
  expect(line(r.stdout, '✓ relay mains-ch (powers ch)')).toMatch(
    /online, state query answered (ON|OFF) \(tasmota check-board-\d+ POWER2\)/,
  );
  expect(line(r.stdout, '✓ rig radio (gbcs-rig-radio)')).toMatch(/answers at .*: gbcs-rig-radio protocol 1, test radio/);
  expect(line(r.stdout, '✓ rig radio transmits')).toMatch(/beacon request on channel 11 was heard by sniffer han/);
  expect(line(r.stdout, '✓ sniffer han (nrf802154)')).toMatch(/hears channel 11/);
  // Without --power-on nothing is switched: the device is reported as not checked.
  expect(line(r.stdout, '⚠ device ch (CH)')).toMatch(/not checked/);
  expect(r.stdout).not.toMatch(/^✗/m);
  expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^bench bench-1 ready \(1 not established/);
});

test('--power-on switches the relay on and hears the device: ✓ device', async () => {
  const rig = rigFile({ snifferPath: await sniffer(), radioPath: await radio() });
  const r = await check(['--rig', rig, '--listen-seconds', '5', '--power-on']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(board.isOn(2)).toBe(true);
  expect(line(r.stdout, '✓ device ch (CH)')).toMatch(/heard on air after its relay mains-ch switched on/);
  expect(r.stdout.trim().split('\n').at(-1)).toBe('bench bench-1 ready');
});

test('a broker that is not there, or a wrong password: ✗ MQTT broker, broker-unreachable with the fix, exit 3', async () => {
  const [snifferPath, radioPath, snifferPath2, radioPath2] = [await sniffer(), await radio(), await sniffer(), await radio()];
  const [down, wrong] = await Promise.all([
    check(['--rig', rigFile({ url: 'mqtt://127.0.0.1:1', snifferPath, radioPath }), '--listen-seconds', '5']),
    check(['--rig', rigFile({ snifferPath: snifferPath2, radioPath: radioPath2 }), '--listen-seconds', '5'], 'wrong horse'),
  ]);
  for (const r of [down, wrong]) {
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(line(r.stdout, '✗ MQTT broker')).toMatch(/broker-unreachable: .*cannot connect to the station MQTT broker/);
    expect(r.stdout).toMatch(/✗ MQTT broker.*\n {4}fix: Check the broker is running/);
    expect(r.stdout).not.toContain('horse');
    // The relays cannot be asked; the sniffer and the radio are still checked, each on its line.
    expect(line(r.stdout, '⚠ relay mains-ch')).toMatch(/not checked: the broker is unreachable/);
    expect(line(r.stdout, '✓ rig radio transmits')).toMatch(/heard by sniffer han/);
    expect(line(r.stdout, '✓ sniffer han (nrf802154)')).toMatch(/hears channel 11/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^1 rig fault: fix it before a run \(exit 3\)/);
  }
  expect(line(wrong.stdout, '✗ MQTT broker')).toMatch(/Not authori[sz]ed|Bad username or password/i);
});

test("a relay whose will says Offline, and one that never answers: ✗ each, with the fix; the others' lines still ✓", async () => {
  const rig = rigFile({
    snifferPath: await sniffer(),
    radioPath: await radio(),
    relays: [
      { id: 'mains-off', vendor: 'tasmota', topic: `${topic}-off` },
      { id: 'mains-gone', vendor: 'tasmota', topic: `${topic}-never`, channel: 1 },
    ],
  });
  const r = await check(['--rig', rig, '--listen-seconds', '5']);
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(line(r.stdout, '✗ relay mains-off')).toMatch(/relay-offline: .*reports itself offline \(its MQTT last will\)/);
  expect(line(r.stdout, '✗ relay mains-gone')).toMatch(/relay-unconfirmed: .*no confirmation of state query within 1000 ms/);
  expect(line(r.stdout, '✓ relay mains-ch')).toMatch(/state query answered/);
  expect(line(r.stdout, '✓ rig radio transmits')).toMatch(/heard by sniffer han/);
  expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^2 rig faults/);
});

test('a sniffer path that does not exist: ✗ sniffer han with the fix, exit 3', async () => {
  const rig = rigFile({ snifferPath: join(dir, 'no-such-tty'), radioPath: await radio() });
  const r = await check(['--rig', rig]);
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(r.stdout).toMatch(/^✗ sniffer han: sniffer-unavailable: .*no-such-tty/m);
  expect(r.stdout).toMatch(/^✗ sniffer han.*\n {4}fix: \S/m);
});

test("a sniffer that hears nothing, not even the rig radio's beacon request: ✗ sniffer-stopped, and the radio unheard", async () => {
  const rig = rigFile({ snifferPath: await sniffer({ deaf: true }), radioPath: await radio() });
  const r = await check(['--rig', rig, '--listen-seconds', '1']);
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(line(r.stdout, '✗ sniffer han (nrf802154)')).toMatch(
    /sniffer-stopped: .*heard nothing on channel 11 within 1 s, not even the rig radio's beacon request/,
  );
  expect(line(r.stdout, '✗ rig radio transmits')).toMatch(/radio-unavailable: .*no sniffer heard it/);
  expect(line(r.stdout, '✓ rig radio (gbcs-rig-radio)')).toMatch(/answers/);
});

test("no sniffer on the rig radio's channel: ✗ rig radio transmits (rig-misconfigured) — no case could hear the HAN — exit 3", async () => {
  const rig = rigFile({ snifferPath: await sniffer(), radioPath: await radio(), snifferChannel: 15 });
  const r = await check(['--rig', rig, '--listen-seconds', '1']);
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(line(r.stdout, '✗ rig radio transmits')).toMatch(
    /rig-misconfigured: bench bench-1: no sniffer listens on channel 11, the rig radio's \(the HAN's\): nothing could hear the HAN/,
  );
  expect(r.stdout).toMatch(/^✗ rig radio transmits.*\n {4}fix: Put a sniffer on channel 11 \(sniffers\[\]\.channel\)/m);
});

test('a sniffer whose output cannot be read is the ✗, not the radio it could not be heard through', async () => {
  const rig = rigFile({ snifferPath: await sniffer({ garbled: true }), radioPath: await radio() });
  const r = await check(['--rig', rig, '--listen-seconds', '3']);
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(line(r.stdout, '✗ sniffer han (nrf802154)')).toMatch(/sniffer-garbled: .*of its output could not be read as frames/);
  expect(line(r.stdout, '⚠ rig radio transmits')).toMatch(
    /not established: sniffer han on channel 11 printed lines that could not be read/,
  );
  expect(r.stdout).not.toMatch(/radio-unavailable/);
});

test('a rig radio that does not answer: ✗ rig radio with the fix, exit 3; the broker and the relays are checked all the same', async () => {
  const rig = rigFile({ snifferPath: await sniffer(), radioPath: await radio({ mute: true }) });
  const r = await check(['--rig', rig]);
  expect(r.code, r.stdout + r.stderr).toBe(3);
  expect(r.stdout).toMatch(/^✗ rig radio: radio-unavailable: rig radio: no answer to "/m);
  expect(r.stdout).toMatch(/^✗ rig radio.*\n {4}fix: Check the rig radio is powered/m);
  // Neither needs the radio: a bench being brought up learns about its broker and relays in the same check.
  expect(line(r.stdout, '✓ MQTT broker')).toMatch(/reachable, station connected/);
  expect(line(r.stdout, '✓ relay mains-ch (powers ch)')).toMatch(/state query answered (ON|OFF)/);
  expect(r.stdout).toMatch(/^⚠ the rest of the bench: not checked/m);
});

test('an image that is not the one its manifest pins: ✗ firmware image', async () => {
  const rig = rigFile({ snifferPath: await sniffer(), radioPath: await radio() });
  writeFileSync(join(dir, 'ch.bin'), 'CH firmware 4.2.1, patched');
  try {
    const r = await check(['--rig', rig, '--listen-seconds', '1']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(line(r.stdout, '✗ firmware image lab-ch-4-2-1')).toMatch(/rig-misconfigured: .*sha256/);
  } finally {
    writeFileSync(join(dir, 'ch.bin'), 'CH firmware 4.2.1');
  }
});

test('usage: --help, no --rig, an unknown bench, a refused rig file (exit 2)', async () => {
  const rig = rigFile({ snifferPath: '/dev/null', radioPath: '/dev/zero' });
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, stringify({ station: { name: 'x' } }));
  const [help, noRig, badBench, refused, listen] = await Promise.all([
    check(['--help']),
    check([]),
    check(['--rig', rig, '--bench', 'bench-9']),
    check(['--rig', bad]),
    check(['--rig', rig, '--listen-seconds', 'soon']),
  ]);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^usage: gbcs-rig check --rig FILE/);
  for (const r of [noRig, badBench, refused, listen]) expect(r.code, r.stderr).toBe(2);
  expect(noRig.stderr).toMatch(/--rig is needed/);
  expect(badBench.stderr).toMatch(/--bench bench-9: no such bench in .*rig.yaml; its benches: bench-1/);
  expect(refused.stderr).toMatch(/the rig file is refused; nothing was checked/);
  expect(listen.stderr).toMatch(/--listen-seconds soon: needs a number of seconds > 0/);
});

test('the virtual bench passes the check through the same drivers, with each rig radio and sniffer kind', async () => {
  const virtual = readFileSync(VIRTUAL_RIG, 'utf8');
  const kinds = join(mkdtempSync(join(dir, 'virtual-')), 'rig.yaml');
  writeFileSync(
    kinds,
    virtual.replace('        kind: nrf802154', '        kind: ti-ps2').replace(/^ {4}radio:$/m, '    radio:\n      kind: ot-rcp'),
  );
  const [builtIn, otRcp] = await Promise.all([check(['--rig', VIRTUAL_RIG, '--power-on']), check(['--rig', kinds])]);
  expect(builtIn.code, builtIn.stdout + builtIn.stderr).toBe(0);
  expect(builtIn.stdout.trim().split('\n').at(-1)).toBe('bench virtual-1 ready');
  expect(line(builtIn.stdout, '✓ device esme (ESME)')).toMatch(/heard on air after its relay esme-power switched on/);
  expect(otRcp.code, otRcp.stdout + otRcp.stderr).toBe(0);
  expect(line(otRcp.stdout, '✓ rig radio (ot-rcp)')).toMatch(/: Spinel 4\.\d+, OPENTHREAD\/.*, caps \d+/);
  expect(line(otRcp.stdout, '✓ sniffer han (ti-ps2)')).toMatch(/the radio's beacon request among them/);
});
