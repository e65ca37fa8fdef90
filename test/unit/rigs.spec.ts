// Rig files: the embedded virtual rig, lab settings with their source, every problem of a bad rig
// in one refusal, firmware pinned by sha256, and secrets that come from the environment only.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { test, expect } from '@playwright/test';
import { displayFile, formatProblem } from '../../firmware-images/data-file.ts';
import { BUILT_IN_MANIFEST } from '../../firmware-images/manifest.ts';
import { LAB_SETTINGS, LAB_SETTING_NAMES } from '../../rigs/lab-settings.ts';
import { EMBEDDED_RIG, LoadedRig, RigFileError, loadRig } from '../../rigs/load.ts';
import { derivedSecondHhtIeee } from '../../rigs/schema.ts';

const RIGS = path.dirname(EMBEDDED_RIG);
const PROFILES = path.join(path.dirname(BUILT_IN_MANIFEST), 'profiles');

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gbcs-rig-rigs-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

async function refusal(promise: Promise<unknown>): Promise<RigFileError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RigFileError);
  return error as RigFileError;
}

const VIRTUAL_BENCH = `
benches:
  - id: virtual-1
    virtual: { seed: 1, transport: mock }
    devices:
      - { id: ch, role: CH, ieee: "00:DB:12:34:56:78:90:A2", firmware: ch-conformant, relay: ch-power }
    relays:
      - { id: ch-power, vendor: tasmota, topic: bench1-ch, channel: 1 }
    sniffers:
      - { id: han, kind: nrf802154, channel: 11 }
    radio: { channel: 11, ieee: "00db1234567890f0" }
`;

test('the embedded rig loads with every lab setting, each from its default', async () => {
  const rig = await loadRig();
  expect(rig.file).toBe(EMBEDDED_RIG);
  expect(rig.station.mqtt.url).toBe('embedded');
  expect(Object.keys(rig.labSettings).sort()).toEqual([...LAB_SETTING_NAMES].sort());
  for (const name of LAB_SETTING_NAMES) {
    expect(rig.labSettings[name], name).toEqual({ value: LAB_SETTINGS[name].default, source: 'default' });
  }
  expect(rig.settings).toMatchObject({
    interPanWindowMinutes: 60,
    interPanBoundaryMarginSeconds: 60,
    hhtStayHours: 18,
    rejoinLimitMinutes: 15,
    deviceLogSurvivesPowerCycle: true,
    cotPollPeriodHours: 24,
    cotImplementationTime: 'honour',
    cotPollRateLimitPerMinute: 1,
    relayConfirmSeconds: 5,
    captureWithinSeconds: 5,
  });
  expect(rig.benches).toHaveLength(1);
  const [bench] = rig.benches;
  expect(bench.id).toBe('virtual-1');
  expect(bench.virtual).toEqual({ seed: 1, transport: 'mock' });
  const [ch] = bench.devices;
  expect(ch).toMatchObject({ id: 'ch', role: 'CH', relay: { id: 'ch-power', vendor: 'tasmota', topic: 'bench1-ch', channel: 1 } });
  expect(ch.firmware).toMatchObject({ id: 'ch-conformant', role: 'CH', claims: ['gbcs-10.5-interpan-60min'], profile: 'ch-conformant' });
  expect(ch.behaviour).toMatchObject({
    kind: 'comms-hub',
    interPan: { windowMinutes: 60, reopensOnPowerOn: true },
    hht: { stayHours: 18 },
  });
  expect(bench.sniffers).toEqual([{ id: 'han', kind: 'nrf802154', channel: 11 }]);
  expect(bench.radio.channel).toBe(11);
  expect(bench.radio.ieee).toMatch(/^([0-9a-f]{2}:){7}[0-9a-f]{2}$/);
  // The run folder keeps the rig as JSON: it must survive the round trip.
  expect(JSON.parse(JSON.stringify(rig)).benches[0].devices[0].firmware.image.sha256).toMatch(/^[0-9a-f]{64}$/);
});

