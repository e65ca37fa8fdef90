// Change of Tenancy on the HAN: SECMP0056 (DOMAIN.md §B, COT-1…9, and PWR-3). On air: the meters'
// unsolicited publication, the clients' polls (power-up, the meter's power cycle, every 24 hours, no
// flood), what the meters serve afterwards as the rig radio asks; on the observation port: what the clients clear and keep.
import {
  conformanceCase,
  isRigFault,
  powerCycleTogether,
  type BenchNeeds,
  type CaseContext,
  type LabSettings,
  type RigDevice,
  type TenancyMeter,
} from '../harness/conformance.ts';
import { hours, minutes, seconds } from '../harness/clock.ts';
import { measure } from '../harness/measurements.ts';
import { busiestMinute, type HeardFrame, heardAgain, onceEach } from '../harness/capture.ts';
import type { DeviceObserver } from '../harness/observer.ts';
import { DEFAULT_TENANCY_CONTROL, type TenancyTrigger } from '../harness/tenancy.ts';
import { hex16 } from '../protocol/bytes.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import {
  DEVICE_MANAGEMENT,
  DEVICE_MANAGEMENT_ATTRIBUTE,
  MESSAGING,
  PREPAYMENT,
  TOP_UP_SETS,
  fieldsOf,
  globalCommandId,
  globalFieldsOf,
  isoToUtc,
  utcToIso,
} from '../protocol/zcl/index.ts';
import { counted } from '../protocol/words.ts';

const AREA = 'Change of Tenancy on the HAN (docs/requirements.md §B)';
/** Room in a plan for relay confirmations, answers and liveness checks. */
const STEPS = minutes(5);
/** Confirming a Change of Tenancy reached the meter: read every minute for up to ten minutes. */
const CONFIRM_TENANCY = minutes(10);
const pollPeriod = (s: LabSettings) => hours(s.cotPollPeriodHours) + minutes(s.cotPollToleranceMinutes);
const SECMP0056 = 'SECMP0056';
/** Power-ups COT-002 watches: one sample would miss a client that skips its power-up poll every second time. */
const POWER_UPS = 2;
const CLIENT_ROLES = ['IHD', 'PPMID'] as const;
/** What a case holds of the bench (harness/plan.ts): every case powers the CH and asks the meters through the bench radio. */
const holds = (powered: BenchNeeds['powered'], more: Partial<BenchNeeds> = {}): BenchNeeds => ({
  powered: ['CH', ...powered],
  cycles: [],
  radio: true,
  triggers: [],
  ...more,
});
/**
 * A case that sends a Change of Tenancy to `meter`, `afterMs` from its start at the longest: cases side by side that
 * send one to the same meter share one, sent when the last of them is ready (harness/shared-tenancy.ts).
 */
const COT = (meter: TenancyMeter, afterMs: number): Partial<BenchNeeds> => ({
  triggers: ['change-of-tenancy'],
  shares: { act: `change-of-tenancy:${meter}`, afterMs },
});
/** Before COT-003 power-cycles the ESME: its clients settle for half an hour. */
const ESME_CYCLE_AFTER = minutes(30) + STEPS;
/** Before a meter's case triggers: ten minutes to settle, and the retries for logs or a message an earlier change cleared. */
const COT_AFTER_LOGS = minutes(10) + hours(24) + STEPS;
const COT_AFTER_MESSAGE = minutes(10) + hours(12) + STEPS;

/**
 * Powers the given devices on for the case, with the bench's CH first (the HAN's coordinator: no
 * device joins without it), and off again after it, so no device talks into the next case. The rig
 * radio joins the HAN as an HHT while the CH's inter-PAN window is open, so it can ask the meters.
 */
async function powered<T>(ctx: CaseContext, devices: RigDevice[], body: () => Promise<T>): Promise<T> {
  const all = [...ctx.bench.devices('CH').filter((ch) => !devices.some((d) => d.id === ch.id)), ...devices];
  return ctx.power.during(all, async () => {
    if (ctx.bench.device('CH')) await joinRigRadio(ctx);
    return body();
  });
}

/** The rig radio joins the HAN as an HHT while the CH's window is open; a CH that did not answer must first be heard alive. */
async function joinRigRadio(ctx: CaseContext): Promise<void> {
  try {
    await ctx.hht.becomeMember('ask the meters over the HAN');
  } catch (e) {
    if (isRigFault(e, 'radio-refused')) await ctx.live.confirm(hanOf(ctx), 'the rig radio could not join the HAN');
    throw e;
  }
}

/** How far off the implementation time is, as a step says it: `1 hour`, `2 hours`. */
const hoursText = (ms: number) => {
  const h = Math.round(ms / 60_000) / 60;
  return counted(h, 'hour');
};

/**
 * The case's Change of Tenancy at the meter, implementation `offsetMs` after it (in whole seconds, as ZCL carries it): sent
 * as the bench says, or taken from the case alongside that sent it for both (the implementation then at the longest offset
 * either asked). `step` says it, given how far off the implementation is. Returns when it went out and the implementation time.
 */
async function changeOfTenancy(
  ctx: CaseContext,
  meter: RigDevice,
  name: TenancyMeter,
  offsetMs: number,
  step?: (inText: string) => string,
): Promise<{ fromMs: number; implementation: number }> {
  const tenancy = tenancyOf(ctx);
  return ctx.changeOfTenancy(name, offsetMs, {
    announce: (implementation, sharedWith) => {
      ctx.rec.mark('implementation time', implementation);
      const said = step?.(hoursText(implementation - ctx.clock.now()));
      if (sharedWith) ctx.rec.step(`${said ?? 'the Change of Tenancy'}: sent by ${sharedWith} alongside, for this case too`);
      else if (said) ctx.rec.step(said);
    },
    send: (implementation) => tenancy.trigger(meter, { implementationUtc: implementation }, ctx.evidence, ctx.hht),
  });
}

/** How this bench triggers a Change of Tenancy; a bench that names none cannot run the case (a rig fault). */
/**
 * The clearing checks count from the Implementation Date/Time, as the 'honour' reading of COT-5 has it. Under the lab's
 * 'ignore' reading (clear on receipt) they would invert the verdicts — the device that clears on receipt FAILed COT-4,
 * the one that waits PASSed — so until the suite judges from receipt, such a case is INCONCLUSIVE before it acts.
 */
function clearingJudgedFromImplementation(ctx: CaseContext): void {
  if (ctx.settings.cotImplementationTime === 'ignore')
    ctx.rec.inconclusive(
      'rig-misconfigured',
      "the lab reads COT-5 as 'ignore' (data cleared on receipt of the change), but this case judges clearing from the Implementation Date/Time, so its verdict would not follow the lab's reading",
      "set cotImplementationTime: honour to judge the implementation-time reading; the 'ignore' reading is not judged by the rig yet",
    );
}

