// Reconnect polls and HAN drop-outs (DOMAIN.md §D, the DP094 context): RCN-1, an IHD or PPMID whose meter
// (ESME, GPF) goes out of reach retries with a bounded back-off and recovers soon after it returns; RCN-2, on
// recovery it polls Change of Tenancy and refreshes its data; RCN-3, with the CH's WAN cut the HAN keeps
// working (a top-up code keyed in on the PPMID is credited by the meter, the clients' reads are answered) and
// the WAN's return changes nothing on the HAN; RCN-4, after an over-the-air firmware upgrade sent through the CH, the
// device is back on the HAN and polls its meters again (its own block, at the end).
//
// On air, a client's "request" to a meter is a ZCL client-to-server frame from it to the meter; "answered" is a
// server-to-client frame back from the meter with the same ZCL sequence number within ANSWER_WITHIN. The client
// "recovered" at its first request answered after the meter's return.
import {
  conformanceCase,
  isRigFault,
  type BenchNeeds,
  type CaseContext,
  type LabSettings,
  type RigDevice,
  roleOf,
} from '../harness/conformance.ts';
import { span } from '../harness/shared-act.ts';
import { busiestMinute, type HeardFrame, onceEach } from '../harness/capture.ts';
import { minutes, mmss, seconds } from '../harness/clock.ts';
import { measure, measureOnly } from '../harness/measurements.ts';
import { backOnHan, howBack, minutesBetween } from '../harness/han-return.ts';
import { OTA_CLAIM, otaImageFor, type OtaDeviceIdentity, type VerifiedOtaImage } from '../harness/ota.ts';
import type { BenchHands, MeterOutage, Switched, WanSwitch } from '../harness/reconnect.ts';
import { hex16, hexN } from '../protocol/bytes.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import { NWK_REJOIN_REQUEST } from '../protocol/nwk.ts';
import { otaHeaderSummary } from '../protocol/ota-image.ts';
import {
  BASIC,
  BASIC_ATTRIBUTE,
  OTA_UPGRADE,
  OTA_UPGRADE_ATTRIBUTE,
  PREPAYMENT,
  fieldsOf,
  globalCommandId,
  globalFieldsOf,
  isoToUtc,
  utcToIso,
} from '../protocol/zcl/index.ts';
import { counted } from '../protocol/words.ts';

const AREA = 'Reconnect polls and HAN drop-outs (docs/requirements.md §D)';
/** DP094: the SEC CSC minutes of 26 May 2020 (WAN and HAN failures, prepayment customers must still top up). */
const DP094 = 'DP094';
/** RCN-2 asks for the Change of Tenancy poll COT-2 asks for at power-up and rejoin. */
const SECMP0056 = 'SECMP0056';
const CLIENT_ROLES = ['IHD', 'PPMID'] as const;
type ClientRole = (typeof CLIENT_ROLES)[number];
/** The devices settle on the HAN, and show they talk to their meter, before anything is taken away. */
const SETTLE = minutes(10);
/** Room in a plan for relay confirmations, the rig radio's join and liveness checks. */
const STEPS = minutes(5);
/** A request counts as answered by a frame back within this long. */
const ANSWER_WITHIN = seconds(30);
/** Once the outage has lasted its time, it ends just after the client's next request, watched this long at most. */
const NEXT_REQUEST_WATCH = minutes(30);
/** With no recovery limit set (measure-only), a client is watched this long after its meter's return. */
const MEASURE_ONLY_WATCH = minutes(60);
/** A client not recovered within the limit is watched until this many limits after the return, to measure how late it is. */
const LATE_WATCH = 3;
/** A top-up code keyed in on the PPMID goes to the meter within this long. */
const TOP_UP_SENT_WITHIN = minutes(2);
/** After the WAN's return, the HAN is watched this long for any change. */
const AFTER_WAN = minutes(15);

const outageMs = (s: LabSettings) => minutes(s.reconnectOutageMinutes);
/** How long after the meter's return the client is watched for its recovery. */
const recoveryWatch = (s: LabSettings) =>
  s.reconnectRecoveryMinutes === null ? MEASURE_ONLY_WATCH : LATE_WATCH * minutes(s.reconnectRecoveryMinutes);
/** An outage's plan at its longest: settle, the outage, the wait for the client's next request, the recovery watch. */
const outagePlan = (s: LabSettings) => SETTLE + outageMs(s) + NEXT_REQUEST_WATCH + recoveryWatch(s) + STEPS;
const minutesOf = (ms: number) => Number((ms / 60_000).toFixed(4));

/** The meters a client reads: the ESME, or the GPF in the CH. */
type MeterRole = 'ESME' | 'GPF';

