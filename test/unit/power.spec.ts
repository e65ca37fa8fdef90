// Relay drivers against virtual relay devices, over real MQTT: the embedded aedes broker and a real mosquitto.
import { test as base, expect } from '@playwright/test';
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';
import { RigFault, type RigFaultKind } from '../../drivers/faults.ts';
import { connectStation } from '../../drivers/power/mqtt.ts';
import { ShellyGen2Switch } from '../../drivers/power/shelly-gen2.ts';
import { TasmotaRelay } from '../../drivers/power/tasmota.ts';
import type { PowerSwitch } from '../../drivers/power/types.ts';
import { startEmbeddedBroker } from '../../sim/broker.ts';
import {
  VirtualShellyGen2,
  VirtualTasmotaRelay,
  type VirtualShellyGen2Options,
  type VirtualTasmotaOptions,
} from '../../sim/tasmota-device.ts';
import { startMosquitto } from '../support/mosquitto.ts';

// Each test takes well under a second; a hang must fail fast, not after the config's two minutes.
base.describe.configure({ timeout: 15_000 });

type BrokerKind = 'aedes' | 'mosquitto';
interface Broker {
  url: string;
  close(): Promise<void>;
}

async function startBroker(kind: BrokerKind): Promise<Broker> {
  if (kind === 'aedes') return startEmbeddedBroker({ port: 0 });
  const m = await startMosquitto();
  return { url: m.url, close: m.stop };
}

/** One test's bench: a station client, virtual devices and relays, all torn down after the test. */
interface Bench {
  url: string;
  /** A topic no other test uses (brokers keep retained LWTs for the whole worker). */
  name(stem: string): string;
  station(): Promise<MqttClient>;
  tasmota(o: Omit<VirtualTasmotaOptions, 'url'>): Promise<VirtualTasmotaRelay>;
  shelly(o: Omit<VirtualShellyGen2Options, 'url'>): Promise<VirtualShellyGen2>;
  relay<T extends PowerSwitch>(r: Promise<T>): Promise<T>;
}

/** Each worker starts a broker of a kind the first time a test asks for it, and stops it at the end. */
interface Brokers {
  get(kind: BrokerKind): Promise<Broker>;
}

