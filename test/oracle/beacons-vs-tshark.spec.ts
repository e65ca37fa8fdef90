// The rig's liveness probe and the HAN it learns rest on beacons: tshark reads our Beacon Request
// and ZigBee beacon (PAN, source, coordinator bit, stack profile, extended PAN id) as our decoder does.
import { test, expect } from '@playwright/test';
import { buildBeacon, buildBeaconRequest } from '../../protocol/beacons.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import { framesToPcapng, tsharkFields } from '../support/tshark.ts';

test('tshark reads our Beacon Request and ZigBee beacons with the same PAN, source, coordinator bit and extended PAN id', async () => {
  const epid = '00:db:12:34:56:78:90:a2';
  const frames = [
    buildBeaconRequest(9),
    buildBeacon({
      seq: 10,
      pan: 0xa908,
      short: 0x0000,
      panCoordinator: true,
      extendedPanId: epid,
      routerCapacity: true,
      endDeviceCapacity: true,
    }),
    buildBeacon({
      seq: 11,
      pan: 0xa908,
      short: 0x4b1d,
      panCoordinator: false,
      associationPermit: true,
      extendedPanId: epid,
      depth: 1,
      routerCapacity: false,
    }),
  ];
  const file = await framesToPcapng(frames, 'beacons');

  const decoder = new HanDecoder();
  const ours = frames.map((frame, i) => decoder.decode({ n: i + 1, timestampUs: 0n, frame, fcsIncluded: false }).mac);
  const rows = tsharkFields(file, [
    'wpan.frame_type',
    'wpan.cmd',
    'wpan.src_pan',
    'wpan.src16',
    'wpan.bcn_coord',
    'wpan.assoc_permit',
    'zbee_beacon.profile',
    'zbee_beacon.depth',
    'zbee_beacon.router',
    'zbee_beacon.ext_panid',
  ]);
  expect(rows.map((r) => Number(r['wpan.frame_type'][0]))).toEqual([3, 0, 0]);
  expect(Number(rows[0]['wpan.cmd'][0])).toBe(0x07);
  expect(ours[0].command).toBe('Beacon Request');
  for (const i of [1, 2]) {
    const r = rows[i],
      m = ours[i];
    expect(m.srcPan).toBe(r['wpan.src_pan'][0]);
    expect(m.src).toBe(r['wpan.src16'][0]);
    const b = m.beacon as Record<string, unknown>;
    expect(b.panCoordinator).toBe(r['wpan.bcn_coord'][0] === 'True' || r['wpan.bcn_coord'][0] === '1');
    expect(b.associationPermit).toBe(r['wpan.assoc_permit'][0] === 'True' || r['wpan.assoc_permit'][0] === '1');
    expect(b.stackProfile).toBe(Number(r['zbee_beacon.profile'][0]));
    expect(b.depth).toBe(Number(r['zbee_beacon.depth'][0]));
    expect(b.extendedPanId).toBe(r['zbee_beacon.ext_panid'][0]);
  }
  expect(rows[1]['wpan.src_pan'][0]).toBe('0xa908');
});
