// The real GBCS messages (RTDS vectors), carried in Tunneling Transfer Data as on the HAN:
// our decoder and tshark's GBCS dissector agree on message code, CRA, parties and counter.
import { test, expect } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HanDecoder } from '../../protocol/decoder.ts';
import { encodeFragmentedFrames } from '../../protocol/encoder.ts';
import { openPcapngFile } from '../../io/capture-files.ts';
import { readCaptureSync } from '../../protocol/pcapng.ts';
import { encodeZcl } from '../../protocol/zcl/index.ts';
import { SHARED } from '../support/captures.ts';
import { tsharkFields } from '../support/tshark.ts';

const VECTORS = `${SHARED}gbcs-vectors/`;
const CRA = { command: 1, response: 2, alert: 3 } as const;

test('GBCS vectors in Tunneling Transfer Data: our reading agrees with tshark', async () => {
  const files = readdirSync(VECTORS)
    .filter((f) => f.endsWith('.HEX'))
    .sort();
  expect(files).toHaveLength(15);
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-gbcs-'));
  const file = join(dir, 'gbcs.pcapng');
  const writer = openPcapngFile(file);
  const iface = writer.addInterface({ name: 'gbcs-vectors' });
  let t = 0;
  files.forEach((f, i) => {
    const message = readFileSync(join(VECTORS, f), 'utf8').trim();
    // Longer than one 802.15.4 frame: APS fragments of at most 61 bytes, as one CH implementation sends them.
    const frames = encodeFragmentedFrames(
      {
        mac: { type: 'data', seq: i, dstPan: '0x1a62', srcPan: '0x1a62', dst: '0x0001', src: '0x0000' },
        nwk: { type: 'data', dst: '0x0001', src: '0x0000', seq: i },
        aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: 0x0704, profile: 0x0109, counter: i },
        // 03 = PUT: the GB-HGRP tunnel header before a GBCS message.
        payload: encodeZcl(0x0704, {
          name: 'Transfer Data',
          dir: 'server-to-client',
          seq: i,
          fields: { tunnelId: 1, data: '03' + message.toLowerCase() },
        }),
      },
      61,
    );
    for (const frame of frames)
      writer.writePacket({ interfaceId: iface, timestampUs: 1_700_000_000_000_000n + BigInt(t++), frame, fcsIncluded: true });
  });
  await writer.close();

  const decoder = new HanDecoder();
  const decoded = readCaptureSync(readFileSync(file)).map((p) => decoder.decode(p));
  const g = 'gbcs_message.grouping_header.';
  const allRows = tsharkFields(file, [
    `${g}message_code`,
    `${g}cra_flag`,
    `${g}originator_counter`,
    `${g}business_originator_id`,
    `${g}business_target_id`,
  ]);
  // One message per vector: the frame that completes its reassembly, in both readings.
  const ours = decoded.filter((d) => d.gbcs);
  const rows = allRows.filter((r) => r[`${g}message_code`].length > 0);
  expect(ours.map((d) => d.n)).toEqual(allRows.flatMap((r, i) => (r[`${g}message_code`].length > 0 ? [i + 1] : [])));
  expect(ours).toHaveLength(files.length);
  const eui = (v: string | undefined) => v?.toLowerCase();
  const table = files.map((f, i) => {
    const o = ours[i].gbcs;
    const r = rows[i];
    return {
      file: f,
      ours: o && [o.messageCode, CRA[o.cra], o.originatorCounter, o.originator, o.recipient].join(' '),
      tshark: [
        Number(r[`${g}message_code`]?.[0]),
        Number(r[`${g}cra_flag`]?.[0]),
        String(BigInt(r[`${g}originator_counter`]?.[0] ?? -1)),
        eui(r[`${g}business_originator_id`]?.[0]),
        eui(r[`${g}business_target_id`]?.[0]),
      ].join(' '),
    };
  });
  const disagreements = table.filter((t) => t.ours !== t.tshark);
  expect(disagreements, JSON.stringify(disagreements, null, 1)).toEqual([]);
});