const test = base.extend<{ brokerKind: BrokerKind; broker: Broker; bench: Bench }, { brokers: Brokers }>({
  brokers: [
    async ({}, use) => {
      const started = new Map<BrokerKind, Promise<Broker>>();
      await use({
        get(kind) {
          if (!started.has(kind)) started.set(kind, startBroker(kind));
          return started.get(kind)!;
        },
      });
      for (const b of started.values()) await (await b).close();
    },
    { scope: 'worker' },
  ],
  brokerKind: ['aedes', { option: true }],
  broker: async ({ brokers, brokerKind }, use) => use(await brokers.get(brokerKind)),
  bench: async ({ broker }, use, testInfo) => {
    const teardown: Array<() => Promise<unknown>> = [];
    let n = 0;
    const bench: Bench = {
      url: broker.url,
      name: (stem) => `${stem}-w${testInfo.workerIndex}-t${testInfo.testId.slice(0, 8)}-${n++}`,
      async station() {
        const c = await connectStation({ url: broker.url, connectWithinMs: 2_000 });
        teardown.push(() => c.endAsync(true));
        return c;
      },
      async tasmota(o) {
        const d = await VirtualTasmotaRelay.start({ url: broker.url, ...o });
        teardown.push(() => d.stop());
        return d;
      },
      async shelly(o) {
        const d = await VirtualShellyGen2.start({ url: broker.url, ...o });
        teardown.push(() => d.stop());
        return d;
      },
      async relay(r) {
        const relay = await r;
        teardown.push(() => relay.close());
        return relay;
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

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when the relay reports this availability (now or later). */
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

/** Topics (and flags) of every PUBLISH the station client sends. */
function sentPublishes(client: MqttClient): IPublishPacket[] {
  const sent: IPublishPacket[] = [];
  client.on('packetsend', (p: Packet) => {
    if (p.cmd === 'publish') sent.push(p);
  });
  return sent;
}

for (const kind of ['aedes', 'mosquitto'] as const) {
  test.describe(`power relays over ${kind}`, () => {
    test.use({ brokerKind: kind });

    test('tasmota: switch on and off are confirmed by the relay, with bench-clock times; query reads the state', async ({ bench }) => {
      const topic = bench.name('tasmota');
      const powered: Array<[number, boolean]> = [];
      const device = await bench.tasmota({ topic, relays: 2, onPower: (ch, on) => powered.push([ch, on]) });
      let clock = 1_000;
      const relay = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic, channel: 2, now: () => (clock += 10) }));
      expect(relay.where).toBe(`tasmota ${topic} POWER2`);

      const on = await relay.switch(true);
      expect(on).toMatchObject({ on: true, confirmedBy: `stat/${topic}/RESULT` });
      expect(on.publishedAt).toBeGreaterThanOrEqual(1_000);
      expect(on.confirmedAt).toBeGreaterThan(on.publishedAt);
      expect(device.isOn(2)).toBe(true);
      expect(device.isOn(1)).toBe(false);
      expect(await relay.query()).toBe(true);

      const off = await relay.switch(false);
      expect(off.on).toBe(false);
      expect(device.isOn(2)).toBe(false);
      expect(await relay.query()).toBe(false);
      expect(powered).toEqual([
        [2, true],
        [2, false],
      ]);
    });

    test('tasmota: bare POWER on a multi-relay board switches relay 1, which the board reports as POWER1', async ({ bench }) => {
      const topic = bench.name('tasmota-bare-on-board');
      const device = await bench.tasmota({ topic, relays: 4 });
      const relay = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic }));
      const on = await relay.switch(true);
      expect(on.on).toBe(true);
      expect(on.confirmedBy).toMatch(/\/(RESULT|POWER1)$/);
      expect(device.isOn(1)).toBe(true);
      expect(await relay.query()).toBe(true);
      expect((await relay.switch(false)).on).toBe(false);
      expect(device.isOn(1)).toBe(false);
    });

    test('tasmota: a single-relay device is driven with bare POWER', async ({ bench }) => {
      const topic = bench.name('tasmota-single');
      const device = await bench.tasmota({ topic });
      const station = await bench.station();
      const sent = sentPublishes(station);
      const relay = await bench.relay(TasmotaRelay.attach(station, { topic }));

      expect((await relay.switch(true)).on).toBe(true);
      expect(await relay.query()).toBe(true);
      expect(sent.map((p) => [p.topic, String(p.payload)])).toEqual([
        [`cmnd/${topic}/POWER`, 'ON'],
        [`cmnd/${topic}/POWER`, ''],
      ]);
      expect(device.isOn()).toBe(true);

      // Addressed as POWER1, a single-relay Tasmota still answers with bare POWER.
      const first = await bench.relay(TasmotaRelay.attach(station, { topic, channel: 1 }));
      expect((await first.switch(false)).on).toBe(false);
      expect(sent.at(-1)?.topic).toBe(`cmnd/${topic}/POWER1`);
      expect(device.isOn()).toBe(false);

      // A relay given a factory owns its client (and ends it on close).
      const own = await bench.relay(TasmotaRelay.attach(() => connectStation({ url: bench.url }), { topic }));
      expect(await own.query()).toBe(false);
    });

    test('shelly gen2: switch on and off are confirmed by the RPC reply; query reads the output', async ({ bench }) => {
      const prefix = bench.name('shellyplus1');
      const powered: Array<[number, boolean]> = [];
      const device = await bench.shelly({ prefix, onPower: (id, on) => powered.push([id, on]) });
      const relay = await bench.relay(ShellyGen2Switch.attach(await bench.station(), { prefix, replyTo: bench.name('rig') }));

      const on = await relay.switch(true);
      expect(on.on).toBe(true);
      expect(on.confirmedBy).toMatch(/^rig-.*\/rpc$/);
      expect(device.isOn()).toBe(true);
      expect(await relay.query()).toBe(true);
      expect((await relay.switch(false)).on).toBe(false);
      expect(await relay.query()).toBe(false);
      expect(powered).toEqual([
        [0, true],
        [0, false],
      ]);
    });

    test('shelly gen2: a device without RPC replies is confirmed by its NotifyStatus', async ({ bench }) => {
      const prefix = bench.name('shellyplus1');
      await bench.shelly({ prefix });
      const station = await bench.station();
      const replyTo = bench.name('rig');
      const relay = await bench.relay(ShellyGen2Switch.attach(station, { prefix, replyTo }));
      // Stop the RPC replies reaching the driver, so only NotifyStatus on <prefix>/events/rpc can confirm.
      await station.unsubscribeAsync(`${replyTo}/rpc`);
      const on = await relay.switch(true);
      expect(on).toMatchObject({ on: true, confirmedBy: `${prefix}/events/rpc` });
    });

    test('a relay that never confirms is a rig fault (relay-unconfirmed), for both vendors', async ({ bench }) => {
      const topic = bench.name('tasmota-silent');
      const prefix = bench.name('shelly-silent');
      await bench.tasmota({ topic, silent: true });
      await bench.shelly({ prefix, silent: true });
      const station = await bench.station();
      const tasmota = await bench.relay(TasmotaRelay.attach(station, { topic, confirmWithinMs: 200 }));
      const shelly = await bench.relay(ShellyGen2Switch.attach(station, { prefix, confirmWithinMs: 200 }));

      const fault = await rigFault(tasmota.switch(true), 'relay-unconfirmed');
      expect(fault.where).toBe(`tasmota ${topic} POWER`);
      expect(fault.message).toContain('within 200 ms');
      expect(fault.fix).toContain(topic);
      await rigFault(tasmota.query(), 'relay-unconfirmed');
      await rigFault(shelly.switch(true), 'relay-unconfirmed');
    });

    test('a relay reporting the opposite of the command is a rig fault that says its state contradicts the command', async ({ bench }) => {
      const topic = bench.name('tasmota-wrong');
      const device = await bench.tasmota({ topic });
      const relay = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic, confirmWithinMs: 300 }));
      await relay.switch(true);
      expect(relay.fault).toBeUndefined();
      device.reportsWrongState = true;
      const fault = await rigFault(relay.switch(false), 'relay-unconfirmed');
      expect(fault.message).toMatch(
        /commanded OFF, the relay reported ON and never OFF within 300 ms: its reported state contradicts the command/,
      );
      expect(fault.fix).toMatch(/welded or failed contact/);
    });

    for (const vendor of ['tasmota', 'shelly-gen2'] as const)
      test(`${vendor}: a relay switched by something other than the rig (its button) is a rig fault until the rig's next switch`, async ({
        bench,
      }) => {
        const name = bench.name(`${vendor}-pressed`);
        const device = vendor === 'tasmota' ? await bench.tasmota({ topic: name }) : await bench.shelly({ prefix: name });
        const station = await bench.station();
        const relay = await bench.relay(
          (vendor === 'tasmota'
            ? TasmotaRelay.attach(station, { topic: name, now: () => 7_200_000 })
            : ShellyGen2Switch.attach(station, { prefix: name, now: () => 7_200_000 })) as Promise<PowerSwitch>,
        );
        // Before the rig has switched it, the relay's state is no one's to contradict.
        device.pressButton(vendor === 'tasmota' ? 1 : 0);
        await expect.poll(() => device.isOn(vendor === 'tasmota' ? 1 : 0)).toBe(true);
        await relay.switch(false);
        expect(relay.fault).toBeUndefined();
        device.pressButton(vendor === 'tasmota' ? 1 : 0);
        const fault = await expect
          .poll(() => relay.fault)
          .toBeDefined()
          .then(() => relay.fault!);
        expect(fault.kind).toBe('relay-changed');
        expect(fault.message).toMatch(
          /reported ON \(.+\) at 1970-01-01T02:00:00.000Z though the rig last switched it OFF: something other than the rig/,
        );
        expect(fault.fix).toMatch(/only controller/);
        // Pressed back, it is still not the rig's doing: the fault stays until the rig switches it itself.
        device.pressButton(vendor === 'tasmota' ? 1 : 0);
        await new Promise((r) => setTimeout(r, 100));
        expect(relay.fault?.kind).toBe('relay-changed');
        // Between cases the rig puts it back as it left it (harness/power.ts restoreRelays): a switch, confirmed.
        await expect.poll(() => device.isOn(vendor === 'tasmota' ? 1 : 0)).toBe(false);
        device.pressButton(vendor === 'tasmota' ? 1 : 0);
        await expect.poll(() => device.isOn(vendor === 'tasmota' ? 1 : 0)).toBe(true);
        const back = await relay.restore();
        expect(back?.on).toBe(false);
        expect(device.isOn(vendor === 'tasmota' ? 1 : 0)).toBe(false);
        expect(relay.fault).toBeUndefined();
        // Nothing changed since: nothing to put back, and nothing is sent.
        expect(await relay.restore()).toBeUndefined();
      });

    test('a slow confirmation inside the limit is accepted, outside it is a rig fault', async ({ bench }) => {
      const topic = bench.name('tasmota-slow');
      const device = await bench.tasmota({ topic, confirmDelayMs: 100 });
      const relay = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic, confirmWithinMs: 2_000 }));
      const ok = await relay.switch(true);
      expect(ok.confirmedAt - ok.publishedAt).toBeGreaterThanOrEqual(90);

      device.confirmDelayMs = 400;
      const late = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic, confirmWithinMs: 150 }));
      await rigFault(late.switch(false), 'relay-unconfirmed');
    });

    test('a relay whose last will says Offline is a rig fault (relay-offline) and availability listeners hear it', async ({ bench }) => {
      const topic = bench.name('tasmota-lwt');
      const device = await bench.tasmota({ topic });
      const relay = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic }));
      await availability(relay, true);

      const heard: boolean[] = [];
      relay.onAvailability((o) => heard.push(o));
      await device.goOffline();
      await availability(relay, false);
      expect(heard).toEqual([false]);
      expect(relay.online).toBe(false);
      // The bench watchdog reads the same fault, without a command (once the broker-will grace shows the broker is still up).
      await expect.poll(() => relay.fault?.kind).toBe('relay-offline');
      const fault = await rigFault(relay.switch(true), 'relay-offline');
      expect(fault.where).toBe(`tasmota ${topic} POWER`);

      // The retained Offline is what a relay attached later learns too.
      const later = await bench.relay(TasmotaRelay.attach(await bench.station(), { topic }));
      await availability(later, false);
    });

    test('a relay that drops off while a command waits ends it at once as relay-offline (shelly)', async ({ bench }) => {
      const prefix = bench.name('shelly-drop');
      const switched = deferred();
      const device = await bench.shelly({ prefix, silent: true, onPower: switched.resolve });
      const relay = await bench.relay(ShellyGen2Switch.attach(await bench.station(), { prefix, confirmWithinMs: 20_000 }));
      await availability(relay, true);
      const pending = relay.switch(true);
      await switched.promise;
      await device.goOffline();
      await rigFault(pending, 'relay-offline');
      expect(relay.online).toBe(false);
    });

    test('power commands are never retained', async ({ bench }) => {
      const topic = bench.name('tasmota-retain');
      const device = await bench.tasmota({ topic, relays: 2 });
      const station = await bench.station();
      const sent = sentPublishes(station);
      const relay = await bench.relay(TasmotaRelay.attach(station, { topic, channel: 1 }));
      await relay.switch(true);
      await relay.switch(false);
      expect(device.isOn(1)).toBe(false);
      expect(sent.length).toBe(2);
      for (const p of sent) expect(p).toMatchObject({ retain: false, qos: 1 });

      // A fresh subscriber gets every retained message first; a retained marker, subscribed last, closes the window.
      const observer = await bench.station();
      const marker = bench.name('marker');
      await observer.publishAsync(marker, 'end', { qos: 1, retain: true });
      const arrived: Array<{ topic: string; retain: boolean }> = [];
      const markerSeen = new Promise<void>((resolve) =>
        observer.on('message', (t, _payload, packet) => {
          arrived.push({ topic: t, retain: packet.retain });
          if (t === marker) resolve();
        }),
      );
      await observer.subscribeAsync(`cmnd/${topic}/#`, { qos: 1 });
      await observer.subscribeAsync(marker, { qos: 1 });
      await markerSeen;
      expect(arrived).toEqual([{ topic: marker, retain: true }]);
      await observer.publishAsync(marker, '', { qos: 1, retain: true });
    });

    test('every relay of a board hears its retained LWT, however many share the station client (each subscribes anew)', async ({
      bench,
    }) => {
      const topic = bench.name('tasmota-4ch');
      const device = await bench.tasmota({ topic, relays: 4 });
      const station = await bench.station();
      const relays: PowerSwitch[] = [];
      for (const channel of [1, 2, 3, 4]) relays.push(await bench.relay(TasmotaRelay.attach(station, { topic, channel })));
      for (const r of relays) await availability(r, true);
      // The board goes away: its last will (retained Offline) reaches every channel's relay, and so do ones attached after it.
      await device.goOffline();
      for (const r of relays) await availability(r, false);
      const late = await bench.relay(TasmotaRelay.attach(station, { topic, channel: 3 }));
      await availability(late, false);
      expect([...relays, late].map((r) => r.online)).toEqual(Array(5).fill(false));
    });

    test('relays sharing one station client keep their subscriptions when one closes', async ({ bench }) => {
      const topic = bench.name('tasmota-shared');
      const device = await bench.tasmota({ topic, relays: 2 });
      const station = await bench.station();
      const one = await TasmotaRelay.attach(station, { topic, channel: 1 });
      const two = await bench.relay(TasmotaRelay.attach(station, { topic, channel: 2 }));
      await one.switch(true);
      await one.close();
      expect((await two.switch(true)).on).toBe(true);
      expect([device.isOn(1), device.isOn(2)]).toEqual([true, true]);
      await availability(two, true);
    });
  });
}