/** The case's meter; NOT APPLICABLE when the bench has none (no ESME, or a CH that names no GPF). */
function meterOf(ctx: CaseContext, role: MeterRole): RigDevice {
  const meter = role === 'ESME' ? ctx.bench.device('ESME') : ctx.bench.gpf();
  if (!meter) ctx.rec.notApplicable(role === 'ESME' ? `bench ${ctx.bench.id} has no ESME` : `the CH of bench ${ctx.bench.id} names no GPF`);
  return meter;
}

/** The devices a meter needs powered: the ESME its own relay; the GPF lives in the CH, powered with it. */
const poweredFor = (meter: RigDevice): RigDevice[] => (meter.role === 'ESME' ? [meter] : []);

const hanOf = (ctx: CaseContext): RigDevice[] => ctx.bench.devices('CH');
const handsOf = (ctx: CaseContext): BenchHands => ({ power: ctx.power, evidence: ctx.evidence, clock: ctx.clock });

/** Powers the CH, then `devices`, for the case, and everything off after it, so no device talks into the next case. */
async function powered(ctx: CaseContext, devices: RigDevice[], body: () => Promise<void>): Promise<void> {
  const all = [...hanOf(ctx), ...devices];
  ctx.rec.step(`power ${all.map((d) => `the ${d.role} ${d.id}`).join(', ')}, the CH first`);
  await ctx.power.during(all, body);
}

/** A ZCL request from the client to the meter. */
const isRequest = (ctx: CaseContext, client: RigDevice, meter: RigDevice) => (f: DecodedFrame) =>
  f.zcl?.dir === 'client-to-server' && ctx.capture.isFrom(f, client.ieee) && ctx.capture.isTo(f, meter.ieee);

/** The client's requests to the meter from `sinceMs` to `untilMs`; a frame heard twice (two sniffers, a MAC retry) counts once. */
function requests(ctx: CaseContext, client: RigDevice, meter: RigDevice, sinceMs: number, untilMs = Infinity): HeardFrame[] {
  return onceEach(ctx.capture.all(isRequest(ctx, client, meter), sinceMs, untilMs));
}

/** The meter's answer to a request: a server-to-client frame to the client with its ZCL sequence number, within ANSWER_WITHIN. */
function answerTo(ctx: CaseContext, client: RigDevice, meter: RigDevice, request: HeardFrame): HeardFrame | undefined {
  return ctx.capture.find(
    (f, h) =>
      h.atMs <= request.atMs + ANSWER_WITHIN &&
      f.zcl?.dir === 'server-to-client' &&
      f.zcl.seq === request.decoded.zcl?.seq &&
      ctx.capture.isFrom(f, meter.ieee) &&
      ctx.capture.isTo(f, client.ieee),
    request.atMs,
  );
}

/** The first of the client's requests since `sinceMs` the meter answered, with its answer. */
function firstAnswered(
  ctx: CaseContext,
  client: RigDevice,
  meter: RigDevice,
  sinceMs: number,
  untilMs = Infinity,
  which: (request: HeardFrame) => boolean = () => true,
) {
  for (const request of requests(ctx, client, meter, sinceMs, untilMs).filter(which)) {
    const answer = answerTo(ctx, client, meter, request);
    if (answer) return { request, answer };
  }
  return undefined;
}

/**
 * The precondition of every case: the client talks to its meter (a request of it answered since its power-on).
 * A client never answered cannot show what it does when the meter goes.
 */
async function talking(ctx: CaseContext, client: RigDevice, meter: RigDevice, sinceMs: number): Promise<void> {
  ctx.rec.step(`let the ${client.role} settle for ${SETTLE / 60_000} min: it must talk to the ${roleOf(meter)} (a request answered)`);
  await ctx.clock.waitFor(() => firstAnswered(ctx, client, meter, sinceMs) !== undefined || ctx.capture.faulted() !== undefined, SETTLE);
  ctx.capture.assertHealthy();
  if (firstAnswered(ctx, client, meter, sinceMs)) return void (await ctx.clock.sleep(Math.max(0, sinceMs + SETTLE - ctx.clock.now())));
  await ctx.live.confirm([...hanOf(ctx), client], `the ${client.role} was not heard talking to the ${roleOf(meter)}`);
  ctx.rec.unmet(
    `no request of the ${client.role} to the ${roleOf(meter)} ${meter.id} was answered in ${SETTLE / 60_000} min on the HAN,` +
      ' so what it does when the meter goes out of reach cannot be seen',
    `check the ${client.role} is paired with the ${roleOf(meter)} (commissioned in the CHF device log, bound to its clusters)`,
  );
}

/** How the bench takes the meter out of reach; one that cannot (a real GPF shares the CH's relay) is INCONCLUSIVE, before anything is powered. */
function outageOf(ctx: CaseContext, meter: RigDevice): MeterOutage {
  const means = ctx.bench.reconnect.outage(meter);
  if (!means)
    ctx.rec.inconclusive(
      'rig-misconfigured',
      `bench ${ctx.bench.id} cannot take the ${roleOf(meter)} ${meter.id} out of reach alone: it shares the CH's relay`,
      'run the case on a virtual bench, or give the bench a way to silence the GPF (not in the rig file yet)',
    );
  return means;
}

