// The Shelly Gen2 driver against its virtual twin on a real mosquitto, and the twin's frames against what
// Shelly's public Gen2 API documentation shows (RPC Protocol, Notifications, MQTT, Switch; docs/bench-hardware.md "Power relays").
import { test as base, expect } from '@playwright/test';
import type { MqttClient } from 'mqtt';
import { RigFault, type RigFaultKind } from '../../drivers/faults.ts';
import { connectStation } from '../../drivers/power/mqtt.ts';
import { ShellyGen2Switch, type ShellyGen2SwitchOptions } from '../../drivers/power/shelly-gen2.ts';
import type { PowerSwitch } from '../../drivers/power/types.ts';
import { VirtualShellyGen2, type VirtualShellyGen2Options } from '../../sim/tasmota-device.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';

base.describe.configure({ timeout: 15_000 });

interface Bench {
  /** A topic no other test uses (mosquitto keeps retained messages for the whole worker). */
  name(stem: string): string;
  station(): Promise<MqttClient>;
  shelly(o: Omit<VirtualShellyGen2Options, 'url'>): Promise<VirtualShellyGen2>;
  relay(o: ShellyGen2SwitchOptions, station?: MqttClient): Promise<ShellyGen2Switch>;
  /** Every message on these topic filters, in arrival order, from a client of its own. */
  observe(filters: string[]): Promise<Array<{ topic: string; body: string; retain: boolean }>>;
}

const test = base.extend<{ bench: Bench }, { mosquitto: Mosquitto }>({
  mosquitto: [
    async ({}, use) => {
      const m = await startMosquitto();
      await use(m);
      await m.stop();
    },
    { scope: 'worker' },
  ],
  bench: async ({ mosquitto }, use, testInfo) => {
    const teardown: Array<() => Promise<unknown>> = [];
    let n = 0;
    const station = async () => {
      const c = await connectStation({ url: mosquitto.url, connectWithinMs: 2_000 });
      teardown.push(() => c.endAsync(true));
      return c;
    };
    const bench: Bench = {
      name: (stem) => `${stem}-w${testInfo.workerIndex}-t${testInfo.testId.slice(0, 8)}-${n++}`,
      station,
      async shelly(o) {
        const d = await VirtualShellyGen2.start({ url: mosquitto.url, ...o });
        teardown.push(() => d.stop());
        return d;
      },
      async relay(o, on) {
        const relay = await ShellyGen2Switch.attach(on ?? (await station()), o);
        teardown.push(() => relay.close());
        return relay;
      },
      async observe(filters) {
        const seen: Array<{ topic: string; body: string; retain: boolean }> = [];
        const c = await station();
        c.on('message', (topic, payload, packet) => seen.push({ topic, body: payload.toString('utf8'), retain: packet.retain }));
        await c.subscribeAsync(filters, { qos: 1 });
        return seen;
      },
    };
    await use(bench);
    for (const undo of teardown.reverse()) await undo().catch(() => {});
  },
});

async function rigFault(p: Promise<unknown>, kind: RigFaultKind): Promise<RigFault> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RigFault);
  expect((err as RigFault).kind).toBe(kind);
  return err as RigFault;
}

function availability(relay: PowerSwitch, online: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (relay.online === online) return resolve();
    const off = relay.onAvailability((o) => {
      if (o === online) {
        off();
        resolve();
      }
    });
  });
}

