// `gbcs-rig power` as a person at a bench runs it: a real bench of a rig file, a real mosquitto,
// and a virtual Tasmota board on it that answers as the firmware does.
import { test, expect } from '@playwright/test';
import { Aedes } from 'aedes';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { VirtualTasmotaRelay } from '../../sim/tasmota-device.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { BIN, power, rigFile } from '../support/power-rig.ts';

let broker: Mosquitto;
let board: VirtualTasmotaRelay;
let rig: string;
const switched: [number, boolean][] = [];

test.beforeAll(async () => {
  broker = await startMosquitto();
  board = await VirtualTasmotaRelay.start({
    url: broker.url,
    topic: `power-test-${process.pid}`,
    relays: 2,
    onPower: (channel, on) => switched.push([channel, on]),
  });
  rig = rigFile(broker.url, `power-test-${process.pid}`);
});

test.afterAll(async () => {
  await board?.stop();
  await broker?.stop();
});

test('on, query, cycle and off are confirmed by the relay itself, on the contact the rig file names', async () => {
  test.setTimeout(60_000);
  const on = await power(['--rig', rig, '--relay', 'mains-ch', 'on']);
  expect(on.code, on.stderr).toBe(0);
  expect(on.stdout).toMatch(
    /^mains-ch \(powers ch\): ON confirmed by tasmota power-test-\d+ POWER2 in \d+ ms \(stat\/power-test-\d+\/RESULT\)/,
  );
  const q = await power(['--rig', rig, '--bench', 'bench-1', '--relay', 'mains-ch', 'query']);
  expect(q.stdout).toMatch(/^mains-ch \(powers ch\): ON/);
  const cycle = await power(['--rig', rig, '--relay', 'mains-ch', 'cycle', '--off-seconds', '0.2']);
  expect(cycle.code, cycle.stderr).toBe(0);
  expect(
    cycle.stdout
      .trim()
      .split('\n')
      .map((l) => l.match(/: (ON|OFF) confirmed/)?.[1]),
  ).toEqual(['OFF', 'ON']);
  const off = await power(['--rig', rig, '--relay', 'mains-ch', 'off']);
  expect(off.code).toBe(0);
  expect(switched).toEqual([
    [2, true],
    [2, false],
    [2, true],
    [2, false],
  ]);
});

test('a relay that does not answer is a rig fault (exit 3) with the fix, never a silent success', async () => {
  test.setTimeout(60_000);
  const r = await power(['--rig', rig, '--relay', 'mains-spare', 'on']);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/rig fault relay-(unconfirmed|offline): .*power-test-\d+-gone/);
  expect(r.stderr).toMatch(/\n {2}fix: /);
});

test('usage errors say what and where, before anything is switched', async () => {
  const before = switched.length;
  const virtualRig = fileURLToPath(new URL('../../rigs/virtual.yaml', import.meta.url));
  // Each is a child process: run side by side.
  const [noAction, badRelay, badBench, virtual, noRig, badOff] = await Promise.all([
    power(['--rig', rig, '--relay', 'mains-ch']),
    power(['--rig', rig, '--relay', 'nope', 'on']),
    power(['--rig', rig, '--bench', 'bench-9', '--relay', 'mains-ch', 'on']),
    power(['--rig', virtualRig, '--relay', 'ch-power', 'on']),
    power(['--relay', 'mains-ch', 'on']),
    power(['--rig', rig, '--relay', 'mains-ch', 'cycle', '--off-seconds', 'soon']),
  ]);
  for (const r of [noAction, badRelay, badBench, virtual, noRig, badOff]) expect(r.code, r.stderr).toBe(2);
  expect(noAction.stderr).toMatch(/say one of on, off, cycle, query/);
  expect(badRelay.stderr).toMatch(/--relay nope: bench bench-1 has no such relay; its relays: mains-ch, mains-spare/);
  expect(badBench.stderr).toMatch(/--bench bench-9: no such bench in .*rig.yaml; its benches: bench-1/);
  expect(virtual.stderr).toMatch(/is virtual: its relays exist only inside a run/);
  expect(noRig.stderr).toMatch(/--rig is needed/);
  expect(badOff.stderr).toMatch(/--off-seconds soon: needs a number of seconds ≥ 0/);
  expect(switched.length).toBe(before);
});

test("the station connects with the rig file's client id, made unique per bench and process", async () => {
  // A broker of our own (aedes, as the virtual bench uses) that lists every client id that connects.
  const aedes = await Aedes.createBroker();
  const ids: string[] = [];
  aedes.on('client', (c) => ids.push(c.id));
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const topic = `power-id-${process.pid}`;
  const own = await VirtualTasmotaRelay.start({ url, topic, relays: 2 });
  try {
    const child = spawn(process.execPath, [BIN, 'power', '--rig', rigFile(url, topic), '--relay', 'mains-ch', 'query'], {
      stdio: 'ignore',
    });
    expect(await new Promise<number>((done) => child.on('exit', (code) => done(code ?? 1)))).toBe(0);
    expect(ids).toContain(`lab-acl-prefix-bench-1-${child.pid}`);
  } finally {
    await own.stop();
    await new Promise<void>((done) => aedes.close(() => done()));
    server.close();
  }
});