/** What an outage showed: when the meter went and came back, the client's requests meanwhile, and its recovery if it came. */
interface Outage {
  gone: Switched;
  back: Switched;
  asked: HeardFrame[];
  recovered?: { request: HeardFrame; answer: HeardFrame };
}

/**
 * Takes the meter out of reach for the lab's outage time, then — so the client's back-off is caught at its
 * longest — brings it back just after the client's next request, and watches for the client's recovery. A client
 * that asked nothing during the outage cannot show its back-off: INCONCLUSIVE. A bench that cannot take the meter
 * away alone (a real GPF shares the CH's relay) is INCONCLUSIVE too.
 */
async function outage(ctx: CaseContext, client: RigDevice, meter: RigDevice, seen: string): Promise<Outage> {
  const means = outageOf(ctx, meter);
  const L = ctx.settings.reconnectOutageMinutes;
  ctx.rec.step(`take the ${roleOf(meter)} out of reach for ${L} min (${means.how})`);
  // RCN-2's cases side by side share the outage (needs.shares): it begins once, and ends once both are done with it.
  const { started: gone, finished: back } = await span(
    ctx.together,
    () => means.begin(meter, handsOf(ctx)),
    async (gone) => {
      await ctx.clock.sleep(outageMs(ctx.settings));
      ctx.capture.assertHealthy(gone.atMs);
      if (requests(ctx, client, meter, gone.atMs).length === 0) {
        await ctx.live.confirm([...hanOf(ctx), client], `the ${client.role} asked nothing during the outage`);
        ctx.rec.unmet(
          `the ${client.role} sent the ${roleOf(meter)} no request in the ${L} min it was out of reach, so ${seen} cannot be seen`,
          "lengthen reconnectOutageMinutes past the time between the client's reads, or check the client reads this meter",
        );
      }
      ctx.rec.step(
        `bring the ${roleOf(meter)} back just after the ${client.role}'s next request (${NEXT_REQUEST_WATCH / 60_000} min at most)`,
      );
      const after = ctx.clock.now();
      await ctx.capture.waitFor((f) => isRequest(ctx, client, meter)(f), NEXT_REQUEST_WATCH, after);
    },
    () => means.end(meter, handsOf(ctx)),
  );
  ctx.rec.mark(`the ${roleOf(meter)} back`, back.atMs);
  const asked = requests(ctx, client, meter, gone.atMs, back.atMs);
  ctx.evidence.event('observed', { what: `the ${client.role}'s requests to the out-of-reach ${roleOf(meter)}`, count: asked.length });
  const limit = ctx.settings.reconnectRecoveryMinutes;
  if (limit !== null) ctx.rec.mark(`recovery limit (${limit} min)`, back.atMs + minutes(limit));
  ctx.rec.step(
    `wait for the ${client.role} to recover: a request answered by the ${roleOf(meter)}` +
      ` (${limit === null ? `measure-only, watched ${MEASURE_ONLY_WATCH / 60_000} min` : `${limit} min, watched to ${LATE_WATCH}× that`})`,
  );
  await ctx.clock.waitFor(
    () => firstAnswered(ctx, client, meter, back.atMs) !== undefined || ctx.capture.faulted() !== undefined,
    back.atMs + recoveryWatch(ctx.settings) - ctx.clock.now(),
  );
  ctx.capture.assertHealthy(back.atMs);
  const recovered = firstAnswered(ctx, client, meter, back.atMs);
  if (recovered)
    ctx.evidence.event('observed', {
      what: `the ${client.role} recovered`,
      request: recovered.request.decoded.n,
      frames: [recovered.request.decoded.n, recovered.answer.decoded.n],
    });
  return { gone, back, asked, recovered };
}

