// Firmware manifests and the virtual bench's behaviour profiles: every profile loads, the built-in
// manifest pins each one by the sha256 of its bytes, and a mismatch refuses the run.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import {
  BUILT_IN_MANIFEST,
  FirmwareImageError,
  FirmwareManifestError,
  loadFirmwareManifests,
  verifyImage,
} from '../../firmware-images/manifest.ts';
import { ProfileError, loadProfile } from '../../firmware-images/profiles.ts';

const PROFILES = path.join(path.dirname(BUILT_IN_MANIFEST), 'profiles');

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gbcs-rig-firmware-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('every profile loads and virtual.yaml pins it by the right sha256', async () => {
  const catalogue = await loadFirmwareManifests([BUILT_IN_MANIFEST]);
  const files = (await readdir(PROFILES)).filter((f) => f.endsWith('.yaml')).sort();
  expect(files.length).toBeGreaterThanOrEqual(8);
  for (const name of files) {
    const file = path.join(PROFILES, name);
    const profile = await loadProfile(file);
    expect(profile.id, name).toBe(path.basename(name, '.yaml'));
    const image = catalogue.get(profile.id);
    expect(image, `${name} has an entry in virtual.yaml`).toBeDefined();
    expect(image!.image.file).toBe(file);
    expect(image!.profile).toBe(profile.id);
    const actual = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(image!.image.sha256, `sha256 of ${name} (update firmware-images/virtual.yaml)`).toBe(actual);
    await verifyImage(image!);
  }
  expect([...catalogue].every((i) => i.manufacturer === 'gbcs-rig virtual')).toBe(true);
});

test('the virtual CH profiles: conformant, SECMP0037, and one non-conformant per IPAN requirement that lies about it', async () => {
  const catalogue = await loadFirmwareManifests([BUILT_IN_MANIFEST]);
  const profiled = [...catalogue].filter((i) => i.profile !== undefined);
  const profiles = new Map(await Promise.all(profiled.map(async (i) => [i.id, await loadProfile(i.image.file)] as const)));
  const conformant = catalogue.get('ch-conformant')!;
  expect(profiles.get('ch-conformant')).toMatchObject({
    breaks: [],
    interPan: { windowMinutes: 60, reopensOnPowerOn: true, acceptsMalformed: false, acceptsUnauthorised: false },
    hht: { stayHours: 18, survivesPowerOn: false },
  });
  expect(conformant.claims).toEqual(['gbcs-10.5-interpan-60min']);
  expect(catalogue.get('ch-secmp0037')!.claims).toEqual(['secmp0037']);
  expect(profiles.get('ch-secmp0037')).toMatchObject({ breaks: [], interPan: { windowMinutes: null } });
  const expected: Record<string, string> = {
    'ch-window-never-closes': 'IPAN-2',
    'ch-window-45min': 'IPAN-1',
    'ch-no-reopen-on-power-cycle': 'IPAN-3',
    'ch-hht-stays-24h': 'IPAN-4',
    'ch-hht-survives-power-on': 'IPAN-4',
    'ch-accepts-malformed-ccs01': 'IPAN-5',
    'ch-refusal-adds-sender': 'IPAN-5',
    'ch-refusal-removes-sender': 'IPAN-5',
    'ch-window-58min': 'IPAN-1',
    'ch-window-62min': 'IPAN-2',
    'ch-hht-stays-18h05m': 'IPAN-4',
    'ch-loses-device-log': 'PWR-2',
  };
  for (const [id, requirement] of Object.entries(expected)) {
    expect(profiles.get(id)!.breaks, id).toEqual([requirement]);
    // They claim what a conformant CH claims: only the suites can tell them apart.
    expect(catalogue.get(id)!.claims, id).toEqual(conformant.claims);
  }
  const neverCloses = profiles.get('ch-window-never-closes')!;
  expect(neverCloses.kind === 'comms-hub' && neverCloses.interPan.windowMinutes).toBeNull();
});

