// Behaviour profiles: what a virtual device does, as data. A virtual image's file IS its profile,
// so the sha256 in the manifest pins the behaviour exactly as it pins a real image's bytes.
import { z } from 'zod';
import { DataFile, FileProblemsError, expectationOf, hintTable, nonEmpty, patterned, slug } from './data-file.ts';
import type { DeviceRole } from './manifest.ts';
import { counted } from '../protocol/words.ts';

/** What a refused CCS01 does to the CHF device log: a conformant CH, nothing (IPAN-5 "change nothing"). */
export const REFUSAL_SIDE_EFFECTS = ['none', 'adds-sender', 'removes-sender'] as const;

const minutesOrNever = 'a number of minutes greater than 0, or null for "never closes"';
const EVERY = 'a whole number of at least 2 (1 would be every time: use the plain setting instead)';
const FIRST = 'a whole number of at least 1 (the first event that misbehaves, counted from 1)';

/**
 * Misbehaving only sometimes, deterministically: the events of one kind (power cycles, polls) are
 * counted from 1 and the `first`-th, then every `every`-th after it, misbehave. Never random, so a
 * verdict is reproducible; the count restarts with the device (a virtual bench's devices are fresh each case).
 */
export const occasionalSchema = z.strictObject({
  every: z.int({ error: EVERY }).min(2, { error: EVERY }),
  /** Default `every`: events every, 2·every, 3·every… */
  first: z.int({ error: FIRST }).min(1, { error: FIRST }).optional(),
});
export type Occasional = z.output<typeof occasionalSchema>;

/** Whether the `n`-th event (counted from 1) is one the occasional misbehaviour hits. */
export function misbehavesOn(o: Occasional | undefined, n: number): boolean {
  if (!o) return false;
  const first = o.first ?? o.every;
  return n >= first && (n - first) % o.every === 0;
}

const hoursOrNever = 'a number of hours greater than 0, or null for "stays until power-on"';
const rejoinMinutesOrNever = 'a number of minutes of at least 0, or null for "never asks to rejoin"';

/**
 * PWR-1: how a HAN device comes back after it lost the CH (its coordinator) to a power cycle — the minutes
 * it waits before its first Rejoin Request once it noticed; null: it never asks again until its own power cycle.
 */
const rejoinDelayMinutes = z.number({ error: rejoinMinutesOrNever }).min(0, { error: rejoinMinutesOrNever }).nullable().default(0);

export const commsHubProfileSchema = z.strictObject({
  /** Matches the manifest's `profile` and the file name. */
  id: slug('a profile id'),
  kind: z.literal('comms-hub'),
  description: nonEmpty('a description'),
  /** The DOMAIN.md requirements this profile deliberately breaks (empty for a conformant one): its suite must FAIL it. */
  breaks: z.array(patterned(/^[A-Z]+-\d+$/, 'a requirement id such as IPAN-2')),
  /** False: the device's radio never transmits (dead, or on another channel); the suites must end INCONCLUSIVE on it, never FAIL. */
  transmits: z.boolean().default(true),
  interPan: z
    .strictObject({
      /** From CH power-on (GBCS 10.5: 60); null = the window never closes (SECMP0037). */
      windowMinutes: z.number({ error: minutesOrNever }).positive({ error: minutesOrNever }).nullable(),
      /** IPAN-3: a power-on opens a new window. */
      reopensOnPowerOn: z.boolean(),
      /** IPAN-3 broken only sometimes: the power cycles (power-ons after the first, counted from 1) that open no new window. */
      missesReopen: occasionalSchema.optional(),
      /** IPAN-5: a conformant CH refuses malformed CCS01 over inter-PAN. */
      acceptsMalformed: z.boolean(),
      /** IPAN-5: and unauthorised ones. */
      acceptsUnauthorised: z.boolean(),
      /** How long the CH takes to answer an inter-PAN CCS01. */
      responseDelayMs: z.number().min(0),
      /** IPAN-5: what a refusal does to the device log besides refusing: nothing (conformant), or adds or removes the device the CCS01 names. */
      refusalSideEffect: z.enum(REFUSAL_SIDE_EFFECTS).default('none'),
    })
    .refine((w) => w.missesReopen === undefined || w.reopensOnPowerOn, {
      path: ['missesReopen'],
      error: 'absent when reopensOnPowerOn is false (then no power cycle opens a window)',
    }),
  hht: z.strictObject({
    /** IPAN-4: how long a joined HHT stays on the HAN (18); null = until the next power-on. */
    stayHours: z.number({ error: hoursOrNever }).positive({ error: hoursOrNever }).nullable(),
    /** IPAN-4: a conformant CH drops the HHT at its next power-on. */
    survivesPowerOn: z.boolean(),
  }),
  /** PWR-2 (lab setting deviceLogSurvivesPowerCycle): the HAN devices' entries of the CHF device log survive a power-on; false: lost, every device must be recommissioned. */
  deviceLogSurvivesPowerOn: z.boolean().default(true),
});

