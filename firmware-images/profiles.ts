// Behaviour profiles: what a virtual device does, as data. A virtual image's file IS its profile,
// so the sha256 in the manifest pins the behaviour exactly as it pins a real image's bytes.
import { z } from 'zod';
import { DataFile, FileProblemsError, expectationOf, hintTable, nonEmpty, patterned, slug } from './data-file.ts';
import type { DeviceRole } from './manifest.ts';

const minutesOrNever = 'a number of minutes greater than 0, or null for "never closes"';
const hoursOrNever = 'a number of hours greater than 0, or null for "stays until power-on"';

export const commsHubProfileSchema = z.strictObject({
  /** Matches the manifest's `profile` and the file name. */
  id: slug('a profile id'),
  kind: z.literal('comms-hub'),
  description: nonEmpty('a description'),
  /** The DOMAIN.md requirements this profile deliberately breaks (empty for a conformant one): its suite must FAIL it. */
  breaks: z.array(patterned(/^[A-Z]+-\d+$/, 'a requirement id such as IPAN-2')),
  interPan: z.strictObject({
    /** From CH power-on (GBCS 10.5: 60); null = the window never closes (SECMP0037). */
    windowMinutes: z.number({ error: minutesOrNever }).positive({ error: minutesOrNever }).nullable(),
    /** IPAN-3: a power-on opens a new window. */
    reopensOnPowerOn: z.boolean(),
    /** IPAN-5: a conformant CH refuses malformed CCS01 over inter-PAN. */
    acceptsMalformed: z.boolean(),
    /** IPAN-5: and unauthorised ones. */
    acceptsUnauthorised: z.boolean(),
    /** How long the CH takes to answer an inter-PAN CCS01. */
    responseDelayMs: z.number().min(0),
  }),
  hht: z.strictObject({
    /** IPAN-4: how long a joined HHT stays on the HAN (18); null = until the next power-on. */
    stayHours: z.number({ error: hoursOrNever }).positive({ error: hoursOrNever }).nullable(),
    /** IPAN-4: a conformant CH drops the HHT at its next power-on. */
    survivesPowerOn: z.boolean(),
  }),
});

export type CommsHubProfile = z.output<typeof commsHubProfileSchema>;

// One kind per device role; ESME, GSME, PPMID and IHD profiles join this union as they land.
export const deviceProfileSchema = z.discriminatedUnion('kind', [commsHubProfileSchema]);

export type DeviceProfile = z.output<typeof deviceProfileSchema>;
export type DeviceProfileKind = DeviceProfile['kind'];

/** The profile kind a virtual device of each role runs; undefined where none exists yet. */
export const PROFILE_KIND_OF_ROLE: Readonly<Record<DeviceRole, DeviceProfileKind | undefined>> = {
  CH: 'comms-hub',
  ESME: undefined,
  GSME: undefined,
  PPMID: undefined,
  IHD: undefined,
};

export class ProfileError extends FileProblemsError {
  override name = 'ProfileError';
}

const PROFILE_HINTS = hintTable({
  kind: 'Profile kinds so far: comms-hub.',
  breaks: 'List the DOMAIN.md requirement ids this profile breaks, e.g. [IPAN-2]; [] for a conformant profile.',
  'interPan.windowMinutes': 'GBCS 10.5 says 60; SECMP0037 firmware keeps the window open (null).',
  'hht.stayHours': 'GBCS 10.5 says 18 hours.',
});

/** Reads and validates a behaviour profile; throws ProfileError listing every problem. */
export async function loadProfile(file: string): Promise<DeviceProfile> {
  const parsed = await DataFile.read(file, 'a behaviour profile');
  if (Array.isArray(parsed)) throw new ProfileError(`Behaviour profile refused:`, parsed);
  const result = deviceProfileSchema.safeParse(parsed.data, { error: expectationOf });
  if (!result.success) {
    const problems = parsed.problemsFromIssues(result.error.issues, PROFILE_HINTS, 'See firmware-images/profiles/ch-conformant.yaml.');
    throw new ProfileError(`Behaviour profile ${parsed.shown} refused (${problems.length} problem${problems.length === 1 ? '' : 's'}):`, problems);
  }
  return result.data;
}
