// Triggering a Change of Tenancy on a real bench: the rig radio delivering a prepared ECS12 (a real
// RTDS vector) as Tunneling Transfer Data, or a lab hook (command or HTTP) — recorded as evidence.
import { expect } from '@playwright/test';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RigFault } from '../../drivers/faults.ts';
import { RigRadio } from '../../drivers/radio/rig-radio.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { hanDeliveryFrames } from '../../harness/hht.ts';
import { tenancyTriggerFor, type HanSender } from '../../harness/tenancy.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import type { RigBench, RigDevice } from '../../rigs/load.ts';
import { VirtualRigRadioFirmware } from '../../sim/serial-devices.ts';
import { SHARED } from '../support/captures.ts';
import { openBenchLine, test } from '../support/serial-bench.ts';

const ESME = { id: 'esme', role: 'ESME', ieee: '00:db:12:34:56:78:90:a0' } as RigDevice;
const bench = (tenancyTrigger: RigBench['tenancyTrigger']) => ({ id: 'b', tenancyTrigger }) as RigBench;
const change = { implementationUtc: Date.UTC(2026, 10, 21, 12) };
/** The rig radio as a HAN member with the PAN and short address it learned: what HandHeldTerminal.deliverOnHan sends. */
const member = (radio: RigRadio, pan: number, short: number): HanSender => ({
  deliverOnHan: async (ieee, aps, payload, maxBlock) => {
    for (const f of hanDeliveryFrames({ pan, short, seq: 1, ieee, ...aps, payload, maxBlock })) await radio.transmit(f);
  },
});
const events = (e: EvidenceLog) =>
  readFileSync(e.eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('the rig radio delivers a prepared ECS12 to the ESME as Tunneling Transfer Data in APS fragments', async ({ defer }, testInfo) => {
  const line = await openBenchLine('mock', testInfo, defer);
  const firmware = new VirtualRigRadioFirmware(line.device);
  const sent: Uint8Array[] = [];
  firmware.onTransmit((psdu) => sent.push(psdu));
  const radio = await RigRadio.open({ path: line.hostPath }, { binding: line.binding });
  defer(() => radio.close());
  await radio.setChannel(11);
  const evidence = new EvidenceLog(mkdtempSync(join(tmpdir(), 'gbcs-rig-trigger-')), () => 0);
  const file = `${SHARED}gbcs-vectors/3.2_ECS12__ECS12_3.2_SUCCESS_COMMAND_GBCS.HEX`;
  await tenancyTriggerFor(bench({ kind: 'radio', commandFile: file }))!.trigger(ESME, change, evidence, member(radio, 0x4b1d, 0x0bcd));
  expect(sent.length).toBeGreaterThan(1);
  const decoder = new HanDecoder();
  const decoded = sent.map((psdu, i) => decoder.decode({ n: i + 1, timestampUs: 0n, frame: psdu, fcsIncluded: false }));
  const last = decoded.at(-1)!;
  expect(last.aps?.fragment?.reassembled).toHaveLength(sent.length);
  // From the HAN the rig learned and the short address it joined with.
  for (const d of decoded) expect([d.mac.dstPan, d.nwk?.src, d.nwk?.dst64]).toEqual(['0x4b1d', '0x0bcd', ESME.ieee]);
  expect(last.gbcs).toMatchObject({ useCase: 'ECS12', cra: 'command', recipient: '00:db:12:34:56:78:90:a0' });
  expect(events(evidence).find((e) => e.kind === 'tenancy-trigger')).toMatchObject({ device: 'esme', useCase: 'ECS12' });
});

test('a prepared command that is not ECS12 or GCS09 is refused as a rig fault', async ({ defer }, testInfo) => {
  const line = await openBenchLine('mock', testInfo, defer);
  new VirtualRigRadioFirmware(line.device);
  const radio = await RigRadio.open({ path: line.hostPath }, { binding: line.binding });
  defer(() => radio.close());
  const evidence = new EvidenceLog(mkdtempSync(join(tmpdir(), 'gbcs-rig-trigger-')), () => 0);
  const file = `${SHARED}gbcs-vectors/8.11_CCS01__CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX`;
  await expect(
    tenancyTriggerFor(bench({ kind: 'radio', commandFile: file }))!.trigger(ESME, change, evidence, member(radio, 0x4b1d, 0x0bcd)),
  ).rejects.toBeInstanceOf(RigFault);
});

test('a lab hook command gets the request as JSON; a failing one is a rig fault', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-hook-'));
  const out = join(dir, 'request.json');
  const evidence = new EvidenceLog(dir, () => 0);
  const ok = tenancyTriggerFor(
    bench({
      kind: 'lab-hook',
      command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.GBCS_RIG_TENANCY)`],
    }),
  )!;
  await ok.trigger(ESME, change, evidence);
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
    device: 'esme',
    role: 'ESME',
    ieee: ESME.ieee,
    implementationUtc: '2026-11-21T12:00:00.000Z',
    control: 0x4700,
  });
  const failing = tenancyTriggerFor(bench({ kind: 'lab-hook', command: [process.execPath, '-e', 'process.exit(3)'] }))!;
  await expect(failing.trigger(ESME, change, evidence)).rejects.toThrow(/exit code 3/);
  expect(events(evidence).filter((e) => e.kind === 'tenancy-trigger')).toHaveLength(2);
});

test('a lab hook URL is POSTed the request; an HTTP error is a rig fault', async () => {
  const bodies: string[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cot`;
    const hook = tenancyTriggerFor(bench({ kind: 'lab-hook', url }))!;
    const evidence = new EvidenceLog(mkdtempSync(join(tmpdir(), 'gbcs-rig-hook-')), () => 0);
    await hook.trigger(ESME, change, evidence);
    expect(JSON.parse(bodies[0])).toMatchObject({ device: 'esme', implementationUtc: '2026-11-21T12:00:00.000Z' });
    status = 503;
    await expect(hook.trigger(ESME, change, evidence)).rejects.toThrow(/HTTP 503/);
  } finally {
    server.close();
  }
});
