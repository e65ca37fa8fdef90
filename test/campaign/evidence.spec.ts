// The run's evidence: byte-identical between two runs with the same seed, readable by tshark
// at the project's timestamps, and produced through the real serial bindings (socat ptys) and
// a real MQTT broker (mosquitto) as well as the in-process defaults.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../harness/case.ts';
import { runCampaign, verdicts } from '../support/campaign.ts';
import { COT_CONFORMANT } from '../support/matrix.ts';
import { startMosquitto } from '../support/mosquitto.ts';
import { expectOneActShared } from '../support/side-by-side.ts';

function evidenceHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of readdirSync(join(dir, 'evidence'))) {
    for (const f of readdirSync(join(dir, 'evidence', c)))
      if (f.endsWith('.pcapng') || f === 'events.jsonl') out[`${c}/${f}`] = sha256File(join(dir, 'evidence', c, f));
  }
  return out;
}

test('two runs with the same seed give byte-identical pcapng evidence and identical verdicts', async () => {
  const a = await runCampaign({ seed: 7 });
  const b = await runCampaign({ seed: 7 });
  expect(verdicts(a)).toEqual(verdicts(b));
  const ha = evidenceHashes(a.dir),
    hb = evidenceHashes(b.dir);
  expect(Object.keys(ha).filter((f) => f.endsWith('.pcapng')).length).toBeGreaterThanOrEqual(6);
  expect(ha).toEqual(hb);
});

test("tshark shows an IPAN case's inter-PAN CCS01 exchange at the project's timestamps", async () => {
  const c = await runCampaign({ grep: 'CH-IPAN-001' });
  const dir = join(c.dir, 'evidence', 'CH-IPAN-001--virtual-1');
  const rows = execFileSync(
    'tshark',
    [
      '-r',
      join(dir, 'han.pcapng'),
      '-T',
      'fields',
      '-e',
      'frame.time_epoch',
      '-e',
      'zbee_nwk.frame_type',
      '-e',
      'zbee_aps.cluster',
      '-e',
      'gbcs_message.grouping_header.message_code',
      '-e',
      'gbcs_message.grouping_header.cra_flag',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  )
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  // The HHT's CCS01 (CRA 1) and the CH's response (CRA 2), both inter-PAN Tunneling; then the HHT
  // joins the HAN: Beacon Request and the CH's beacon (MAC only), NWK-secured Rejoin Request and Response (NWK commands).
  expect(rows.map((r) => r.slice(1).join(' ').trim())).toEqual([
    '0x0003 0x0704 0x0001 0x01',
    '0x0003 0x0704 0x0001 0x02',
    '',
    '',
    '0x0001',
    '0x0001',
  ]);
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { t: string; kind: string });
  const frameTimes = events.filter((e) => e.kind === 'frame').map((e) => Date.parse(e.t) / 1000);
  expect(rows.map((r) => Number(r[0]))).toEqual(frameTimes);
  // 59:00 after the power-on that the relay confirmed.
  const poweredOn = events.filter((e) => e.kind === 'power-confirmed').at(-1)!;
  expect(frameTimes[0] - Date.parse(poweredOn.t) / 1000).toBe(59 * 60);
});

test('the campaign passes through real ptys (socat, real serial bindings) and a real mosquitto broker, shared power cycles and WAN cut included', async () => {
  const broker = await startMosquitto();
  try {
    // The inter-PAN suite, and the cases that share a power cycle (of the ESME, of the CH) or the WAN cut side by side.
    const c = await runCampaign({
      transport: 'pty',
      brokerUrl: broker.url,
      tenancy: COT_CONFORMANT,
      grep: 'CH-IPAN|PWR-00|COT-003|RCN-003',
    });
    expect(c.exitCode, c.stderr).toBe(0);
    expect(verdicts(c)).toMatchObject(
      Object.fromEntries(
        ['ESME-PWR-001', 'IHD-PWR-001', 'PPMID-PWR-001', 'CH-PWR-002', 'IHD-COT-003', 'PPMID-COT-003', 'IHD-RCN-003', 'PPMID-RCN-003'].map(
          (id) => [id, 'PASS'],
        ),
      ),
    );
    // Each relay switched once for its shared act, through mosquitto, whoever else held it.
    expectOneActShared(c, 'virtual-1', ['ESME-PWR-001', 'IHD-PWR-001', 'PPMID-PWR-001', 'CH-PWR-002'], 'power-cycle');
    expectOneActShared(c, 'virtual-1', ['IHD-COT-003', 'PPMID-COT-003'], 'power-cycle');
    expectOneActShared(c, 'virtual-1', ['IHD-RCN-003', 'PPMID-RCN-003'], 'wan-cut');
    expect(verdicts(c, 'CH-IPAN')).toEqual({
      'CH-IPAN-001': 'PASS',
      'CH-IPAN-002': 'PASS',
      'CH-IPAN-003': 'PASS',
      'CH-IPAN-004': 'PASS',
      'CH-IPAN-005': 'PASS',
      'CH-IPAN-006': 'PASS',
      'CH-IPAN-007': 'NOT APPLICABLE',
    });
  } finally {
    await broker.stop();
  }
});