function tenancyOf(ctx: CaseContext): TenancyTrigger {
  const tenancy = ctx.bench.tenancy;
  if (!tenancy) {
    ctx.rec.inconclusive(
      'rig-misconfigured',
      `bench ${ctx.bench.id} names no way to trigger a Change of Tenancy`,
      'add tenancyTrigger (radio command file or lab hook) to the bench in the rig file',
    );
  }
  return tenancy;
}

/** How the rig sees what the case's IHD or PPMID holds. */
function observerOf(ctx: CaseContext): DeviceObserver {
  const observer = ctx.bench.observers.get(ctx.device.id);
  if (!observer) {
    ctx.rec.inconclusive(
      'observation-unavailable',
      'the rig has no way to see what the device holds',
      'give the device an observation port, or run the operator prompt',
      `${ctx.device.role} ${ctx.device.id}`,
    );
  }
  return observer;
}

function meterOf(ctx: CaseContext): RigDevice {
  const esme = ctx.bench.device('ESME');
  if (!esme) ctx.rec.notApplicable(`bench ${ctx.bench.id} has no ESME to serve the ${ctx.device.role}`);
  return esme;
}

/** The client's Get Change of Tenancy, to `meter` when one is named (a client bound to an ESME and a GPF polls each). */
const getCot = (ctx: CaseContext, client: RigDevice, meter?: RigDevice) => (_f: unknown, h: HeardFrame) =>
  h.decoded.zcl?.name === 'Get Change of Tenancy' &&
  ctx.capture.isFrom(h.decoded, client.ieee) &&
  (meter === undefined || ctx.capture.isTo(h.decoded, meter.ieee));

/** Device Management attributes of the Change of Tenancy (PROTOCOL.md §7). */
const COT_IMPLEMENTATION_ATTRIBUTE = DEVICE_MANAGEMENT_ATTRIBUTE.tenancyImplementation,
  COT_CONTROL_ATTRIBUTE = DEVICE_MANAGEMENT_ATTRIBUTE.tenancyControl;
/** The cluster and attributes that show a Change of Tenancy reached a meter, as the steps name them. */
const COT_ATTRIBUTES_TEXT = `${hex16(DEVICE_MANAGEMENT.id)} ${hex16(COT_IMPLEMENTATION_ATTRIBUTE)}, ${hex16(COT_CONTROL_ATTRIBUTE)}`;
/** Prepayment top-up sets #1…#5: the date/time attribute of each. */
const TOP_UP_TIME_ATTRIBUTES = TOP_UP_SETS.map((set) => set.time);

const recordsOf = (f: DecodedFrame | undefined) => globalFieldsOf(f?.zcl, 'Read Attributes Response')?.records ?? [];
const readAttributes = (attributes: number[]) => ({
  type: 'global' as const,
  cmd: globalCommandId('Read Attributes'),
  dir: 'client-to-server' as const,
  fields: { attributes },
});
/** ZCL UTC seconds → bench ms; undefined for a missing value or ZCL's invalid time (which utcToIso names). */
function utcMs(seconds: unknown): number | undefined {
  const iso = typeof seconds === 'number' ? utcToIso(seconds) : 'invalid';
  return iso === 'invalid' ? undefined : Date.parse(iso);
}

/** A meter as the rig radio addresses it on the HAN. */
type HanTarget = { short: number; ieee: string };

/** A meter as the rig radio addresses it on the HAN: by the short address the sniffer heard it use (heard alive first). */
async function onHan(ctx: CaseContext, meter: RigDevice, name: string): Promise<HanTarget> {
  await ctx.live.confirm(meter, `the rig radio is to ask the ${name}`);
  const short = ctx.capture.shortOf(meter.ieee);
  if (short === undefined)
    ctx.rec.unmet(
      `the ${name} was heard, but never with its short address, so the rig radio cannot address it`,
      `check the ${name} joined the HAN (a rejoin or Device_annce carries its address)`,
    );
  return { short, ieee: meter.ieee };
}

/** The HAN's coordinator, without which no client reaches its meter: a client's silence is judged only with it heard alive. */
const hanOf = (ctx: CaseContext): RigDevice[] => ctx.bench.devices('CH');

/**
 * Whether the Change of Tenancy reached the meter: its attribute 0x0200 holds the implementation
 * time sent, or it published that time. Read every minute for ten minutes; a change that never
 * shows was not delivered (a rig or DCC test access fault): what the meter keeps afterwards proves nothing.
 */
async function tenancyReached(ctx: CaseContext, meter: RigDevice, name: string, implementation: number, sinceMs: number): Promise<void> {
  const target = await onHan(ctx, meter, name);
  const sent = Math.floor(implementation / 1000) * 1000;
  const giveUpAt = ctx.clock.now() + minutes(10);
  for (;;) {
    const read = await ctx.hht.askOverHan(
      target,
      DEVICE_MANAGEMENT.id,
      readAttributes([COT_IMPLEMENTATION_ATTRIBUTE, COT_CONTROL_ATTRIBUTE]),
      'ZCL Device Management Read Attributes (Change of Tenancy)',
    );
    const records = recordsOf(read.answer);
    const held = utcMs(records.find((r) => r.attributeId === COT_IMPLEMENTATION_ATTRIBUTE && r.status === 0)?.value);
    const published = ctx.capture.find(
      (f) =>
        ctx.capture.isFrom(f, meter.ieee) &&
        utcMs(fieldsOf(f, DEVICE_MANAGEMENT, 'Publish Change of Tenancy')?.implementationDateTime) === sent,
      sinceMs,
    );
    if (held === sent || published) {
      const control = records.find((r) => r.attributeId === COT_CONTROL_ATTRIBUTE && r.status === 0)?.value;
      ctx.evidence.event('observed', {
        what: `the ${name} holds the Change of Tenancy`,
        implementation: held !== undefined ? new Date(held).toISOString() : null,
        control: control ?? null,
        published: !!published,
      });
      return;
    }
    if (ctx.clock.now() >= giveUpAt) {
      const reads = held === undefined ? 'nothing' : new Date(held).toISOString();
      ctx.rec.inconclusive(
        'tenancy-not-delivered',
        `10 minutes after the trigger the ${name} neither holds the implementation time sent in attribute ${hex16(COT_IMPLEMENTATION_ATTRIBUTE)} (it reads ${reads}) nor published it`,
        'check the tenancy trigger (prepared command, lab hook, DCC test access) reaches this meter',
        `${name} ${meter.id}`,
      );
    }
    await ctx.clock.sleep(minutes(1));
  }
}

/** Triggers a Change of Tenancy at the meter (changeOfTenancy), and confirms it reached the meter (else INCONCLUSIVE): returns its implementation time. */
async function triggerTenancy(
  ctx: CaseContext,
  meter: RigDevice,
  name: TenancyMeter,
  offsetMs: number,
  step?: (inText: string) => string,
): Promise<number> {
  const { fromMs, implementation } = await changeOfTenancy(ctx, meter, name, offsetMs, step);
  ctx.rec.step(`confirm the change reached the ${name}: its Change of Tenancy attributes (${COT_ATTRIBUTES_TEXT}) or its publication`);
  await tenancyReached(ctx, meter, name, implementation, fromMs);
  return implementation;
}

