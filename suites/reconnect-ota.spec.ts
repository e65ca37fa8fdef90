// Reconnect after an over-the-air firmware upgrade (DOMAIN.md §D, RCN-4; DP094: an OTA update can take a device
// off the network): the rig reads the IHD's or PPMID's firmware over the HAN, has the image sent through the CH
// (ZCL OTA Upgrade), watches the transfer, and times the device's return to the HAN and its next poll of its
// meters from the upgrade (the CH's Upgrade End Response), then reads the firmware again.
//
// "Back on the HAN" is PWR-1's (harness/han-return.ts); "polls again": a ZCL request from the device to one of
// its meters (the ESME or the GPF), such as the Get Change of Tenancy it sends after any power-up (COT-2).
import type { HeardFrame } from '../harness/capture.ts';
import { minutes } from '../harness/clock.ts';
import {
  isRigFault,
  conformanceCase,
  type BenchNeeds,
  type CaseContext,
  type LabSettings,
  type RigDevice,
} from '../harness/conformance.ts';
import { backOnHan, howBack, minutesBetween } from '../harness/han-return.ts';
import { OTA_CLAIM, otaImageFor, type OtaDeviceIdentity, type VerifiedOtaImage } from '../harness/ota.ts';
import { hexN } from '../protocol/bytes.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import { NWK_REJOIN_REQUEST } from '../protocol/nwk.ts';
import { otaHeaderSummary } from '../protocol/ota-image.ts';
import { BASIC, BASIC_ATTRIBUTE, OTA_UPGRADE, OTA_UPGRADE_ATTRIBUTE, globalCommandId, globalFieldsOf } from '../protocol/zcl/index.ts';

const AREA = 'Reconnect polls and HAN drop-outs (docs/requirements.md §D)';
const DP094 = 'DP094';
/** The ZCL OTA Upgrade cluster (0x0019): the image's transfer and its upgrade time. */
const ZCL_OTA = 'ZCL OTA Upgrade';
const CLIENT_ROLES = ['IHD', 'PPMID'] as const;
/** Room in a plan for relay confirmations, the rig radio's join, the reads and liveness checks. */
const STEPS = minutes(10);
/** A device not back (or not polling) within its limit is watched until this many limits after the upgrade, to say how late. */
const LATE_WATCH = 3;

const rejoinLimit = (s: LabSettings) => minutes(s.otaRejoinLimitMinutes);
const resumeLimit = (s: LabSettings) => minutes(s.otaResumePollMinutes);
const mmss = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

function chOf(ctx: CaseContext): RigDevice {
  const ch = ctx.bench.device('CH');
  if (!ch) ctx.rec.notApplicable(`bench ${ctx.bench.id} has no CH to send the image through`);
  return ch;
}

/** The meters a HAN client polls: the bench's ESMEs and the CH's GPF (none: nothing to resume polling). */
function metersOf(ctx: CaseContext): RigDevice[] {
  const meters = [...ctx.bench.devices('ESME'), ...[ctx.bench.gpf()].filter((g) => g !== undefined)];
  if (meters.length === 0) ctx.rec.notApplicable(`bench ${ctx.bench.id} has no ESME or GPF for the ${ctx.device.role} to poll`);
  return meters;
}

/** What the device runs, from its read; a device claiming OTA that does not say cannot be offered an image. */
function runs(ctx: CaseContext, read: FirmwareRead): OtaDeviceIdentity & { fileVersion: number; softwareBuildId?: string } {
  if (!read.identity)
    ctx.rec.unmet(
      `the ${ctx.device.role} claims the OTA Upgrade cluster but did not report its Manufacturer ID, Image Type ID and Current File Version`,
      `check the ${ctx.device.role} answers Read Attributes of its OTA Upgrade client (cluster 0x0019, attributes 0x0002, 0x0007, 0x0008)`,
    );
  return { ...read.identity, ...(read.softwareBuildId !== undefined && { softwareBuildId: read.softwareBuildId }) };
}

/** A ZCL request from the device to one of its meters, other than the OTA cluster's: it polls. */
const pollOf = (ctx: CaseContext, device: RigDevice, meters: RigDevice[]) => (f: DecodedFrame) =>
  f.zcl?.dir === 'client-to-server' &&
  Number(f.aps?.cluster) !== OTA_UPGRADE.id &&
  ctx.capture.isFrom(f, device.ieee) &&
  meters.some((m) => ctx.capture.isTo(f, m.ieee));

