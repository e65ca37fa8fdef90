// Power cycles of the Communications Hub (DOMAIN.md §C): PWR-1, every device of the CHF device log
// is back on the HAN within the lab's rejoin limit, each one timed; PWR-2, the device log survives the
// power cycle (its devices are admitted again without recommissioning). PWR-3 (a meter's power cycle)
// runs in the Change of Tenancy suite as IHD-COT-003 and PPMID-COT-003; the HHT entry that must not
// survive (IPAN-4) is judged by CH-IPAN-005.
//
// "Back on the HAN", on air, after the CH's power-on: the CH's NWK Rejoin Response admitting the device
// (status success, to its IEEE address), or the device's ZDP Device_annce, or a data exchange with the
// CH (a frame from the device to the coordinator 0x0000 answered by one from the CH to it).
import { conformanceCase, powerCycleTogether, type CaseContext, type LabSettings, type RigDevice } from '../harness/conformance.ts';
import type { HeardFrame } from '../harness/capture.ts';
import { backOnHan as backOnHanOf, howBack as how, minutesBetween } from '../harness/han-return.ts';
import { minutes, mmss } from '../harness/clock.ts';
import { measure } from '../harness/measurements.ts';
import type { PowerEdge } from '../harness/power.ts';
import { NWK_REJOIN_REQUEST } from '../protocol/nwk.ts';
import { counted } from '../protocol/words.ts';

const AREA = 'Power cycles and rejoin (docs/requirements.md §C)';
/** The CH's HAN and its device log: GBCS 10.5 (as IPAN-4 cites it); DP094 on devices dropping off the HAN. */
const GBCS = 'GBCS 10.5';
const DP094 = 'DP094';
/** The devices of the CHF device log a bench powers through relays (a GSME is not simulated yet; the GPF is powered with the CH). */
const HAN_DEVICE_ROLES = ['ESME', 'IHD', 'PPMID'] as const;
/** On the HAN, the devices settle before the CH's power cycle. */
const SETTLE = minutes(5);
/** Room in a plan for relay confirmations, the power cycle's pause and liveness checks. */
const STEPS = minutes(5);
/** After the CH's power-on, the rig confirms it is up this soon: a device's Rejoin Request after that, left unanswered, is the CH's. */
const CH_UP_AFTER = minutes(1);
/** A device not back within the limit is watched until this many limits after the power-on, to measure how late it is. */
const LATE_WATCH = 3;

const limitMs = (s: LabSettings) => minutes(s.rejoinLimitMinutes);
/**
 * The cases side by side share one CH power cycle, made when every device has joined and settled (at the longest): each
 * times its own devices' return from the same power-on. The inter-PAN cases power-cycle the CH on timelines of their own.
 */
const chCycle = (s: LabSettings) => ({ act: 'power-cycle:CH' as const, afterMs: limitMs(s) + SETTLE + STEPS });

/** The device is on the HAN (harness/han-return.ts says how that is seen on air). */
const backOnHan = (ctx: CaseContext, device: RigDevice, sinceMs: number) => backOnHanOf(ctx.capture, device, sinceMs);

/** The device's NWK Rejoin Requests since `sinceMs`: it asked the CH to admit it. */
const rejoinRequests = (ctx: CaseContext, device: RigDevice, sinceMs: number) =>
  ctx.capture.all((f) => f.nwk?.commandId === NWK_REJOIN_REQUEST && ctx.capture.isFrom(f, device.ieee), sinceMs);

function chOf(ctx: CaseContext): RigDevice {
  const ch = ctx.bench.device('CH');
  if (!ch) ctx.rec.notApplicable(`bench ${ctx.bench.id} has no CH to power-cycle`);
  return ch;
}

/**
 * Powers the CH, then `devices`, and confirms each joined the HAN within the rejoin limit of its power-up (else
 * INCONCLUSIVE: a device that never joined cannot come back); everything is switched off again after `body`.
 */