test('a setting the rig file gives is reported with source "rig file", the rest stay defaults', async () => {
  const file = await write(
    'override.yaml',
    `
station: { name: s, lab: l, mqtt: { url: embedded } }
labSettings:
  interPanWindowMinutes: 45
  cotImplementationTime: ignore
${VIRTUAL_BENCH}`,
  );
  const rig = await loadRig(file);
  expect(rig.labSettings.interPanWindowMinutes).toEqual({ value: 45, source: 'rig file' });
  expect(rig.labSettings.cotImplementationTime).toEqual({ value: 'ignore', source: 'rig file' });
  expect(rig.labSettings.hhtStayHours).toEqual({ value: 18, source: 'default' });
  expect(rig.settings.interPanWindowMinutes).toBe(45);
  // IEEE addresses are normalised whatever the spelling.
  expect(rig.benches[0].devices[0].ieee).toBe('00:db:12:34:56:78:90:a2');
  expect(rig.benches[0].radio.ieee).toBe('00:db:12:34:56:78:90:f0');
});

test('a JSON rig file is accepted', async () => {
  const rig = await loadRig(EMBEDDED_RIG);
  const json = {
    station: { name: 's', lab: 'l', mqtt: { url: 'embedded' } },
    benches: [
      {
        id: 'virtual-1',
        virtual: { seed: 7, transport: 'pty' },
        devices: [{ id: 'ch', role: 'CH', ieee: '00:db:12:34:56:78:90:a2', firmware: 'ch-window-45min', relay: 'p' }],
        relays: [{ id: 'p', vendor: 'shelly-gen2', topic: 'shelly-1' }],
        sniffers: [{ id: 'han', kind: 'nrf802154', channel: 25 }],
        radio: { channel: 25, ieee: rig.benches[0].radio.ieee },
      },
    ],
  };
  const loaded = await loadRig(await write('rig.json', JSON.stringify(json, null, 2)));
  expect(loaded.benches[0].devices[0].behaviour).toMatchObject({ id: 'ch-window-45min', interPan: { windowMinutes: 45 } });
});

test('an invalid rig lists every problem, with path, value, expectation and hint, in one refusal', async () => {
  await write(
    'lab/fw.yaml',
    `
images:
  - id: acme-ch-1
    role: CH
    manufacturer: Acme
    model: CH1
    version: "1.0"
    gbcsVersion: "4.1"
    claims: []
    image: { file: ch.bin, sha256: ${'ab'.repeat(32)} }
`,
  );
  const file = await write(
    'lab/bad.yaml',
    `station:
  name: s
  lab: l
  mqtt:
    url: mqtt://broker.lab:1883
    password: hunter2-not-for-logs
firmwareManifests: [fw.yaml]
benches:
  - id: bench-1
    devices:
      - id: ch
        role: CH
        ieee: "00:11:22:33:44:55:66"
        firmware: acme-ch-1
        relay: mains
      - id: esme
        role: ESME
        ieee: "00:11:22:33:44:55:66:78"
        firmware: acme-ch-1
        relay: mains-esme
    relays:
      - { id: mains, vendor: tasmota, topic: bench1-mains }
    sniffers:
      - { id: han, kind: nrf802154, channel: 30 }
    radio: { usbSerialNumber: RADIO1, channel: 15, ieee: "00:11:22:33:44:55:66:99" }
`,
  );
  const error = await refusal(loadRig(file, { verifyImages: false }));
  const byPath = new Map(error.problems.map((p) => [p.path, p]));
  expect([...byPath.keys()].sort()).toEqual([
    'benches[0].devices[0].ieee',
    'benches[0].devices[1].firmware',
    'benches[0].devices[1].relay',
    'benches[0].sniffers[0].channel',
    'benches[0].sniffers[0].path',
    'station.mqtt.password',
  ]);
  expect(byPath.get('benches[0].devices[0].ieee')).toMatchObject({
    line: 13,
    value: '"00:11:22:33:44:55:66"',
    expected: expect.stringContaining('IEEE'),
  });
  expect(byPath.get('benches[0].devices[1].relay')).toMatchObject({
    line: 20,
    value: '"mains-esme"',
    hint: expect.stringContaining('mains'),
  });
  expect(byPath.get('benches[0].devices[1].firmware')).toMatchObject({ value: '"acme-ch-1"', expected: expect.stringMatching(/ESME.*CH/) });
  expect(byPath.get('benches[0].sniffers[0].channel')).toMatchObject({ value: '30', expected: expect.stringContaining('11 to 26') });
  expect(byPath.get('benches[0].sniffers[0].path')).toMatchObject({
    value: '(missing)',
    hint: expect.stringContaining('/dev/serial/by-id'),
  });
  expect(byPath.get('station.mqtt.password')).toMatchObject({ line: 6, value: '(redacted)', hint: expect.stringContaining('passwordEnv') });
  for (const p of error.problems) {
    expect(p.file).toBe(displayFile(file));
    expect(p.expected.length, p.path).toBeGreaterThan(0);
    expect(p.hint.length, p.path).toBeGreaterThan(0);
  }
  const lines = error.message.split('\n');
  expect(lines.slice(1)).toEqual(error.problems.map(formatProblem));
  expect(lines[1]).toMatch(/^\S+bad\.yaml:\d+: \S+ = .+: expected .+\. .+/);
  expect(error.message).not.toContain('hunter2');
});

