// The Communications Hub's inter-PAN join window: GBCS 10.5 and SECMP0037 (DOMAIN.md §A,
// IPAN-1…6). An HHT (the rig radio) sends CCS01 over inter-PAN at chosen moments after the
// CH's power-on, straddling each limit by the lab's boundary margin.
import { conformanceCase, derivedSecondHhtIeee, type BenchNeeds, type CaseContext, type LabSettings } from '../harness/conformance.ts';
import { RIG_TIMING } from '../harness/case.ts';
import type { HandHeldTerminal, JoinAttempt } from '../harness/hht.ts';
import { hex16 } from '../protocol/bytes.ts';
import { minutes, mmss } from '../harness/clock.ts';
import { measure } from '../harness/measurements.ts';
import type { PowerEdge } from '../harness/power.ts';

const SECMP0037 = 'secmp0037';
const GBCS = 'GBCS 10.5';
const AREA = 'CH inter-PAN join window (docs/requirements.md §A)';
/** Every case power-cycles the CH and joins (or tries to join) it as an HHT through the bench radio. */
const CH_POWER_CYCLES: BenchNeeds = { powered: ['CH'], cycles: ['CH'], radio: true, triggers: [] };

const claims = (ctx: CaseContext) => ctx.device.firmware.claims;
const hhmm = (ms: number) => `${Math.floor(ms / 3_600_000)} h ${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')} min`;

/** Sleeps until `offsetMs` after a power-on edge. */
async function at(ctx: CaseContext, edge: PowerEdge, offsetMs: number): Promise<void> {
  const wait = edge.atMs + offsetMs - ctx.clock.now();
  if (wait > 0) await ctx.clock.sleep(wait);
}

/** A probe's moment after power-on, checked to lie on the intended side of a limit despite the timing uncertainty. */
function probeTime(
  ctx: CaseContext,
  name: string,
  edge: PowerEdge,
  sentAtMs: number,
  limit: { low?: number; high?: number; text: string },
) {
  const minutesAfter = (sentAtMs - edge.atMs) / 60_000;
  // The power-on happened between the relay command and its confirmation; the sniffer's stamp adds its own.
  const uncertainty = (edge.uncertaintyMs + ctx.capture.timeUncertaintyMs) / 60_000;
  return ctx.rec.measured(measure(name, Number(minutesAfter.toFixed(4)), 'min', Number(uncertainty.toFixed(6)), limit), RIG_TIMING);
}

/** Room in a plan for relay confirmations, the CH's answers and a liveness beacon exchange. */
const STEPS = minutes(5);
const windowMs = (s: LabSettings) => minutes(s.interPanWindowMinutes);
const marginMs = (s: LabSettings) => s.interPanBoundaryMarginSeconds * 1000;

/** What a probe got, in words. */
const got = (p: JoinAttempt) => (p.outcome === 'refused' ? `a refusal (DLMS results ${p.results?.join(', ')})` : p.outcome);

/**
 * Heard before judged: a refusal or no answer counts only if the CH was heard alive since the probe went out,
 * strictly after it (a frame stamped in the probe's own millisecond may have come before it; no answer comes that fast).
 */
const aliveSince = (ctx: CaseContext, atMs: number, why: string) => ctx.live.confirm(ctx.device, why, atMs + 1);

/**
 * The HAN is NWK-secured: a CH that never answers the HHT's secured rejoin or read proves nothing until a
 * device's secured frame has shown the rig holds the HAN's key (else it may be the rig's key that is wrong).
 */
function keyConfirmed(ctx: CaseContext, what: string): void {
  if (ctx.capture.keyConfirmed(ctx.bench.spec.radio.ieee)) return;
  const known = ctx.capture.cannotDecrypt();
  if (known) throw known;
  ctx.rec.inconclusive(
    'cannot-decrypt',
    `no device's NWK-secured frame has confirmed the rig's network key yet, so the CH's silence cannot show ${what}: the key may be wrong`,
    "check that keys.networkKeyEnv names the network key of this CH's HAN, then run the case again",
    'rig radio',
  );
}