/** The CH's Upgrade End Response to the device: the server's word that the device upgrades now (or at its upgrade time). */
const upgradeEndResponseTo = (ctx: CaseContext, device: RigDevice) => (f: DecodedFrame) =>
  Number(f.aps?.cluster) === OTA_UPGRADE.id && f.zcl?.name === 'Upgrade End Response' && ctx.capture.isTo(f, device.ieee);

const upgradeEndRequestFrom = (ctx: CaseContext, device: RigDevice) => (f: DecodedFrame) =>
  Number(f.aps?.cluster) === OTA_UPGRADE.id && f.zcl?.name === 'Upgrade End Request' && ctx.capture.isFrom(f, device.ieee);

/** What the device reports of its firmware over the HAN: the OTA client's attributes and Basic's Software Build Id. */
interface FirmwareRead {
  identity?: OtaDeviceIdentity & { fileVersion: number };
  imageUpgradeStatus?: number;
  softwareBuildId?: string;
}

const readAttributes = (dir: 'client-to-server' | 'server-to-client', attributes: number[]) => ({
  type: 'global' as const,
  cmd: globalCommandId('Read Attributes'),
  dir,
  fields: { attributes },
});

/** Reads the device's OTA client attributes (client-side: asked server→client) and its Basic Software Build Id over the HAN. */
async function readFirmware(ctx: CaseContext, device: RigDevice, when: string): Promise<FirmwareRead> {
  const short = ctx.capture.shortOf(device.ieee);
  if (short === undefined)
    ctx.rec.unmet(
      `the ${device.role} was heard, but never with its short address, so the rig radio cannot read its firmware`,
      `check the ${device.role} joined the HAN (a rejoin or Device_annce carries its address)`,
    );
  const target = { short, ieee: device.ieee };
  const A = OTA_UPGRADE_ATTRIBUTE;
  const ota = await ctx.hht.askOverHan(
    target,
    OTA_UPGRADE.id,
    readAttributes('server-to-client', [A.currentFileVersion, A.imageUpgradeStatus, A.manufacturerId, A.imageTypeId]),
    `ZCL OTA Upgrade Read Attributes (${when})`,
  );
  const basic = await ctx.hht.askOverHan(
    target,
    BASIC.id,
    readAttributes('client-to-server', [BASIC_ATTRIBUTE.softwareBuildId]),
    `ZCL Basic Read Attributes (${when})`,
  );
  const value = (frame: DecodedFrame | undefined, id: number) =>
    globalFieldsOf(frame?.zcl, 'Read Attributes Response')?.records.find((r) => r.attributeId === id && r.status === 0)?.value;
  const [version, status, manufacturer, imageType] = [A.currentFileVersion, A.imageUpgradeStatus, A.manufacturerId, A.imageTypeId].map(
    (id) => value(ota.answer, id),
  );
  const build = value(basic.answer, BASIC_ATTRIBUTE.softwareBuildId);
  const read: FirmwareRead = {
    ...(typeof version === 'number' &&
      typeof manufacturer === 'number' &&
      typeof imageType === 'number' && {
        identity: { manufacturerCode: manufacturer, imageType, fileVersion: version, what: `the ${device.role} ${device.id}` },
      }),
    ...(typeof status === 'number' && { imageUpgradeStatus: status }),
    ...(typeof build === 'string' && { softwareBuildId: build }),
  };
  ctx.evidence.event('firmware-read', {
    device: device.id,
    when,
    ...(read.identity && {
      manufacturerCode: hexN(read.identity.manufacturerCode, 4),
      imageType: hexN(read.identity.imageType, 4),
      currentFileVersion: hexN(read.identity.fileVersion, 8),
    }),
    imageUpgradeStatus: read.imageUpgradeStatus ?? null,
    softwareBuildId: read.softwareBuildId ?? null,
  });
  return read;
}

/**
 * Powers the CH (and its GPF), the meters, then the device, joins the rig radio to the HAN as an HHT while the CH's window
 * is open, and confirms the device joined and polled once (the behaviour it must resume); everything is switched off after `body`.
 */