export type CommsHubProfile = z.output<typeof commsHubProfileSchema>;

/** What a HAN client holds that a Change of Tenancy must clear (COT-4). */
export const TENANCY_DATA_KINDS = ['consumptionHistory', 'topUpHistory', 'debtRecovery', 'supplierMessages'] as const;
export type TenancyDataKind = (typeof TENANCY_DATA_KINDS)[number];
/** The meter's own logs among them (its last supplier message is COT-6's, apart). */
export const METER_DATA_KINDS = ['consumptionHistory', 'topUpHistory', 'debtRecovery'] as const;
export type MeterDataKind = (typeof METER_DATA_KINDS)[number];

const positiveOrNever = 'a number of hours greater than 0, or null for "no periodic poll"';

/**
 * A Device Management server of the HAN (DOMAIN.md §B): the ESME, or the GPF. The GPF is not a
 * device role (it lives in the CH), so a GPF profile is run by a virtual CH beside its comms-hub profile.
 */
export const meterProfileSchema = z.strictObject({
  id: slug('a profile id'),
  kind: z.literal('meter'),
  description: nonEmpty('a description'),
  breaks: z.array(patterned(/^[A-Z]+-\d+$/, 'a requirement id such as COT-1')),
  /** False: the device's radio never transmits (dead, or on another channel); the suites must end INCONCLUSIVE on it, never FAIL. */
  transmits: z.boolean().default(true),
  meterType: z.enum(['esme', 'gpf']),
  /** COT-1: on ECS12/GCS09, sends Publish Change of Tenancy unsolicited to its HAN clients. */
  publishesChangeOfTenancy: z.boolean(),
  /** COT-2/COT-8: answers a client's Get Change of Tenancy with the current Publish Change of Tenancy. */
  answersGetChangeOfTenancy: z.boolean(),
  /** COT-6: at the implementation time, cancels the last supplier message (Messaging Cancel Message). */
  cancelsLastMessageOnTenancyChange: z.boolean(),
  /** COT-4 on the meter's side: which of its own logs it stops serving (clears) when the control bits ask for it. */
  clears: z.strictObject(Object.fromEntries(METER_DATA_KINDS.map((k) => [k, z.boolean()])) as Record<MeterDataKind, z.ZodBoolean>),
  /** How long the meter takes to answer a HAN request or to publish after ECS12/GCS09. */
  responseDelayMs: z.number().min(0),
  /** PWR-1: after losing the CH to a power cycle, the minutes before it asks to rejoin (default 0); null: never. */
  rejoinDelayMinutes,
});

export type MeterProfile = z.output<typeof meterProfileSchema>;

/**
 * RCN-1, RCN-2: a request to a meter unanswered within answerTimeoutSeconds marks the meter lost; the client
 * then probes it (a Read Attributes) after retryFirstSeconds, multiplied by retryFactor each time up to
 * retryMaxSeconds (a bounded back-off), and on the meter's first answer polls Change of Tenancy and refreshes
 * its data (its top-up log) when refreshesOnRecovery. The defaults are a conformant client's.
 */
export const RECONNECT_DEFAULTS = {
  answerTimeoutSeconds: 10,
  retryFirstSeconds: 30,
  retryFactor: 2,
  retryMaxSeconds: 300,
  refreshesOnRecovery: true,
} as const;

const reconnectSchema = z.strictObject({
  answerTimeoutSeconds: z.number().positive().default(RECONNECT_DEFAULTS.answerTimeoutSeconds),
  retryFirstSeconds: z.number().positive().default(RECONNECT_DEFAULTS.retryFirstSeconds),
  retryFactor: z.number().min(1).default(RECONNECT_DEFAULTS.retryFactor),
  retryMaxSeconds: z.number().positive().default(RECONNECT_DEFAULTS.retryMaxSeconds),
  refreshesOnRecovery: z.boolean().default(RECONNECT_DEFAULTS.refreshesOnRecovery),
});

/**
 * RCN-4: how a HAN client comes back after an over-the-air upgrade (its OTA Upgrade client; the firmware it runs
 * out of the box is firmware-images/ota.ts's VIRTUAL_OTA_FILE_VERSION, its image type its clientType's).
 */
export const otaClientSchema = z.strictObject({
  /** After the upgrade's reboot it asks the CH to rejoin the HAN; false: it stays off the HAN until its next power cycle. */
  rejoinsAfterUpgrade: z.boolean().default(true),
  /** Minutes after it is back on the HAN before it polls its meters again (default 0: at once, as after any power-up). */
  pollDelayAfterUpgradeMinutes: z.number().min(0).default(0),
});

