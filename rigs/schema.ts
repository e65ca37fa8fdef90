// The rig file: one lab station, its MQTT broker and its benches (devices under test, relays,
// sniffers, rig radio). Shape only; cross-references and secrets are checked in load.ts. A relay's
// `vendor` and a sniffer's or the radio's `kind` pick one row of the registries in drivers/, whose
// fields the entry then has: the schema is built from the registries when a rig is read.
import { z } from 'zod';
import { relayVendors } from '../drivers/power/registry.ts';
import { DEFAULT_RADIO_KIND, radioKinds } from '../drivers/radio/registry.ts';
import { snifferKinds } from '../drivers/sniffer/registry.ts';
import { hintTable, isSecretKey, nonEmpty, patterned, slug, type DataPath } from '../firmware-images/data-file.ts';
import { DEVICE_ROLES } from '../firmware-images/manifest.ts';
import { labSettingHint, labSettingsSchema } from './lab-settings.ts';

const IEEE_EXPECTATION = 'an IEEE (EUI-64) address: 8 hex bytes separated by colons, e.g. "00:db:12:34:56:78:90:a2"';

/** A 64-bit IEEE address, normalised to lowercase colon-separated bytes, most significant first. */
export const ieeeAddress = patterned(/^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){7}$/, IEEE_EXPECTATION)
  .transform((s) => s.replace(/[:-]/g, '').toLowerCase().match(/../g)!.join(':'))
  // All zeros and all ones are ZigBee's "no address" and "broadcast", never a device's.
  .refine((s) => s !== '00:00:00:00:00:00:00:00' && s !== 'ff:ff:ff:ff:ff:ff:ff:ff', {
    error: `${IEEE_EXPECTATION}, not all zeros or all ones`,
  });

const CHANNEL = 'a 2.4 GHz 802.15.4 channel from 11 to 26';
export const channel = z.int({ error: CHANNEL }).min(11, { error: CHANNEL }).max(26, { error: CHANNEL });

const PAN_ID = 'a PAN id from 0x0000 to 0xfffd (0xfffe and 0xffff are not PANs), as a number or "0x…"';
/** A HAN's PAN id: a number, or hex text as captures show it. */
export const panId = z
  .union([z.int(), patterned(/^0x[0-9a-fA-F]{1,4}$/, PAN_ID).transform((s) => parseInt(s, 16))], { error: PAN_ID })
  .refine((n) => n >= 0 && n <= 0xfffd, { error: PAN_ID });

const ENV_NAME = 'the name of an environment variable, e.g. GBCS_MQTT_PASSWORD';
export const envName = patterned(/^[A-Za-z_][A-Za-z0-9_]*$/, ENV_NAME);

const BROKER_URL = 'an MQTT broker URL (mqtt://, mqtts://, ws:// or wss://) without a password, or "embedded"';

/** True for a URL that carries a password in its user info. */
export function urlHasPassword(text: string): boolean {
  try {
    return new URL(text).password !== '';
  } catch {
    return false;
  }
}

export const brokerUrl = z.string({ error: BROKER_URL }).refine(
  (s) => {
    if (s === 'embedded') return true;
    try {
      return ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(new URL(s).protocol) && !urlHasPassword(s);
    } catch {
      return false;
    }
  },
  { error: BROKER_URL },
);

export const stationSchema = z.strictObject({
  name: nonEmpty('the station name'),
  lab: nonEmpty('the lab name'),
  operator: nonEmpty('the operator').optional(),
  mqtt: z.strictObject({
    /** `embedded`: the in-process broker the virtual bench starts. */
    url: brokerUrl,
    usernameEnv: envName.optional(),
    passwordEnv: envName.optional(),
    /** Names a variable holding the path of the CA certificate(s) for mqtts. */
    caFileEnv: envName.optional(),
    clientId: nonEmpty('a client id').optional(),
  }),
});

export const deviceSchema = z.strictObject({
  id: slug('a device id'),
  role: z.enum(DEVICE_ROLES),
  ieee: ieeeAddress,
  /** A firmware image id from the catalogue. */
  firmware: slug('a firmware image id'),
  /** A relay id on the same bench. */
  relay: slug('a relay id'),
  /** The unit's serial number, as on its label (the report identifies the item tested by it). */
  serialNumber: nonEmpty('a serial number').optional(),
  /** The unit's hardware revision, as on its label. */
  hardwareRevision: nonEmpty('a hardware revision').optional(),
  /** A CH's gas proxy function: its own IEEE address and firmware image (powered with the CH). */
  gpf: z.strictObject({ ieee: ieeeAddress, firmware: slug('a firmware image id') }).optional(),
  /** An IHD's or PPMID's observation (debug) port speaking gbcs-observe 1; without one the operator is asked. */
  observe: z
    .strictObject({
      path: nonEmpty('a serial device path').optional(),
      usbSerialNumber: nonEmpty('a USB serial number').optional(),
    })
    .refine((o) => !!o.path !== !!o.usbSerialNumber, { error: 'exactly one of path and usbSerialNumber' })
    .optional(),
});