/** A premise of the case: a CCS01 inside the window was accepted (after the CH was confirmed alive), else INCONCLUSIVE. */
async function openProbe(ctx: CaseContext, probe: JoinAttempt, edge: PowerEdge, what: string): Promise<void> {
  if (probe.outcome === 'accepted') return;
  await aliveSince(ctx, probe.sentAtMs, `the CCS01 ${mmss(probe.sentAtMs - edge.atMs)} after power-on got ${probe.outcome}`);
  ctx.rec.unmet(
    `the CCS01 ${mmss(probe.sentAtMs - edge.atMs)} after power-on got ${got(probe)}, so ${what} cannot be judged (CH-IPAN-001 judges IPAN-1)`,
    'run CH-IPAN-001 on this CH: its inter-PAN window did not open at this power-on',
  );
}

async function powerOn(ctx: CaseContext, why: string): Promise<PowerEdge> {
  ctx.rec.step(`power-cycle the CH (${why})`);
  const edge = await ctx.power.cycle(ctx.device);
  ctx.rec.mark(`window ends (${ctx.settings.interPanWindowMinutes} min)`, edge.atMs + minutes(ctx.settings.interPanWindowMinutes));
  return edge;
}

conformanceCase(
  {
    id: 'CH-IPAN-001',
    role: 'CH',
    area: AREA,
    title: 'inter-PAN joining is available until 60 minutes after power-on',
    requirements: ['IPAN-1'],
    references: [GBCS, 'SECMP0037'],
    requirement: 'From CH power-on, an HHT can join over inter-PAN (CCS01 accepted) for 60 minutes.',
    duration: (s) => windowMs(s) + STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    const window = minutes(ctx.settings.interPanWindowMinutes);
    const margin = ctx.settings.interPanBoundaryMarginSeconds * 1000;
    const t0 = await powerOn(ctx, 'opens the window');
    await at(ctx, t0, window - margin);
    ctx.rec.step(`HHT sends CCS01 over inter-PAN ${mmss(window - margin)} after power-on`);
    const probe = await ctx.hht.join();
    probeTime(ctx, 'CCS01 probe inside the window', t0, probe.sentAtMs, {
      high: ctx.settings.interPanWindowMinutes,
      text: `before the ${ctx.settings.interPanWindowMinutes}-minute limit (IPAN-1)`,
    });
    if (probe.outcome === 'accepted') return;
    await aliveSince(ctx, probe.sentAtMs, 'the CCS01 inside the window was not accepted');
    ctx.rec.fail(
      'IPAN-1',
      `a CCS01 ${mmss(probe.sentAtMs - t0.atMs)} after power-on got ${got(probe)}; the window must stay open for ${ctx.settings.interPanWindowMinutes} minutes`,
    );
  },
);