test('verifyImage refuses a changed or missing image, naming id, file, expected and actual hash', async () => {
  const file = path.join(dir, 'image.bin');
  await writeFile(file, 'firmware bytes');
  const actual = createHash('sha256').update('firmware bytes').digest('hex');
  await verifyImage({ id: 'fw-1', image: { file, sha256: actual } });
  const wrong = '0'.repeat(64);
  const mismatch = await verifyImage({ id: 'fw-1', image: { file, sha256: wrong } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(mismatch).toBeInstanceOf(FirmwareImageError);
  expect(mismatch).toMatchObject({ imageId: 'fw-1', file, expected: wrong, actual });
  for (const part of ['fw-1', file, wrong, actual, 'refused']) expect((mismatch as Error).message).toContain(part);
  const missing = await verifyImage({ id: 'fw-2', image: { file: path.join(dir, 'nope.bin'), sha256: wrong } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(missing).toMatchObject({ imageId: 'fw-2', actual: undefined });
  expect((missing as Error).message).toMatch(/fw-2.*nope\.bin.*does not exist.*refused/);
});

test('manifest problems are all listed with file, path, value, expectation and hint; ids are unique across manifests', async () => {
  const a = path.join(dir, 'a.yaml');
  await writeFile(
    a,
    `images:
  - id: Bad_Id
    role: HHT
    manufacturer: Acme
    model: M
    version: 4.10
    gbcsVersion: "4.1"
    claims: []
    image: { file: x.bin, sha256: abc }
  - id: ch-conformant
    role: CH
    manufacturer: Acme
    model: M
    version: "1"
    gbcsVersion: "4.1"
    claims: []
    image: { file: x.bin, sha256: ${'a'.repeat(64)} }
`,
  );
  const error = await loadFirmwareManifests([a]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FirmwareManifestError);
  const problems = (error as FirmwareManifestError).problems;
  expect(problems.map((p) => p.path)).toEqual(['images[0].id', 'images[0].role', 'images[0].version', 'images[0].image.sha256']);
  expect(problems.find((p) => p.path === 'images[0].version')).toMatchObject({
    line: 6,
    value: '4.1',
    hint: expect.stringContaining('Quote'),
  });
  expect(problems.find((p) => p.path === 'images[0].role')!.expected).toContain('"PPMID"');

  const b = path.join(dir, 'b.yaml');
  await writeFile(b, (await readFile(a, 'utf8')).split('  - id: ch-conformant')[1].replace(/^/, 'images:\n  - id: ch-conformant'));
  const clash = await loadFirmwareManifests([BUILT_IN_MANIFEST, b]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(clash).toBeInstanceOf(FirmwareManifestError);
  expect((clash as FirmwareManifestError).problems).toEqual([
    expect.objectContaining({ path: 'images[0].id', value: '"ch-conformant"', hint: expect.stringContaining('virtual.yaml:') }),
  ]);
});

test('a profile with a wrong shape is refused with every problem', async () => {
  const file = path.join(dir, 'bad-profile.yaml');
  await writeFile(
    file,
    `id: ch-x
kind: comms-hub
description: x
breaks: [ipan-2]
interPan: { windowMinutes: -5, reopensOnPowerOn: yes, acceptsMalformed: false, acceptsUnauthorised: false, responseDelayMs: 0, refusalSideEffect: sometimes }
hht: { stayHours: 18 }
`,
  );
  const error = await loadProfile(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProfileError);
  expect((error as ProfileError).problems.map((p) => p.path)).toEqual([
    'breaks[0]',
    'interPan.windowMinutes',
    'interPan.reopensOnPowerOn',
    'interPan.refusalSideEffect',
    'hht.survivesPowerOn',
  ]);
  const sideEffect = (error as ProfileError).problems.find((p) => p.path === 'interPan.refusalSideEffect');
  expect(sideEffect?.hint).toMatch(/none, adds-sender, removes-sender/);
});