/** One entry of a meter's logs as it serves them to a HAN client, with when it was recorded. */
interface ServedEntry {
  what: string;
  at: number;
}

/** What a meter serves an IHD of the occupier's prepayment logs: Get Top Up Log, Get Debt Repayment Log, the top-up attribute sets. */
async function servedLogs(
  ctx: CaseContext,
  target: HanTarget,
): Promise<{ entries: ServedEntry[]; answered: boolean; answeredBy: string[] }> {
  const now = isoToUtc(new Date(ctx.clock.now()));
  // A log may come in several commands: the first says how many.
  const topUpCommands = (f: DecodedFrame) => fieldsOf(f, PREPAYMENT, 'Publish Top Up Log')?.totalNumberOfCommands ?? 1;
  const debtCommands = (f: DecodedFrame) => fieldsOf(f, PREPAYMENT, 'Publish Debt Log')?.totalNumberOfCommands ?? 1;
  const topUps = await ctx.hht.askOverHan(
    target,
    PREPAYMENT.id,
    { name: 'Get Top Up Log', dir: 'client-to-server', fields: { latestEndTime: now, numberOfRecords: 0xff } },
    'ZCL Prepayment Get Top Up Log',
    topUpCommands,
  );
  const debts = await ctx.hht.askOverHan(
    target,
    PREPAYMENT.id,
    { name: 'Get Debt Repayment Log', dir: 'client-to-server', fields: { latestEndTime: now, numberOfDebts: 0xff, debtType: 0xff } },
    'ZCL Prepayment Get Debt Repayment Log',
    debtCommands,
  );
  const sets = await ctx.hht.askOverHan(
    target,
    PREPAYMENT.id,
    readAttributes(TOP_UP_TIME_ATTRIBUTES),
    'ZCL Prepayment Read Attributes (top-up sets)',
  );
  const entries: ServedEntry[] = [];
  const add = (what: string, seconds: unknown) => {
    const at = utcMs(seconds);
    if (at !== undefined) entries.push({ what, at });
  };
  for (const f of topUps.answers)
    for (const t of fieldsOf(f, PREPAYMENT, 'Publish Top Up Log')?.topUps ?? [])
      add(`top-up of ${t.topUpAmount} (Get Top Up Log)`, t.topUpTime);
  for (const f of debts.answers)
    for (const d of fieldsOf(f, PREPAYMENT, 'Publish Debt Log')?.debts ?? [])
      add(`debt collection of ${d.amountCollected} (Get Debt Repayment Log)`, d.collectionTime);
  for (const r of recordsOf(sets.answer))
    if (r.status === 0)
      add(`top-up set #${TOP_UP_TIME_ATTRIBUTES.indexOf(r.attributeId) + 1} (attribute ${hex16(r.attributeId)})`, r.value);
  ctx.evidence.event('observed', {
    what: 'prepayment logs the meter serves',
    entries: entries.map((e) => ({ what: e.what, at: new Date(e.at).toISOString() })),
  });
  const questions: [string, { answer?: unknown }][] = [
    ['Get Top Up Log', topUps],
    ['Get Debt Repayment Log', debts],
    ['the top-up attributes', sets],
  ];
  const answeredBy = questions.filter(([, a]) => a.answer !== undefined).map(([q]) => q);
  return { entries, answered: answeredBy.length > 0, answeredBy };
}

/** Runs a GPF case on the bench's GPF; NOT APPLICABLE when the CH names none. */
async function onGpf(ctx: CaseContext, run: (gpf: RigDevice) => Promise<void>): Promise<void> {
  const gpf = ctx.bench.gpf();
  if (!gpf) return ctx.rec.notApplicable(`the CH of bench ${ctx.bench.id} names no GPF`);
  await run(gpf);
}

/** COT-4 on the meter's side: after the implementation time it no longer serves the previous occupier's logs (a client that cleared would fetch them again). */
async function meterStopsServingPreviousOccupier(
  ctx: CaseContext,
  meter: RigDevice,
  powerDevice: RigDevice,
  name: TenancyMeter,
  useCase: string,
): Promise<void> {
  clearingJudgedFromImplementation(ctx);
  const tenancy = tenancyOf(ctx);
  await powered(ctx, [powerDevice], async () => {
    await ctx.clock.sleep(minutes(10));
    const target = await onHan(ctx, meter, name);
    ctx.rec.step(`the rig radio, as an IHD, asks the ${name} for its top-up log, its debt repayment log and its top-up attributes`);
    let before = await servedLogs(ctx, target);
    // An earlier case's tenancy change may have cleared the logs: give the household time to top up again.
    for (let tries = 1; tries < 3 && before.entries.length === 0; tries++) {
      await ctx.clock.sleep(hours(12));
      before = await servedLogs(ctx, target);
    }
    if (!before.answered) {
      ctx.rec.inconclusive(
        'dut-not-heard',
        `the ${name} answered none of the rig radio's questions about its logs`,
        `check the ${name} is on the HAN and serves the Prepayment cluster`,
        `${name} ${meter.id}`,
      );
    }
    if (before.entries.length === 0)
      ctx.rec.unmet(
        `the ${name} served no top-up or debt collection in 24 hours, so there is nothing whose clearing could be seen`,
        `top up at the ${name} (or have the supplier collect debt) before the case`,
      );
    const implementation = await triggerTenancy(
      ctx,
      meter,
      name,
      hours(1),
      (inText) => `trigger a Change of Tenancy (${useCase}) at the ${name} (${tenancy.how}), implementation in ${inText}`,
    );
    await ctx.clock.sleep(implementation + minutes(10) - ctx.clock.now());
    ctx.rec.step('ten minutes after the implementation time, the rig radio asks again');
    const after = await servedLogs(ctx, target);
    if (!after.answered) {
      ctx.rec.inconclusive(
        'dut-not-heard',
        `the ${name} answered none of the questions after the tenancy change, though it did before`,
        `check the ${name} is powered and on the HAN`,
        `${name} ${meter.id}`,
      );
    }
    // "Nothing served" counts only for the questions answered: one answered before the change and unanswered after it
    // says nothing of whether the meter still serves that log.
    const unanswered = before.answeredBy.filter((q) => !after.answeredBy.includes(q));
    if (unanswered.length > 0)
      ctx.rec.unmet(
        `the ${name} answered ${unanswered.join(' and ')} before the tenancy change but not after it, so whether it still serves what they hold cannot be seen`,
        `check the ${name} is on the HAN and answers the Prepayment cluster, then run the case again`,
      );
    const previous = after.entries.filter((e) => e.at < implementation);
    ctx.rec.measured(
      measure("previous occupier's log entries served after the implementation time", previous.length, 'entries', 0, {
        high: 0,
        text: "at most 0 entries: none may be served (COT-4, on the meter's side)",
      }),
      'COT-4',
    );
    if (previous.length > 0) {
      const shown = previous
        .slice(0, 3)
        .map((e) => `${e.what} at ${new Date(e.at).toISOString()}`)
        .join('; ');
      ctx.rec.fail(
        'COT-4',
        `10 minutes after the implementation time the ${name} still serves ${counted(previous.length, 'entry', 'entries')} recorded before it: ${shown}${previous.length > 3 ? '; …' : ''}`,
      );
    }
  });
}

