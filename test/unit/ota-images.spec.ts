// The virtual bench's OTA images (firmware-images/ota/): rebuilt byte for byte by their script, pinned by
// virtual.yaml's sha256 and OTA header facts, and refused — with what and where — when any of that is off.
import { test, expect } from '@playwright/test';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILT_IN_MANIFEST, FirmwareImageError, loadFirmwareManifests, type FirmwareImage } from '../../firmware-images/manifest.ts';
import {
  OtaImageError,
  VIRTUAL_OTA_FILE_VERSION,
  VIRTUAL_OTA_IMAGES,
  VIRTUAL_OTA_IMAGE_TYPE,
  VIRTUAL_OTA_MANUFACTURER_CODE,
  buildVirtualOtaImage,
  loadOtaImage,
  otaImagesFor,
} from '../../firmware-images/ota.ts';
import { sha256OfFile } from '../../firmware-images/manifest.ts';

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gbcs-rig-ota-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ihd = { manufacturerCode: VIRTUAL_OTA_MANUFACTURER_CODE, imageType: VIRTUAL_OTA_IMAGE_TYPE.ihd, what: 'the IHD ihd' };

test('the committed OTA images are what their script builds, and the manifest pins each by sha256 and header facts', async () => {
  const catalogue = await loadFirmwareManifests([BUILT_IN_MANIFEST]);
  for (const def of VIRTUAL_OTA_IMAGES) {
    const file = path.join(path.dirname(BUILT_IN_MANIFEST), def.file);
    expect(
      Buffer.compare(await readFile(file), Buffer.from(buildVirtualOtaImage(def))),
      `${def.file}: run firmware-images/ota/build.ts`,
    ).toBe(0);
    const entry = [...catalogue].find((i) => i.image.file === file);
    expect(entry, `${def.file} has an entry in virtual.yaml`).toBeDefined();
    const v = await loadOtaImage(entry!);
    expect(v.header).toMatchObject({
      manufacturerCode: VIRTUAL_OTA_MANUFACTURER_CODE,
      imageType: VIRTUAL_OTA_IMAGE_TYPE[def.clientType],
      fileVersion: def.fileVersion,
      headerString: def.headerString,
      securityCredentialVersion: 3,
    });
    expect(v.sha256).toBe(await sha256OfFile(file));
    expect(v.integrityCode).toBe('matches');
  }
});

test('the catalogue offers a device the newer images of its own manufacturer and image type, newest first', async () => {
  const catalogue = await loadFirmwareManifests([BUILT_IN_MANIFEST]);
  expect(otaImagesFor(catalogue, 'IHD', { ...ihd, fileVersion: VIRTUAL_OTA_FILE_VERSION }).map((i) => i.id)).toEqual(['ihd-ota-1-1-0']);
  expect(otaImagesFor(catalogue, 'PPMID', { ...ihd, imageType: VIRTUAL_OTA_IMAGE_TYPE.ppmid }).map((i) => i.id)).toEqual([
    'ppmid-ota-1-1-0',
  ]);
  // Already running it, or another manufacturer's device: nothing to offer.
  expect(otaImagesFor(catalogue, 'IHD', { ...ihd, fileVersion: 0x01010002 })).toEqual([]);
  expect(otaImagesFor(catalogue, 'IHD', { ...ihd, manufacturerCode: 0x1234 })).toEqual([]);
});

async function entryWith(bytes: Uint8Array, ota: FirmwareImage['ota']): Promise<FirmwareImage> {
  const file = path.join(dir, `img-${Math.random().toString(36).slice(2)}.zigbee`);
  await writeFile(file, bytes);
  return {
    id: 'test-ota',
    role: 'IHD',
    manufacturer: 'test',
    model: 'test',
    version: '1',
    gbcsVersion: '4.1',
    claims: [],
    image: { file, sha256: await sha256OfFile(file) },
    ...(ota && { ota }),
    declaredAt: { manifest: 'test', index: 0 },
  };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('accepted');
    },
    (e: Error) => e,
  );