async function onHanPolling(ctx: CaseContext, ch: RigDevice, meters: RigDevice[], body: (sinceMs: number) => Promise<void>): Promise<void> {
  const device = ctx.device;
  const all = [ch, ...meters.filter((m) => m.id !== ch.id && m.relay.id !== ch.relay.id), device];
  try {
    ctx.rec.step(`power the CH, the meters and the ${device.role}; join the rig radio to the HAN as an HHT`);
    let on = 0;
    for (const d of all) on = (await ctx.power.set(d, true)).atMs;
    try {
      await ctx.hht.becomeMember(`read the ${device.role}'s firmware over the HAN`);
    } catch (e) {
      if (isRigFault(e, 'radio-refused')) await ctx.live.confirm(ch, 'the rig radio could not join the HAN');
      throw e;
    }
    ctx.rec.step(`confirm the ${device.role} joined the HAN and polled its meters: what it must resume after the upgrade`);
    const joined = await ctx.capture.waitFor(backOnHan(ctx.capture, device, on), on + rejoinLimit(ctx.settings) - ctx.clock.now(), on);
    const polled =
      joined &&
      (await ctx.capture.waitFor(
        pollOf(ctx, device, meters),
        on + rejoinLimit(ctx.settings) + resumeLimit(ctx.settings) - ctx.clock.now(),
        on,
      ));
    if (!polled) {
      await ctx.live.confirm([ch, device], `the ${device.role} did not join the HAN or poll after its power-up`);
      ctx.rec.unmet(
        `the ${device.role} ${joined ? 'joined the HAN but did not poll its meters' : 'did not join the HAN'} after its power-up,` +
          ' so whether it comes back after an upgrade cannot be judged',
        `check the ${device.role} is commissioned into the CHF device log and bound to the meters (its COT-002 and PWR-001 cases)`,
      );
    }
    await body(on);
  } finally {
    for (const d of all.reverse()) await ctx.power.set(d, false);
  }
}

/** Has the image sent and watches its transfer to the Upgrade End Response; returns when the device upgrades. */
async function upgrade(ctx: CaseContext, image: VerifiedOtaImage): Promise<number> {
  const device = ctx.device;
  ctx.rec.step(
    `send ${image.image.id} through the CH (${ctx.bench.ota.how}); watch the transfer (${ctx.settings.otaTransferMinutes} min at most)`,
  );
  const sentAt = ctx.clock.now();
  await ctx.bench.ota.deliver(device, image, ctx.evidence);
  const end = await ctx.capture.waitFor(
    (f) => upgradeEndResponseTo(ctx, device)(f) || (upgradeEndRequestFrom(ctx, device)(f) && f.zcl?.fields?.status !== 0),
    minutes(ctx.settings.otaTransferMinutes),
    sentAt,
  );
  const blocks = ctx.capture.all(
    (f) => Number(f.aps?.cluster) === OTA_UPGRADE.id && f.zcl?.name === 'Image Block Response' && ctx.capture.isTo(f, device.ieee),
    sentAt,
  );
  ctx.evidence.event('ota-transfer', {
    device: device.id,
    blocks: blocks.length,
    bytes: blocks.reduce((n, h) => n + String(h.decoded.zcl?.fields?.imageData ?? '').length / 2, 0),
    ended: end?.decoded.summary ?? null,
  });
  if (end && end.decoded.zcl?.name === 'Upgrade End Request')
    ctx.rec.unmet(
      `the ${device.role} refused the image (Upgrade End Request status ${hexN(Number(end.decoded.zcl.fields?.status), 2)}), so it never upgraded`,
      `check ${image.image.id} is an image this ${device.role} accepts (signature, hardware version)`,
    );
  if (!end) {
    await ctx.live.confirm(device, 'the OTA transfer did not finish');
    ctx.rec.unmet(
      `the transfer of ${image.image.id} did not reach its Upgrade End Response within ${ctx.settings.otaTransferMinutes} min ` +
        `(${blocks.length} Image Block Response${blocks.length === 1 ? '' : 's'} to the ${device.role})`,
      'check the CH received the image (the DCC test access) and serves it; raise otaTransferMinutes for a large image',
    );
  }
  const f = end.decoded.zcl?.fields ?? {};
  // The upgrade time is relative to the server's current time (ZCL OTA): 0 s apart means now.
  const delayMs = Math.max(0, (Number(f.upgradeTime) - Number(f.currentTime)) * 1000) || 0;
  // A server that defers the upgrade (to 0xffffffff: until told) leaves nothing to time within the case.
  if (delayMs > minutes(ctx.settings.otaTransferMinutes))
    ctx.rec.unmet(
      `the CH set the upgrade ${Math.round(delayMs / 60_000)} min after its Upgrade End Response, beyond otaTransferMinutes`,
      'have the CH (the DCC test access) upgrade the device at once',
    );
  return end.atMs + delayMs;
}