/** RCN-1: the rate of the client's requests while the meter was out of reach, and its recovery after the return. */
async function judgeBackOff(ctx: CaseContext, client: RigDevice, meter: RigDevice): Promise<void> {
  const o = await outage(ctx, client, meter, 'its retries and back-off');
  const s = ctx.settings;
  const rateLimit = s.reconnectRequestRateLimitPerMinute;
  const recoveryLimit = s.reconnectRecoveryMinutes;
  const unset = [rateLimit === null && 'reconnectRequestRateLimitPerMinute', recoveryLimit === null && 'reconnectRecoveryMinutes'].filter(
    (x): x is string => typeof x === 'string',
  );
  // Its busiest minute's requests: the frames the report marks as decisive.
  const busiest = busiestMinute(o.asked);
  ctx.evidence.event('observed', {
    what: `the ${client.role}'s busiest minute of requests`,
    requests: busiest.length,
    frames: busiest.map((h) => h.decoded.n),
  });
  // The lab set no limit: the values are measured and shown, and the PASS says what was not judged.
  if (unset.length > 0) ctx.rec.step(`measure-only: the lab sets no ${unset.join(' and no ')}, so that value is measured, not judged`);
  const rateName = `most requests of the ${client.role} to the out-of-reach ${roleOf(meter)} in any minute`;
  ctx.rec.measured(
    rateLimit === null
      ? measureOnly(rateName, busiest.length, 'per min', 0, 'reconnectRequestRateLimitPerMinute')
      : measure(rateName, busiest.length, 'per min', 0, { high: rateLimit, text: `at most ${rateLimit} per minute (RCN-1, lab setting)` }),
    'RCN-1',
  );
  const uncertainty = minutesOf(o.back.uncertaintyMs + ctx.capture.timeUncertaintyMs);
  const recoveryName = `${client.role} recovered after the ${roleOf(meter)}'s return`;
  const recovery = (min: number) =>
    recoveryLimit === null
      ? measureOnly(recoveryName, min, 'min', uncertainty, 'reconnectRecoveryMinutes')
      : measure(recoveryName, min, 'min', uncertainty, { high: recoveryLimit, text: `within ${recoveryLimit} min (RCN-1, lab setting)` });
  if (o.recovered) {
    ctx.rec.measured(recovery(minutesOf(o.recovered.answer.atMs - o.back.atMs)), 'RCN-1');
    return;
  }
  // Heard before judged: the meter must be heard again, and the client alive, before its silence counts against it.
  await ctx.live.confirm([...hanOf(ctx), client], `the ${client.role} did not recover after the ${roleOf(meter)}'s return`, o.back.atMs);
  await ctx.live.confirm(meter, `the ${client.role} did not recover after the ${roleOf(meter)}'s return`, o.back.atMs);
  const after = requests(ctx, client, meter, o.back.atMs);
  ctx.rec.fail(
    'RCN-1',
    `the ${client.role} did not recover within ${recoveryWatch(s) / 60_000} min of the ${roleOf(meter)}'s return` +
      (after.length
        ? ` (${counted(after.length, 'request')} after the return, none answered)`
        : ` (no request to it after the return; the last during the outage ${mmss(o.back.atMs - (o.asked.at(-1)?.atMs ?? o.back.atMs))} before it)`) +
      (recoveryLimit === null ? '; no recovery limit is set, so the rig watched for an hour' : `; the limit is ${recoveryLimit} min`),
  );
}

/** RCN-2: after its recovery the client asks for Change of Tenancy and refreshes its data, within the rejoin limit. */
async function judgeRefresh(ctx: CaseContext, client: RigDevice, meter: RigDevice): Promise<void> {
  const o = await outage(ctx, client, meter, 'its recovery and what it asks on it');
  if (!o.recovered)
    ctx.rec.unmet(
      `the ${client.role} did not recover within ${recoveryWatch(ctx.settings) / 60_000} min of the ${roleOf(meter)}'s return,` +
        ' so what it does on recovery cannot be seen',
      `run ${client.role}-RCN-001 (RCN-1) on this ${client.role}`,
    );
  const from = o.recovered.request.atMs;
  const within = minutes(ctx.settings.rejoinLimitMinutes);
  ctx.rec.mark(`refresh limit (${ctx.settings.rejoinLimitMinutes} min after the recovery)`, from + within);
  ctx.rec.step(
    `within ${ctx.settings.rejoinLimitMinutes} min of its recovery the ${client.role} asks for Change of Tenancy` +
      ` and for the ${roleOf(meter)}'s data again`,
  );
  const poll = (f: DecodedFrame) => isRequest(ctx, client, meter)(f) && f.zcl?.name === 'Get Change of Tenancy';
  // Its data: a request other than the poll answered after the one that recovered it (a read, a log it missed).
  const refreshed = () => firstAnswered(ctx, client, meter, from + 1, from + within, (r) => !poll(r.decoded));
  await ctx.clock.waitFor(
    () => (ctx.capture.find(poll, o.back.atMs) !== undefined && refreshed() !== undefined) || ctx.capture.faulted() !== undefined,
    from + within - ctx.clock.now(),
  );
  ctx.capture.assertHealthy(from);
  const polled = ctx.capture.all(poll, o.back.atMs, from + within)[0];
  const refresh = refreshed();
  if (polled)
    ctx.rec.measured(measure('Get Change of Tenancy after the recovery', minutesOf(Math.max(0, polled.atMs - from)), 'min', 0), 'RCN-2');
  if (polled && refresh) return;
  ctx.rec.fail(
    'RCN-2',
    `in the ${ctx.settings.rejoinLimitMinutes} min after it recovered (${mmss(from - o.back.atMs)} after the ${roleOf(meter)}'s return) the ${client.role}` +
      [!polled && ' sent no Get Change of Tenancy', !refresh && ' asked the meter for nothing more (no data refreshed)']
        .filter(Boolean)
        .join(' and'),
  );
}

