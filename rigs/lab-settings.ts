// Every limit and interpretation a lab may set in its rig file (DOMAIN.md, "lab setting"), with the
// default the seeds give and the requirement it serves. Reports print each value with its source.
import { z } from 'zod';

export type LabSettingSource = 'default' | 'rig file';

interface LabSetting<S extends z.ZodType> {
  readonly schema: S;
  readonly default: z.output<S>;
  /** Unit of the value, as a report prints it; empty for flags and choices. */
  readonly unit: string;
  /** The requirement ids it serves (DOMAIN.md), or `rig` for the rig's own limits. */
  readonly serves: string;
  /** Where the default comes from and what the setting means. */
  readonly basis: string;
  /** It reads text that is silent or disputed: a verdict on its requirements rests on the lab's reading (the report says so). */
  readonly interprets: boolean;
}

function setting<S extends z.ZodType>(
  schema: S,
  defaultValue: z.output<S>,
  unit: string,
  serves: string,
  basis: string,
  interprets = false,
): LabSetting<S> {
  return { schema, default: defaultValue, unit, serves, basis, interprets };
}

const positive = () => z.number().positive();

export const LAB_SETTINGS = {
  interPanWindowMinutes: setting(
    positive(),
    60,
    'min',
    'IPAN-1, IPAN-2, IPAN-3',
    'GBCS 10.5: inter-PAN joining is available for 60 minutes from CH power-on',
  ),
  interPanBoundaryMarginSeconds: setting(
    positive(),
    60,
    's',
    'IPAN-1, IPAN-2, IPAN-3',
    'Boundary probes straddle the window limit by this margin (59:00 and 61:00 by default)',
  ),
  hhtStayHours: setting(
    positive(),
    18,
    'h',
    'IPAN-4',
    'GBCS 10.5: an HHT joined over inter-PAN stays the lesser of 18 hours and the next CH power-on',
  ),
  rejoinLimitMinutes: setting(positive(), 15, 'min', 'PWR-1', 'Devices in the CHF device log rejoin within this long of a CH power cycle'),
  deviceLogSurvivesPowerCycle: setting(
    z.boolean(),
    true,
    '',
    'PWR-2',
    'The CHF device log survives a CH power cycle except HHT entries (not found stated in public text)',
    true,
  ),
  cotPollPeriodHours: setting(positive(), 24, 'h', 'COT-3', 'SECMP0056: IHD and PPMID ask for Change of Tenancy at least this often'),
  cotPollToleranceMinutes: setting(
    positive(),
    5,
    'min',
    'COT-3',
    'Allowance for the device clock when judging the poll period: a device polling exactly every 24 hours passes',
  ),
  cotImplementationTime: setting(
    z.enum(['honour', 'ignore']),
    'honour',
    '',
    'COT-5',
    "SECMP0056: 'honour' clears data when the Implementation Date/Time is reached, 'ignore' on receipt (disputed in consultation)",
    true,
  ),
  cotPollRateLimitPerMinute: setting(
    positive(),
    1,
    'per min',
    'COT-9',
    'At most this many Get Change of Tenancy per device per minute outside power-up and rejoin',
  ),
  reconnectRequestRateLimitPerMinute: setting(
    positive().nullable(),
    null,
    'per min',
    'RCN-1',
    'Maximum request rate of a client retrying an unreachable server; the seeds give no default, so null measures and reports without a limit',
  ),
  reconnectRecoveryMinutes: setting(
    positive().nullable(),
    null,
    'min',
    'RCN-1',
    'A client recovers within this long after its server returns; the seeds give no default, so null measures and reports without a limit',
  ),
  reconnectOutageMinutes: setting(
    positive(),
    30,
    'min',
    'RCN-1, RCN-2, RCN-3',
    "How long a meter stays out of reach (RCN-1, RCN-2) and the CH's WAN stays cut (RCN-3); no source gives one: long enough for a client's reads to fall due",
  ),
  otaRejoinLimitMinutes: setting(
    positive(),
    15,
    'min',
    'RCN-4',
    "After an over-the-air firmware upgrade, the device is back on the HAN within this long of the upgrade (the server's Upgrade End Response); PWR-1's default",
  ),
  otaResumePollMinutes: setting(
    positive(),
    15,
    'min',
    'RCN-4',
    'After an over-the-air firmware upgrade, the device polls its meters again within this long of the upgrade',
  ),
  otaTransferMinutes: setting(
    positive(),
    60,
    'min',
    'rig',
    'How long the rig waits for an over-the-air image to be offered, fetched and the upgrade to start; a transfer that does not finish is INCONCLUSIVE',
  ),
  relayConfirmSeconds: setting(
    positive(),
    5,
    's',
    'rig',
    'A relay that does not confirm a command within this long is a rig fault (INCONCLUSIVE, never FAIL)',
  ),
  partProbeSeconds: setting(
    z.number().min(0),
    10,
    's',
    'rig',
    'On hardware, each sniffer (bare `channel`) and the rig radio (`version`) is asked this often whether it is alive; one that does not answer within 2 s makes the case INCONCLUSIVE; 0 turns the probe off',
  ),
  captureWithinSeconds: setting(
    positive(),
    5,
    's',
    'rig',
    'How long the rig waits for an expected frame on the sniffers unless a test case says otherwise',
  ),
  operatorAnswerMinutes: setting(
    positive(),
    10,
    'min',
    'COT-4, COT-5, COT-7',
    'How long an operator has to answer a question about a display before the case is INCONCLUSIVE',
  ),
  auditPayloads: setting(
    z.boolean(),
    false,
    '',
    'E (audit trail)',
    'The audit trail shows command titles only; payloads only where the lab turns them on',
  ),
} as const;

