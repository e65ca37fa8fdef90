// Typed payloads from the cluster tables (protocol/zcl/payloads.ts): the accessor hands out a
// frame's fields only for the command, cluster and frame type it is asked about.
import { test, expect } from '@playwright/test';
import { HanDecoder } from '../../protocol/decoder.ts';
import { encodeFrame } from '../../protocol/encoder.ts';
import { PROFILE_SMART_ENERGY } from '../../protocol/aps.ts';
import { hex16 } from '../../protocol/bytes.ts';
import { DEVICE_MANAGEMENT, MESSAGING, encodeZcl, fieldsOf, globalFieldsOf, type ZclFrameSpec } from '../../protocol/zcl/index.ts';

/** A decoded unsecured HAN data frame carrying `zcl` on `cluster`. */
function heard(cluster: number, zcl: ZclFrameSpec) {
  const psdu = encodeFrame(
    {
      mac: { type: 'data', seq: 1, dstPan: '0x1234', srcPan: '0x1234', dst: '0x0001', src: '0x0000' },
      nwk: { type: 'data', dst: '0x0001', src: '0x0000', seq: 1, radius: 30 },
      aps: { type: 'data', dstEp: 1, srcEp: 1, cluster, profile: PROFILE_SMART_ENERGY, counter: 1 },
      payload: encodeZcl(cluster, zcl),
    },
    false,
  );
  return new HanDecoder().decode({ n: 1, timestampUs: 1_700_000_000_000_000n, frame: psdu, fcsIncluded: false });
}

const publication: ZclFrameSpec = {
  name: 'Publish Change of Tenancy',
  dir: 'server-to-client',
  seq: 3,
  fields: { providerId: 1, issuerEventId: 2, tariffType: 0, implementationDateTime: 900_000_000, control: 0x4700 },
};

test('fieldsOf gives the fields of the command asked about, typed by its table row', () => {
  const f = heard(DEVICE_MANAGEMENT.id, publication);
  expect(f.aps?.cluster).toBe(hex16(DEVICE_MANAGEMENT.id));
  const fields = fieldsOf(f, DEVICE_MANAGEMENT, 'Publish Change of Tenancy');
  expect(fields?.implementationDateTime).toBe(900_000_000);
  expect(fields?.control).toBe(0x4700);
});

test('fieldsOf gives nothing for another command, another cluster, a global command or no frame', () => {
  const f = heard(DEVICE_MANAGEMENT.id, publication);
  expect(fieldsOf(f, DEVICE_MANAGEMENT, 'Publish Change of Supplier')).toBeUndefined();
  // The same command id and payload on another cluster is not a Publish Change of Tenancy.
  const elsewhere = heard(MESSAGING.id, {
    type: 'cluster',
    cmd: 0x00,
    dir: 'server-to-client',
    seq: 3,
    fields: { messageId: 7, messageControl: 0, startTime: 0, durationInMinutes: 1, message: 'hi' },
  });
  expect(fieldsOf(elsewhere, DEVICE_MANAGEMENT, 'Publish Change of Tenancy')).toBeUndefined();
  expect(fieldsOf(elsewhere, MESSAGING, 'Display Message')?.messageId).toBe(7);
  const read = heard(DEVICE_MANAGEMENT.id, {
    type: 'global',
    cmd: 0x00,
    dir: 'client-to-server',
    seq: 4,
    fields: { attributes: [0x0200, 0x0201] },
  });
  expect(fieldsOf(read, DEVICE_MANAGEMENT, 'Get Change of Tenancy')).toBeUndefined();
  expect(fieldsOf(undefined, DEVICE_MANAGEMENT, 'Publish Change of Tenancy')).toBeUndefined();
});

test('globalFieldsOf reads global commands only, by name', () => {
  const read = heard(DEVICE_MANAGEMENT.id, {
    type: 'global',
    cmd: 0x00,
    dir: 'client-to-server',
    seq: 4,
    fields: { attributes: [0x0200, 0x0201] },
  });
  expect(globalFieldsOf(read.zcl, 'Read Attributes')?.attributes).toEqual([0x0200, 0x0201]);
  expect(globalFieldsOf(read.zcl, 'Read Attributes Response')).toBeUndefined();
  const answer = heard(DEVICE_MANAGEMENT.id, {
    type: 'global',
    cmd: 0x01,
    dir: 'server-to-client',
    seq: 4,
    fields: {
      records: [
        { attributeId: 0x0200, status: 0, dataType: 0xe2, value: 900_000_000 },
        { attributeId: 0x0201, status: 0x86 },
      ],
    },
  });
  const records = globalFieldsOf(answer.zcl, 'Read Attributes Response')?.records ?? [];
  expect(records.map((r) => [r.attributeId, r.status, r.value])).toEqual([
    [0x0200, 0, 900_000_000],
    [0x0201, 0x86, undefined],
  ]);
  expect(globalFieldsOf(heard(DEVICE_MANAGEMENT.id, publication).zcl, 'Read Attributes')).toBeUndefined();
});
