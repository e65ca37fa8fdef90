// Sending a device its OTA image on a real bench (RCN-4): the rig file's lab hook, given the request as JSON
// (image, sha256, header facts), recorded as evidence; a hook that fails is a rig fault, never the device's.
import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RigFault } from '../../drivers/faults.ts';
import { BUILT_IN_MANIFEST, loadFirmwareManifests } from '../../firmware-images/manifest.ts';
import { loadOtaImage } from '../../firmware-images/ota.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { otaDeliveryFor } from '../../harness/ota.ts';
import { loadRig } from '../../rigs/load.ts';
import type { RigBench, RigDevice } from '../../rigs/load.ts';
import { ROOT } from '../../paths.ts';

const IHD = { id: 'ihd', role: 'IHD', ieee: '00:db:12:34:56:78:90:b0' } as RigDevice;
const bench = (otaTrigger: RigBench['otaTrigger']) => ({ id: 'b', otaTrigger }) as RigBench;

test('a lab hook command is run with the OTA request in GBCS_RIG_OTA; a failing one is a rig fault; both in the evidence', async () => {
  const image = await loadOtaImage((await loadFirmwareManifests([BUILT_IN_MANIFEST])).get('ihd-ota-1-1-0')!);
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-ota-hook-'));
  const out = join(dir, 'request.json');
  const evidence = new EvidenceLog(dir, () => 0);
  const hook = otaDeliveryFor(
    bench({
      kind: 'lab-hook',
      command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.env.GBCS_RIG_OTA)`],
    }),
    undefined,
    1000,
  );
  expect(hook.how).toMatch(/^lab hook: /);
  await hook.deliver(IHD, image, evidence);
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
    device: 'ihd',
    role: 'IHD',
    ieee: IHD.ieee,
    image: 'ihd-ota-1-1-0',
    file: image.image.image.file,
    sha256: image.sha256,
    manufacturerCode: '0x7a55',
    imageType: '0x0101',
    fileVersion: '0x01010002',
    size: image.bytes.length,
  });
  const failing = otaDeliveryFor(bench({ kind: 'lab-hook', command: [process.execPath, '-e', 'process.exit(4)'] }), undefined, 1000);
  const e = await failing.deliver(IHD, image, evidence).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(RigFault);
  expect((e as RigFault).message).toMatch(/the OTA lab hook failed: exit code 4/);
  await evidence.close();
  const events = readFileSync(evidence.eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(events.filter((x) => x.kind === 'ota-delivery').map((x) => x.sha256)).toEqual([image.sha256, image.sha256]);
  // No hook in the rig file: the operator is asked.
  expect(otaDeliveryFor(bench(undefined), undefined, 1000).how).toMatch(/^operator: /);
});

test('an OTA lab hook names exactly one of command and url', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbcs-rig-ota-rig-'));
  const rig = (trigger: string) => {
    const file = join(dir, `rig-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      `station: { name: s, lab: l, mqtt: { url: "mqtt://broker:1883" } }
firmwareManifests: [${JSON.stringify(join(ROOT, 'rigs', 'example-lab-firmware.yaml'))}]
benches:
  - id: b1
    devices: [{ id: ch, role: CH, ieee: "00:db:12:34:56:78:90:a2", firmware: example-ch-4-2-1, relay: r }]
    relays: [{ id: r, vendor: tasmota, topic: t, channel: 1 }]
    sniffers: [{ id: s, kind: nrf802154, channel: 11, path: /dev/ttyACM0 }]
    radio: { channel: 11, ieee: "00:db:12:34:56:78:90:f0", path: /dev/ttyACM1 }
    otaTrigger: ${trigger}
`,
    );
    return loadRig(file, { verifyImages: false, requireSecrets: false, env: {} });
  };
  await expect(rig('{ kind: lab-hook, url: "https://lab.example/ota" }')).resolves.toBeDefined();
  const neither = (await rig('{ kind: lab-hook }').catch((x: Error) => x)) as Error;
  expect(neither.message).toMatch(/benches\[0\]\.otaTrigger\.command.*exactly one of command and url/s);
  const both = (await rig('{ kind: lab-hook, url: "https://lab.example/ota", command: [x] }').catch((x: Error) => x)) as Error;
  expect(both.message).toMatch(/benches\[0\]\.otaTrigger\.url.*exactly one of command and url/s);
});