/** How the bench cuts the CH's WAN; a bench that names no way cannot run the case (INCONCLUSIVE, before anything is powered). */
function wanOf(ctx: CaseContext): WanSwitch {
  const wan = ctx.bench.reconnect.wan;
  if (!wan)
    ctx.rec.inconclusive(
      'rig-misconfigured',
      `bench ${ctx.bench.id} names no way to cut the CH's WAN`,
      "add wan: to the bench in the rig file (a relay switching the CH's WAN antenna, or a lab hook)",
    );
  return wan;
}

/** The CH's WAN is cut for `body` and the rest of the lab's outage time, then restored. */
async function wanDown(ctx: CaseContext, wan: WanSwitch, body: (down: Switched) => Promise<void>): Promise<Switched> {
  ctx.rec.step(`cut the CH's WAN for ${ctx.settings.reconnectOutageMinutes} min (${wan.how})`);
  // The IHD's and the PPMID's case side by side share the cut (needs.shares): down once, up once both are done.
  const { finished: up } = await span(
    ctx.together,
    () => wan.set(false, handsOf(ctx)),
    async (down) => {
      await body(down);
      await ctx.clock.sleep(Math.max(0, down.atMs + outageMs(ctx.settings) - ctx.clock.now()));
      ctx.rec.step(`bring the CH's WAN back (${wan.how})`);
    },
    () => wan.set(true, handsOf(ctx)),
  );
  ctx.rec.mark("the CH's WAN back", up.atMs);
  return up;
}

/**
 * RCN-3: while the WAN was down the client's reads of the meter were answered (a client that read nothing is INCONCLUSIVE).
 * A top-up the rig keyed in on the PPMID is no read of the client's own: it is judged on its own (topUpCredited).
 */
async function readsAnswered(ctx: CaseContext, client: RigDevice, meter: RigDevice, down: Switched, up: Switched): Promise<void> {
  const asked = requests(ctx, client, meter, down.atMs, up.atMs).filter((r) => !isTopUp(r.decoded));
  const answered = asked.filter((r) => answerTo(ctx, client, meter, r));
  ctx.rec.measured(
    measure(`${client.role} requests answered by the ${roleOf(meter)} while the WAN was down`, answered.length, 'requests', 0),
  );
  if (answered.length > 0) return;
  if (asked.length === 0) {
    await ctx.live.confirm([...hanOf(ctx), client], `the ${client.role} asked nothing while the WAN was down`);
    ctx.rec.unmet(
      `the ${client.role} sent the ${roleOf(meter)} no request in the ${ctx.settings.reconnectOutageMinutes} min the WAN was down, so its reads cannot be seen`,
      "lengthen reconnectOutageMinutes past the time between the client's reads",
    );
  }
  await ctx.live.confirm(
    [...hanOf(ctx), meter],
    `the ${roleOf(meter)} answered none of the ${client.role}'s requests while the WAN was down`,
  );
  ctx.rec.fail(
    'RCN-3',
    `with the CH's WAN down, none of the ${asked.length} requests of the ${client.role} to the ${roleOf(meter)} was answered: the HAN did not keep working`,
  );
}

/** RCN-3: the WAN's return changes nothing on the HAN: no device rejoins or announces itself, the client's requests are answered. */
async function nothingChanges(ctx: CaseContext, client: RigDevice, meter: RigDevice, up: Switched): Promise<void> {
  ctx.rec.step(`watch the HAN for ${AFTER_WAN / 60_000} min after the WAN's return: nothing may change`);
  await ctx.clock.sleep(AFTER_WAN);
  ctx.capture.assertHealthy(up.atMs);
  const devices = [client, meter];
  const rejoined = ctx.capture.all(
    (f) =>
      devices.some((d) => ctx.capture.isFrom(f, d.ieee) || f.nwk?.src64 === d.ieee) &&
      (f.nwk?.command === 'Rejoin Request' || f.nwk?.command === 'Leave' || f.aps?.zdp === 'Device_annce'),
    up.atMs,
  );
  if (rejoined.length > 0)
    ctx.rec.fail('RCN-3', `after the WAN's return the HAN changed: ${rejoined[0].decoded.summary} (${rejoined.length} such frames)`);
  const asked = requests(ctx, client, meter, up.atMs);
  if (asked.length > 0 && !asked.some((r) => answerTo(ctx, client, meter, r)))
    ctx.rec.fail(
      'RCN-3',
      `after the WAN's return none of the ${asked.length} requests of the ${client.role} to the ${roleOf(meter)} was answered`,
    );
}

/** A PPMID's Consumer Top Up: a code keyed in, not a read. */
const isTopUp = (f: DecodedFrame) => fieldsOf(f, PREPAYMENT, 'Consumer Top Up') !== undefined;

