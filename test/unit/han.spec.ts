// The HAN the rig learns from the coordinators' beacons (harness/han.ts): which beacon is the CH's,
// and a HAN heard otherwise than the rig file pins is a rig fault, never a device's.
import { test, expect } from '@playwright/test';
import { RigFault } from '../../drivers/faults.ts';
import type { HeardFrame } from '../../harness/capture.ts';
import { hanFromBeacons } from '../../harness/han.ts';
import { buildBeacon } from '../../protocol/beacons.ts';
import { HanDecoder } from '../../protocol/decoder.ts';

const CH_IEEE = '00:db:12:34:56:78:90:a2';
const NEIGHBOUR = '00:0d:6f:00:00:00:99:01';
const PINS = 'the HAN heard is not the one the rig file pins: ';

function beacon(pan: number, epid: string, channel = 11, short = 0x0000): { heard: HeardFrame; channel: number } {
  const psdu = buildBeacon({
    seq: 1,
    pan,
    short,
    panCoordinator: short === 0,
    extendedPanId: epid,
    routerCapacity: true,
    endDeviceCapacity: true,
  });
  const decoded = new HanDecoder().decode({ n: 1, timestampUs: 0n, frame: psdu, fcsIncluded: false });
  return { heard: { atMs: 0, sniffer: 'han', psdu, decoded }, channel };
}

const fault = (f: () => unknown): RigFault => {
  try {
    f();
  } catch (e) {
    if (e instanceof RigFault) return e;
    throw e;
  }
  throw new Error('no rig fault');
};

test("the CH's beacon gives PAN, channel and coordinator; its IEEE when the CH was heard on that PAN", () => {
  expect(hanFromBeacons([beacon(0x4b1d, CH_IEEE, 15)], { ieee: CH_IEEE, heardOnPan: 0x4b1d }, undefined, 'here')).toEqual({
    pan: 0x4b1d,
    channel: 15,
    coordinator: { short: 0, ieee: CH_IEEE },
    extendedPanId: CH_IEEE,
  });
  expect(hanFromBeacons([beacon(0x4b1d, NEIGHBOUR)], { ieee: CH_IEEE }, undefined, 'here').coordinator).toEqual({ short: 0 });
});

test("among several coordinators: the CH's extended PAN id, else the PAN the CH was heard on, else the pinned PAN; else a rig fault", () => {
  const two = [beacon(0x1111, NEIGHBOUR), beacon(0x2222, '00:0d:6f:00:00:00:99:02')];
  expect(hanFromBeacons([...two, beacon(0x3333, CH_IEEE)], { ieee: CH_IEEE }, undefined, 'here').pan).toBe(0x3333);
  expect(hanFromBeacons(two, { ieee: CH_IEEE, heardOnPan: 0x2222 }, undefined, 'here').pan).toBe(0x2222);
  expect(hanFromBeacons(two, { ieee: CH_IEEE }, { pan: 0x1111 }, 'here').pan).toBe(0x1111);
  const ambiguous = fault(() => hanFromBeacons(two, { ieee: CH_IEEE }, undefined, 'bench b1'));
  expect([ambiguous.kind, ambiguous.message, ambiguous.fix]).toEqual([
    'han-unknown',
    "bench b1: the rig cannot tell the CH's HAN among the coordinators that answered its beacon request (PANs 0x1111, 0x2222)",
    "pin the bench's HAN in the rig file: han: { pan, channel }",
  ]);
  expect(fault(() => hanFromBeacons([], { ieee: CH_IEEE }, undefined, 'b')).kind).toBe('han-unknown');
  // A router's beacon is not the coordinator's.
  expect(fault(() => hanFromBeacons([beacon(0x4b1d, CH_IEEE, 11, 0x0001)], { ieee: CH_IEEE }, undefined, 'b')).kind).toBe('han-unknown');
});

test('a pinned PAN or channel that differs from what is heard is a han-mismatch rig fault', () => {
  const b = [beacon(0x4b1d, CH_IEEE, 15)];
  expect(hanFromBeacons(b, { ieee: CH_IEEE }, { pan: 0x4b1d, channel: 15 }, 'b').pan).toBe(0x4b1d);
  const pan = fault(() => hanFromBeacons(b, { ieee: CH_IEEE }, { pan: 0x1a62 }, 'bench b1'));
  expect([pan.kind, pan.message]).toEqual(['han-mismatch', `bench b1: ${PINS}PAN 0x1a62 is pinned but the CH's beacon says 0x4b1d`]);
  const channel = fault(() => hanFromBeacons(b, { ieee: CH_IEEE }, { channel: 20 }, 'b'));
  expect([channel.kind, channel.message]).toEqual([
    'han-mismatch',
    `b: ${PINS}channel 20 is pinned but the CH's beacon was heard on channel 15`,
  ]);
});
