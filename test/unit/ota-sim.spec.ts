// OTA delivery on the virtual HAN (RCN-4): the CH serves the image the DCC sent it, the IHD or PPMID
// fetches every block, applies it at the upgrade time, reboots, rejoins and polls — or, run from a
// mutant's profile, stays off the HAN or polls late. Read over the air as the rig reads it.
import { test, expect } from '@playwright/test';
import path from 'node:path';
import { BUILT_IN_MANIFEST } from '../../firmware-images/manifest.ts';
import { VIRTUAL_OTA_FILE_VERSION, VIRTUAL_OTA_IMAGES, buildVirtualOtaImage } from '../../firmware-images/ota.ts';
import { loadProfile, type HanClientProfile, type MeterProfile } from '../../firmware-images/profiles.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import { HanDecoder } from '../../protocol/decoder.ts';
import { BASIC, OTA_UPGRADE, globalCommandId, globalFieldsOf } from '../../protocol/zcl/index.ts';
import { Air } from '../../sim/air.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';
import { VirtualCommsHub } from '../../sim/comms-hub.ts';
import { VirtualHanClient } from '../../sim/han-client.ts';
import { HanStack, type HanAddress } from '../../sim/han-frames.ts';
import { VirtualMeter } from '../../sim/meter.ts';

const PROFILES = path.join(path.dirname(BUILT_IN_MANIFEST), 'profiles');
const MIN = 60_000;
const PAN = 0x3c3c;
const CH_IEEE = '00:db:12:34:56:78:90:a2';
const ESME: HanAddress = { short: 0x0001, ieee: '00:db:12:34:56:78:00:01' };
const CLIENT: HanAddress = { short: 0x0003, ieee: '00:0d:6f:00:00:00:4a:01' };
const RIG: HanAddress = { short: 0x0bcd, ieee: '00:db:12:34:56:78:90:f0' };

async function bench(clientProfile: string) {
  const clock = new DiscreteEventClock();
  const air = new Air(clock);
  const decoder = new HanDecoder();
  const heard: { t: number; d: DecodedFrame }[] = [];
  air.attach({
    channel: 11,
    receive: (frame, meta) =>
      heard.push({
        t: Number(meta.atUs / 1000n) - clock.epochMs,
        d: decoder.decode({ n: heard.length + 1, timestampUs: meta.atUs, frame, fcsIncluded: false }),
      }),
  });
  const ch = new VirtualCommsHub({
    clock,
    air,
    profile: (await loadProfile(path.join(PROFILES, 'ch-conformant.yaml'))) as never,
    ieee: CH_IEEE,
    pan: PAN,
    hhtShort: RIG.short,
    hanDevices: [ESME.ieee, CLIENT.ieee],
  });
  const meter = new VirtualMeter({
    clock,
    air,
    pan: PAN,
    self: ESME,
    clients: [CLIENT],
    profile: (await loadProfile(path.join(PROFILES, 'esme-conformant.yaml'))) as MeterProfile,
  });
  const profile = (await loadProfile(path.join(PROFILES, `${clientProfile}.yaml`))) as HanClientProfile;
  const client = new VirtualHanClient({ clock, air, pan: PAN, self: CLIENT, servers: [ESME], profile });
  for (const d of [ch, meter, client]) d.power(true);
  const rig = new HanStack(RIG, PAN);
  const image = buildVirtualOtaImage(VIRTUAL_OTA_IMAGES.find((i) => i.clientType === profile.clientType)!);
  const at = (ms: number) => clock.advanceTo(clock.epochMs + ms);
  const zcl = (name: string, since = 0) => heard.filter((h) => h.t >= since && h.d.zcl?.name === name);
  /** The rig's read of the client's OTA attributes (client-side: server-to-client direction) and Basic's build id. */
  const read = async (now: number) => {
    air.transmit(
      rig.zcl(CLIENT.short, OTA_UPGRADE.id, {
        type: 'global',
        cmd: globalCommandId('Read Attributes'),
        dir: 'server-to-client',
        seq: 77,
        fields: { attributes: [0x0002, 0x0006, 0x0007, 0x0008] },
      }),
      { channel: 11, from: RIG.ieee },
    );
    air.transmit(
      rig.zcl(CLIENT.short, BASIC.id, {
        type: 'global',
        cmd: globalCommandId('Read Attributes'),
        dir: 'client-to-server',
        seq: 78,
        fields: { attributes: [0x4000] },
      }),
      { channel: 11, from: RIG.ieee },
    );
    await at(now + 1000);
    const answers = heard.filter((h) => h.t >= now && h.d.zcl?.name === 'Read Attributes Response' && h.d.nwk?.dst === '0x0bcd');
    return answers.flatMap((a) => globalFieldsOf(a.d.zcl, 'Read Attributes Response')!.records.map((r) => [r.attributeId, r.value]));
  };
  return { clock, ch, client, image, at, zcl, read, heard };
}