/** A meter as the rig radio addresses it on the HAN: by the short address the sniffer heard it use. */
function onHan(ctx: CaseContext, meter: RigDevice): { short: number; ieee: string } {
  const short = ctx.capture.shortOf(meter.ieee);
  if (short === undefined)
    ctx.rec.unmet(
      `the ${roleOf(meter)} was never heard with its short address, so the rig radio cannot ask it for its top-up log`,
      `check the ${roleOf(meter)} joined the HAN`,
    );
  return { short, ieee: meter.ieee };
}

/** RCN-3: a code keyed in on the PPMID reaches the meter, which accepts it and shows it in its top-up log (read by the rig radio). */
async function topUpCredited(ctx: CaseContext, ppmid: RigDevice, meter: RigDevice): Promise<void> {
  const keypad = ctx.bench.reconnect.topUp;
  ctx.rec.step(`key a top-up code in on the PPMID (${keypad.how})`);
  const entered = await keypad.enter(ppmid, meter, handsOf(ctx), ctx.settings.operatorAnswerMinutes * 60_000);
  const topUp = (f: DecodedFrame) => isRequest(ctx, ppmid, meter)(f) && isTopUp(f);
  const sent = await ctx.capture.waitFor((f) => topUp(f), TOP_UP_SENT_WITHIN, entered.atMs);
  if (!sent) {
    await ctx.live.confirm([...hanOf(ctx), ppmid], 'the PPMID sent no top-up to the meter');
    ctx.rec.fail(
      'RCN-3',
      `with the CH's WAN down the PPMID sent the top-up code keyed in on it to no meter (no Consumer Top Up to the ${roleOf(meter)} within ${TOP_UP_SENT_WITHIN / 60_000} min)`,
    );
  }
  const code = fieldsOf(sent.decoded, PREPAYMENT, 'Consumer Top Up')?.topUpCode;
  if (entered.code !== undefined && String(code).toLowerCase() !== entered.code.toLowerCase())
    ctx.rec.unmet(
      `the PPMID sent code ${String(code)}, not the ${entered.code} keyed in`,
      'repeat the case: another code was in the PPMID already',
    );
  await ctx.clock.waitFor(() => answerTo(ctx, ppmid, meter, sent) !== undefined || ctx.capture.faulted() !== undefined, ANSWER_WITHIN);
  ctx.capture.assertHealthy(sent.atMs);
  const answer = answerTo(ctx, ppmid, meter, sent);
  const result = fieldsOf(answer?.decoded, PREPAYMENT, 'Consumer Top Up Response');
  if (!answer || !result) {
    await ctx.live.confirm(meter, 'the meter did not answer the top-up');
    ctx.rec.fail(
      'RCN-3',
      `with the CH's WAN down the ${roleOf(meter)} did not answer the PPMID's Consumer Top Up (${hex16(PREPAYMENT.id)})`,
    );
  }
  if (result.resultType !== 0)
    ctx.rec.fail(
      'RCN-3',
      `with the CH's WAN down the ${roleOf(meter)} refused the top-up keyed in on the PPMID (result type ${result.resultType})`,
    );
  ctx.rec.step(`the rig radio, as an IHD, asks the ${roleOf(meter)} for its top-up log: the code must be credited`);
  const log = await ctx.hht.askOverHan(
    onHan(ctx, meter),
    PREPAYMENT.id,
    { name: 'Get Top Up Log', dir: 'client-to-server', fields: { latestEndTime: isoToUtc(new Date(ctx.clock.now())), numberOfRecords: 5 } },
    'ZCL Prepayment Get Top Up Log',
    (f) => fieldsOf(f, PREPAYMENT, 'Publish Top Up Log')?.totalNumberOfCommands ?? 1,
  );
  if (!log.answer)
    ctx.rec.inconclusive(
      'dut-not-heard',
      `the ${roleOf(meter)} did not answer the rig radio's Get Top Up Log`,
      `check the rig radio is on the HAN and the ${roleOf(meter)} serves the Prepayment cluster`,
      `${roleOf(meter)} ${meter.id}`,
    );
  const since = Math.floor(entered.atMs / 1000) * 1000;
  const credited = log.answers
    .flatMap((f) => fieldsOf(f, PREPAYMENT, 'Publish Top Up Log')?.topUps ?? [])
    .find((t) => {
      const at = Date.parse(utcToIso(t.topUpTime));
      return at >= since && (entered.code === undefined || String(t.topUpCode).toLowerCase() === entered.code.toLowerCase());
    });
  ctx.evidence.event('observed', { what: `the ${roleOf(meter)}'s top-up log`, credited: credited ?? null, resultType: result.resultType });
  if (!credited)
    ctx.rec.fail(
      'RCN-3',
      `the ${roleOf(meter)} accepted the top-up but its top-up log shows no top-up since ${new Date(since).toISOString()}: it was not credited`,
    );
  ctx.rec.measured(
    measure('top-up credited after the code was keyed in', Number(((answer.atMs - entered.atMs) / 1000).toFixed(3)), 's', 0),
    'RCN-3',
  );
}

