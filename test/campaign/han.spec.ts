// The HAN as in the field: a virtual bench whose PAN comes from its seed (never the old constant
// 0x1a62), NWK-secured with the bench's network key, and an HHT that carries the rig's install
// code. The rig learns the HAN on air; a wrong key or a pinned HAN that is not the one heard is a
// rig fault (INCONCLUSIVE), never a device's FAIL.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, hex16 } from '../../protocol/bytes.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import { readInterPanCcs01 } from '../../protocol/hht-messages.ts';
import { readCaptureSync } from '../../protocol/pcapng.ts';
import { KeyTable } from '../../protocol/security.ts';
import { VIRTUAL_INSTALL_CODE, VIRTUAL_NETWORK_KEY, seededHhtShort, seededPan } from '../../sim/bench.ts';
import { TEST_INSTALL_CODE, runCampaign, verdicts } from '../support/campaign.ts';

const SEED = 7;
const CONFORMANT = {
  'CH-IPAN-001': 'PASS',
  'CH-IPAN-002': 'PASS',
  'CH-IPAN-003': 'PASS',
  'CH-IPAN-004': 'PASS',
  'CH-IPAN-005': 'PASS',
  'CH-IPAN-006': 'PASS',
  'CH-IPAN-007': 'NOT APPLICABLE',
};
const TENANCY = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant', gpf: 'gpf-conformant' };

const events = (dir: string) =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function decodedCapture(dir: string, key: string) {
  const keys = new KeyTable();
  keys.addNetworkKey(fromHex(key));
  const decoder = new HanDecoder(keys);
  return readCaptureSync(readFileSync(join(dir, 'han.pcapng'))).map((p) => ({ frame: p.frame, d: decoder.decode(p) }));
}

test("seeded PAN, secured HAN, the rig's install code: the conformant CH passes, learned on air; a mutant still FAILs", async () => {
  expect(seededPan(SEED)).not.toBe(0x1a62);
  expect(TEST_INSTALL_CODE).not.toBe(VIRTUAL_INSTALL_CODE);
  const c = await runCampaign({ seed: SEED, grep: 'CH-IPAN' });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(verdicts(c, 'CH-IPAN')).toEqual(CONFORMANT);

  const dir = join(c.dir, 'evidence', 'CH-IPAN-004--virtual-1');
  const e = events(dir);
  // Learned from the CH's beacon after its power-on, and the short address from the CH's Rejoin Response.
  expect(e.find((x) => x.kind === 'han-learned')).toMatchObject({
    pan: hex16(seededPan(SEED)),
    channel: 11,
    coordinator: '0x0000',
    coordinatorIeee: '00:db:12:34:56:78:90:a2',
  });
  expect(e.find((x) => x.kind === 'hht-rejoin')).toMatchObject({ outcome: 'admitted', short: hex16(seededHhtShort(SEED)) });

  const frames = decodedCapture(dir, VIRTUAL_NETWORK_KEY);
  // Every HAN frame (NWK, not inter-PAN) is NWK-secured, and the bench's key opens it; the HAN reads went out on the learned PAN.
  const han = frames.filter((f) => f.d.nwk && f.d.nwk.type !== 'inter-pan');
  expect(han.length).toBeGreaterThanOrEqual(6);
  for (const f of han)
    expect([f.d.nwk!.secured, f.d.nwk!.decrypted, f.d.mac.dstPan], f.d.summary).toEqual([true, true, hex16(seededPan(SEED))]);
  // Its three HAN reads (after the join, at 17 h 59, at 18 h 01) from the short address the CH gave it.
  expect(han.filter((f) => f.d.zcl?.name === 'Read Attributes' && f.d.nwk?.src === hex16(seededHhtShort(SEED))).length).toBe(3);
  // The CCS01 carries the install code the rig's environment gives, never a built-in one.
  const ccs01 = frames.map((f) => readInterPanCcs01(f.frame)).filter((m) => m?.kind === 'command');
  expect(ccs01.length).toBeGreaterThan(0);
  for (const m of ccs01) expect(m!.device?.installCode).toBe(TEST_INSTALL_CODE);

  const mutant = await runCampaign({ seed: SEED, grep: 'CH-IPAN-004', firmware: 'ch-hht-stays-24h' });
  expect(verdicts(mutant, 'CH-IPAN')).toEqual({ 'CH-IPAN-004': 'FAIL IPAN-4' });
});