conformanceCase(
  {
    id: 'CH-IPAN-002',
    role: 'CH',
    area: AREA,
    title: 'inter-PAN joining is refused after the 60-minute window',
    requirements: ['IPAN-2'],
    references: [GBCS, 'SECMP0037'],
    requirement:
      'After the 60 minutes, the CH ignores or rejects CCS01 over inter-PAN until its next power-on (not applicable to SECMP0037 firmware).',
    duration: (s) => windowMs(s) + marginMs(s) + STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    if (claims(ctx).includes(SECMP0037))
      ctx.rec.notApplicable('the firmware claims SECMP0037: inter-PAN joining stays available beyond 60 minutes (CH-IPAN-007 checks that)');
    const window = minutes(ctx.settings.interPanWindowMinutes);
    const margin = ctx.settings.interPanBoundaryMarginSeconds * 1000;
    const t0 = await powerOn(ctx, 'opens the window');
    await at(ctx, t0, window - margin);
    ctx.rec.step(`HHT sends CCS01 ${mmss(window - margin)} after power-on (the last moment inside the window)`);
    const inside = await ctx.hht.join();
    // A "closed" probe counts only after an "open" one in the same power period.
    await openProbe(ctx, inside, t0, 'the end of the window');
    await at(ctx, t0, window + margin);
    ctx.rec.step(`HHT sends CCS01 ${mmss(window + margin)} after power-on (after the window)`);
    const after = await ctx.hht.join();
    probeTime(ctx, 'CCS01 probe after the window', t0, after.sentAtMs, {
      low: ctx.settings.interPanWindowMinutes,
      text: `after the ${ctx.settings.interPanWindowMinutes}-minute limit (IPAN-2)`,
    });
    if (after.outcome !== 'accepted') {
      await aliveSince(ctx, after.sentAtMs, 'the CCS01 after the window was not accepted');
      const a = (inside.sentAtMs - t0.atMs) / 60_000,
        b = (after.sentAtMs - t0.atMs) / 60_000;
      ctx.rec.measured(
        measure(
          'inter-PAN window length (closed between the two probes)',
          Number(((a + b) / 2).toFixed(4)),
          'min',
          Number(((b - a) / 2 + t0.uncertaintyMs / 60_000).toFixed(4)),
        ),
      );
    }
    if (after.outcome === 'accepted')
      ctx.rec.fail(
        'IPAN-2',
        `a CCS01 ${mmss(after.sentAtMs - t0.atMs)} after power-on was accepted; inter-PAN joining must end ${ctx.settings.interPanWindowMinutes} minutes after power-on`,
      );
  },
);

/**
 * Power cycles CH-IPAN-003 watches: one sample would miss a CH that opens no window on every second
 * (or third) cycle only; a CH that misses only every fourth or rarer goes unseen (docs/virtual-bench.md, mutation matrix).
 */
const REOPEN_CYCLES = 3;

conformanceCase(
  {
    id: 'CH-IPAN-003',
    role: 'CH',
    area: AREA,
    title: 'a power cycle opens a new inter-PAN window',
    requirements: ['IPAN-3'],
    references: [GBCS, 'SECMP0037'],
    requirement: `A power cycle of the CH opens a new 60-minute window counted from the new power-on: each of ${REOPEN_CYCLES} power cycles in a row.`,
    duration: (s) => REOPEN_CYCLES * (windowMs(s) + marginMs(s)) + minutes(1) + (REOPEN_CYCLES + 1) * STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    const window = minutes(ctx.settings.interPanWindowMinutes);
    const margin = ctx.settings.interPanBoundaryMarginSeconds * 1000;
    let previous = await powerOn(ctx, 'first window');
    await at(ctx, previous, minutes(1));
    ctx.rec.step('HHT sends CCS01 1:00 after the first power-on: the first window must be open');
    await openProbe(ctx, await ctx.hht.join(), previous, 'a new window');
    for (let cycle = 1; cycle <= REOPEN_CYCLES; cycle++) {
      await at(ctx, previous, window + margin);
      const t = await powerOn(ctx, `power cycle ${cycle} of ${REOPEN_CYCLES}, after the last window has ended`);
      await at(ctx, t, minutes(1));
      ctx.rec.step(`HHT sends CCS01 1:00 after power cycle ${cycle}`);
      const probe = await ctx.hht.join();
      probeTime(ctx, `CCS01 probe after power cycle ${cycle}`, t, probe.sentAtMs, {
        high: ctx.settings.interPanWindowMinutes,
        text: `inside the new ${ctx.settings.interPanWindowMinutes}-minute window (IPAN-3)`,
      });
      previous = t;
      if (probe.outcome === 'accepted') continue;
      await aliveSince(ctx, probe.sentAtMs, `the CCS01 after power cycle ${cycle} was not accepted`);
      ctx.rec.fail(
        'IPAN-3',
        `after power cycle ${cycle} of ${REOPEN_CYCLES}, a CCS01 ${mmss(probe.sentAtMs - t.atMs)} after the new power-on got ${got(probe)}; every power-on must open a new window`,
      );
    }
  },
);