test('unknown keys are named with the keys that were meant', async () => {
  const file = await write(
    'typo.yaml',
    `
station: { name: s, lab: l, mqtt: { url: embedded } }
labSettings: { interPanWindowMinute: 60 }
${VIRTUAL_BENCH.replace('channel: 11 }', 'channel: 11, usbSerial: X }')}`,
  );
  const error = await refusal(loadRig(file));
  expect(error.problems.map((p) => p.path)).toEqual(['labSettings.interPanWindowMinute', 'benches[0].sniffers[0].usbSerial']);
  expect(error.problems[0].expected).toContain('did you mean "interPanWindowMinutes"?');
  expect(error.problems[1].expected).toContain('did you mean "usbSerialNumber"?');
});

test('a YAML syntax error names its line', async () => {
  const file = await write('syntax.yaml', 'station:\n  name: s\n  lab: [unclosed\nbenches: []\n');
  const error = await refusal(loadRig(file));
  expect(error.problems[0].line).toBeGreaterThanOrEqual(3);
  expect(error.message).toMatch(/syntax\.yaml:\d+: \(syntax, line \d+ column \d+\)/);
  expect(error.message).toContain('expected valid YAML or JSON');
  // The quoted source line hides secrets, in YAML and in one-line JSON alike.
  const json = await write('syntax.json', '{"station": {"mqtt": {"url": "mqtt://u:pw-77ab@h", "password": "s3cr3t-xyz"}}, }}');
  const jsonError = await refusal(loadRig(json));
  expect(jsonError.message).not.toMatch(/s3cr3t-xyz|pw-77ab/);
  expect(jsonError.message).toContain('"password": (redacted)}}, }}`');
});

test('a firmware image whose sha256 does not match is refused, naming image, file and both hashes', async () => {
  const profile = path.join(PROFILES, 'ch-conformant.yaml');
  await copyFile(profile, path.join(dir, 'tampered.yaml'));
  await writeFile(path.join(dir, 'tampered.yaml'), (await readFile(profile, 'utf8')).replace('windowMinutes: 60', 'windowMinutes: 600'));
  await write(
    'fw-tampered.yaml',
    `
images:
  - id: ch-lab-copy
    role: CH
    manufacturer: gbcs-rig virtual
    model: copy
    version: "1"
    gbcsVersion: "4.1"
    claims: [gbcs-10.5-interpan-60min]
    image: { file: tampered.yaml, sha256: ${(await loadRig()).benches[0].devices[0].firmware.image.sha256} }
    profile: ch-conformant
`,
  );
  const file = await write(
    'tampered-rig.yaml',
    `
station: { name: s, lab: l, mqtt: { url: embedded } }
firmwareManifests: [fw-tampered.yaml]
${VIRTUAL_BENCH.replace('firmware: ch-conformant', 'firmware: ch-lab-copy')}`,
  );
  const error = await refusal(loadRig(file));
  expect(error.problems).toHaveLength(1);
  const [p] = error.problems;
  expect(p.path).toBe('images[0].image.sha256');
  expect(p.file).toContain('fw-tampered.yaml');
  expect(p.expected).toContain('tampered.yaml');
  expect(p.expected).toContain('ch-lab-copy');
  expect(p.expected).toMatch(/[0-9a-f]{64}/);
  expect(p.hint).toContain('refused');
  expect(p.hint).toContain('bench virtual-1 device ch');
  // Without verification (schema only) the same rig loads.
  await expect(loadRig(file, { verifyImages: false })).resolves.toBeInstanceOf(LoadedRig);
});