test.describe('broker loss (real mosquitto)', () => {
  test('mosquitto killed while a switch waits is a rig fault (broker-unreachable), and so is the next switch', async () => {
    const mosquitto = await startMosquitto();
    const teardown: Array<() => Promise<unknown>> = [];
    try {
      const switched = deferred();
      const device = await VirtualTasmotaRelay.start({ url: mosquitto.url, topic: 'kill-me', silent: true, onPower: switched.resolve });
      teardown.push(() => device.stop());
      const station = await connectStation({ url: mosquitto.url, reconnectPeriodMs: 50 });
      teardown.push(() => station.endAsync(true));
      const relay = await TasmotaRelay.attach(station, { topic: 'kill-me', confirmWithinMs: 20_000 });
      teardown.push(() => relay.close());

      const pending = relay.switch(true);
      await switched.promise;
      await mosquitto.kill();
      const fault = await rigFault(pending, 'broker-unreachable');
      expect(fault.where).toBe('tasmota kill-me POWER');
      expect(Object.keys(station.outgoing)).toEqual([]);
      // The bench watchdog reads the lost broker from the relay, without a command.
      expect(relay.fault?.kind).toBe('broker-unreachable');
      await rigFault(relay.switch(false), 'broker-unreachable');
    } finally {
      for (const undo of teardown.reverse()) await undo().catch(() => {});
      await mosquitto.stop();
    }
  });

  test("a stopping broker publishes every relay's last will: Offline then is broker-unreachable, not relay-offline", async () => {
    const mosquitto = await startMosquitto();
    const teardown: Array<() => Promise<unknown>> = [];
    try {
      const switched = deferred();
      const device = await VirtualTasmotaRelay.start({ url: mosquitto.url, topic: 'stop-me', silent: true, onPower: switched.resolve });
      teardown.push(() => device.stop());
      const station = await connectStation({ url: mosquitto.url, reconnectPeriodMs: 50 });
      teardown.push(() => station.endAsync(true));
      const relay = await TasmotaRelay.attach(station, { topic: 'stop-me', confirmWithinMs: 20_000 });
      teardown.push(() => relay.close());
      await availability(relay, true);

      const pending = relay.switch(true);
      await switched.promise;
      const wentOffline = availability(relay, false);
      // SIGTERM: mosquitto sends each client's will (the relay's retained Offline), then closes the station's connection.
      await mosquitto.stop();
      await wentOffline;
      const fault = await rigFault(pending, 'broker-unreachable');
      expect(fault.where).toBe('tasmota stop-me POWER');
      expect(relay.fault?.kind).toBe('broker-unreachable');
    } finally {
      for (const undo of teardown.reverse()) await undo().catch(() => {});
      await mosquitto.stop();
    }
  });

  test('connectStation to a broker that is not there is a rig fault (broker-unreachable) without the credentials', async () => {
    const mosquitto = await startMosquitto();
    await mosquitto.stop();
    const fault = await rigFault(
      connectStation({ url: `mqtt://127.0.0.1:${mosquitto.port}`, username: 'lab', password: 's3cret-pw', connectWithinMs: 1_000 }),
      'broker-unreachable',
    );
    expect(fault.where).toBe(`mqtt://127.0.0.1:${mosquitto.port}`);
    expect(`${fault.message} ${fault.fix} ${fault.where}`).not.toContain('s3cret-pw');

    const inUrl = await rigFault(
      connectStation({ url: `mqtt://lab:s3cret-pw@127.0.0.1:${mosquitto.port}`, connectWithinMs: 1_000 }),
      'broker-unreachable',
    );
    expect(`${inUrl.message} ${inUrl.fix} ${inUrl.where}`).not.toContain('s3cret-pw');
  });
});