/** COT-1 for a meter (ESME or GPF): a Change of Tenancy at it is published, unsolicited, to its HAN clients. */
async function publishesChangeOfTenancy(
  ctx: CaseContext,
  meter: RigDevice,
  powerDevice: RigDevice,
  name: TenancyMeter,
  useCase: string,
): Promise<void> {
  const clients = CLIENT_ROLES.flatMap((r) => ctx.bench.devices(r));
  if (clients.length === 0) ctx.rec.notApplicable(`bench ${ctx.bench.id} has no IHD or PPMID for the ${useCase} meter to publish to`);
  const tenancy = tenancyOf(ctx);
  await powered(ctx, [powerDevice, ...clients], async () => {
    ctx.rec.step('power the meter and its HAN clients; let them join and settle');
    await ctx.clock.sleep(minutes(10));
    // Shared with cases alongside, it goes out later than this case's own ten minutes: the clients have been on longer, and whether
    // a publication is unsolicited is still judged per client from the moment it went out.
    const { fromMs: from, implementation } = await changeOfTenancy(
      ctx,
      meter,
      name,
      hours(1),
      (inText) => `trigger a Change of Tenancy (${useCase}) at ${meter.id} (${tenancy.how}), implementation in ${inText}`,
    );
    // Unsolicited for a client unless that client asked since the trigger: one client's poll never excuses or condemns the meter's traffic to another.
    const asked = (c: RigDevice, untilMs: number) => ctx.capture.all(getCot(ctx, c), from, untilMs).length > 0;
    const unsolicitedTo = (f: DecodedFrame, h: HeardFrame) => clients.find((c) => ctx.capture.isTo(f, c.ieee) && !asked(c, h.atMs));
    const publication = await ctx.capture.waitFor(
      (f, h) =>
        fieldsOf(f, DEVICE_MANAGEMENT, 'Publish Change of Tenancy') !== undefined &&
        ctx.capture.isFrom(f, meter.ieee) &&
        unsolicitedTo(f, h) !== undefined,
      seconds(60),
      from,
    );
    if (!publication) {
      // Silence proves nothing unless the change reached the meter.
      ctx.rec.step(`no unsolicited publication heard: confirm the change reached the ${name} (its attributes ${COT_ATTRIBUTES_TEXT})`);
      await tenancyReached(ctx, meter, name, implementation, from);
      const unasked = clients.filter((c) => !asked(c, from + seconds(60)));
      if (unasked.length === 0)
        ctx.rec.unmet(
          `every HAN client asked for the Change of Tenancy within 60 s of the trigger, so no publication could be told unsolicited`,
          'repeat the case: the clients polled just as the change arrived',
        );
      return ctx.rec.fail(
        'COT-1',
        `no unsolicited Publish Change of Tenancy from ${meter.id} within 60 s of the Change of Tenancy (${tenancy.how}) to ${unasked.map((c) => c.id).join(', ')}, which did not ask, though the ${name} holds it`,
      );
    }
    ctx.evidence.event('observed', {
      what: 'unsolicited Publish Change of Tenancy',
      to: unsolicitedTo(publication.decoded, publication)!.id,
    });
    const fields = fieldsOf(publication.decoded, DEVICE_MANAGEMENT, 'Publish Change of Tenancy');
    ctx.rec.measured(
      measure(
        'publication delay after the trigger',
        Number(((publication.atMs - from) / 1000).toFixed(3)),
        's',
        ctx.capture.timeUncertaintyMs / 1000,
        { high: 60, text: 'within 60 s of the Change of Tenancy (COT-1)' },
      ),
      'COT-1',
    );
    const published = utcMs(fields?.implementationDateTime);
    if (published !== undefined && Math.abs(published - Math.floor(implementation / 1000) * 1000) > 1000) {
      ctx.rec.fail(
        'COT-1',
        `the publication carries implementation ${new Date(published).toISOString()}, not the ${new Date(implementation).toISOString()} sent`,
      );
    }
    ctx.evidence.event('observed', {
      what: 'Publish Change of Tenancy',
      control: fields?.control,
      expectedControl: DEFAULT_TENANCY_CONTROL,
    });
  });
}

conformanceCase(
  {
    id: 'ESME-COT-001',
    role: 'ESME',
    area: AREA,
    title: 'the ESME publishes a Change of Tenancy to its HAN clients, unsolicited',
    requirements: ['COT-1'],
    references: [SECMP0056],
    requirement: `On receiving a Change of Tenancy (GBCS ECS12), the ESME publishes it on the HAN unsolicited (Device Management ${hex16(DEVICE_MANAGEMENT.id)} Publish Change of Tenancy) to its HAN clients.`,
    duration: () => minutes(10) + seconds(60) + CONFIRM_TENANCY + STEPS,
    needs: holds(['ESME', ...CLIENT_ROLES], COT('ESME', minutes(10) + STEPS)),
  },
  (ctx) => publishesChangeOfTenancy(ctx, ctx.device, ctx.device, 'ESME', 'ECS12'),
);

conformanceCase(
  {
    id: 'GPF-COT-001',
    role: 'CH',
    area: AREA,
    title: 'the GPF publishes a Change of Tenancy to its HAN clients, unsolicited',
    requirements: ['COT-1'],
    references: [SECMP0056],
    requirement: `On receiving a Change of Tenancy (GBCS GCS09), the GPF in the CH publishes it on the HAN unsolicited (Device Management ${hex16(DEVICE_MANAGEMENT.id)} Publish Change of Tenancy) to its HAN clients.`,
    duration: () => minutes(10) + seconds(60) + CONFIRM_TENANCY + STEPS,
    needs: holds([...CLIENT_ROLES], COT('GPF', minutes(10) + STEPS)),
    examines: 'gpf',
  },
  (ctx) => onGpf(ctx, (gpf) => publishesChangeOfTenancy(ctx, gpf, ctx.device, 'GPF', 'GCS09')),
);