test('secrets come from the environment and appear in no error, JSON or inspection', async () => {
  const env = {
    LAB_MQTT_USER: 'station-user-7f3a',
    LAB_MQTT_PASSWORD: 'pw-9c1e-do-not-print',
    LAB_NETWORK_KEY: '01030507090B0D0F00020406080A0C0D',
    LAB_INSTALL_CODE: '83fed3407a939723a5c639b26916d505c3b5',
  };
  const file = await write(
    'secrets.yaml',
    `
station:
  name: s
  lab: l
  mqtt: { url: embedded, usernameEnv: LAB_MQTT_USER, passwordEnv: LAB_MQTT_PASSWORD }
keys: { networkKeyEnv: LAB_NETWORK_KEY, installCodeEnv: LAB_INSTALL_CODE }
${VIRTUAL_BENCH}`,
  );
  const rig = await loadRig(file, { env });
  expect(rig.secrets.mqtt).toEqual({ username: env.LAB_MQTT_USER, password: env.LAB_MQTT_PASSWORD, caFile: undefined });
  expect(rig.secrets.networkKey).toBe(env.LAB_NETWORK_KEY.toLowerCase());
  expect(rig.secrets.installCode).toBe(env.LAB_INSTALL_CODE);
  const leaks = (text: string) => Object.values(env).filter((v) => text.toLowerCase().includes(v.toLowerCase()));
  expect(leaks(JSON.stringify(rig))).toEqual([]);
  expect(leaks(inspect(rig, { depth: 10 }))).toEqual([]);
  expect(leaks(JSON.stringify(rig.secrets))).toEqual([]);
  expect(leaks(inspect(rig.secrets))).toEqual([]);
  expect(JSON.stringify(rig.secrets)).toContain('(redacted)');
  expect(rig.secrets.redact(`key ${env.LAB_NETWORK_KEY} pw ${env.LAB_MQTT_PASSWORD}`)).toBe('key (redacted) pw (redacted)');

  // A malformed key and a missing variable are named by variable, never by value.
  const bad = { ...env, LAB_NETWORK_KEY: 'not-a-key-8e2b', LAB_MQTT_PASSWORD: undefined };
  const error = await refusal(loadRig(file, { env: bad }));
  expect(error.problems.map((p) => p.path)).toEqual(['station.mqtt.passwordEnv', 'keys.networkKeyEnv']);
  expect(error.message).toContain('LAB_MQTT_PASSWORD');
  expect(error.message).toContain('LAB_NETWORK_KEY');
  expect(leaks(error.message)).toEqual([]);
  expect(error.message).not.toContain('not-a-key-8e2b');

  // Secrets in the file itself are refused wherever they are, and never echoed.
  const literal = await write(
    'literal.yaml',
    `
station:
  name: s
  lab: l
  mqtt: { url: "mqtt://user:pw-in-url-5d2c@broker.lab:1883" }
keys: { networkKey: 01030507090B0D0F00020406080A0C0D, installCode: 83FED3407A939723A5C639B26916D505C3B5 }
${VIRTUAL_BENCH}`,
  );
  const literalError = await refusal(loadRig(literal));
  expect(literalError.problems.map((p) => p.path)).toEqual(['station.mqtt.url', 'keys.networkKey', 'keys.installCode']);
  expect(literalError.message).not.toContain('pw-in-url-5d2c');
  expect(literalError.message).not.toMatch(/01030507090B0D0F|83FED3407A93/i);
});