test('switch and query: Switch.Set on <prefix>/rpc answered {was_on} on <src>/rpc, NotifyStatus on <prefix>/events/rpc', async ({
  bench,
}) => {
  const prefix = bench.name('shellyplus1');
  const replyTo = bench.name('rig');
  const powered: Array<[number, boolean]> = [];
  const device = await bench.shelly({ prefix, onPower: (id, on) => powered.push([id, on]) });
  const seen = await bench.observe([`${prefix}/#`, `${replyTo}/rpc`]);
  const relay = await bench.relay({ prefix, replyTo });
  expect(relay.where).toBe(`shelly-gen2 ${prefix} switch:0`);
  await availability(relay, true);

  const on = await relay.switch(true);
  expect(on).toMatchObject({ on: true, confirmedBy: `${replyTo}/rpc` });
  expect(device.isOn()).toBe(true);
  expect(await relay.query()).toBe(true);
  expect((await relay.switch(false)).on).toBe(false);
  expect(await relay.query()).toBe(false);
  // Switching to the state it is in: answered, nothing changes, nothing notified.
  expect((await relay.switch(false)).on).toBe(false);
  expect(powered).toEqual([
    [0, true],
    [0, false],
  ]);
  // The observer's copy of the last reply may trail the relay's.
  while (seen.filter((m) => !m.retain).length < 12) await new Promise((r) => setImmediate(r));

  // The frames on the wire, as the documentation shows them.
  const frames = seen.filter((m) => !m.retain).map((m) => ({ topic: m.topic, ...JSON.parse(m.body) }));
  const ntf = (output: boolean) => ({
    topic: `${prefix}/events/rpc`,
    src: prefix,
    dst: `${prefix}/events`,
    method: 'NotifyStatus',
    params: { ts: expect.any(Number), 'switch:0': { id: 0, output, source: 'MQTT' } },
  });
  const reply = (id: number, result: object) => ({ topic: `${replyTo}/rpc`, id, src: prefix, dst: replyTo, result });
  const call = (id: number, method: string, params: object) => ({ topic: `${prefix}/rpc`, id, src: replyTo, method, params });
  expect(frames).toEqual([
    call(1, 'Switch.Set', { id: 0, on: true }),
    reply(1, { was_on: false }),
    ntf(true),
    call(2, 'Switch.GetStatus', { id: 0 }),
    reply(2, { id: 0, source: 'MQTT', output: true }),
    call(3, 'Switch.Set', { id: 0, on: false }),
    reply(3, { was_on: true }),
    ntf(false),
    call(4, 'Switch.GetStatus', { id: 0 }),
    reply(4, { id: 0, source: 'MQTT', output: false }),
    call(5, 'Switch.Set', { id: 0, on: false }),
    reply(5, { was_on: false }),
  ]);
  expect(seen.filter((m) => m.retain)).toEqual([{ topic: `${prefix}/online`, body: 'true', retain: true }]);
});

test('a switch whose reply does not reach the rig is confirmed by NotifyStatus; with status_ntf, by <prefix>/status/switch:<id>', async ({
  bench,
}) => {
  const prefix = bench.name('shellypro4pm');
  const device = await bench.shelly({ prefix, switches: 4 });
  const station = await bench.station();
  const replyTo = bench.name('rig');
  const relay = await bench.relay({ prefix, replyTo, switchId: 2 }, station);
  await station.unsubscribeAsync(`${replyTo}/rpc`);
  expect(await relay.switch(true)).toMatchObject({ on: true, confirmedBy: `${prefix}/events/rpc` });
  expect([0, 1, 2, 3].map((id) => device.isOn(id))).toEqual([false, false, true, false]);

  const quiet = bench.name('shellyplus1');
  await bench.shelly({ prefix: quiet, rpcNtf: false, statusNtf: true });
  const other = await bench.station();
  const relay2 = await bench.relay({ prefix: quiet, replyTo }, other);
  await other.unsubscribeAsync(`${replyTo}/rpc`);
  expect(await relay2.switch(true)).toMatchObject({ on: true, confirmedBy: `${quiet}/status/switch:0` });
});

test('query reads the output the device reports, whoever switched it', async ({ bench }) => {
  const prefix = bench.name('shellyplus1pm');
  const device = await bench.shelly({ prefix });
  const relay = await bench.relay({ prefix });
  expect(await relay.query()).toBe(false);
  // Someone else's client switches it (a JSON-RPC notification: no id, so no reply).
  const other = await bench.station();
  await other.publishAsync(`${prefix}/rpc`, JSON.stringify({ method: 'Switch.Set', params: { id: 0, on: true } }), { qos: 1 });
  while (!device.isOn()) await new Promise((r) => setImmediate(r));
  expect(await relay.query()).toBe(true);
});