async function onTheHan(ctx: CaseContext, ch: RigDevice, devices: RigDevice[], body: () => Promise<void>): Promise<void> {
  ctx.rec.step(`power the CH, then ${devices.map((d) => `the ${d.role} ${d.id}`).join(', ')}`);
  await ctx.power.during([ch, ...devices], async ([, ...edges]) => {
    const ons = new Map(devices.map((d, i) => [d, edges[i]]));
    ctx.rec.step(
      `confirm each device joined the HAN (${ctx.settings.rejoinLimitMinutes} min at most): the precondition of the power cycle`,
    );
    const limit = limitMs(ctx.settings);
    const joined = (d: RigDevice) => ctx.capture.find(backOnHan(ctx, d, ons.get(d)!.atMs), ons.get(d)!.atMs);
    await ctx.clock.waitFor(() => devices.every((d) => joined(d)) || ctx.capture.faulted() !== undefined, limit);
    ctx.capture.assertHealthy();
    const absent = devices.filter((d) => !joined(d));
    if (absent.length > 0) {
      await ctx.live.confirm([ch, ...absent], 'a device did not join the HAN after its power-up');
      ctx.rec.unmet(
        `${absent.map((d) => `the ${d.role} ${d.id}`).join(', ')} did not join the HAN` +
          ` within ${ctx.settings.rejoinLimitMinutes} min of its power-up` +
          ' (no Rejoin Response, Device_annce or exchange with the CH), so its return after a CH power cycle cannot be judged',
        'check the device is commissioned into the CHF device log of this CH (the DCC, or the lab, adds it) and on the HAN',
      );
    }
    await body();
  });
}

/** Power-cycles the CH after the devices settled; returns its power-on and marks the rejoin limit. */
async function cycleCh(ctx: CaseContext, ch: RigDevice): Promise<PowerEdge> {
  await ctx.clock.sleep(SETTLE);
  ctx.rec.step('power-cycle the CH');
  const on = await powerCycleTogether(ctx, ch);
  ctx.rec.mark(`rejoin limit (${ctx.settings.rejoinLimitMinutes} min)`, on.atMs + limitMs(ctx.settings));
  return on;
}

/**
 * When the CH was first heard after its power-on, asked with a beacon request each minute from a minute after it
 * until the rejoin limit: an unanswered Rejoin Request counts against the CH only when made after that.
 */
async function chUp(ctx: CaseContext, ch: RigDevice, on: PowerEdge): Promise<number | undefined> {
  const limitAt = on.atMs + limitMs(ctx.settings);
  await ctx.clock.sleep(Math.max(0, on.atMs + CH_UP_AFTER - ctx.clock.now()));
  for (;;) {
    const heard = ctx.live.heard(ch, on.atMs);
    if (heard) return heard.atMs;
    if (ctx.clock.now() >= limitAt) return undefined;
    await ctx.hht.requestBeacons();
    if (!ctx.live.heard(ch, on.atMs)) await ctx.clock.sleep(Math.max(0, Math.min(CH_UP_AFTER, limitAt - ctx.clock.now())));
  }
}

/** The device's Rejoin Requests the CH left unanswered: those after it was up (a CH never heard up: INCONCLUSIVE, dut-not-heard). */
async function unanswered(
  ctx: CaseContext,
  ch: RigDevice,
  device: RigDevice,
  on: PowerEdge,
  upAt: number | undefined,
): Promise<HeardFrame[]> {
  if (upAt === undefined) await ctx.live.confirm(ch, `the ${device.role} ${device.id} was not admitted again`, on.atMs);
  return rejoinRequests(ctx, device, upAt ?? on.atMs);
}