for (const role of CLIENT_ROLES) {
  conformanceCase(
    {
      id: `${role}-COT-002`,
      role,
      area: AREA,
      title: `the ${role} asks for Change of Tenancy information at power-up`,
      requirements: ['COT-2'],
      references: [SECMP0056],
      requirement: `The ${role} sends Get Change of Tenancy to its meter when it powers up: at each of ${POWER_UPS} power-ups in a row.`,
      duration: (s) => minutes(5) + POWER_UPS * (minutes(s.rejoinLimitMinutes) + minutes(1)) + STEPS,
      needs: holds(['ESME', role], { cycles: [role] }),
    },
    async (ctx) => {
      const esme = meterOf(ctx);
      const limit = minutes(ctx.settings.rejoinLimitMinutes);
      await powered(ctx, [esme], async () => {
        await ctx.clock.sleep(minutes(5));
        for (let n = 1; n <= POWER_UPS; n++) {
          if (n > 1) await ctx.clock.sleep(minutes(1));
          ctx.rec.step(`power the ${role} on (power-up ${n} of ${POWER_UPS})`);
          const on = await ctx.power.set(ctx.device, true);
          ctx.rec.mark(`rejoin limit (${ctx.settings.rejoinLimitMinutes} min)`, on.atMs + limit);
          try {
            const poll = await ctx.capture.waitFor(getCot(ctx, ctx.device), limit, on.atMs);
            if (!poll) await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${role} did not poll after its power-up`);
            if (!poll)
              return ctx.rec.fail(
                'COT-2',
                `no Get Change of Tenancy from the ${role} within ${ctx.settings.rejoinLimitMinutes} minutes of its power-up (${n} of ${POWER_UPS})`,
              );
            ctx.rec.measured(
              measure(
                `first poll after power-up ${n}`,
                Number(((poll.atMs - on.atMs) / 60_000).toFixed(4)),
                'min',
                (on.uncertaintyMs + ctx.capture.timeUncertaintyMs) / 60_000,
                {
                  high: ctx.settings.rejoinLimitMinutes,
                  text: `within ${ctx.settings.rejoinLimitMinutes} min of power-up (rejoin limit, lab setting)`,
                },
              ),
              'COT-2',
            );
          } finally {
            await ctx.power.set(ctx.device, false);
          }
        }
      });
    },
  );

  conformanceCase(
    {
      id: `${role}-COT-003`,
      role,
      area: AREA,
      title: `the ${role} re-establishes communication and polls after an ESME power cycle`,
      requirements: ['PWR-3', 'COT-2'],
      references: [SECMP0056],
      requirement: `After an ESME power cycle, the ${role} re-establishes communication and asks for Change of Tenancy information (it rejoined its meter).`,
      duration: (s) => minutes(30) + minutes(s.rejoinLimitMinutes) + STEPS,
      // The IHD's and the PPMID's case side by side share one power cycle of the ESME: each watches its own client after it.
      needs: holds(['ESME', role], { cycles: ['ESME'], shares: { act: 'power-cycle:ESME', afterMs: ESME_CYCLE_AFTER } }),
    },
    async (ctx) => {
      const esme = meterOf(ctx);
      const limit = minutes(ctx.settings.rejoinLimitMinutes);
      await powered(ctx, [esme, ctx.device], async () => {
        await ctx.clock.sleep(minutes(30));
        ctx.rec.step('power-cycle the ESME');
        const back = await powerCycleTogether(ctx, esme);
        ctx.rec.mark(`rejoin limit (${ctx.settings.rejoinLimitMinutes} min)`, back.atMs + limit);
        // Communication with the ESME re-established: a poll of the ESME itself, not of another meter.
        const poll = await ctx.capture.waitFor(getCot(ctx, ctx.device, esme), limit, back.atMs);
        if (!poll) await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${role} did not poll after the ESME came back`);
        if (!poll)
          return ctx.rec.fail(
            'PWR-3',
            `no Get Change of Tenancy from the ${role} within ${ctx.settings.rejoinLimitMinutes} minutes of the ESME's power-on`,
          );
        ctx.rec.measured(
          measure(
            'poll after the ESME came back',
            Number(((poll.atMs - back.atMs) / 60_000).toFixed(4)),
            'min',
            (back.uncertaintyMs + ctx.capture.timeUncertaintyMs) / 60_000,
            { high: ctx.settings.rejoinLimitMinutes, text: `within ${ctx.settings.rejoinLimitMinutes} min (rejoin limit, lab setting)` },
          ),
          'PWR-3',
        );
      });
    },
  );

  conformanceCase(
    {
      id: `${role}-COT-004`,
      role,
      area: AREA,
      title: `the ${role} asks at least once every 24 hours`,
      requirements: ['COT-3'],
      references: [SECMP0056],
      requirement: `The ${role} sends Get Change of Tenancy at least once every 24 hours (not necessarily at midnight UTC; every 3 hours is fine). The period is a lab setting.`,
      duration: (s) => 3 * hours(s.cotPollPeriodHours) + hours(1) + STEPS,
      needs: holds(['ESME', role]),
    },
    async (ctx) => {
      const esme = meterOf(ctx);
      const period = hours(ctx.settings.cotPollPeriodHours);
      await powered(ctx, [esme, ctx.device], async () => {
        const start = ctx.clock.now();
        ctx.rec.step(`watch the ${role}'s polls for three periods`);
        const periods = [1, 2, 3].map((n) => [`poll period ${n} of 3`, start + n * period] as const);
        ctx.progress.stagesOf(
          [...periods, ['the hour after the third poll period', start + 3 * period + hours(1)]],
          'judge the longest silence',
        );
        await ctx.clock.sleep(3 * period + hours(1));
        ctx.capture.assertHealthy();
        await longestSilence(ctx, esme, start, 'longest time without a Get Change of Tenancy', 'over three periods');
      });
    },
  );

  conformanceCase(
    {
      id: `${role}-COT-009`,
      role,
      area: AREA,
      title: `the ${role}'s polls do not flood the HAN`,
      requirements: ['COT-9'],
      references: [SECMP0056],
      requirement: `Outside power-up and rejoin, the ${role} sends each of its meters at most the lab's limit of Get Change of Tenancy per minute (default one).`,
      duration: (s) => minutes(15) + pollPeriod(s) + minutes(15) + STEPS,
      needs: holds(['ESME', role]),
    },
    async (ctx) => {
      const esme = meterOf(ctx);
      await powered(ctx, [esme, ctx.device], async () => {
        // Power-up polls are allowed to come close together: count from 15 minutes after power-up.
        await ctx.clock.sleep(minutes(15));
        const start = ctx.clock.now();
        // A whole poll period (and the device clock's tolerance), so the window holds the polls of even a 24-hour poller.
        ctx.rec.step(
          `watch the ${role}'s polls for a poll period (${ctx.settings.cotPollPeriodHours} h + ${ctx.settings.cotPollToleranceMinutes} min)`,
        );
        // Watched continuously: the first minute over the limit ends the watch, a flooder need not be watched for a day.
        ctx.progress.waiting(
          'a poll period of polls, counted per minute',
          start + pollPeriod(ctx.settings) + minutes(15),
          'judge the busiest minute',
        );
        const busiestSoFar = busiestMinuteWatch(ctx, start);
        await ctx.clock.waitFor(() => busiestSoFar() > ctx.settings.cotPollRateLimitPerMinute, pollPeriod(ctx.settings) + minutes(15));
        ctx.capture.assertHealthy();
        if (ctx.capture.all(getCot(ctx, ctx.device), start).length === 0) {
          await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${role} did not poll in a poll period`);
          ctx.rec.unmet(
            `the ${role} sent no Get Change of Tenancy in a whole poll period after power-up, so its rate cannot be measured (${role}-COT-004 judges the period)`,
            `run ${role}-COT-004`,
          );
        }
        const { count: busiest, frames } = busiestPollMinute(ctx, start);
        // The polls of that minute: the frames the report marks as decisive.
        ctx.evidence.event('observed', { what: 'the polls of the busiest minute', polls: busiest, frames });
        ctx.rec.measured(
          measure('most Get Change of Tenancy in any minute', busiest, 'per min', 0, {
            high: ctx.settings.cotPollRateLimitPerMinute,
            text: `at most ${ctx.settings.cotPollRateLimitPerMinute} per minute (COT-9, lab setting)`,
          }),
          'COT-9',
        );
      });
    },
  );
}

/**
 * COT-3 over a span: the longest time the case's client went without a Get Change of Tenancy to the ESME from
 * `startMs` to now — the first gap from `startMs` (its power-on), the last to now — measured against
 * the poll period and the device clock's tolerance. The silence is the client's only if it, its meter
 * and the HAN's coordinator were there to be heard.
 */
async function longestSilence(ctx: CaseContext, esme: RigDevice, startMs: number, name: string, span: string): Promise<void> {
  // The ESME's own polls: a client that shares its polls between two meters must still ask each every period.
  const heard = ctx.capture.all(getCot(ctx, ctx.device, esme), startMs);
  await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${ctx.device.role}'s polls are judged ${span}`);
  const edges = [startMs, ...heard.map((h) => h.atMs), ctx.clock.now()];
  const gaps = edges.slice(1).map((t, i) => t - edges[i]);
  const longest = Math.max(...gaps);
  // The polls that bound it (none before the first gap, none after the last): the frames the report marks as decisive.
  const at = gaps.indexOf(longest);
  const bounds = [heard[at - 1], heard[at]].filter((h) => h !== undefined).map((h) => h.decoded.n);
  ctx.evidence.event('observed', { what: `the polls around the ${name}`, polls: heard.length, frames: bounds });
  const limit = ctx.settings.cotPollPeriodHours + ctx.settings.cotPollToleranceMinutes / 60;
  ctx.rec.measured(
    measure(name, Number((longest / 3_600_000).toFixed(4)), 'h', 0.0001, {
      high: Number(limit.toFixed(4)),
      text: `at most ${ctx.settings.cotPollPeriodHours} h, with ${ctx.settings.cotPollToleranceMinutes} min for the device's clock (COT-3, lab settings)`,
    }),
    'COT-3',
  );
}

/**
 * The most Get Change of Tenancy the case's client sent one meter in any minute since `sinceMs`: counted
 * per meter asked (a client bound to an ESME and a GPF polls each of them), each poll once (two sniffers hear it twice).
 */
function busiestPollMinute(ctx: CaseContext, sinceMs: number): { count: number; frames: number[] } {
  const byMeter = new Map<string, HeardFrame[]>();
  for (const h of ctx.capture.all(getCot(ctx, ctx.device), sinceMs)) {
    const meter = h.decoded.nwk?.dst ?? '?';
    const polls = byMeter.get(meter);
    if (polls) polls.push(h);
    else byMeter.set(meter, [h]);
  }
  let busiest: HeardFrame[] = [];
  for (const polls of byMeter.values()) {
    const minute = busiestMinute(onceEach(polls));
    if (minute.length > busiest.length) busiest = minute;
  }
  return { count: busiest.length, frames: busiest.map((h) => h.decoded.n) };
}

/**
 * busiestPollMinute as the frames come, for a watch asked at every event of a day: each call reads only the frames
 * heard since the last. Only ends the watch early; the judgement is busiestPollMinute over the whole capture.
 */
function busiestMinuteWatch(ctx: CaseContext, sinceMs: number): () => number {
  const isPoll = getCot(ctx, ctx.device);
  const lastMinute = new Map<string, number[]>();
  const lastPoll = new Map<string, HeardFrame>();
  let read = 0;
  let busiest = 0;
  return () => {
    for (const h of ctx.capture.heardFrom(read)) {
      if (h.atMs < sinceMs || !isPoll(h.decoded, h)) continue;
      const meter = h.decoded.nwk?.dst ?? '?';
      const again = lastPoll.get(meter);
      lastPoll.set(meter, h);
      if (again && heardAgain(again, h)) continue;
      const polls = lastMinute.get(meter) ?? [];
      polls.push(h.atMs);
      while (h.atMs - polls[0] >= 60_000) polls.shift();
      lastMinute.set(meter, polls);
      busiest = Math.max(busiest, polls.length);
    }
    read = ctx.capture.heardCount;
    return busiest;
  };
}

/** The previous occupier's data COT-4 names: all the kinds an IHD or PPMID may hold. */
const OCCUPIER_DATA = ['consumption-history', 'top-ups', 'debt', 'messages'] as const;

for (const role of CLIENT_ROLES) {
  conformanceCase(
    {
      id: `${role}-COT-005`,
      role,
      area: AREA,
      title: `the ${role} clears the previous occupier's data at the implementation time, and keeps the new occupier's`,
      requirements: ['COT-4', 'COT-5', 'COT-7', 'COT-3'],
      references: [SECMP0056],
      requirement: `After a Change of Tenancy, the ${role} clears (where stored) consumption history, top-up history, debt recovery information and supplier messages recorded before the Implementation Date/Time — when that time is reached, not before (lab setting: the reading of COT-5) — and keeps what is recorded after it; and it goes on polling (COT-3) across the change.`,
      duration: (s) => hours(5) + minutes(10) + hours(s.cotPollPeriodHours) + STEPS,
      needs: holds(['ESME', role], COT('ESME', hours(2) + STEPS)),
    },
    async (ctx) => {
      const esme = meterOf(ctx);
      clearingJudgedFromImplementation(ctx);
      const observer = observerOf(ctx);
      const tenancy = tenancyOf(ctx);
      await powered(ctx, [esme, ctx.device], async () => {
        const start = ctx.clock.now();
        ctx.rec.step(`let the ${role} collect the occupier's data for two hours`);
        ctx.progress.waiting(
          "the occupier's data to build up",
          start + hours(2),
          `ask what the ${role} holds, then trigger a Change of Tenancy`,
        );
        await ctx.clock.sleep(hours(2));
        const before = await observer.retained(OCCUPIER_DATA, ctx.clock.now(), ctx.evidence);
        if (before.holding.length === 0) await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${role} holds nothing to clear`);
        if (before.holding.length === 0)
          ctx.rec.unmet(
            `the ${role} holds none of the data COT-4 names after two hours on the HAN, so its clearing cannot be seen (${observer.how})`,
            `check the ${role} receives the meter's data (readings, top-ups, messages)`,
          );
        const implementation = await triggerTenancy(
          ctx,
          esme,
          'ESME',
          hours(2),
          (inText) => `trigger a Change of Tenancy at the ESME (${tenancy.how}), implementation in ${inText}`,
        );
        if (ctx.settings.cotImplementationTime === 'honour') {
          // COT-5 is about a span: the data must be there all the way to the implementation time, so it is watched, not sampled once.
          const every = observer.watchEveryMs;
          ctx.rec.step(
            every
              ? `until the implementation time, every ${every / 60_000} minutes: the data must still be there (COT-5)`
              : 'an hour before the implementation time: the data must still be there (COT-5; an operator is asked once)',
          );
          const samples = every ? [] : [implementation - hours(1)];
          for (let t = ctx.clock.now() + (every ?? 0); every && t < implementation - minutes(1); t += every) samples.push(t);
          if (every) samples.push(implementation - minutes(1));
          for (const t of samples) {
            await ctx.clock.sleep(Math.max(0, t - ctx.clock.now()));
            const early = await observer.retained(before.holding, implementation, ctx.evidence);
            if (early.holding.length < before.holding.length) {
              ctx.rec.fail(
                'COT-5',
                `the ${role} cleared ${before.holding.filter((k) => !early.holding.includes(k)).join(', ')} ${Math.round((implementation - ctx.clock.now()) / 60_000)} minutes before the implementation time (${observer.how})`,
              );
            }
          }
        }
        await ctx.clock.sleep(implementation + minutes(10) - ctx.clock.now());
        ctx.rec.step('ten minutes after the implementation time: nothing from before it may remain (COT-4)');
        const after = await observer.retained(OCCUPIER_DATA, implementation, ctx.evidence);
        if (!after.cleared)
          ctx.rec.fail(
            'COT-4',
            `10 minutes after the implementation time the ${role} still holds ${after.kept.join(', ')} recorded before it (${observer.how})`,
          );
        // Through a whole poll period: a device that re-clears on every publication it takes in shows it at its next poll.
        const pastPoll = ctx.clock.now() + hours(ctx.settings.cotPollPeriodHours + 1);
        ctx.progress.waiting(
          'the next poll after the change (a poll period and an hour)',
          pastPoll,
          "check the new occupier's data is kept",
        );
        await ctx.clock.sleep(hours(ctx.settings.cotPollPeriodHours + 1));
        ctx.rec.step(
          `${ctx.settings.cotPollPeriodHours + 1} hours later, past the next poll: the new occupier's data must be kept (COT-7)`,
        );
        const later = await observer.retained(OCCUPIER_DATA, implementation, ctx.evidence);
        if (!later.cleared)
          ctx.rec.fail(
            'COT-4',
            `the ${role} holds ${later.kept.join(', ')} recorded before the implementation time again (${observer.how})`,
          );
        // The new occupier's first hour of consumption, recorded just after the implementation time, must still be there.
        if (
          before.holding.includes('consumption-history') &&
          !(await observer.keeps('consumption-history', implementation, implementation + hours(1), ctx.evidence))
        ) {
          ctx.rec.fail(
            'COT-7',
            `a poll period after the implementation time the ${role} no longer holds the consumption history recorded in the hour after it: the new occupier's data was cleared too (${observer.how})`,
          );
        }
        // A side effect of clearing: a client that stops polling after the change leaves the next occupier's changes unseen.
        ctx.rec.step(
          `from power-up to now, across the change: the ${role} kept polling at least every ${ctx.settings.cotPollPeriodHours} h (COT-3)`,
        );
        await longestSilence(
          ctx,
          esme,
          start,
          'longest time without a Get Change of Tenancy, across the Change of Tenancy',
          'across the Change of Tenancy',
        );
      });
    },
  );
}

/** The rig radio, as an IHD, asks the ESME for its last supplier message (Messaging Get Last Message). */
const askLastMessage = (ctx: CaseContext, esme: HanTarget) =>
  ctx.hht.askOverHan(esme, MESSAGING.id, { name: 'Get Last Message', dir: 'client-to-server' }, 'ZCL Messaging Get Last Message');

/** The id of the supplier message the ESME shows before the change; INCONCLUSIVE when it shows none in 12 hours. */
async function activeSupplierMessage(ctx: CaseContext, esme: HanTarget): Promise<number> {
  ctx.rec.step('the rig radio, as an IHD, asks the ESME for its last message');
  let before = await askLastMessage(ctx, esme);
  // A supplier message may be cleared by an earlier case's tenancy change: give the supplier time to send another.
  for (let tries = 1; tries < 3 && !fieldsOf(before.answer, MESSAGING, 'Display Message'); tries++) {
    await ctx.clock.sleep(hours(6));
    before = await askLastMessage(ctx, esme);
  }
  if (!before.answer) {
    ctx.rec.inconclusive(
      'dut-not-heard',
      'the ESME did not answer Get Last Message',
      'check the ESME is on the HAN and serves the Messaging cluster',
      `ESME ${ctx.device.id}`,
    );
  }
  const shown = fieldsOf(before.answer, MESSAGING, 'Display Message');
  if (!shown) {
    ctx.rec.unmet(
      `the ESME had no active supplier message in 12 hours (it answered ${before.answer.summary}), so its clearing cannot be seen`,
      'have the supplier send the ESME a message before the case',
    );
  }
  return shown.messageId;
}

/** Ten minutes after the implementation time: the ESME must no longer return the previous occupier's message (COT-6). */
async function previousMessageGone(ctx: CaseContext, esme: HanTarget, messageId: number, implementation: number): Promise<void> {
  await ctx.clock.sleep(implementation + minutes(10) - ctx.clock.now());
  const cancelMessage = (f: DecodedFrame) =>
    fieldsOf(f, MESSAGING, 'Cancel Message') !== undefined && ctx.capture.isFrom(f, ctx.device.ieee);
  const cancelled = ctx.capture.all(cancelMessage, implementation - hours(1));
  ctx.evidence.event('observed', { what: 'Cancel Message from the ESME', count: cancelled.length });
  ctx.rec.step('ten minutes after the implementation time, the rig radio asks again');
  const after = await askLastMessage(ctx, esme);
  if (!after.answer) {
    ctx.rec.inconclusive(
      'dut-not-heard',
      'the ESME did not answer Get Last Message after the tenancy change, though it did before',
      'check the ESME is powered and on the HAN',
      `ESME ${ctx.device.id}`,
    );
  }
  if (fieldsOf(after.answer, MESSAGING, 'Display Message')?.messageId === messageId) {
    ctx.rec.fail(
      'COT-6',
      `after the implementation time the ESME still returns the previous occupier's message ${messageId} to Get Last Message` +
        ` (no Cancel Message seen: ${cancelled.length === 0})`,
    );
  }
}

conformanceCase(
  {
    id: 'ESME-COT-006',
    role: 'ESME',
    area: AREA,
    title: "the ESME clears the last supplier message, so a new occupier never sees the previous one's",
    requirements: ['COT-6'],
    references: [SECMP0056],
    requirement: `After a Change of Tenancy, the ESME clears its last active supplier message (e.g. Cancel Message on the Messaging cluster ${hex16(MESSAGING.id)}): asked for its last message as an IHD would, it no longer returns the previous occupier's.`,
    duration: () => minutes(10) + hours(12) + hours(1) + minutes(10) + STEPS,
    needs: holds(['ESME', ...CLIENT_ROLES], COT('ESME', COT_AFTER_MESSAGE)),
  },
  async (ctx) => {
    clearingJudgedFromImplementation(ctx);
    const tenancy = tenancyOf(ctx);
    const clients = CLIENT_ROLES.flatMap((r) => ctx.bench.devices(r));
    await powered(ctx, [ctx.device, ...clients], async () => {
      await ctx.clock.sleep(minutes(10));
      const esme = await onHan(ctx, ctx.device, 'ESME');
      const messageId = await activeSupplierMessage(ctx, esme);
      const implementation = await triggerTenancy(
        ctx,
        ctx.device,
        'ESME',
        hours(1),
        (inText) => `trigger a Change of Tenancy at the ESME (${tenancy.how}), implementation in ${inText}`,
      );
      await previousMessageGone(ctx, esme, messageId, implementation);
    });
  },
);

conformanceCase(
  {
    id: 'ESME-COT-010',
    role: 'ESME',
    area: AREA,
    title: "the ESME no longer serves the previous occupier's top-ups and debt collections",
    requirements: ['COT-4'],
    references: [SECMP0056],
    requirement: `After a Change of Tenancy, the ESME no longer serves HAN clients the top-ups and debt collections recorded before the Implementation Date/Time (Prepayment ${hex16(PREPAYMENT.id)}: Get Top Up Log, Get Debt Repayment Log, top-up attribute sets), asked as an IHD would: COT-4 on the meter's side, or a client that cleared would fetch them again.`,
    duration: () => minutes(10) + hours(24) + hours(1) + minutes(10) + STEPS,
    needs: holds(['ESME'], COT('ESME', COT_AFTER_LOGS)),
  },
  (ctx) => meterStopsServingPreviousOccupier(ctx, ctx.device, ctx.device, 'ESME', 'ECS12'),
);

conformanceCase(
  {
    id: 'GPF-COT-010',
    role: 'CH',
    area: AREA,
    title: "the GPF no longer serves the previous occupier's top-ups and debt collections",
    requirements: ['COT-4'],
    references: [SECMP0056],
    requirement: `After a Change of Tenancy, the GPF in the CH no longer serves HAN clients the top-ups and debt collections recorded before the Implementation Date/Time (Prepayment ${hex16(PREPAYMENT.id)}: Get Top Up Log, Get Debt Repayment Log, top-up attribute sets), asked as an IHD would: COT-4 on the meter's side.`,
    duration: () => minutes(10) + hours(24) + hours(1) + minutes(10) + STEPS,
    needs: holds([], COT('GPF', COT_AFTER_LOGS)),
    examines: 'gpf',
  },
  (ctx) => onGpf(ctx, (gpf) => meterStopsServingPreviousOccupier(ctx, gpf, ctx.device, 'GPF', 'GCS09')),
);

for (const role of CLIENT_ROLES) {
  conformanceCase(
    {
      id: `${role}-COT-008`,
      role,
      area: AREA,
      title: `${role === 'IHD' ? 'an' : 'a'} ${role} that was off when the Change of Tenancy went out catches up at power-up`,
      requirements: ['COT-8', 'COT-2'],
      references: [SECMP0056],
      requirement: `A ${role} that was off when the publication went out polls at its next power-up and clears what was recorded before the implementation time.`,
      duration: (s) => hours(4) + minutes(s.rejoinLimitMinutes) + minutes(10) + STEPS,
      needs: holds(['ESME', role], { ...COT('ESME', hours(2) + STEPS), cycles: [role] }),
    },
    async (ctx) => {
      const esme = meterOf(ctx);
      clearingJudgedFromImplementation(ctx);
      const observer = observerOf(ctx);
      tenancyOf(ctx); // a bench that cannot trigger the change is INCONCLUSIVE before two hours of set-up, not after
      await powered(ctx, [esme], async () => {
        ctx.rec.step(`power the ${role} and let it collect the occupier's data for two hours`);
        await ctx.power.set(ctx.device, true);
        await ctx.clock.sleep(hours(2));
        const before = await observer.retained(OCCUPIER_DATA, ctx.clock.now(), ctx.evidence);
        if (before.holding.length === 0) await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${role} holds nothing to clear`);
        if (before.holding.length === 0)
          ctx.rec.unmet(
            `the ${role} holds none of the data COT-4 names after two hours on the HAN, so its clearing cannot be seen (${observer.how})`,
            `check the ${role} receives the meter's data (readings, top-ups, messages)`,
          );
        ctx.rec.step(`power the ${role} off; the Change of Tenancy goes out while it is off`);
        await ctx.power.set(ctx.device, false);
        // Shared with a case alongside, the change goes out when both are ready: this one's client is off by then, and
        // stays off until an hour after the implementation time, as alone.
        const implementation = await triggerTenancy(ctx, esme, 'ESME', hours(1));
        ctx.progress.waiting('the implementation time and an hour, the device off', implementation + hours(1), `power the ${role} on`);
        await ctx.clock.sleep(implementation + hours(1) - ctx.clock.now());
        ctx.rec.step(`power the ${role} on again, after the implementation time`);
        const on = await ctx.power.set(ctx.device, true);
        try {
          const limit = minutes(ctx.settings.rejoinLimitMinutes);
          ctx.rec.mark(`rejoin limit (${ctx.settings.rejoinLimitMinutes} min)`, on.atMs + limit);
          const poll = await ctx.capture.waitFor(getCot(ctx, ctx.device), limit, on.atMs);
          if (!poll) await ctx.live.confirm([...hanOf(ctx), esme, ctx.device], `the ${role} did not poll after its power-up`);
          if (!poll)
            return ctx.rec.fail(
              'COT-8',
              `no Get Change of Tenancy from the ${role} within ${ctx.settings.rejoinLimitMinutes} minutes of the power-up that followed the publication`,
            );
          await ctx.clock.sleep(minutes(10));
          const after = await observer.retained(OCCUPIER_DATA, implementation, ctx.evidence);
          if (!after.cleared)
            ctx.rec.fail(
              'COT-8',
              `after catching up, the ${role} still holds ${after.kept.join(', ')} recorded before the implementation time (${observer.how})`,
            );
        } finally {
          await ctx.power.set(ctx.device, false);
        }
      });
    },
  );
}