test('the conformant IHD fetches the image the CH serves, applies it, reboots, rejoins and polls; its attributes show the new version', async () => {
  const b = await bench('ihd-conformant');
  await b.at(10 * MIN);
  expect(await b.read(10 * MIN)).toEqual([
    [0x0002, VIRTUAL_OTA_FILE_VERSION],
    [0x0006, 0],
    [0x0007, 0x7a55],
    [0x0008, 0x0101],
    [0x4000, 'gbcs-rig virtual IHD 1.0'],
  ]);
  const sent = 11 * MIN;
  await b.at(sent);
  expect(b.ch.offerFirmware(CLIENT, b.image)).toMatchObject({ fileVersion: 0x01010002 });
  await b.at(sent + 5 * MIN);
  expect(b.zcl('Image Notify', sent)).toHaveLength(1);
  expect(b.zcl('Query Next Image Response', sent).map((h) => h.d.zcl?.fields?.imageSize)).toEqual([b.image.length]);
  const blocks = b.zcl('Image Block Response', sent);
  expect(blocks.length).toBe(Math.ceil(b.image.length / 48));
  expect(Buffer.concat(blocks.map((h) => Buffer.from(String(h.d.zcl?.fields?.imageData), 'hex')))).toEqual(Buffer.from(b.image));
  const [endRequest] = b.zcl('Upgrade End Request', sent);
  expect(endRequest.d.zcl?.fields?.status).toBe(0);
  const [endResponse] = b.zcl('Upgrade End Response', sent);
  // Rebooted at the upgrade time: a Rejoin Request after its boot, admitted, then its power-up poll.
  const rejoin = b.heard.find((h) => h.t > endResponse.t && h.d.nwk?.command === 'Rejoin Request');
  expect(rejoin!.t - endResponse.t).toBeGreaterThanOrEqual(5000);
  const poll = b.zcl('Get Change of Tenancy', endResponse.t)[0];
  expect(poll.t).toBeGreaterThan(rejoin!.t);
  expect(poll.t - endResponse.t).toBeLessThan(MIN);
  expect(b.client.fileVersion).toBe(0x01010002);
  expect(b.client.events.map((e) => e.kind)).toContain('upgraded');
  const after = await b.read(sent + 5 * MIN);
  expect(after).toContainEqual([0x0002, 0x01010002]);
  expect(after).toContainEqual([0x4000, 'gbcs-rig virtual IHD 1.1']);
  // Offered again, the CH has nothing newer: No Image Available.
  b.ch.offerFirmware(CLIENT, b.image);
  await b.at(sent + 6 * MIN);
  expect(b.zcl('Query Next Image Response', sent + 5 * MIN + 1000).map((h) => h.d.zcl?.fields?.status)).toEqual([0x98]);
});

test('the mutants: one stays off the HAN after its upgrade, the other polls only 30 min after it is back', async () => {
  const off = await bench('ihd-stays-off-after-ota');
  await off.at(10 * MIN);
  off.ch.offerFirmware(CLIENT, off.image);
  await off.at(60 * MIN);
  const [end] = off.zcl('Upgrade End Response');
  expect(off.client.fileVersion).toBe(0x01010002);
  expect(off.client.onHan).toBe(false);
  expect(off.heard.filter((h) => h.t > end.t && h.d.nwk?.src64 === CLIENT.ieee)).toEqual([]);

  const late = await bench('ppmid-polls-30min-after-ota');
  await late.at(10 * MIN);
  late.ch.offerFirmware(CLIENT, late.image);
  await late.at(60 * MIN);
  const [lateEnd] = late.zcl('Upgrade End Response');
  expect(late.client.onHan).toBe(true);
  const poll = late.zcl('Get Change of Tenancy', lateEnd.t)[0];
  expect((poll.t - lateEnd.t) / MIN).toBeGreaterThan(30);
  expect((poll.t - lateEnd.t) / MIN).toBeLessThan(31);
});

test('a client refuses an image that is not its own or fails its integrity code, and keeps its firmware', async () => {
  const b = await bench('ihd-conformant');
  await b.at(10 * MIN);
  const broken = new Uint8Array(b.image);
  broken[300] ^= 0xff;
  b.ch.offerFirmware(CLIENT, broken);
  await b.at(20 * MIN);
  expect(b.zcl('Upgrade End Request').map((h) => h.d.zcl?.fields?.status)).toEqual([0x96]);
  expect(b.zcl('Upgrade End Response')).toEqual([]);
  expect(b.client.fileVersion).toBe(VIRTUAL_OTA_FILE_VERSION);
  expect(b.client.events.find((e) => e.kind === 'ota-image-refused')?.detail).toMatch(/image integrity code at offset/);
  // A PPMID's image offered to the IHD: its Query Next Image names another image type, so the CH has none for it.
  const ppmid = buildVirtualOtaImage(VIRTUAL_OTA_IMAGES.find((i) => i.clientType === 'ppmid')!);
  b.ch.offerFirmware(CLIENT, ppmid);
  await b.at(30 * MIN);
  expect(b.zcl('Query Next Image Response', 20 * MIN).map((h) => h.d.zcl?.fields?.status)).toEqual([0x98]);
});
