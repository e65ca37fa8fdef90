// The evidence of a secured HAN opens in Wireshark given the key: tshark decrypts every NWK-secured
// frame of a campaign's pcapng with the bench's network key in its ZigBee keyring, and without it
// reads none of their payloads (they really are encrypted on air).
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { VIRTUAL_NETWORK_KEY } from '../../sim/bench.ts';
import { runCampaign, verdicts } from '../support/campaign.ts';
import { keyArgs, tsharkFields } from '../support/tshark.ts';

const FIELDS = ['frame.number', 'zbee_nwk.security', 'zbee.sec.key', 'zbee_aps.cluster', 'zbee_nwk.cmd.id'];
const isTrue = (v: string | undefined) => v === '1' || v === 'True';

test("tshark decrypts the HAN frames of a campaign's evidence pcapng with the network key, and none without it", async () => {
  const c = await runCampaign({ grep: 'CH-IPAN-005' });
  expect(verdicts(c, 'CH-IPAN')).toEqual({ 'CH-IPAN-005': 'PASS' });
  const pcap = join(c.dir, 'evidence', 'CH-IPAN-005--virtual-1', 'han.pcapng');

  const keyed = tsharkFields(pcap, FIELDS, keyArgs([{ hex: VIRTUAL_NETWORK_KEY, label: 'virtual bench' }])).filter((r) =>
    isTrue(r['zbee_nwk.security'][0]),
  );
  // The HHT's Rejoin Request and the CH's Response, its HAN read and the answer, its read after the power-on (unanswered).
  expect(keyed.length).toBe(5);
  for (const r of keyed) {
    expect(r['zbee.sec.key'].length, `frame ${r['frame.number'][0]} decrypted`).toBeGreaterThan(0);
    expect(r['zbee_aps.cluster'].length + r['zbee_nwk.cmd.id'].length, `frame ${r['frame.number'][0]} read past NWK`).toBeGreaterThan(0);
  }
  expect(keyed.some((r) => r['zbee_aps.cluster'][0] === '0x0000')).toBe(true);
  expect(keyed.some((r) => r['zbee_nwk.cmd.id'][0] === '0x07')).toBe(true);

  const keyless = tsharkFields(pcap, FIELDS).filter((r) => isTrue(r['zbee_nwk.security'][0]));
  expect(keyless.map((r) => r['frame.number'][0])).toEqual(keyed.map((r) => r['frame.number'][0]));
  for (const r of keyless) expect([r['zbee.sec.key'], r['zbee_aps.cluster'], r['zbee_nwk.cmd.id']]).toEqual([[], [], []]);
});