for (const role of CLIENT_ROLES) {
  conformanceCase(
    {
      id: `${role}-RCN-004`,
      role,
      area: AREA,
      title: `the ${role} rejoins the HAN and resumes polling after an over-the-air firmware upgrade`,
      requirements: ['RCN-4'],
      references: [DP094, ZCL_OTA],
      requirement:
        `After an over-the-air firmware upgrade sent through the CH, the ${role} is back on the HAN within the lab's otaRejoinLimitMinutes ` +
        `(default 15) of the upgrade (the CH's Upgrade End Response) — the CH's Rejoin Response, its Device_annce or a data exchange with the CH — ` +
        'and polls its meters again within otaResumePollMinutes (default 15) of it; its OTA Current File Version then reads the image’s.',
      // Joined and polled once; the operator (on hardware) sends the image; the transfer and an upgrade time up to as long again;
      // back and polling, watched to 3× the longer limit.
      duration: (s) =>
        rejoinLimit(s) +
        resumeLimit(s) +
        minutes(s.operatorAnswerMinutes) +
        2 * minutes(s.otaTransferMinutes) +
        LATE_WATCH * Math.max(rejoinLimit(s), resumeLimit(s)) +
        STEPS,
      // The upgrade restarts the device (off the HAN meanwhile): no other case can use it; the meters are watched.
      needs: { powered: ['CH', 'ESME', role], cycles: [role], radio: true, triggers: [] } satisfies BenchNeeds,
    },
    async (ctx) => {
      const device = ctx.device;
      if (!device.firmware.claims.includes(OTA_CLAIM))
        ctx.rec.notApplicable(
          `the firmware does not claim the ZigBee OTA Upgrade cluster (${OTA_CLAIM}): it takes no upgrade over the air`,
        );
      const ch = chOf(ctx);
      const meters = metersOf(ctx);
      await onHanPolling(ctx, ch, meters, async () => {
        ctx.rec.step(`read the ${role}'s firmware over the HAN (OTA Upgrade client attributes, Basic Software Build Id)`);
        const before = runs(ctx, await readFirmware(ctx, device, 'before the upgrade'));
        const image = await otaImageFor(ctx.bench.rig, device, before);
        ctx.evidence.event('ota-image', {
          image: image.image.id,
          file: image.image.image.file,
          sha256: image.sha256,
          header: otaHeaderSummary(image.header),
          integrityCode: image.integrityCode,
        });
        const upgradeAt = await upgrade(ctx, image);
        ctx.rec.mark(`upgrade (the CH's Upgrade End Response)`, upgradeAt);
        ctx.rec.mark(`rejoin limit (${ctx.settings.otaRejoinLimitMinutes} min)`, upgradeAt + rejoinLimit(ctx.settings));
        const uncertaintyMs = 2 * ctx.capture.timeUncertaintyMs;

        ctx.rec.step(`wait for the ${role} to be back on the HAN (${ctx.settings.otaRejoinLimitMinutes} min at most)`);
        const back = await cameBack(ctx, upgradeAt);
        ctx.evidence.event('observed', {
          what: `the ${role} ${device.id} back on the HAN after its upgrade`,
          how: howBack(device, back),
          frame: back.decoded.n,
        });
        ctx.rec.measured(
          minutesBetween(`${role} ${device.id} off the HAN after its upgrade`, upgradeAt, back.atMs, uncertaintyMs, {
            high: ctx.settings.otaRejoinLimitMinutes,
            text: `within ${ctx.settings.otaRejoinLimitMinutes} min of the upgrade (RCN-4, lab setting otaRejoinLimitMinutes)`,
          }),
        );

        ctx.rec.step(`wait for the ${role} to poll its meters again (${ctx.settings.otaResumePollMinutes} min at most after the upgrade)`);
        const poll = await pollsAgain(ctx, meters, upgradeAt);
        ctx.rec.measured(
          minutesBetween(`${role} ${device.id} polls its meters again after its upgrade`, upgradeAt, poll.atMs, uncertaintyMs, {
            high: ctx.settings.otaResumePollMinutes,
            text: `within ${ctx.settings.otaResumePollMinutes} min of the upgrade (RCN-4, lab setting otaResumePollMinutes)`,
          }),
        );

        ctx.rec.step(`read the ${role}'s firmware again: the image's file version`);
        const after = await readFirmware(ctx, device, 'after the upgrade');
        ctx.evidence.event('ota-versions', {
          device: device.id,
          image: image.image.id,
          sha256: image.sha256,
          before: hexN(before.fileVersion, 8),
          after: after.identity ? hexN(after.identity.fileVersion, 8) : null,
          softwareBuildIdBefore: before.softwareBuildId ?? null,
          softwareBuildIdAfter: after.softwareBuildId ?? null,
        });
        if (after.identity?.fileVersion !== image.header.fileVersion)
          ctx.rec.unmet(
            `the ${role} came back, but reports file version ${after.identity ? hexN(after.identity.fileVersion, 8) : 'none'},` +
              ` not the image's ${hexN(image.header.fileVersion, 8)}: it did not run the upgrade, so its return after one is not shown`,
            `check the ${role} applies ${image.image.id} (its Upgrade End Request said success)`,
          );
      });
    },
  );
}