test('a wrong network key on the rig side: no FAIL; the cases that rest on the HAN end INCONCLUSIVE, cannot decrypt', async () => {
  test.setTimeout(300_000);
  const c = await runCampaign({
    tenancy: TENANCY,
    grep: 'CH-IPAN-00[145]|ESME-COT-00[16]|IHD-COT-002|PPMID-COT-003|GPF-COT-010',
    secretsEnv: {
      mqttUser: 'GBCS_RIG_TEST_MQTT_USER',
      mqttPassword: 'GBCS_RIG_TEST_MQTT_PASSWORD',
      networkKey: 'GBCS_RIG_TEST_NETWORK_KEY',
    },
    env: { GBCS_RIG_TEST_NETWORK_KEY: '00112233445566778899aabbccddeeff', GBCS_RIG_TEST_MQTT_USER: 'u', GBCS_RIG_TEST_MQTT_PASSWORD: 'p' },
  });
  expect(c.exitCode, c.stderr).toBe(0);
  const v = verdicts(c);
  expect(
    Object.values(v).filter((x) => x.startsWith('FAIL') || x === 'ERROR'),
    JSON.stringify(v),
  ).toEqual([]);
  expect(Object.keys(v).sort()).toEqual([
    'CH-IPAN-001',
    'CH-IPAN-004',
    'CH-IPAN-005',
    'ESME-COT-001',
    'ESME-COT-006',
    'GPF-COT-010',
    'IHD-COT-002',
    'PPMID-COT-003',
  ]);
  const hanDependent = c.results!.cases.filter((r) => r.id !== 'CH-IPAN-001');
  for (const r of hanDependent) {
    expect([r.id, r.verdict, r.reason], JSON.stringify(r.reason)).toEqual([
      r.id,
      'INCONCLUSIVE',
      expect.stringMatching(/could not be decrypted with the rig's network key/),
    ]);
    expect(r.fix).toMatch(/keys\.networkKeyEnv/);
  }
});

test("a wrong network key on a bench with only a CH: the HHT's unanswered rejoin is no FAIL of IPAN-4, the key being unconfirmed", async () => {
  // No other device sends secured frames here, so nothing shows the rig's key is wrong but the CH's silence towards the HHT.
  const c = await runCampaign({
    grep: 'CH-IPAN-00[456]',
    secretsEnv: {
      mqttUser: 'GBCS_RIG_TEST_MQTT_USER',
      mqttPassword: 'GBCS_RIG_TEST_MQTT_PASSWORD',
      networkKey: 'GBCS_RIG_TEST_NETWORK_KEY',
    },
    env: { GBCS_RIG_TEST_NETWORK_KEY: '00112233445566778899aabbccddeeff', GBCS_RIG_TEST_MQTT_USER: 'u', GBCS_RIG_TEST_MQTT_PASSWORD: 'p' },
  });
  expect(c.exitCode, c.stderr).toBe(0);
  expect(c.results!.cases.map((r) => [r.id, r.verdict, r.fault])).toEqual([
    ['CH-IPAN-004', 'INCONCLUSIVE', 'cannot-decrypt'],
    ['CH-IPAN-005', 'INCONCLUSIVE', 'cannot-decrypt'],
    ['CH-IPAN-006', 'INCONCLUSIVE', 'cannot-decrypt'],
  ]);
});

test('a pinned HAN that is not the one heard is a rig fault; the right pin passes', async () => {
  const wrong = await runCampaign({ grep: 'CH-IPAN-004', han: { pan: 0x1a62 } });
  const r = wrong.results!.cases.find((x) => x.id === 'CH-IPAN-004')!;
  expect([r.verdict, r.reason]).toEqual([
    'INCONCLUSIVE',
    `HAN of the bench: the HAN heard is not the one the rig file pins: PAN 0x1a62 is pinned but the CH's beacon says ${hex16(seededPan(1))}`,
  ]);
  const right = await runCampaign({ grep: 'CH-IPAN-004', han: { pan: seededPan(1), channel: 11 } });
  expect(verdicts(right, 'CH-IPAN')).toEqual({ 'CH-IPAN-004': 'PASS' });
});