/** Powers the CH and joins the HHT early in the window; the join's answer time is when the HHT's stay starts. */
async function joinedHht(ctx: CaseContext): Promise<{ t0: PowerEdge; joinedAtMs: number }> {
  const t0 = await powerOn(ctx, 'a fresh window for the HHT');
  await at(ctx, t0, minutes(1));
  ctx.rec.step('HHT joins with CCS01 over inter-PAN');
  const join = await ctx.hht.join();
  await openProbe(ctx, join, t0, "the HHT's stay on the HAN");
  const read = await ctx.hht.readOnHan();
  if (!read.answered) {
    await aliveSince(ctx, read.sentAtMs, "the HHT's first HAN read went unanswered");
    keyConfirmed(ctx, 'whether the CH admitted the HHT to the HAN');
    ctx.rec.fail('IPAN-4', 'the CH accepted the HHT (CCS01 response) but did not answer its HAN read: the HHT is not on the HAN');
  }
  return { t0, joinedAtMs: join.answeredAtMs! };
}

conformanceCase(
  {
    id: 'CH-IPAN-004',
    role: 'CH',
    area: AREA,
    title: 'an HHT that joined over inter-PAN leaves the HAN after 18 hours',
    requirements: ['IPAN-4'],
    references: [GBCS, 'SECMP0037'],
    requirement:
      'A device that joined over inter-PAN is treated as an HHT and stays on the HAN for the lesser of 18 hours and the next CH power-on: here, 18 hours.',
    duration: (s) => minutes(1) + s.hhtStayHours * 3_600_000 + marginMs(s) + 2 * STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    const stay = ctx.settings.hhtStayHours * 3_600_000;
    const margin = ctx.settings.interPanBoundaryMarginSeconds * 1000;
    const { joinedAtMs } = await joinedHht(ctx);
    ctx.rec.mark(`HHT stay ends (${ctx.settings.hhtStayHours} h)`, joinedAtMs + stay);
    ctx.progress.stagesOf(
      [
        [`the HHT's ${ctx.settings.hhtStayHours} h stay on the HAN, up to just before its end`, joinedAtMs + stay - margin],
        ["the HHT's stay, across its end", joinedAtMs + stay + margin],
      ],
      'read over the HAN after the stay',
    );
    await ctx.clock.sleep(joinedAtMs + stay - margin - ctx.clock.now());
    ctx.rec.step(`HHT reads over the HAN ${hhmm(stay - margin)} after joining`);
    const before = await ctx.hht.readOnHan();
    if (!before.answered) await aliveSince(ctx, before.sentAtMs, 'the HAN read before the end of the stay went unanswered');
    if (!before.answered)
      ctx.rec.fail(
        'IPAN-4',
        `the HHT was off the HAN ${hhmm(before.sentAtMs - joinedAtMs)} after joining; it must stay ${ctx.settings.hhtStayHours} hours`,
      );
    await ctx.clock.sleep(joinedAtMs + stay + margin - ctx.clock.now());
    ctx.rec.step(`HHT reads over the HAN ${hhmm(stay + margin)} after joining`);
    const after = await ctx.hht.readOnHan();
    if (!after.answered) await aliveSince(ctx, after.sentAtMs, 'the HAN read after the stay went unanswered');
    // Both ends are sniffer stamps; the value is rounded to 0.0001 h, so that is the least uncertainty.
    const stayUncertainty = Math.max(0.0001, (2 * ctx.capture.timeUncertaintyMs) / 3_600_000);
    ctx.rec.measured(
      measure(
        'HAN read after the HHT stay',
        Number(((after.sentAtMs - joinedAtMs) / 3_600_000).toFixed(4)),
        'h',
        Number(stayUncertainty.toFixed(6)),
        { low: ctx.settings.hhtStayHours, text: `after the ${ctx.settings.hhtStayHours}-hour HHT stay (IPAN-4)` },
      ),
      RIG_TIMING,
    );
    if (after.answered)
      ctx.rec.fail(
        'IPAN-4',
        `the HHT was still on the HAN ${hhmm(after.sentAtMs - joinedAtMs)} after joining; an HHT may stay at most ${ctx.settings.hhtStayHours} hours`,
      );
  },
);