/** A HAN client of the meters (DOMAIN.md §B): the IHD or the PPMID. */
export const hanClientProfileSchema = z
  .strictObject({
    id: slug('a profile id'),
    kind: z.literal('han-client'),
    description: nonEmpty('a description'),
    breaks: z.array(patterned(/^[A-Z]+-\d+$/, 'a requirement id such as COT-2')),
    /** False: the device's radio never transmits (dead, or on another channel); the suites must end INCONCLUSIVE on it, never FAIL. */
    transmits: z.boolean().default(true),
    clientType: z.enum(['ihd', 'ppmid']),
    /** COT-2: sends Get Change of Tenancy once on the HAN after a power-up. */
    pollsAtPowerUp: z.boolean(),
    /** COT-2/PWR-3: and after rejoining, or when a server it lost comes back. */
    pollsAtRejoin: z.boolean(),
    /** COT-3: the periodic poll (24 or less); null = no periodic poll (or pollIntervalSeconds). */
    pollPeriodHours: z.number({ error: positiveOrNever }).positive({ error: positiveOrNever }).nullable(),
    /** COT-3: periodic polls counted from power-up, or on the UTC-midnight grid. */
    pollAlignment: z.enum(['power-up', 'midnight-utc']),
    /** COT-9: a flooding poller's period in seconds, instead of pollPeriodHours (which must then be null). */
    pollIntervalSeconds: z.number().positive().optional(),
    /** COT-3 broken only sometimes: the periodic polls (counted from 1 since power-up) it does not send. */
    skipsPolls: occasionalSchema.optional(),
    /** COT-2 broken only sometimes: the power-ups (counted from 1) after which it does not poll. */
    skipsPowerUpPolls: occasionalSchema.optional(),
    /** COT-4: which data the device clears when the publication's control bits ask for it. */
    clears: z.strictObject(Object.fromEntries(TENANCY_DATA_KINDS.map((k) => [k, z.boolean()])) as Record<TenancyDataKind, z.ZodBoolean>),
    /** COT-5: clears at the Implementation Date/Time, at receipt, or never acts on the publication. */
    implementationTime: z.enum(['honour', 'on-receipt', 'ignore']),
    /** COT-5 broken by a margin: with `honour`, clears this many minutes before the implementation time (default 0). */
    clearsMinutesEarly: z.number().min(0).default(0),
    /** COT-7: a conformant client keeps what was recorded after the implementation time. */
    clearsNewOccupierData: z.boolean(),
    /** Side effects of a Change of Tenancy once it has cleared for it: it stops its periodic polls (COT-3), or stops recording (COT-7). */
    afterClearing: z.array(z.enum(['stops-polling', 'stops-recording'])).default([]),
    /** PWR-1: after losing the CH to a power cycle, the minutes before it asks to rejoin (default 0); null: never. */
    rejoinDelayMinutes,
    /** RCN-1/RCN-3: it reads its meters (Metering summation, Prepayment credit) this often; absent: it never reads them. */
    readPeriodMinutes: z.number().positive().optional(),
    /** RCN-1, RCN-2: what it does when a meter stops answering, and when it answers again. */
    reconnect: reconnectSchema.default(RECONNECT_DEFAULTS),
    /** RCN-3 (PPMID): a top-up code entered on it goes to the meter always, or (non-conformant) only while the CH's WAN is up. */
    localTopUp: z.enum(['always', 'needs-wan']).default('always'),
    /** RCN-4: after an over-the-air upgrade (default: rejoins and polls at once). */
    ota: otaClientSchema.prefault({}),
  })
  .refine((p) => p.pollIntervalSeconds === undefined || p.pollPeriodHours === null, {
    path: ['pollPeriodHours'],
    error: 'null when pollIntervalSeconds is given (one periodic poll)',
  })
  .refine((p) => p.skipsPolls === undefined || p.pollPeriodHours !== null || p.pollIntervalSeconds !== undefined, {
    path: ['skipsPolls'],
    error: 'absent when the device has no periodic poll (pollPeriodHours null, no pollIntervalSeconds)',
  })
  .refine((p) => p.skipsPowerUpPolls === undefined || p.pollsAtPowerUp, {
    path: ['skipsPowerUpPolls'],
    error: 'absent when pollsAtPowerUp is false (then it never polls at power-up)',
  });

export type HanClientProfile = z.output<typeof hanClientProfileSchema>;

// One kind per device role; GSME profiles join this union as they land.
export const deviceProfileSchema = z.discriminatedUnion('kind', [commsHubProfileSchema, meterProfileSchema, hanClientProfileSchema]);