test('example-lab.yaml validates (schema and references; its images are not in this repository)', async () => {
  const ca = await write('ca.pem', '-----BEGIN CERTIFICATE-----\n');
  const env = {
    GBCS_MQTT_USERNAME: 'u',
    GBCS_MQTT_PASSWORD: 'p',
    GBCS_MQTT_CA_FILE: ca,
    GBCS_HAN_NETWORK_KEY: '01030507090b0d0f00020406080a0c0d',
    GBCS_HHT_INSTALL_CODE: '83fed3407a939723a5c639b26916d505c3b5',
  };
  const rig = await loadRig(path.join(RIGS, 'example-lab.yaml'), { verifyImages: false, env });
  expect(rig.benches.map((b) => b.id)).toEqual(['bench-1', 'bench-2']);
  expect(rig.benches.every((b) => b.virtual === undefined)).toBe(true);
  expect(rig.firmware.manifests).toEqual([BUILT_IN_MANIFEST, path.join(RIGS, 'example-lab-firmware.yaml')]);
  expect(rig.labSettings.interPanBoundaryMarginSeconds).toEqual({ value: 30, source: 'rig file' });
  expect(rig.benches[1].relays.every((r) => r.vendor === 'shelly-gen2')).toBe(true);
  // The unit's label, for the report's identification of the item tested.
  expect(rig.benches[0].devices[0]).toMatchObject({ id: 'ch', serialNumber: 'CH-2291-004417', hardwareRevision: 'C' });
  expect(rig.benches[0].devices[1].serialNumber).toBeUndefined();
  const locations = rig.benches.flatMap((b) => [...b.sniffers.map((s) => s.location), b.radio.location]);
  expect(locations.some((l) => l && 'path' in l && l.path.startsWith('/dev/serial/by-id/'))).toBe(true);
  expect(locations.some((l) => l && 'serialNumber' in l)).toBe(true);
  expect(rig.benches[0].devices.map((d) => `${d.role}:${d.firmware.id}`)).toEqual([
    'CH:example-ch-4-2-1',
    'ESME:example-esme-2-3',
    'PPMID:example-ppmid-1-7',
  ]);
  expect(rig.benches[1].tenancyTrigger).toEqual({ kind: 'lab-hook', url: 'https://lab.example/hooks/change-of-tenancy?bench=bench-2' });
  expect(rig.benches[0].otaTrigger).toEqual({ kind: 'lab-hook', command: ['/opt/lab/bin/send-ota', '--bench', 'bench-1'] });
  // The IHD of bench-2 has an observation port; the PPMID of bench-1 has none (its operator is asked).
  expect(rig.benches[1].devices.find((d) => d.id === 'ihd')!.observe).toEqual({
    path: '/dev/serial/by-id/usb-FTDI_TTL232R_IHD_DEBUG_FT0001-if00-port0',
  });
  expect(rig.benches[0].devices.find((d) => d.role === 'PPMID')!.observe).toBeUndefined();
  expect(rig.secrets.mqtt.caFile).toBe(ca);
  // Image-verified, it is refused: the images are not here.
  const error = await refusal(loadRig(path.join(RIGS, 'example-lab.yaml'), { env }));
  expect(error.problems.every((p) => p.path.endsWith('.image.file'))).toBe(true);
  // Away from the lab, a schema-only check needs no secrets either.
  await expect(
    loadRig(path.join(RIGS, 'example-lab.yaml'), { verifyImages: false, requireSecrets: false, env: {} }),
  ).resolves.toBeInstanceOf(LoadedRig);
});

test('station-wide clashes: one dongle, one relay channel and one IEEE address per bench', async () => {
  const file = await write(
    'clash.yaml',
    `
station: { name: s, lab: l, mqtt: { url: "mqtt://broker:1883" } }
firmwareManifests: []
benches:
  - id: b1
    virtual: { seed: 1, transport: mock }
    devices: [{ id: ch, role: CH, ieee: "00:db:12:34:56:78:90:a2", firmware: ch-conformant, relay: r }]
    relays: [{ id: r, vendor: tasmota, topic: mains }]
    sniffers: [{ id: s, kind: nrf802154, channel: 11, path: /dev/ttyACM0 }]
    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f0" }
  - id: b1
    virtual: { seed: 2, transport: mock }
    devices: [{ id: ch, role: CH, ieee: "00:db:12:34:56:78:90:a2", firmware: ch-conformant, relay: r }]
    relays: [{ id: r, vendor: tasmota, topic: mains, channel: 1 }]
    sniffers: [{ id: s, kind: nrf802154, channel: 11, path: /dev/ttyACM0, usbSerialNumber: X }]
    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f1", path: /dev/ttyACM0 }
`,
  );
  const error = await refusal(loadRig(file));
  // In reading order, the rig file top to bottom.
  expect(error.problems.map((p) => p.path)).toEqual([
    'benches[1].id',
    'benches[1].devices[0].ieee',
    'benches[1].relays[0].topic',
    'benches[1].sniffers[0].usbSerialNumber',
    'benches[1].radio.path',
  ]);
});