/**
 * What a case holds of the bench (harness/plan.ts): the CH, its meter and the client powered; the ESME switched off for
 * its outage (the GPF, inside the CH, silenced instead); the rig radio, to confirm a silent device is alive.
 */
const outageNeeds = (role: ClientRole, meterRole: MeterRole, shared: boolean): BenchNeeds => ({
  ...(meterRole === 'ESME'
    ? { powered: ['CH', 'ESME', role], cycles: ['ESME'], radio: true, triggers: [] }
    : { powered: ['CH', role], cycles: [], radio: true, triggers: ['gpf-out-of-reach'] }),
  ...(shared && { shares: { act: `outage:${meterRole}`, afterMs: SETTLE + STEPS } }),
});

/** What an RCN-1 case on the meter `meterRole` declares, beside its id and requirement. */
const backOffSpec = (role: ClientRole, meterRole: MeterRole) => ({
  role,
  area: AREA,
  title: `the ${role} retries with a bounded back-off while the ${meterRole} is out of reach, and recovers after it returns`,
  references: [DP094],
  requirement:
    `While the ${meterRole} is out of reach (for the lab's reconnectOutageMinutes, default 30) the ${role} retries without a storm —` +
    " its requests in any minute at most the lab's reconnectRequestRateLimitPerMinute — and after the return it recovers" +
    " (a request answered) within the lab's reconnectRecoveryMinutes; with either unset, that value is measured and reported, not judged.",
  duration: outagePlan,
  // Not shared: the meter comes back just after this client's next request, to catch its back-off at its longest.
  needs: outageNeeds(role, meterRole, false),
});

/** What an RCN-2 case on the meter `meterRole` declares, beside its id and requirement. */
const refreshSpec = (role: ClientRole, meterRole: MeterRole) => ({
  role,
  area: AREA,
  title: `after the ${meterRole} was out of reach, the ${role} polls Change of Tenancy and refreshes its data on recovery`,
  references: [DP094, SECMP0056],
  requirement:
    `When the ${meterRole} answers again after an outage, the ${role} sends it Get Change of Tenancy (as COT-2 asks at rejoin)` +
    ` and asks it for its data again, within the lab's rejoinLimitMinutes (default 15) of its recovery.`,
  duration: (s: LabSettings) => outagePlan(s) + minutes(s.rejoinLimitMinutes),
  // Shared by the IHD's and the PPMID's case: the meter comes back once both have asked again; each judges its own recovery.
  needs: outageNeeds(role, meterRole, true),
});

/** The body of an RCN-1 or RCN-2 case: the client and its meter powered, talking, then the meter's outage judged by `judge`. */
const onOutage = (meterRole: MeterRole, judge: typeof judgeBackOff) => async (ctx: CaseContext) => {
  const meter = meterOf(ctx, meterRole);
  outageOf(ctx, meter); // a bench that cannot take the meter away is INCONCLUSIVE before the set-up, not after
  await powered(ctx, [...poweredFor(meter), ctx.device], async () => {
    await talking(ctx, ctx.device, meter, ctx.clock.now());
    await judge(ctx, ctx.device, meter);
  });
};

// RCN-1: a meter out of reach; the client retries with a bounded back-off and recovers after the return.
for (const role of CLIENT_ROLES) {
  conformanceCase({ id: `${role}-RCN-001`, requirements: ['RCN-1'], ...backOffSpec(role, 'ESME') }, onOutage('ESME', judgeBackOff));
  conformanceCase({ id: `${role}-RCN-011`, requirements: ['RCN-1'], ...backOffSpec(role, 'GPF') }, onOutage('GPF', judgeBackOff));
}

// RCN-2: on recovery the client polls Change of Tenancy and refreshes its data.
for (const role of CLIENT_ROLES) {
  conformanceCase({ id: `${role}-RCN-002`, requirements: ['RCN-2'], ...refreshSpec(role, 'ESME') }, onOutage('ESME', judgeRefresh));
  conformanceCase({ id: `${role}-RCN-012`, requirements: ['RCN-2'], ...refreshSpec(role, 'GPF') }, onOutage('GPF', judgeRefresh));
}