/** The first row and the rest, as z.discriminatedUnion wants them (every registry has its built-in rows). */
function rows<T>(list: readonly T[]): [T, ...T[]] {
  return list as [T, ...T[]];
}

/** A relay's own fields, beside `id` and `vendor`: as its vendor in drivers/power/registry.ts declares them. */
export interface RigFileRelay {
  readonly id: string;
  readonly vendor: string;
  readonly [field: string]: unknown;
}

/** A relay entry: `id`, `vendor`, and that vendor's fields. */
export function relaySchema(): z.ZodType<RigFileRelay> {
  const byVendor = relayVendors().map((v) => z.strictObject({ id: slug('a relay id'), vendor: z.literal(v.vendor), ...v.fields }));
  return z.discriminatedUnion('vendor', rows(byVendor)) as unknown as z.ZodType<RigFileRelay>;
}

const serialLocation = {
  /** Exactly one of path and usbSerialNumber on a real bench; neither on a virtual one. */
  path: nonEmpty('a serial device path').optional(),
  usbSerialNumber: nonEmpty('a USB serial number').optional(),
};

export interface RigFileSniffer {
  readonly id: string;
  readonly kind: string;
  readonly channel: number;
  readonly path?: string;
  readonly usbSerialNumber?: string;
  readonly [field: string]: unknown;
}

/** A sniffer entry: `id`, `kind`, its serial location and channel, and that kind's fields (drivers/sniffer/registry.ts). */
export function snifferSchema(): z.ZodType<RigFileSniffer> {
  const byKind = snifferKinds().map((k) =>
    z.strictObject({ id: slug('a sniffer id'), kind: z.literal(k.kind), ...serialLocation, channel, ...k.fields }),
  );
  return z.discriminatedUnion('kind', rows(byKind)) as unknown as z.ZodType<RigFileSniffer>;
}

export interface RigFileRadio {
  readonly kind: string;
  readonly channel: number;
  readonly ieee: string;
  readonly secondHhtIeee?: string;
  readonly path?: string;
  readonly usbSerialNumber?: string;
  readonly [field: string]: unknown;
}

/** The rig radio: its kind (default gbcs-rig-radio), serial location, channel, HHT address, and that kind's fields (drivers/radio/registry.ts). */
export function radioSchema(): z.ZodType<RigFileRadio> {
  const byKind = radioKinds().map((k) =>
    z.strictObject({
      kind: z.literal(k.kind),
      ...serialLocation,
      channel,
      /** The IEEE address the rig radio uses as the HHT. */
      ieee: ieeeAddress,
      /** The second HHT identity the rig radio transmits as (CH-IPAN-006); default derivedSecondHhtIeee(ieee). Unique like every address (load.ts). */
      secondHhtIeee: ieeeAddress.optional(),
      ...k.fields,
    }),
  );
  // A radio that names no kind is the gbcs-rig radio, as before there were kinds.
  const kindless = (v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { ...v, kind: DEFAULT_RADIO_KIND } : v;
  return z.preprocess(kindless, z.discriminatedUnion('kind', rows(byKind))) as unknown as z.ZodType<RigFileRadio>;
}

/**
 * The rig radio's second HHT identity when the rig file pins none: its IEEE with the universal/local bit
 * flipped (a locally administered address, which no manufactured device carries, when the radio's is universal).
 */
export function derivedSecondHhtIeee(ieee: string): string {
  const bytes = ieee.replace(/[:-]/g, '').toLowerCase().match(/../g)!;
  bytes[0] = (parseInt(bytes[0], 16) ^ 0x02).toString(16).padStart(2, '0');
  return bytes.join(':');
}

export const tenancyTriggerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('radio'),
    /** A prepared Change of Tenancy command (ECS12/GCS09) the rig radio sends; relative to the rig file. */
    commandFile: nonEmpty('a file path'),
  }),
  z.strictObject({
    kind: z.literal('lab-hook'),
    /** Exactly one of command and url. */
    command: z.array(nonEmpty('a command-line argument')).min(1).optional(),
    url: z
      .httpUrl({ error: 'an http(s) URL without a password' })
      .refine((s) => !urlHasPassword(s), { error: 'an http(s) URL without a password' })
      .optional(),
  }),
]);