export type DeviceProfile = z.output<typeof deviceProfileSchema>;
export type DeviceProfileKind = DeviceProfile['kind'];

/** The profile kind a virtual device of each role runs; undefined where none exists yet. */
export const PROFILE_KIND_OF_ROLE: Readonly<Record<DeviceRole, DeviceProfileKind | undefined>> = {
  CH: 'comms-hub',
  ESME: 'meter',
  GSME: undefined,
  PPMID: 'han-client',
  IHD: 'han-client',
};

export class ProfileError extends FileProblemsError {
  override name = 'ProfileError';
}

const PROFILE_HINTS = hintTable({
  kind: 'Profile kinds so far: comms-hub, meter (ESME, GPF), han-client (IHD, PPMID).',
  pollPeriodHours: 'COT-3: at most 24 hours; null only for a device that never polls periodically, or with pollIntervalSeconds.',
  implementationTime: "COT-5: 'honour' clears at the Implementation Date/Time, 'on-receipt' at once, 'ignore' never acts on it.",
  breaks: 'List the requirement ids (docs/requirements.md) this profile breaks, e.g. [IPAN-2]; [] for a conformant profile.',
  'interPan.windowMinutes': 'GBCS 10.5 says 60; SECMP0037 firmware keeps the window open (null).',
  'hht.stayHours': 'GBCS 10.5 says 18 hours.',
  'interPan.refusalSideEffect': `One of ${REFUSAL_SIDE_EFFECTS.join(', ')}: 'none' (the default) for a CH that refuses and changes nothing (IPAN-5).`,
  'interPan.missesReopen': 'E.g. { every: 2 }: the 2nd, 4th… power cycle opens no window; { every: 3, first: 1 }: the 1st, 4th, 7th….',
  skipsPolls: 'E.g. { every: 2 }: the 2nd, 4th… periodic poll since power-up is not sent.',
  skipsPowerUpPolls: 'E.g. { every: 2 }: no poll after the 2nd, 4th… power-up.',
  '**.every': 'Misbehaving sometimes: { every: N } hits the Nth, 2Nth… event; add first: k to start at the kth.',
  '**.first': 'Misbehaving sometimes: first is the first event hit, counted from 1 (default every).',
  rejoinDelayMinutes: 'PWR-1: 0 (the default) asks the CH to rejoin as soon as the device notices it went; null never asks again.',
  deviceLogSurvivesPowerOn:
    'PWR-2: true (the default) keeps the HAN devices in the CHF device log across a power-on; HHT entries follow hht.survivesPowerOn.',
  'ota.rejoinsAfterUpgrade': 'RCN-4: true (the default) rejoins the HAN after the upgrade reboot; false stays off it.',
  'ota.pollDelayAfterUpgradeMinutes': 'RCN-4: 0 (the default) polls the meters as soon as it is back on the HAN after the upgrade.',
  afterClearing: "A list of 'stops-polling' (no periodic poll any more) and 'stops-recording' (nothing new is kept).",
  readPeriodMinutes: 'RCN-1, RCN-3: how often the client reads its meters, in minutes; leave it out for a client that never reads them.',
  reconnect:
    'RCN-1, RCN-2: { answerTimeoutSeconds, retryFirstSeconds, retryFactor, retryMaxSeconds, refreshesOnRecovery }, each optional (10, 30, 2, 300, true).',
  localTopUp:
    "RCN-3: 'always' (the default) sends a code entered on the PPMID to its meter; 'needs-wan' refuses while the CH's WAN is down.",
});

/** A conformant profile of each kind, to point at when one is refused. */
const EXAMPLE_OF_KIND: Readonly<Record<DeviceProfileKind, string>> = {
  'comms-hub': 'ch-conformant',
  meter: 'esme-conformant',
  'han-client': 'ihd-conformant',
};

/** Reads and validates a behaviour profile; throws ProfileError listing every problem. */
export async function loadProfile(file: string): Promise<DeviceProfile> {
  const parsed = await DataFile.read(file, 'a behaviour profile');
  if (Array.isArray(parsed)) throw new ProfileError(`Behaviour profile refused:`, parsed);
  const result = deviceProfileSchema.safeParse(parsed.data, { error: expectationOf });
  if (!result.success) {
    const kind = (parsed.data as { kind?: unknown } | null)?.kind;
    const example = EXAMPLE_OF_KIND[kind as DeviceProfileKind] ?? EXAMPLE_OF_KIND['comms-hub'];
    const problems = parsed.problemsFromIssues(result.error.issues, PROFILE_HINTS, `See firmware-images/profiles/${example}.yaml.`);
    throw new ProfileError(`Behaviour profile ${parsed.shown} refused (${counted(problems.length, 'problem')}):`, problems);
  }
  return result.data;
}