/** The time from the CH's power-on to the device's return, against the rejoin limit (PWR-1, lab setting). */
function timed(ctx: CaseContext, device: RigDevice, on: PowerEdge, back: HeardFrame) {
  ctx.evidence.event('observed', {
    what: `the ${device.role} ${device.id} back on the HAN`,
    how: how(device, back),
    frame: back.decoded.n,
  });
  return ctx.rec.measured(
    minutesBetween(
      `${device.role} ${device.id} back on the HAN after the CH's power-on`,
      on.atMs,
      back.atMs,
      on.uncertaintyMs + ctx.capture.timeUncertaintyMs,
      {
        high: ctx.settings.rejoinLimitMinutes,
        text: `within ${ctx.settings.rejoinLimitMinutes} min of the CH's power-on (PWR-1, lab setting)`,
      },
    ),
    'PWR-1',
  );
}

for (const role of HAN_DEVICE_ROLES) {
  conformanceCase(
    {
      id: `${role}-PWR-001`,
      role,
      area: AREA,
      title: `the ${role} is back on the HAN within the rejoin limit after a CH power cycle`,
      requirements: ['PWR-1'],
      references: [DP094, GBCS],
      requirement:
        `After a CH power cycle, the ${role} (in the CHF device log, not an HHT) is back on the HAN within the lab's rejoin limit` +
        " (default 15 min) of the CH's power-on: the CH's Rejoin Response admitting it, its Device_annce, or a data exchange with the CH.",
      duration: (s) => limitMs(s) + SETTLE + LATE_WATCH * limitMs(s) + STEPS,
      needs: (s) => ({ powered: ['CH', role], cycles: ['CH'], radio: true, triggers: [], shares: chCycle(s) }),
    },
    async (ctx) => {
      const ch = chOf(ctx);
      const device = ctx.device;
      await onTheHan(ctx, ch, [device], async () => {
        const on = await cycleCh(ctx, ch);
        const limit = limitMs(ctx.settings);
        ctx.rec.step(`wait for the ${role} to be back on the HAN (${ctx.settings.rejoinLimitMinutes} min at most); confirm the CH is up`);
        const upAt = await chUp(ctx, ch, on);
        const back = await ctx.capture.waitFor(backOnHan(ctx, device, on.atMs), on.atMs + limit - ctx.clock.now(), on.atMs);
        if (back) return void timed(ctx, device, on, back);
        // Heard before judged: the CH up and heard, the device heard in this power period of its own.
        const asked = await unanswered(ctx, ch, device, on, upAt);
        if (asked.length > 0)
          ctx.rec.unmet(
            `the ${role} asked the CH to rejoin (${counted(asked.length, 'Rejoin Request')} after it was up,` +
              ` the first ${mmss(asked[0].atMs - on.atMs)} after its power-on)` +
              " but the CH did not admit it: whether the device is back is the CH's to decide (CH-PWR-002 judges the device log, PWR-2)",
            'run CH-PWR-002 on this CH; recommission the device if the CH lost its device log',
          );
        await ctx.live.confirm(device, `the ${role} was not back on the HAN within the rejoin limit`);
        // How late: watched for twice as long again, so the report says by how much it missed the limit.
        ctx.rec.step(`the ${role} missed the limit: watch ${2 * ctx.settings.rejoinLimitMinutes} min more, to measure how late it is`);
        const late = await ctx.capture.waitFor(backOnHan(ctx, device, on.atMs), on.atMs + LATE_WATCH * limit - ctx.clock.now(), on.atMs);
        if (late) timed(ctx, device, on, late);
        ctx.rec.fail(
          'PWR-1',
          `the ${role} was not back on the HAN ${LATE_WATCH * ctx.settings.rejoinLimitMinutes} min after the CH's power-on` +
            ` (${rejoinRequests(ctx, device, on.atMs).length ? 'no Rejoin Request of it admitted' : 'no Rejoin Request heard from it'},` +
            ` no Device_annce, no exchange with the CH); the limit is ${ctx.settings.rejoinLimitMinutes} min`,
        );
      });
    },
  );
}