// RCN-3: the CH's WAN cut; the HAN keeps working, and its return changes nothing.
for (const role of CLIENT_ROLES) {
  conformanceCase(
    {
      id: `${role}-RCN-003`,
      role,
      area: AREA,
      title:
        role === 'PPMID'
          ? "with the CH's WAN down, a top-up code keyed in on the PPMID is credited by the ESME and the PPMID's reads are answered"
          : "with the CH's WAN down, the IHD's reads of the ESME are answered; the WAN's return changes nothing",
      requirements: ['RCN-3'],
      references: [DP094],
      requirement:
        "With the CH's WAN cut (for the lab's reconnectOutageMinutes) the HAN keeps working: " +
        (role === 'PPMID'
          ? 'a top-up code keyed in on the PPMID reaches the ESME, which accepts and credits it (its top-up log), and '
          : '') +
        `the ${role}'s reads of the ESME are answered; after the WAN's return no HAN device rejoins or announces itself and the reads go on being answered.`,
      duration: (s) => SETTLE + outageMs(s) + AFTER_WAN + STEPS,
      needs: {
        powered: ['CH', 'ESME', role],
        cycles: [],
        radio: true,
        triggers: ['wan-cut'],
        shares: { act: 'wan-cut', afterMs: SETTLE + STEPS },
      },
    },
    async (ctx) => {
      const esme = meterOf(ctx, 'ESME');
      const wan = wanOf(ctx);
      const client = ctx.device;
      await powered(ctx, [esme, client], async () => {
        const start = ctx.clock.now();
        if (role === 'PPMID') {
          // The rig radio joins while the CH's window is open, to read the meter's top-up log later.
          try {
            await ctx.hht.becomeMember("ask the ESME for its top-up log after the PPMID's top-up");
          } catch (e) {
            if (isRigFault(e, 'radio-refused')) await ctx.live.confirm(hanOf(ctx), 'the rig radio could not join the HAN');
            throw e;
          }
        }
        await talking(ctx, client, esme, start);
        let down: Switched | undefined;
        const up = await wanDown(ctx, wan, async (d) => {
          down = d;
          if (role === 'PPMID') {
            await ctx.clock.sleep(minutes(1));
            await topUpCredited(ctx, client, esme);
          }
        });
        await readsAnswered(ctx, client, esme, down!, up);
        await nothingChanges(ctx, client, esme, up);
      });
    },
  );
}

// RCN-4, reconnect after an over-the-air firmware upgrade (DOMAIN.md §D; DP094: an OTA update can take a device
// off the network): the rig reads the IHD's or PPMID's firmware over the HAN, has the image sent through the CH
// (ZCL OTA Upgrade), watches the transfer, and times the device's return to the HAN and its next poll of its
// meters from the upgrade (the CH's Upgrade End Response), then reads the firmware again.
//
// "Back on the HAN" is PWR-1's (harness/han-return.ts); "polls again": a ZCL request from the device to one of
// its meters (the ESME or the GPF), such as the Get Change of Tenancy it sends after any power-up (COT-2).

/** The ZCL OTA Upgrade cluster (0x0019): the image's transfer and its upgrade time. */
const ZCL_OTA = 'ZCL OTA Upgrade';
/** Room in an RCN-4 plan for relay confirmations, the rig radio's join, the reads and liveness checks. */
const OTA_STEPS = minutes(10);

const rejoinLimit = (s: LabSettings) => minutes(s.otaRejoinLimitMinutes);
const resumeLimit = (s: LabSettings) => minutes(s.otaResumePollMinutes);

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
  ctx.rec.step(`power the CH, the meters and the ${device.role}; join the rig radio to the HAN as an HHT`);
  await ctx.power.during(all, async (ons) => {
    const on = ons.at(-1)!.atMs;
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
  });
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
        `(${counted(blocks.length, 'Image Block Response')} to the ${device.role})`,
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
        OTA_STEPS,
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
        const poll = await pollsAgain(ctx, meters, upgradeAt, back.atMs);
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
      `the ${device.role} asked the CH to rejoin after its upgrade (${counted(asked.length, 'Rejoin Request')},` +
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

/**
 * The device's first poll of its meters after the upgrade, within the limit; else how late (or never) — a FAIL.
 * Only a poll from its return to the HAN on counts: one heard at the upgrade's instant was sent before the restart
 * (seed 55 of the stability benchmark passed a PPMID that resumes only after 30 min that way).
 */
async function pollsAgain(ctx: CaseContext, meters: RigDevice[], upgradeAt: number, backAt: number): Promise<HeardFrame> {
  const device = ctx.device;
  const limit = resumeLimit(ctx.settings);
  const match = pollOf(ctx, device, meters);
  const poll = await ctx.capture.waitFor(match, upgradeAt + limit - ctx.clock.now(), backAt);
  if (poll) return poll;
  await ctx.live.confirm(meters, `the ${device.role}'s meters, for it to poll`);
  ctx.rec.step(
    `the ${device.role} missed the limit: watch ${(LATE_WATCH - 1) * ctx.settings.otaResumePollMinutes} min more, to measure how late it is`,
  );
  const late = await ctx.capture.waitFor(match, upgradeAt + LATE_WATCH * limit - ctx.clock.now(), backAt);
  ctx.rec.fail(
    'RCN-4',
    late
      ? `the ${device.role} polled its meters again only ${mmss(late.atMs - upgradeAt)} after its upgrade (${late.decoded.summary}); the limit is ${ctx.settings.otaResumePollMinutes} min`
      : `the ${device.role} did not poll its meters in the ${LATE_WATCH * ctx.settings.otaResumePollMinutes} min after its upgrade, though back on the HAN`,
  );
}