conformanceCase(
  {
    id: 'CH-IPAN-005',
    role: 'CH',
    area: AREA,
    title: 'an HHT that joined over inter-PAN leaves the HAN at the next CH power-on',
    requirements: ['IPAN-4'],
    references: [GBCS, 'SECMP0037'],
    requirement:
      'A device that joined over inter-PAN stays on the HAN for the lesser of 18 hours and the next CH power-on: here, the power-on.',
    duration: () => minutes(13) + 3 * STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    await joinedHht(ctx);
    await ctx.clock.sleep(minutes(10));
    const t1 = await powerOn(ctx, 'the HHT must leave');
    await at(ctx, t1, minutes(2));
    ctx.rec.step('HHT reads over the HAN 2:00 after the CH power-on');
    const read = await ctx.hht.readOnHan();
    if (read.answered)
      ctx.rec.fail('IPAN-4', 'the HHT was still on the HAN after the CH power-on; an HHT entry must not survive a power-on');
    await aliveSince(ctx, read.sentAtMs, 'the HAN read after the power-on went unanswered');
  },
);

/**
 * The rig radio's second HHT identity (rigs/schema.ts): pinned by the rig file, else derived from the
 * radio's IEEE. The refused CCS01s name it, so an addition to the device log shows as its admission.
 */
function secondHht(ctx: CaseContext): HandHeldTerminal {
  const radio = ctx.bench.spec.radio;
  const pinned = radio.secondHhtIeee;
  return ctx.hht.asAnotherHht(
    pinned ?? derivedSecondHhtIeee(radio.ieee),
    pinned ? 'pinned by the rig file (radio.secondHhtIeee)' : "derived from the rig radio's IEEE (first byte XOR 0x02)",
  );
}

const REFUSED_CCS01: NonNullable<Parameters<HandHeldTerminal['join']>[0]>[] = [
  { malformed: 'truncated' },
  { malformed: 'bad-length' },
  { malformed: 'wrong-use-case' },
  { unauthorised: true },
];