test('<prefix>/online false (its last will) is relay-offline, for a command waiting, the next one and a relay attached later', async ({
  bench,
}) => {
  const prefix = bench.name('shelly-lwt');
  let switched!: () => void;
  const heardSwitch = new Promise<void>((r) => (switched = r));
  const device = await bench.shelly({ prefix, silent: true, onPower: () => switched() });
  const relay = await bench.relay({ prefix, confirmWithinMs: 20_000 });
  await availability(relay, true);
  const pending = relay.switch(true);
  await heardSwitch;
  await device.goOffline();
  await rigFault(pending, 'relay-offline');
  expect(relay.online).toBe(false);
  expect(relay.fault?.kind).toBe('relay-offline');
  const fault = await rigFault(relay.switch(false), 'relay-offline');
  expect(fault.where).toBe(`shelly-gen2 ${prefix} switch:0`);
  const later = await bench.relay({ prefix });
  await availability(later, false);
});

test('an error reply is relay-unconfirmed at once, with the JSON-RPC error', async ({ bench }) => {
  const prefix = bench.name('shellyplus1');
  await bench.shelly({ prefix });
  // switch:3 on a one-switch device; a long limit shows the error ends the wait, not the clock.
  const relay = await bench.relay({ prefix, switchId: 3, confirmWithinMs: 20_000 });
  const fault = await rigFault(relay.switch(true), 'relay-unconfirmed');
  expect(fault.message).toContain("relay refused the command: JSON-RPC error -105: Argument 'id', value 3 not found!");
  expect(fault.where).toBe(`shelly-gen2 ${prefix} switch:3`);
  expect(fault.fix).toContain('switch:3');
  await rigFault(relay.query(), 'relay-unconfirmed');
});

test('a reply that never comes is relay-unconfirmed, naming what to check', async ({ bench }) => {
  const prefix = bench.name('shelly-silent');
  const device = await bench.shelly({ prefix, silent: true });
  const relay = await bench.relay({ prefix, confirmWithinMs: 200 });
  const fault = await rigFault(relay.switch(true), 'relay-unconfirmed');
  expect(fault.message).toContain('no confirmation of ON within 200 ms');
  expect(fault.fix).toContain(`${prefix}/online`);
  expect(fault.fix).toContain('enable_rpc');
  expect(device.isOn()).toBe(true);
  await rigFault(relay.query(), 'relay-unconfirmed');
});

test('the twin answers as the documentation says: unknown method 404, missing argument -103, Toggle {was_on}', async ({ bench }) => {
  const prefix = bench.name('shellyplus2pm');
  const device = await bench.shelly({ prefix, switches: 2 });
  const src = bench.name('tool');
  const seen = await bench.observe([`${src}/rpc`]);
  const tool = await bench.station();
  const ask = (id: number, method: string, params: object) =>
    tool.publishAsync(`${prefix}/rpc`, JSON.stringify({ jsonrpc: '2.0', id, src, method, params }), { qos: 1 });
  await ask(1, 'Switch.Frobnicate', { id: 0 });
  await ask(2, 'Switch.Set', { id: 1 });
  await ask(3, 'Switch.Toggle', { id: 1 });
  while (seen.length < 3) await new Promise((r) => setImmediate(r));
  expect(seen.map((m) => JSON.parse(m.body))).toEqual([
    { id: 1, src: prefix, dst: src, error: { code: 404, message: 'No handler for Switch.Frobnicate' } },
    { id: 2, src: prefix, dst: src, error: { code: -103, message: "Missing required argument 'on'!" } },
    { id: 3, src: prefix, dst: src, result: { was_on: false } },
  ]);
  expect([device.isOn(0), device.isOn(1)]).toEqual([false, true]);
});