test('an OTA image is refused when its bytes, its header, its facts or its device are not the manifest’s', async () => {
  const good = buildVirtualOtaImage(VIRTUAL_OTA_IMAGES[0]);
  const facts = { manufacturerCode: VIRTUAL_OTA_MANUFACTURER_CODE, imageType: VIRTUAL_OTA_IMAGE_TYPE.ihd, fileVersion: 0x01010002 };
  await expect(loadOtaImage(await entryWith(good, facts), ihd)).resolves.toMatchObject({ header: facts });

  const changed = await entryWith(good, facts);
  const other = new Uint8Array(good);
  other[200] ^= 1;
  await writeFile(changed.image.file, other);
  expect(await refusal(loadOtaImage(changed))).toBeInstanceOf(FirmwareImageError);

  // A flipped firmware byte under a recomputed sha256: loaded (the integrity code is the rig's unconfirmed reading), and reported.
  await expect(loadOtaImage(await entryWith(other, facts))).resolves.toMatchObject({ integrityCode: 'differs' });
  await expect(loadOtaImage(await entryWith(good, facts))).resolves.toMatchObject({ integrityCode: 'matches' });
  const notOta = await refusal(loadOtaImage(await entryWith(new TextEncoder().encode('id: ihd-conformant\n'), facts)));
  expect(notOta).toBeInstanceOf(OtaImageError);
  expect(notOta.message).toMatch(/upgrade file identifier at offset 0: 0x.{8} is not 0x0beef11e \(not an OTA upgrade file\)/);

  const wrongFacts = await refusal(loadOtaImage(await entryWith(good, { ...facts, fileVersion: 0x01020002 })));
  expect(wrongFacts.message).toContain('its OTA header says fileVersion 0x01010002, its manifest 0x01020002');

  const wrongDevice = await refusal(loadOtaImage(await entryWith(good, facts), { ...ihd, imageType: VIRTUAL_OTA_IMAGE_TYPE.ppmid }));
  expect(wrongDevice.message).toContain(
    'it is for manufacturer 0x7a55 image type 0x0101, the IHD ihd runs manufacturer 0x7a55 image type 0x0102',
  );

  const noFacts = await refusal(loadOtaImage(await entryWith(good, undefined)));
  expect(noFacts.message).toContain('its manifest entry has no ota facts');
});

test('a manifest whose ota facts are not 16/32-bit numbers is refused at the field', async () => {
  const file = path.join(dir, 'manifest.yaml');
  await copyFile(path.join(path.dirname(BUILT_IN_MANIFEST), 'ota', 'ihd-1.1.0.zigbee'), path.join(dir, 'ihd.zigbee'));
  await writeFile(
    file,
    `images:\n  - id: x\n    role: IHD\n    manufacturer: m\n    model: m\n    version: "1"\n    gbcsVersion: "4.1"\n    claims: []\n` +
      `    image: { file: ihd.zigbee, sha256: ${'a'.repeat(64)} }\n    ota: { manufacturerCode: 0x10000, imageType: 1, fileVersion: -1 }\n`,
  );
  const e = await refusal(loadFirmwareManifests([file]));
  expect(e.message).toMatch(/images\[0\]\.ota\.manufacturerCode/);
  expect(e.message).toMatch(/images\[0\]\.ota\.fileVersion/);
  await writeFile(
    file,
    `images:\n  - id: x\n    role: IHD\n    manufacturer: m\n    model: m\n    version: "1"\n    gbcsVersion: "4.1"\n    claims: []\n` +
      `    image: { file: ihd.zigbee, sha256: ${'a'.repeat(64)} }\n    profile: ihd-conformant\n` +
      '    ota: { manufacturerCode: 1, imageType: 1, fileVersion: 1 }\n',
  );
  expect((await refusal(loadFirmwareManifests([file]))).message).toMatch(/images\[0\]\.ota.*absent on a behaviour profile/s);
});