test("one relay powers one device: a device on another's relay, or on the WAN antenna's, is refused where it is named", async () => {
  const file = await write(
    'shared-relay.yaml',
    `
station: { name: s, lab: l, mqtt: { url: embedded } }
benches:
  - id: b1
    virtual: { seed: 1, transport: mock }
    devices:
      - { id: ch, role: CH, ieee: "00:db:12:34:56:78:90:a2", firmware: ch-conformant, relay: ch-power }
      - { id: esme, role: ESME, ieee: "00:db:12:34:56:78:90:b1", firmware: esme-conformant, relay: ch-power }
      - { id: ihd, role: IHD, ieee: "00:db:12:34:56:78:90:c1", firmware: ihd-conformant, relay: wan-antenna }
    relays:
      - { id: ch-power, vendor: tasmota, topic: mains, channel: 1 }
      - { id: wan-antenna, vendor: tasmota, topic: mains, channel: 2 }
    wan: { kind: relay, relay: wan-antenna }
    sniffers: [{ id: s, kind: nrf802154, channel: 11 }]
    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f0" }
`,
  );
  const error = await refusal(loadRig(file));
  expect(error.problems).toEqual([
    expect.objectContaining({
      path: 'benches[0].devices[1].relay',
      expected: 'a relay no other device uses (relay "ch-power" already powers the device at benches[0].devices[0])',
      hint: expect.stringContaining("a CH's GPF is powered with the CH"),
    }),
    expect.objectContaining({
      path: 'benches[0].wan.relay',
      expected: 'a relay that powers no device (it powers the device at benches[0].devices[2])',
    }),
  ]);
  expect(error.message).toMatch(/shared-relay\.yaml:8: benches\[0\]\.devices\[1\]\.relay = "ch-power"/);
});

test("the rig radio's second HHT identity: derived from radio.ieee unless pinned; never the radio's own address nor a device's", async () => {
  const rig = (radio: string, name = Math.random().toString(36).slice(2)) =>
    write(
      `second-${name}.yaml`,
      `station: { name: s, lab: l, mqtt: { url: embedded } }\n${VIRTUAL_BENCH.replace('radio: { channel: 11, ieee: "00db1234567890f0" }', radio)}`,
    );
  const derived = await loadRig(await rig('radio: { channel: 11, ieee: "00db1234567890f0" }'));
  expect(derived.benches[0].radio.secondHhtIeee).toBeUndefined();
  expect(derivedSecondHhtIeee(derived.benches[0].radio.ieee)).toBe('02:db:12:34:56:78:90:f0');
  const pinned = await loadRig(await rig('radio: { channel: 11, ieee: "00db1234567890f0", secondHhtIeee: "00DB1234567890F7" }'));
  expect(pinned.benches[0].radio.secondHhtIeee).toBe('00:db:12:34:56:78:90:f7');

  const own = await refusal(
    loadRig(await rig('radio: { channel: 11, ieee: "00db1234567890f0", secondHhtIeee: "00:db:12:34:56:78:90:f0" }')),
  );
  expect(own.problems).toEqual([
    expect.objectContaining({
      path: 'benches[0].radio.secondHhtIeee',
      expected: expect.stringContaining('not already used at benches[0].radio.ieee'),
    }),
  ]);
  const device = await refusal(
    loadRig(await rig('radio: { channel: 11, ieee: "00db1234567890f0", secondHhtIeee: "00:db:12:34:56:78:90:a2" }')),
  );
  expect(device.problems).toEqual([
    expect.objectContaining({
      path: 'benches[0].radio.secondHhtIeee',
      expected: expect.stringContaining('not already used at benches[0].devices[0].ieee'),
    }),
  ]);
  // A derived identity that a device already uses: pin another.
  const clash = await refusal(loadRig(await rig('radio: { channel: 11, ieee: "02db1234567890a2" }')));
  expect(clash.problems).toEqual([
    expect.objectContaining({ path: 'benches[0].radio.ieee', hint: expect.stringContaining('pin another in radio.secondHhtIeee') }),
  ]);
});