/** RCN-4 on hardware: a command or a URL that has the lab's DCC test access send a device its OTA image (exactly one of them). */
export const otaTriggerSchema = tenancyTriggerSchema.options[1];

/**
 * How the rig cuts the CH's WAN and brings it back (RCN-3, docs/rig-files.md): a relay of the bench that
 * switches the CH's WAN antenna (off: the WAN is cut), or a lab hook, a command run with GBCS_RIG_WAN=down or up.
 */
export const wanSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('relay'), relay: slug('a relay id') }),
  z.strictObject({ kind: z.literal('lab-hook'), command: z.array(nonEmpty('a command-line argument')).min(1) }),
]);

/**
 * Rig faults a virtual bench can inject, below the wire (docs/rig-files.md): relays that never
 * confirm or report the wrong state, a device's relay toggled by its button (relay-toggled, naming the device), the broker stopping, the sniffers unplugged or sending garbage,
 * the rig radio no longer answering, devices that stop transmitting, and tenancy-lost (the Change of
 * Tenancy the rig asks for never reaches the meter).
 */
export const VIRTUAL_FAULT_KINDS = [
  'relay-silent',
  'relay-wrong-state',
  'relay-toggled',
  'broker-down',
  'sniffer-unplugged',
  'sniffer-garbage',
  'radio-silent',
  'device-dead',
  'tenancy-lost',
] as const;
export type VirtualFaultKind = (typeof VIRTUAL_FAULT_KINDS)[number];

/** A bench; built from the registries as they are when a rig is read. */
export const benchSchema = () =>
  z.strictObject({
    id: slug('a bench id'),
    /** Present: the bench is simulated below the wire (sim/); absent: real hardware. */
    virtual: z
      .strictObject({
        /** The HAN's PAN, the HHT's short address and the devices' timer jitter come from it (sim/jitter.ts); 0 = no jitter. */
        seed: z.int().min(0),
        transport: z.enum(['mock', 'pty']),
        // Rig faults the virtual bench injects, to rehearse INCONCLUSIVE handling (never a device fault).
        faults: z
          .array(
            z.strictObject({
              kind: z.enum(VIRTUAL_FAULT_KINDS),
              /** Virtual time after the bench starts, in seconds; 0 = from the start. */
              afterSeconds: z.number().min(0).default(0),
              /** device-dead only: the id of the device that dies; absent, every device of the bench does. */
              device: slug('a device id').optional(),
            }),
          )
          .optional(),
      })
      .optional(),
    devices: z.array(deviceSchema).min(1),
    relays: z.array(relaySchema()).min(1),
    sniffers: z.array(snifferSchema()).min(1),
    radio: radioSchema(),
    /** Pins the bench's HAN: the rig still learns it on air after the CH's power-on, and a HAN heard otherwise is a rig fault. */
    han: z.strictObject({ pan: panId.optional(), channel: channel.optional() }).optional(),
    tenancyTrigger: tenancyTriggerSchema.optional(),
    /** How the rig cuts the CH's WAN (RCN-3); a virtual bench cuts its simulated DCC side without it. */
    wan: wanSchema.optional(),
    otaTrigger: otaTriggerSchema.optional(),
  });

export const rigFileSchema = () =>
  z.strictObject({
    station: stationSchema,
    /** Relative to the rig file; the built-in virtual manifest is always read too. */
    firmwareManifests: z.array(nonEmpty('a manifest path')).default([]),
    labSettings: labSettingsSchema.optional(),
    keys: z
      .strictObject({
        /** The HAN network key, for decrypting captures. */
        networkKeyEnv: envName.optional(),
        /** The install code of the rig radio as the HHT (carried in CCS01). */
        installCodeEnv: envName.optional(),
      })
      .optional(),
    benches: z.array(benchSchema()).min(1),
  });

export type RigFile = z.output<ReturnType<typeof rigFileSchema>>;
export type RigFileBench = z.output<ReturnType<typeof benchSchema>>;
export type TenancyTrigger = z.output<typeof tenancyTriggerSchema>;
export type RigWan = z.output<typeof wanSchema>;