conformanceCase(
  {
    id: 'CH-PWR-002',
    role: 'CH',
    area: AREA,
    title: 'the CHF device log survives a CH power cycle: its devices are admitted again without recommissioning',
    requirements: ['PWR-2'],
    references: [GBCS, DP094],
    requirement:
      'The CHF device log survives a CH power cycle except for HHT entries' +
      ' (lab setting deviceLogSurvivesPowerCycle; no public text found):' +
      ' each HAN device of the bench that asks to rejoin after the power-on is admitted, with no new commissioning in between.' +
      ' The HHT entries that must not survive (IPAN-4) are judged by CH-IPAN-005.',
    duration: (s) => limitMs(s) + SETTLE + limitMs(s) + STEPS,
    needs: (s) => ({ powered: ['CH', ...HAN_DEVICE_ROLES], cycles: ['CH'], radio: true, triggers: [], shares: chCycle(s) }),
  },
  async (ctx) => {
    if (!ctx.settings.deviceLogSurvivesPowerCycle)
      ctx.rec.notApplicable(
        'the lab setting deviceLogSurvivesPowerCycle is false: in this lab the device log need not survive a power cycle',
      );
    const devices = HAN_DEVICE_ROLES.flatMap((r) => ctx.bench.devices(r));
    if (devices.length === 0)
      ctx.rec.notApplicable(`bench ${ctx.bench.id} has no HAN device (ESME, IHD, PPMID) whose log entry could survive`);
    const ch = ctx.device;
    await onTheHan(ctx, ch, devices, async () => {
      const on = await cycleCh(ctx, ch);
      const limit = limitMs(ctx.settings);
      ctx.rec.step(
        'no device is recommissioned (no CCS01, no commissioning from the DCC):' +
          ` wait for each to be admitted again (${ctx.settings.rejoinLimitMinutes} min at most); confirm the CH is up`,
      );
      const upAt = await chUp(ctx, ch, on);
      const back = (d: RigDevice) => ctx.capture.find(backOnHan(ctx, d, on.atMs), on.atMs);
      await ctx.clock.waitFor(
        () => devices.every((d) => back(d)) || ctx.capture.faulted() !== undefined,
        on.atMs + limit - ctx.clock.now(),
      );
      ctx.capture.assertHealthy(on.atMs);
      const missing = devices.filter((d) => !back(d));
      // What the report shows of each return; PWR-1's limit is its own cases' to judge.
      for (const d of devices.filter((x) => back(x))) {
        const h = back(d)!;
        ctx.evidence.event('observed', { what: `the ${d.role} ${d.id} admitted again`, how: how(d, h), frame: h.decoded.n });
        const uncertainty = (on.uncertaintyMs + ctx.capture.timeUncertaintyMs) / 60_000;
        ctx.rec.measured(
          measure(
            `${d.role} ${d.id} admitted again after the CH's power-on`,
            Number(((h.atMs - on.atMs) / 60_000).toFixed(4)),
            'min',
            Number(uncertainty.toFixed(6)),
          ),
        );
      }
      if (missing.length === 0) return;
      // Refused by silence: only a device's request made after the CH was confirmed up counts against the CH.
      const asked = new Map<RigDevice, HeardFrame[]>();
      for (const d of missing) asked.set(d, await unanswered(ctx, ch, d, on, upAt));
      const refused = missing.filter((d) => asked.get(d)!.length > 0);
      if (refused.length > 0) {
        const which = refused.map((d) => `the ${d.role} ${d.id} (${asked.get(d)!.length} Rejoin Requests unanswered)`).join(', ');
        ctx.rec.fail(
          'PWR-2',
          `the CH did not admit ${which} within ${ctx.settings.rejoinLimitMinutes} min of its power-on:` +
            ' their entries in the CHF device log did not survive the power cycle',
        );
      }
      await ctx.live.confirm(missing, 'a device did not come back after the CH power cycle');
      ctx.rec.unmet(
        `${missing.map((d) => `the ${d.role} ${d.id}`).join(', ')} did not ask to rejoin after the CH's power-on,` +
          ' so whether the CH kept it in its device log cannot be seen' +
          ` (its ${missing[0].role}-PWR-001 judges the device, PWR-1)`,
        `run ${missing.map((d) => `${d.role}-PWR-001`).join(', ')}`,
      );
    });
  },
);
