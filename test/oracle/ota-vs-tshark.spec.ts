// The OTA Upgrade cluster as the virtual CH serves a firmware image: tshark, reading our encoder's
// frames, finds the same status, image identity, offsets and block bytes field by field.
import { test, expect } from '@playwright/test';
import { hex } from '../../protocol/bytes.ts';
import { encodeFrame } from '../../protocol/encoder.ts';
import { parseOtaImage, writeOtaImage } from '../../protocol/ota-image.ts';
import { OTA_UPGRADE, decodeZcl, encodeZcl } from '../../protocol/zcl/index.ts';
import { framesToPcapng, tsharkFields } from '../support/tshark.ts';

const image = writeOtaImage({
  manufacturerCode: 0x1234,
  imageType: 0x0102,
  fileVersion: 0x01020304,
  zigbeeStackVersion: 2,
  headerString: 'oracle image',
  subElements: [{ tag: 0, data: new Uint8Array(100).map((_, i) => (i * 7) & 0xff) }],
});
const facts = { manufacturerCode: 0x1234, imageType: 0x0102, fileVersion: 0x01020304 };

function onAir(seq: number, dir: 'client-to-server' | 'server-to-client', name: string, fields: Record<string, unknown>): Uint8Array {
  return encodeFrame(
    {
      mac: { type: 'data', seq, dstPan: '0x4242', srcPan: '0x4242', dst: '0x0001', src: '0x0000' },
      nwk: { type: 'data', dst: '0x0001', src: '0x0000', seq },
      aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: OTA_UPGRADE.id, profile: 0x0109, counter: seq },
      payload: encodeZcl(OTA_UPGRADE.id, { name, dir, seq, fields }),
    },
    false,
  );
}

test('tshark reads our OTA Upgrade commands field by field as we wrote them', async () => {
  const block = image.subarray(48, 96);
  const frames = [
    onAir(1, 'server-to-client', 'Image Notify', { payloadType: 3, queryJitter: 100, ...facts }),
    onAir(2, 'client-to-server', 'Query Next Image Request', { fieldControl: 0, ...facts, fileVersion: 0x01020300 }),
    onAir(3, 'server-to-client', 'Query Next Image Response', { status: 0, ...facts, imageSize: image.length }),
    onAir(4, 'client-to-server', 'Image Block Request', { fieldControl: 0, ...facts, fileOffset: 48, maximumDataSize: 48 }),
    onAir(5, 'server-to-client', 'Image Block Response', { status: 0, ...facts, fileOffset: 48, imageData: hex(block) }),
    onAir(6, 'client-to-server', 'Upgrade End Request', { status: 0, ...facts }),
    onAir(7, 'server-to-client', 'Upgrade End Response', { ...facts, currentTime: 912_345_678, upgradeTime: 912_345_678 }),
  ];
  const file = await framesToPcapng(frames, 'ota');
  const F = 'zbee_zcl_general.ota.';
  const rows = tsharkFields(file, [
    `${F}cmd.srv_tx.id`,
    `${F}cmd.srv_rx.id`,
    `${F}status`,
    `${F}manufacturer_code`,
    `${F}image.type`,
    `${F}file.version`,
    `${F}image.size`,
    `${F}file.offset`,
    `${F}max_data_size`,
    `${F}data_size`,
    `${F}image.data`,
    `${F}upgrade_time`,
    `${F}payload.type`,
    `${F}query_jitter`,
  ]);
  const text = (i: number, f: string) => rows[i][F + f]?.[0];
  const at = (i: number, f: string) => Number(text(i, f));
  expect(rows.map((r) => Number(r[`${F}cmd.srv_tx.id`]?.[0] ?? r[`${F}cmd.srv_rx.id`]?.[0]))).toEqual([0, 1, 2, 3, 5, 6, 7]);
  for (const i of [0, 1, 2, 3, 4, 5, 6]) {
    expect(at(i, 'manufacturer_code'), `frame ${i + 1}`).toBe(0x1234);
    expect(at(i, 'image.type'), `frame ${i + 1}`).toBe(0x0102);
  }
  expect([at(0, 'payload.type'), at(0, 'query_jitter'), at(0, 'file.version')]).toEqual([3, 100, 0x01020304]);
  expect(at(1, 'file.version')).toBe(0x01020300);
  expect([at(2, 'status'), at(2, 'image.size')]).toEqual([0, image.length]);
  expect([at(3, 'file.offset'), at(3, 'max_data_size')]).toEqual([48, 48]);
  expect([at(4, 'status'), at(4, 'file.offset'), at(4, 'data_size')]).toEqual([0, 48, 48]);
  expect(text(4, 'image.data')?.replace(/:/g, '')).toBe(hex(block));
  expect(at(5, 'status')).toBe(0);
  expect(text(6, 'upgrade_time')).toBeDefined();
  // The block tshark shows is the file's bytes at that offset: the header's end, then the sub-element.
  expect(parseOtaImage(image).header.totalImageSize).toBe(image.length);
  expect(
    decodeZcl(
      encodeZcl(OTA_UPGRADE.id, {
        name: 'Image Block Response',
        dir: 'server-to-client',
        seq: 5,
        fields: { status: 0, ...facts, fileOffset: 48, imageData: hex(block) },
      }),
      OTA_UPGRADE.id,
    ).fields?.imageData,
  ).toBe(hex(block));
});
