// MQTT over TLS with a user name and password, as a lab's broker runs it: a real mosquitto with a
// TLS listener whose certificate a throw-away CA signed (openssl), and a password file. The
// station's credentials come from the environment the rig file names; a wrong CA or password is
// a rig fault that says so, before anything is switched.
import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualTasmotaRelay } from '../../sim/tasmota-device.ts';
import { makeCertificates, startMosquitto, type SecureMosquitto } from '../support/mosquitto.ts';
import { power, rigFile } from '../support/power-rig.ts';

const SECRETS = { usernameEnv: 'TEST_MQTT_USER', passwordEnv: 'TEST_MQTT_PASSWORD', caFileEnv: 'TEST_MQTT_CA' };
let broker: SecureMosquitto;
let board: VirtualTasmotaRelay;
let rig: string;
let ca: string;
let otherCa: string;
const topic = `tls-board-${process.pid}`;

test.beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-tls-'));
  const certs = makeCertificates(dir);
  ca = certs.caFile;
  otherCa = makeCertificates(dir, 'other').caFile;
  broker = await startMosquitto({ certFile: certs.certFile, keyFile: certs.keyFile, username: 'station-2', password: 'correct horse' });
  // The relay board sits on the broker's plain listener, as devices on a lab's VLAN often do.
  board = await VirtualTasmotaRelay.start({ url: broker.url, topic, relays: 2 });
  rig = rigFile(broker.secureUrl, topic, SECRETS);
});

test.afterAll(async () => {
  await board?.stop();
  await broker?.stop();
});

const env = (o: { ca?: string; password?: string } = {}) => ({
  TEST_MQTT_USER: 'station-2',
  TEST_MQTT_PASSWORD: o.password ?? 'correct horse',
  TEST_MQTT_CA: o.ca ?? ca,
});

test("mqtts:// with the lab's CA, user name and password: the relay switches and confirms", async () => {
  const r = await power(['--rig', rig, '--relay', 'mains-ch', 'on'], env());
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/mains-ch \(powers ch\): ON confirmed by tasmota/);
  expect(board.isOn(2)).toBe(true);
});

test("a CA that did not sign the broker's certificate, or a wrong password, is a rig fault naming the broker — the password never shown", async () => {
  // Each test may run in its own worker with its own board: switch ON first, so an OFF that got through would show.
  expect((await power(['--rig', rig, '--relay', 'mains-ch', 'on'], env())).code).toBe(0);
  const [wrongCa, wrongPassword] = await Promise.all([
    power(['--rig', rig, '--relay', 'mains-ch', 'off'], env({ ca: otherCa })),
    power(['--rig', rig, '--relay', 'mains-ch', 'off'], env({ password: 'wrong horse' })),
  ]);
  expect(wrongCa.code).toBe(3);
  expect(wrongCa.stderr).toMatch(
    /rig fault broker-unreachable: mqtts:\/\/127\.0\.0\.1:\d+.*: cannot connect to the station MQTT broker: .*(certificate|self.signed)/i,
  );
  expect(wrongPassword.code).toBe(3);
  expect(wrongPassword.stderr).toMatch(/rig fault broker-unreachable: .*(Not authorized|Bad User Name or Password)/i);
  for (const r of [wrongCa, wrongPassword]) {
    expect(r.stderr).toMatch(/fix: .*TLS CA.*credentials/);
    expect(r.stderr + r.stdout).not.toMatch(/horse/);
  }
  expect(board.isOn(2)).toBe(true);
});