conformanceCase(
  {
    id: 'CH-IPAN-006',
    role: 'CH',
    area: AREA,
    title: 'malformed or unauthorised CCS01 over inter-PAN is refused and changes nothing',
    requirements: ['IPAN-5'],
    references: [GBCS, 'SECMP0037'],
    requirement:
      'Over inter-PAN the CH accepts only well-formed, GBCS-compliant, authorised commands; malformed or unauthorised ones are refused and leave the device log unchanged.',
    duration: () => minutes(1) + 3 * STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    const t0 = await powerOn(ctx, 'a fresh window');
    await at(ctx, t0, minutes(1));
    const first = ctx.hht,
      second = secondHht(ctx);
    // The device log's observable part: which HHTs the CH admits to the HAN. The rig's HHT is put on it first, so a
    // removal shows; the second identity is not on it, so an addition shows.
    ctx.rec.step(
      `HHT ${first.identity.ieee} joins with a well-formed CCS01 and reads over the HAN: the device log holds it before the attempts` +
        ` (the second HHT identity ${second.identity.ieee} is not in it)`,
    );
    await openProbe(ctx, await first.join(), t0, 'a refusal');
    const before = await first.readOnHan();
    if (!before.answered) {
      await aliveSince(ctx, before.sentAtMs, "the HHT's HAN read after joining went unanswered");
      keyConfirmed(ctx, 'whether the CH admitted the HHT to the HAN');
      ctx.rec.unmet(
        'the CH accepted the HHT but did not answer its HAN read, so a change to the device log cannot be seen (CH-IPAN-004 judges that)',
        'run CH-IPAN-004 on this CH',
      );
    }
    // Named by the second identity (must not be added) and by the HHT in the log (must not be removed).
    for (const hht of [second, first]) {
      for (const attempt of REFUSED_CCS01) {
        const what = attempt.unauthorised ? 'CCS01 from an unauthorised originator' : `malformed CCS01 (${attempt.malformed})`;
        ctx.rec.step(`HHT ${hht.identity.ieee} sends a ${what}`);
        const r = await hht.join(attempt);
        if (r.outcome === 'accepted') ctx.rec.fail('IPAN-5', `the CH accepted a ${what} from ${hht.identity.ieee} over inter-PAN`);
      }
    }
    ctx.rec.step(`HHT ${first.identity.ieee} reads over the HAN: still on it (no removal)`);
    const after = await first.readOnHan();
    if (!after.answered) {
      await aliveSince(ctx, after.sentAtMs, 'the HAN read after the refused CCS01 went unanswered');
      ctx.rec.fail(
        'IPAN-5',
        `after the refused CCS01s the HHT ${first.identity.ieee} is no longer on the HAN: a refused command removed it from the device log`,
      );
    }
    ctx.rec.step(
      `the second HHT identity ${second.identity.ieee} asks to join the HAN (NWK Rejoin Request): it must not be admitted (no addition)`,
    );
    const rejoin = await second.askToJoinHan();
    if (rejoin.outcome === 'admitted') {
      const read = await second.readOnHan();
      ctx.rec.fail(
        'IPAN-5',
        `after the refused CCS01s naming ${second.identity.ieee}, the CH admitted it to the HAN (short ${hex16(rejoin.short!)}` +
          `, its HAN read ${read.answered ? 'answered' : 'unanswered'}): a refused command added it to the device log`,
      );
    }
    // Not admitted by silence is a judgement on silence: the CH must have been heard since, with the rig's key confirmed.
    if (rejoin.outcome === 'no answer') {
      await aliveSince(ctx, rejoin.sentAtMs, `the second HHT identity's Rejoin Request went unanswered`);
      keyConfirmed(ctx, `that the CH did not admit ${second.identity.ieee}`);
    }
    ctx.rec.step('HHT sends a well-formed CCS01: the window was open throughout, so the refusals were refusals');
    await openProbe(ctx, await first.join(), t0, 'the refusals');
  },
);

conformanceCase(
  {
    id: 'CH-IPAN-007',
    role: 'CH',
    area: AREA,
    title: 'SECMP0037 firmware keeps inter-PAN joining available beyond 60 minutes',
    requirements: ['IPAN-6'],
    references: ['SECMP0037', GBCS],
    requirement: 'Firmware that claims SECMP0037 keeps inter-PAN joining available beyond 60 minutes (so PPMIDs can pair without WAN).',
    duration: (s) => 4 * windowMs(s) + STEPS,
    needs: CH_POWER_CYCLES,
  },
  async (ctx) => {
    if (!claims(ctx).includes(SECMP0037)) ctx.rec.notApplicable('the firmware does not claim SECMP0037');
    const window = minutes(ctx.settings.interPanWindowMinutes);
    const margin = ctx.settings.interPanBoundaryMarginSeconds * 1000;
    const t0 = await powerOn(ctx, 'opens the window');
    for (const offset of [window + margin, 4 * window]) {
      await at(ctx, t0, offset);
      ctx.rec.step(`HHT sends CCS01 ${mmss(offset)} after power-on`);
      const probe = await ctx.hht.join();
      if (probe.outcome !== 'accepted') await aliveSince(ctx, probe.sentAtMs, 'a CCS01 after 60 minutes was not accepted');
      if (probe.outcome !== 'accepted')
        ctx.rec.fail(
          'IPAN-6',
          `a CCS01 ${mmss(probe.sentAtMs - t0.atMs)} after power-on got ${probe.outcome}; SECMP0037 firmware must keep inter-PAN joining available beyond ${ctx.settings.interPanWindowMinutes} minutes`,
        );
    }
  },
);
