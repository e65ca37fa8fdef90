// The rejoin handshake the virtual devices join the HAN by (sim/han-join.ts): tshark reads our
// NWK Rejoin Request and Rejoin Response with the same command, capability, address and status.
import { test, expect } from '@playwright/test';
import { HanDecoder } from '../../protocol/decoder.ts';
import { buildHhtRejoinRequest } from '../../protocol/hht-messages.ts';
import { HanStack } from '../../sim/han-frames.ts';
import { framesToPcapng, tsharkFields } from '../support/tshark.ts';

test('tshark reads Rejoin Request (capability) and Rejoin Response (address, status) as our decoder does', async () => {
  const device = new HanStack({ short: 0x4a01, ieee: '00:0d:6f:00:00:00:4a:01' }, 0x1a62);
  const ch = new HanStack({ short: 0x0000, ieee: '00:db:12:34:56:78:90:a2' }, 0x1a62);
  // And the HHT's join after its CCS01: from no short address (0xfffe), given one by the CH.
  const hht = '00:db:12:34:56:78:90:f0';
  const frames = [
    device.rejoinRequest(),
    ch.rejoinResponse(device.self, 0x00),
    ch.rejoinResponse({ short: 0x1234, ieee: '00:0d:6f:00:00:00:12:34' }, 0x02),
    buildHhtRejoinRequest({ pan: 0x1a62, ieee: hht, seq: 7 }),
    ch.rejoinResponse({ short: 0xfffe, ieee: hht }, 0x00, 0x2345),
  ];
  const file = await framesToPcapng(frames, 'rejoin');

  const decoder = new HanDecoder();
  const ours = frames.map((frame, i) => decoder.decode({ n: i + 1, timestampUs: 0n, frame, fcsIncluded: false }).nwk);
  const rows = tsharkFields(file, [
    'zbee_nwk.cmd.id',
    'zbee_nwk.src',
    'zbee_nwk.dst',
    'zbee_nwk.cmd.cinfo',
    'zbee_nwk.cmd.addr',
    'zbee_nwk.cmd.rejoin_status',
  ]);
  const theirs = rows.map((r) => ({
    commandId: Number(r['zbee_nwk.cmd.id'][0]),
    src: r['zbee_nwk.src'][0],
    dst: r['zbee_nwk.dst'][0],
    ...(r['zbee_nwk.cmd.cinfo'][0] !== undefined && { capability: Number(r['zbee_nwk.cmd.cinfo'][0]) }),
    ...(r['zbee_nwk.cmd.addr'][0] !== undefined && {
      address: r['zbee_nwk.cmd.addr'][0],
      status: Number(r['zbee_nwk.cmd.rejoin_status'][0]),
    }),
  }));
  expect(ours.map((n) => ({ commandId: n?.commandId, src: n?.src, dst: n?.dst, ...n?.commandFields }))).toEqual(theirs);
  expect(theirs.map((t) => t.commandId)).toEqual([0x06, 0x07, 0x07, 0x06, 0x07]);
  expect(theirs[2]).toMatchObject({ address: '0x1234', status: 2 });
  expect(theirs[3]).toMatchObject({ src: '0xfffe', dst: '0x0000' });
  expect(theirs[4]).toMatchObject({ dst: '0xfffe', address: '0x2345', status: 0 });
});