test('an observation port names exactly one of path and usbSerialNumber', async () => {
  const file = await write(
    'observe-both.yaml',
    (await readFile(path.join(RIGS, 'example-lab.yaml'), 'utf8')).replace(
      'observe: { path: /dev/serial/by-id/usb-FTDI_TTL232R_IHD_DEBUG_FT0001-if00-port0 }',
      'observe: { path: /dev/ttyUSB9, usbSerialNumber: FT0001 }',
    ),
  );
  await copyFile(path.join(RIGS, 'example-lab-firmware.yaml'), path.join(dir, 'example-lab-firmware.yaml'));
  const error = await refusal(loadRig(file, { verifyImages: false, requireSecrets: false }));
  expect(error.message).toMatch(/observe.*exactly one of path and usbSerialNumber/);
});

test('a bench may pin its HAN: a PAN as a number or "0x…" text, a channel the sniffers and radio share; anything else is refused', async () => {
  const rig = (han: string, sniffer = 11) =>
    write(
      `han-${Math.random().toString(36).slice(2)}.yaml`,
      `
station: { name: s, lab: l, mqtt: { url: embedded } }
benches:
  - id: b1
    virtual: { seed: 1, transport: mock }
    devices: [{ id: ch, role: CH, ieee: "00:db:12:34:56:78:90:a2", firmware: ch-conformant, relay: r }]
    relays: [{ id: r, vendor: tasmota, topic: mains }]
    sniffers: [{ id: s, kind: nrf802154, channel: ${sniffer} }]
    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f0" }
    han: ${han}
`,
    );
  expect((await loadRig(await rig('{ pan: 0x4b1d, channel: 11 }'))).benches[0].han).toEqual({ pan: 0x4b1d, channel: 11 });
  expect((await loadRig(await rig('{ pan: "0x4B1D" }'))).benches[0].han).toEqual({ pan: 0x4b1d });
  const bad = await refusal(loadRig(await rig('{ pan: 0xffff, channel: 11 }', 15)));
  expect(bad.problems.map((p) => [p.path, p.expected])).toEqual([
    ['benches[0].sniffers[0].channel', 'channel 11, the HAN channel pinned at benches[0].han.channel'],
    ['benches[0].han.pan', 'a PAN id from 0x0000 to 0xfffd (0xfffe and 0xffff are not PANs), as a number or "0x…"'],
  ]);
  const text = await refusal(loadRig(await rig('{ pan: "PAN-1" }')));
  expect(text.problems.map((p) => p.path)).toEqual(['benches[0].han.pan']);
});

test("a bench may name how the CH's WAN is cut (RCN-3): one of its relays, or a lab hook command; an unknown relay is refused", async () => {
  const rig = (wan: string) =>
    write(
      `wan-${Math.random().toString(36).slice(2)}.yaml`,
      `
station: { name: s, lab: l, mqtt: { url: embedded } }
benches:
  - id: b1
    virtual: { seed: 1, transport: mock }
    devices: [{ id: ch, role: CH, ieee: "00:db:12:34:56:78:90:a2", firmware: ch-conformant, relay: r }]
    relays: [{ id: r, vendor: tasmota, topic: mains }, { id: wan-antenna, vendor: tasmota, topic: antenna }]
    sniffers: [{ id: s, kind: nrf802154, channel: 11 }]
    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f0" }
    wan: ${wan}
`,
    );
  expect((await loadRig(await rig('{ kind: relay, relay: wan-antenna }'))).benches[0].wan).toEqual({ kind: 'relay', relay: 'wan-antenna' });
  expect((await loadRig(await rig('{ kind: lab-hook, command: [./wan.sh] }'))).benches[0].wan).toEqual({
    kind: 'lab-hook',
    command: ['./wan.sh'],
  });
  const unknown = await refusal(loadRig(await rig('{ kind: relay, relay: antenna }')));
  expect(unknown.problems.map((p) => [p.path, p.expected])).toEqual([['benches[0].wan.relay', 'the id of a relay on bench "b1"']]);
  const kind = await refusal(loadRig(await rig('{ kind: jammer }')));
  expect(kind.problems.map((p) => p.path)).toEqual(['benches[0].wan.kind']);
});