const RIG_HINTS: Readonly<Record<string, string>> = {
  'station.mqtt.url':
    'e.g. mqtt://broker.lab:1883 or mqtts://broker.lab:8883; put credentials in usernameEnv/passwordEnv, never in the URL.',
  'benches.*.devices.*.role': 'Device types: CH, ESME, GSME, PPMID, IHD (the HHT is the rig radio, under radio).',
  'benches.*.devices.*.ieee': 'Copy the address from the device label or a capture, 8 bytes most significant first, and quote it in YAML.',
  'benches.*.radio.ieee': 'The IEEE address the rig radio presents as the HHT; quote it in YAML.',
  'benches.*.radio.secondHhtIeee':
    'The IEEE address the rig radio presents as a second HHT (CH-IPAN-006); leave it out to derive it from radio.ieee (first byte XOR 0x02); quote it in YAML.',
  'benches.*.sniffers.*.channel': 'Use the HAN channel the CH formed its network on.',
  'benches.*.radio.channel': 'Use the HAN channel the CH formed its network on.',
  'benches.*.han.pan':
    "The PAN id the CH formed its HAN with, as a capture shows it, e.g. 0x4b1d; leave it out to take whatever the CH's beacon says.",
  'benches.*.han.channel': 'The channel the CH formed its HAN on; the sniffers and the rig radio listen there.',
  'benches.*.virtual.transport': "'mock' runs the serial lines in-process; 'pty' puts them on real pseudo-terminals (needs socat).",
  'benches.*.virtual.faults': `each fault is { kind: ${VIRTUAL_FAULT_KINDS.join(' | ')}, afterSeconds, device? }: a rig fault the virtual bench injects.`,
  'benches.*.tenancyTrigger.kind':
    "'radio' sends a prepared command file; 'lab-hook' runs a command or calls a URL that makes the supplier send it.",
  'benches.*.wan.kind':
    "'relay' names a relay of the bench that switches the CH's WAN antenna (off: WAN cut); 'lab-hook' runs a command with GBCS_RIG_WAN=down or up.",
  'benches.*.otaTrigger.kind': "'lab-hook' runs a command or calls a URL that has the lab's DCC test access send the OTA image.",
  'benches.*.devices': 'A bench tests at least one device.',
  'benches.*.relays': 'Every device is powered through a relay the rig can switch.',
  'benches.*.sniffers': 'A bench needs at least one sniffer: verdicts come from sniffed evidence.',
  benches: 'A station has at least one bench.',
  '**.id': 'Ids are slugs: lowercase letters, digits, "-" and ".", e.g. bench-1.',
  '**.usernameEnv': 'Name the variable, not its value: the rig reads the secret from the environment.',
  '**.passwordEnv': 'Name the variable, not its value: the rig reads the secret from the environment.',
  '**.caFileEnv': 'Name the variable that holds the CA file path.',
  '**.networkKeyEnv': 'Name the variable, not its value: the rig reads the key from the environment.',
  '**.installCodeEnv': 'Name the variable, not its value: the rig reads the install code from the environment.',
};

/** Hints on the fields the registries give: which vendors and kinds there are, and what each vendor's fields mean. */
function registryHints(): Record<string, string> {
  const vendors = relayVendors();
  const hints: Record<string, string> = {
    'benches.*.relays.*.vendor': `Supported relay vendors: ${vendors.map((v) => v.vendor).join(', ')} (adding one: docs/architecture.md "Registries", drivers/power/registry.ts).`,
    'benches.*.sniffers.*.kind': `Supported sniffers: ${snifferKinds()
      .map((k) => `${k.kind} (${k.title})`)
      .join(', ')}.`,
    'benches.*.radio.kind': `Supported rig radios: ${radioKinds()
      .map((k) => `${k.kind} (${k.title})`)
      .join(', ')}; without a kind, ${DEFAULT_RADIO_KIND}.`,
  };
  const fields = new Set(vendors.flatMap((v) => Object.keys(v.hints ?? {})));
  for (const field of fields) {
    const meanings = vendors.flatMap((v) => (v.hints?.[field] ? [`${v.title}: ${v.hints[field]}`] : []));
    hints[`benches.*.relays.*.${field}`] = `${meanings.join('; ')}.`;
  }
  return hints;
}

/** The fix for a schema problem at a path in a rig file. */
export function rigHint(at: DataPath): string | undefined {
  if (at[0] === 'labSettings' && typeof at[1] === 'string') return labSettingHint(at[1]);
  return hintTable({ ...RIG_HINTS, ...registryHints() })(at);
}

/** Paths of keys that name a secret and hold a value: a rig file names environment variables instead. */
export function literalSecrets(data: unknown, at: DataPath = []): DataPath[] {
  if (data === null || typeof data !== 'object') return [];
  const found: DataPath[] = [];
  for (const [key, value] of Object.entries(data)) {
    const k = Array.isArray(data) ? Number(key) : key;
    if (isSecretKey(k) && value !== null && value !== '' && typeof value !== 'object') found.push([...at, k]);
    else found.push(...literalSecrets(value, [...at, k]));
  }
  return found;
}
