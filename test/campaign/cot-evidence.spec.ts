// The Change of Tenancy evidence as a reviewer opens it: tshark reads the Publish and Get Change
// of Tenancy in the case's pcapng with the same fields as the project's decoder.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HanDecoder } from '../../protocol/decoder.ts';
import { readCaptureSync } from '../../protocol/pcapng.ts';
import { utcToIso } from '../../protocol/zcl/index.ts';
import { runCampaign } from '../support/campaign.ts';
import { keyArgs, tsharkFields } from '../support/tshark.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { KeyTable } from '../../protocol/security.ts';
import { VIRTUAL_NETWORK_KEY } from '../../sim/bench.ts';

const P = 'zbee_zcl_se.device_management.publish_change_of_tenancy.';

test('tshark decodes the Publish / Get Change of Tenancy of ESME-COT-001 with the same fields as our decoder', async () => {
  const c = await runCampaign({
    tenancy: { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant' },
    grep: 'ESME-COT-001',
  });
  const pcap = join(c.dir, 'evidence', 'ESME-COT-001--virtual-1', 'han.pcapng');
  // The virtual HAN is NWK-secured: both readers are given its key, as a reviewer gives Wireshark the lab's.
  const keys = new KeyTable();
  keys.addNetworkKey(fromHex(VIRTUAL_NETWORK_KEY));
  const decoder = new HanDecoder(keys);
  const ours = readCaptureSync(readFileSync(pcap)).map((p) => decoder.decode(p));
  const rows = tsharkFields(
    pcap,
    [
      'zbee_zcl_se.device_management.cmd.srv_tx.id',
      'zbee_zcl_se.device_management.cmd.srv_rx.id',
      `${P}provider_id`,
      `${P}issuer_event_id`,
      `${P}tariff_type`,
      `${P}implementation_date`,
      `${P}proposed_tenancy_change_control`,
      'frame.time_epoch',
    ],
    keyArgs([{ hex: VIRTUAL_NETWORK_KEY, label: 'virtual bench' }]),
  );
  expect(rows.length).toBe(ours.length);
  const publications = ours.map((f, i) => ({ f, r: rows[i] })).filter(({ f }) => f.zcl?.name === 'Publish Change of Tenancy');
  const polls = ours.map((f, i) => ({ f, r: rows[i] })).filter(({ f }) => f.zcl?.name === 'Get Change of Tenancy');
  expect(publications.length).toBeGreaterThanOrEqual(2);
  expect(polls.length).toBeGreaterThanOrEqual(2);
  for (const { r } of polls) expect(Number(r['zbee_zcl_se.device_management.cmd.srv_rx.id'][0])).toBe(0x00);
  for (const { f, r } of publications) {
    const fields = f.zcl!.fields as {
      providerId: number;
      issuerEventId: number;
      tariffType: number;
      implementationDateTime: number;
      control: number;
    };
    expect(Number(r['zbee_zcl_se.device_management.cmd.srv_tx.id'][0])).toBe(0x00);
    expect(Number(r[`${P}provider_id`][0])).toBe(fields.providerId);
    expect(Number(r[`${P}issuer_event_id`][0])).toBe(fields.issuerEventId);
    expect(Number(r[`${P}tariff_type`][0])).toBe(fields.tariffType);
    // tshark prints the UTC time as a date (e.g. `Jan  1, 2026 04:00:00.000000000 UTC`); compare the instant.
    const theirs = Date.parse(r[`${P}implementation_date`][0].replace(/\.\d+ UTC$/, ' UTC'));
    expect(Number.isFinite(theirs), r[`${P}implementation_date`][0]).toBe(true);
    expect(theirs).toBe(Date.parse(utcToIso(fields.implementationDateTime)));
    // Known tshark 4.0 defect: it reads the 32-bit control bitmap big-endian (ZCL is little-endian).
    const swapped = Number(r[`${P}proposed_tenancy_change_control`][0]);
    expect((((swapped & 0xff) << 24) | ((swapped & 0xff00) << 8) | ((swapped >>> 8) & 0xff00) | (swapped >>> 24)) >>> 0).toBe(
      fields.control,
    );
  }
});