/** The device back on the HAN after its upgrade, within the limit; else, heard before judged, how late (or never) — a FAIL. */
async function cameBack(ctx: CaseContext, upgradeAt: number): Promise<HeardFrame> {
  const device = ctx.device;
  const limit = rejoinLimit(ctx.settings);
  const match = backOnHan(ctx.capture, device, upgradeAt);
  const back = await ctx.capture.waitFor(match, upgradeAt + limit - ctx.clock.now(), upgradeAt);
  if (back) return back;
  const asked = ctx.capture.all((f) => f.nwk?.commandId === NWK_REJOIN_REQUEST && ctx.capture.isFrom(f, device.ieee), upgradeAt);
  if (asked.length > 0)
    ctx.rec.unmet(
      `the ${device.role} asked the CH to rejoin after its upgrade (${asked.length} Rejoin Request${asked.length === 1 ? '' : 's'},` +
        ` the first ${mmss(asked[0].atMs - upgradeAt)} after it) but the CH did not admit it: that is the CH's to answer`,
      'check the CH still holds the device in its CHF device log (CH-PWR-002)',
    );
  await ctx.live.confirm(device, `the ${device.role} was not back on the HAN within the limit after its upgrade`);
  ctx.rec.step(
    `the ${device.role} missed the limit: watch ${(LATE_WATCH - 1) * ctx.settings.otaRejoinLimitMinutes} min more, to measure how late it is`,
  );
  const late = await ctx.capture.waitFor(match, upgradeAt + LATE_WATCH * limit - ctx.clock.now(), upgradeAt);
  ctx.rec.fail(
    'RCN-4',
    late
      ? `the ${device.role} was back on the HAN only ${mmss(late.atMs - upgradeAt)} after its upgrade (${howBack(device, late)}); the limit is ${ctx.settings.otaRejoinLimitMinutes} min`
      : `the ${device.role} was not back on the HAN ${LATE_WATCH * ctx.settings.otaRejoinLimitMinutes} min after its upgrade` +
          ' (no Rejoin Request, Device_annce or exchange with the CH heard from it since)',
  );
}

/** The device's first poll of its meters after the upgrade, within the limit; else how late (or never) — a FAIL. */
async function pollsAgain(ctx: CaseContext, meters: RigDevice[], upgradeAt: number): Promise<HeardFrame> {
  const device = ctx.device;
  const limit = resumeLimit(ctx.settings);
  const match = pollOf(ctx, device, meters);
  const poll = await ctx.capture.waitFor(match, upgradeAt + limit - ctx.clock.now(), upgradeAt);
  if (poll) return poll;
  await ctx.live.confirm(meters, `the ${device.role}'s meters, for it to poll`);
  ctx.rec.step(
    `the ${device.role} missed the limit: watch ${(LATE_WATCH - 1) * ctx.settings.otaResumePollMinutes} min more, to measure how late it is`,
  );
  const late = await ctx.capture.waitFor(match, upgradeAt + LATE_WATCH * limit - ctx.clock.now(), upgradeAt);
  ctx.rec.fail(
    'RCN-4',
    late
      ? `the ${device.role} polled its meters again only ${mmss(late.atMs - upgradeAt)} after its upgrade (${late.decoded.summary}); the limit is ${ctx.settings.otaResumePollMinutes} min`
      : `the ${device.role} did not poll its meters in the ${LATE_WATCH * ctx.settings.otaResumePollMinutes} min after its upgrade, though back on the HAN`,
  );
}