export type LabSettingName = keyof typeof LAB_SETTINGS;

export type LabSettings = { readonly [K in LabSettingName]: z.output<(typeof LAB_SETTINGS)[K]['schema']> };

/** Each setting's value and whether it came from the rig file or the default. */
export type LabSettingsReport = {
  readonly [K in LabSettingName]: { readonly value: LabSettings[K]; readonly source: LabSettingSource };
};

export const LAB_SETTING_NAMES = Object.keys(LAB_SETTINGS) as LabSettingName[];

export const labSettingsSchema = z.strictObject(
  Object.fromEntries(LAB_SETTING_NAMES.map((name) => [name, LAB_SETTINGS[name].schema.optional()])) as {
    [K in LabSettingName]: z.ZodOptional<(typeof LAB_SETTINGS)[K]['schema']>;
  },
);

/** Fills in defaults and records the source of every setting. */
export function resolveLabSettings(fromFile: Partial<LabSettings> | undefined): LabSettingsReport {
  return Object.fromEntries(
    LAB_SETTING_NAMES.map((name) => {
      const given = fromFile?.[name];
      return [name, given === undefined ? { value: LAB_SETTINGS[name].default, source: 'default' } : { value: given, source: 'rig file' }];
    }),
  ) as LabSettingsReport;
}

/** The fix a person needs when a setting's value is refused. */
export function labSettingHint(name: string): string | undefined {
  if (!(name in LAB_SETTINGS)) return undefined;
  const s = LAB_SETTINGS[name as LabSettingName];
  const unit = s.unit ? ` ${s.unit}` : '';
  return `${s.serves}: ${s.basis}. Omit it to use the default, ${JSON.stringify(s.default)}${unit}.`;
}

/** The lab settings that interpret silent or disputed text for any of `requirements`. */
export function interpretingSettings(requirements: readonly string[]): { setting: LabSettingName; basis: string }[] {
  return (Object.keys(LAB_SETTINGS) as LabSettingName[])
    .filter((name) => LAB_SETTINGS[name].interprets && LAB_SETTINGS[name].serves.split(', ').some((r) => requirements.includes(r)))
    .map((setting) => ({ setting, basis: LAB_SETTINGS[setting].basis }));
}
