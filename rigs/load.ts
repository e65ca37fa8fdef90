// Loads a rig file and refuses it, before anything moves, unless every reference resolves, every
// firmware image is the one its manifest pins, and every secret it names is in the environment.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import {
  DataFile,
  FileProblemsError,
  displayFile,
  displayPath,
  expectationOf,
  type DataPath,
  type FileProblem,
} from '../firmware-images/data-file.ts';
import {
  A_ROLE,
  BUILT_IN_MANIFEST,
  FirmwareImageError,
  collectFirmwareManifests,
  verifyImage,
  type DeviceRole,
  type FirmwareCatalogue,
  type FirmwareImage,
  type ManifestSource,
} from '../firmware-images/manifest.ts';
import { PROFILE_KIND_OF_ROLE, ProfileError, loadProfile, type DeviceProfile } from '../firmware-images/profiles.ts';
import { resolveLabSettings, type LabSettings, type LabSettingsReport } from './lab-settings.ts';
import { importRegistrations } from './register.ts';
import { z } from 'zod';
import { relayVendorNamed } from '../drivers/power/registry.ts';
import {
  derivedSecondHhtIeee,
  literalSecrets,
  rigFileSchema,
  rigHint,
  type RigFile,
  type RigFileRelay,
  type RigWan,
  type VirtualFaultKind,
} from './schema.ts';
import type { SerialLocation } from '../drivers/serial.ts';
import { ROOT } from '../paths.ts';
import { counted } from '../protocol/words.ts';

/** The embedded default: one virtual bench with a conformant CH. */
export const EMBEDDED_RIG = path.join(ROOT, 'rigs', 'virtual.yaml');

export interface LoadRigOptions {
  /** Hash every image a device uses against its manifest. Default true; false only to validate a rig away from its lab. */
  readonly verifyImages?: boolean;
  /** Where secrets are read from. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Refuse the rig when a variable it names is unset. Default true; false only to validate a rig away from its lab. */
  readonly requireSecrets?: boolean;
}

export class RigFileError extends FileProblemsError {
  override name = 'RigFileError';
}

export interface RigStation {
  readonly name: string;
  readonly lab: string;
  readonly operator?: string;
  readonly mqtt: {
    /** `embedded`: the in-process broker the virtual bench starts. */
    readonly url: string;
    readonly usernameEnv?: string;
    readonly passwordEnv?: string;
    readonly caFileEnv?: string;
    readonly clientId?: string;
  };
}

/** A relay: its id, its vendor (drivers/power/registry.ts) and that vendor's fields. */
export type RigRelay = RigFileRelay;

export interface RigDevice {
  readonly id: string;
  readonly role: DeviceRole;
  /** Lowercase, colon-separated, most significant byte first. */
  readonly ieee: string;
  readonly firmware: FirmwareImage;
  readonly relay: RigRelay;
  /** The unit's serial number and hardware revision, as the rig file gives them (the report's identification of the item tested). */
  readonly serialNumber?: string;
  readonly hardwareRevision?: string;
  /** What the virtual device does, on a virtual bench (the image's behaviour profile). */
  readonly behaviour?: DeviceProfile;
  /** An IHD's or PPMID's observation port on a real bench; absent: the operator is asked (the virtual bench makes its own). */
  readonly observe?: SerialLocation;
  /** The id of the device this one lives in (a GPF in its CH): its own address and firmware, the other's relay and radio. */
  readonly inside?: string;
  /** A CH's gas proxy function (GPF): its IEEE address, firmware and, on a virtual bench, behaviour. */
  readonly gpf?: { readonly ieee: string; readonly firmware: FirmwareImage; readonly behaviour?: DeviceProfile };
}

/** A sniffer: its id, its kind (drivers/sniffer/registry.ts), channel, location and that kind's own fields. */
export interface RigSniffer {
  readonly id: string;
  readonly kind: string;
  readonly channel: number;
  readonly [field: string]: unknown;
  /** Absent on a virtual bench, which makes its own serial devices. */
  readonly location?: SerialLocation;
}

/** The rig radio: its kind (drivers/radio/registry.ts), channel, HHT address, location and that kind's own fields. */
export interface RigRadio {
  readonly kind: string;
  readonly channel: number;
  /** The HHT's IEEE address. */
  readonly ieee: string;
  /** The second HHT identity the rig file pins; absent: derivedSecondHhtIeee(ieee). */
  readonly secondHhtIeee?: string;
  readonly location?: SerialLocation;
  readonly [field: string]: unknown;
}

export type RigTenancyTrigger =
  | { readonly kind: 'radio' /** Absolute. */; readonly commandFile: string }
  | { readonly kind: 'lab-hook'; readonly command?: readonly string[]; readonly url?: string };

export interface RigBench {
  readonly id: string;
  readonly virtual?: {
    readonly seed: number;
    readonly transport: 'mock' | 'pty';
    readonly faults?: readonly { readonly kind: VirtualFaultKind; readonly afterSeconds: number; readonly device?: string }[];
  };
  readonly devices: readonly RigDevice[];
  readonly relays: readonly RigRelay[];
  readonly sniffers: readonly RigSniffer[];
  readonly radio: RigRadio;
  /** What the rig file pins of the HAN (harness/han.ts checks it against what is heard). */
  readonly han?: { readonly pan?: number; readonly channel?: number };
  readonly tenancyTrigger?: RigTenancyTrigger;
  /** How the rig cuts the CH's WAN (RCN-3): a relay of the bench (its WAN antenna) or a lab hook. */
  readonly wan?: RigWan;
  /** RCN-4 on hardware: the lab hook that sends a device its OTA image (else the operator is asked). */
  readonly otaTrigger?: { readonly kind: 'lab-hook'; readonly command?: readonly string[]; readonly url?: string };
}

const REDACTED = '(redacted)';

/** Secrets read from the environment variables the rig file names. Serialised and inspected as `(redacted)`. */
export class RigSecrets {
  constructor(
    readonly mqtt: { readonly username?: string; readonly password?: string; readonly caFile?: string },
    /** The HAN network key, 32 lowercase hex digits. */
    readonly networkKey?: string,
    /** The rig radio's (HHT's) install code, lowercase hex. */
    readonly installCode?: string,
  ) {}

  /** Replaces every secret value in a text (a log line, a report) with `(redacted)`. */
  redact(text: string): string {
    let out = text;
    for (const value of [this.mqtt.username, this.mqtt.password, this.networkKey, this.installCode]) {
      if (value) out = out.split(value).join(REDACTED);
      // Keys also appear in upper case in hex dumps.
      if (value && value !== value.toUpperCase()) out = out.split(value.toUpperCase()).join(REDACTED);
    }
    return out;
  }

  /** Which secrets are set, never their values. */
  toJSON(): Record<string, unknown> {
    const set = (v: string | undefined) => (v === undefined ? undefined : REDACTED);
    return {
      mqtt: { username: set(this.mqtt.username), password: set(this.mqtt.password), caFile: this.mqtt.caFile },
      networkKey: set(this.networkKey),
      installCode: set(this.installCode),
    };
  }

  [inspect.custom](): string {
    return `RigSecrets ${JSON.stringify(this.toJSON())}`;
  }
}

/** A validated rig: every reference resolved, every path absolute, secrets held apart. */
export class LoadedRig {
  readonly #secrets: RigSecrets;

  constructor(
    /** Absolute path of the rig file. */
    readonly file: string,
    readonly station: RigStation,
    /** Every lab setting with its value and whether the rig file or the default gave it. */
    readonly labSettings: LabSettingsReport,
    /** Names of the environment variables holding keys; the keys are in `secrets`. */
    readonly keys: { readonly networkKeyEnv?: string; readonly installCodeEnv?: string },
    readonly benches: readonly RigBench[],
    readonly firmware: FirmwareCatalogue,
    secrets: RigSecrets,
  ) {
    this.#secrets = secrets;
  }

  /** Secrets from the environment; never part of toJSON, inspection or any error message. */
  get secrets(): RigSecrets {
    return this.#secrets;
  }

  /** The lab settings' values alone. */
  get settings(): LabSettings {
    return Object.fromEntries(Object.entries(this.labSettings).map(([k, v]) => [k, v.value])) as unknown as LabSettings;
  }

  bench(id: string): RigBench | undefined {
    return this.benches.find((b) => b.id === id);
  }

  toJSON(): Record<string, unknown> {
    return {
      file: this.file,
      station: this.station,
      labSettings: this.labSettings,
      keys: this.keys,
      benches: this.benches,
      firmwareManifests: this.firmware.manifests,
    };
  }
}

// Lenient readers for cross-checks: they run on the raw file too, so one pass reports schema and reference problems together.
type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const IEEE_RAW = /^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){7}$/;
const normalIeee = (v: unknown) => (typeof v === 'string' && IEEE_RAW.test(v) ? v.replace(/[:-]/g, '').toLowerCase() : undefined);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Loads a rig file (YAML or JSON; no path: the embedded virtual rig). Throws RigFileError listing
 * every problem, one a line, as `<file>: <path> = <value>: expected <expectation>. <hint>`.
 */
export async function loadRig(file?: string, options: LoadRigOptions = {}): Promise<LoadedRig> {
  const rigPath = path.resolve(file ?? EMBEDDED_RIG);
  const env = options.env ?? process.env;
  // Rows a lab or a test adds to the registries must exist before the schema is built from them.
  await importRegistrations();
  const parsed = await DataFile.read(rigPath, 'a rig file');
  if (Array.isArray(parsed)) throw refusal(rigPath, parsed);
  const problems: FileProblem[] = [];
  const here = (at: DataPath, expected: string, hint: string, value?: { shown: string }) =>
    problems.push(parsed.problem(at, expected, hint, value));

  const secretPaths = literalSecrets(parsed.data);
  for (const at of secretPaths) {
    const key = String(at[at.length - 1]);
    here(
      at,
      'no secret in the rig file',
      `Put the value in an environment variable and write "${key}Env: <VARIABLE>" instead; rig files are shared and reports must never show secrets.`,
    );
  }
  const secretShown = new Set(secretPaths.map(displayPath));

  const result = rigFileSchema().safeParse(parsed.data, { error: expectationOf });
  if (!result.success) {
    const schemaProblems = parsed.problemsFromIssues(result.error.issues, rigHint, 'See rigs/example-lab.yaml for a complete rig file.');
    problems.push(...schemaProblems.filter((p) => !secretShown.has(p.path)));
  }

  const data = obj(parsed.data) ?? {};
  const rigDir = path.dirname(rigPath);
  const sources: ManifestSource[] = [{ file: BUILT_IN_MANIFEST }];
  list(data.firmwareManifests).forEach((m, i) => {
    if (str(m)) sources.push({ file: path.resolve(rigDir, m as string), referrer: { in: parsed, at: ['firmwareManifests', i] } });
  });
  const { catalogue, problems: manifestProblems } = await collectFirmwareManifests(sources);
  problems.push(...manifestProblems);

  const used = crossCheck(data, catalogue, here);
  await checkTenancyTriggers(data, rigDir, here);
  checkLabSettings(data, here);
  const secrets = await resolveSecrets(data, env, options.requireSecrets ?? true, here);

  // Images: verified before anything moves; a behaviour profile is read only from a verified file.
  const behaviours = new Map<string, DeviceProfile>();
  for (const { image, usedBy, virtual } of used.values()) {
    if (options.verifyImages ?? true) {
      try {
        await verifyImage(image);
      } catch (error) {
        if (!(error instanceof FirmwareImageError)) throw error;
        problems.push(imageProblem(image, error, usedBy));
        continue;
      }
    }
    if (virtual && image.profile) {
      const behaviour = await behaviourOf(image, problems);
      if (behaviour) behaviours.set(image.id, behaviour);
    }
  }

  if (problems.length || !result.success) throw refusal(rigPath, problems);
  return build(rigPath, result.data, catalogue, behaviours, secrets);
}

function refusal(rigPath: string, problems: readonly FileProblem[]): RigFileError {
  const n = problems.length;
  // In reading order: the rig file top to bottom, then the manifests and profiles it led to.
  const shown = displayFile(rigPath);
  const order = (p: FileProblem) => (p.file === shown ? 0 : 1);
  const sorted = [...problems].sort(
    (a, b) => order(a) - order(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || (a.line ?? 0) - (b.line ?? 0),
  );
  return new RigFileError(`Rig file ${shown} refused before anything moves (${counted(n, 'problem')}):`, sorted);
}

type Here = (at: DataPath, expected: string, hint: string, value?: { shown: string }) => void;

interface ImageUse {
  image: FirmwareImage;
  /** e.g. `bench virtual-1 device ch`. */
  usedBy: string[];
  virtual: boolean;
}

/** References, uniqueness and serial locations; returns the firmware images devices use. */
function crossCheck(data: Raw, catalogue: FirmwareCatalogue, here: Here): Map<string, ImageUse> {
  const benches = list(data.benches);
  unique(benches, ['benches'], 'bench', here);
  const c: CrossCheck = { catalogue, here, station: stationOnce(here), used: new Map() };
  benches.forEach((b, bi) => {
    const bench = obj(b);
    if (bench) checkBench(bench, ['benches', bi], str(bench.id) ?? `#${bi}`, c);
  });
  return c.used;
}

type Once = (seen: Map<string, DataPath>, key: string, at: DataPath, what: string, hint: string) => void;

/** Station-wide: one device, one dongle, one relay channel can only be on one bench. */
interface StationOnce {
  ieees: Map<string, DataPath>;
  serials: Map<string, DataPath>;
  relayChannels: Map<string, DataPath>;
  /** Records `key` at `at`, or, when it was seen before, a problem there naming the first place. */
  once: Once;
}

function stationOnce(here: Here): StationOnce {
  const once: Once = (seen, key, at, what, hint) => {
    const first = seen.get(key);
    if (first) here(at, `${what} not already used at ${displayPath(first)}`, hint);
    else seen.set(key, at);
  };
  return { ieees: new Map(), serials: new Map(), relayChannels: new Map(), once };
}

/** What the cross-check carries from bench to bench: the catalogue, the problems, the station-wide uses, the images used. */
interface CrossCheck {
  catalogue: FirmwareCatalogue;
  here: Here;
  station: StationOnce;
  used: Map<string, ImageUse>;
}

/** The bench a device is checked on. */
interface DeviceBench {
  id: string;
  at: DataPath;
  isVirtual: boolean;
  relayIds: string[];
  /** Each relay a device named, with where it was first named: a relay powers one device. */
  poweredBy: Map<string, DataPath>;
}

function checkBench(bench: Raw, at: DataPath, benchId: string, c: CrossCheck): void {
  const { here, station } = c;
  const isVirtual = bench.virtual !== undefined;
  const relays = list(bench.relays);
  const devices = list(bench.devices);
  const sniffers = list(bench.sniffers);
  unique(relays, [...at, 'relays'], 'relay', here);
  unique(devices, [...at, 'devices'], 'device', here);
  unique(sniffers, [...at, 'sniffers'], 'sniffer', here);
  checkRelayChannels(relays, at, station);

  const relayIds = relays.map((r) => str(obj(r)?.id)).filter((id): id is string => id !== undefined);
  const on: DeviceBench = { id: benchId, at, isVirtual, relayIds, poweredBy: new Map() };
  devices.forEach((d, di) => {
    const device = obj(d);
    if (device) checkDevice(device, di, on, c);
  });

  const radio = obj(bench.radio);
  const radioIeee = normalIeee(radio?.ieee);
  if (radioIeee) {
    station.once(
      station.ieees,
      radioIeee,
      [...at, 'radio', 'ieee'],
      'an IEEE address',
      'The rig radio (the HHT) needs an address no device on the station uses.',
    );
  }
  // Its second HHT identity (CH-IPAN-006) is an address on the air too, pinned or derived.
  const secondIeee = normalIeee(radio?.secondHhtIeee) ?? (radioIeee && normalIeee(derivedSecondHhtIeee(radioIeee)));
  if (secondIeee) {
    const field = radio?.secondHhtIeee === undefined ? 'ieee' : 'secondHhtIeee';
    station.once(
      station.ieees,
      secondIeee,
      [...at, 'radio', field],
      "an IEEE address (as the rig radio's second HHT identity)",
      "The rig radio's second HHT identity (radio.secondHhtIeee, else radio.ieee with its first byte XOR 0x02) needs an address" +
        ' no device uses; pin another in radio.secondHhtIeee.',
    );
  }
  const wanRelay = str(obj(bench.wan)?.relay);
  const powering = wanRelay === undefined ? undefined : on.poweredBy.get(wanRelay);
  if (obj(bench.wan)?.kind === 'relay' && powering)
    here(
      [...at, 'wan', 'relay'],
      `a relay that powers no device (it powers the device at ${displayPath(powering)})`,
      "Cutting the WAN would power that device off: give the CH's WAN antenna a relay of its own.",
    );
  if (obj(bench.wan)?.kind === 'relay' && wanRelay && !relayIds.includes(wanRelay))
    here(
      [...at, 'wan', 'relay'],
      `the id of a relay on bench "${benchId}"`,
      `The relay that switches the CH's WAN antenna must be one of the bench's relays (${relayIds.join(', ') || 'none yet'}).`,
    );
  checkHanChannel(bench, at, sniffers, radio, here);
  sniffers.forEach((s, si) => checkLocation(obj(s), [...at, 'sniffers', si], 'sniffer', isVirtual, station.serials, station.once, here));
  if (radio) checkLocation(radio, [...at, 'radio'], 'rig radio', isVirtual, station.serials, station.once, here);
}

function checkRelayChannels(relays: unknown[], at: DataPath, station: StationOnce): void {
  relays.forEach((r, ri) => {
    // The vendor's channel rule says which contact an entry switches (e.g. Tasmota's bare POWER is POWER1).
    const vendor = relayVendorNamed(str(obj(r)?.vendor) ?? '');
    const fields = vendor && z.object(vendor.fields).safeParse(r);
    if (!vendor || !fields?.success) return;
    const contact = vendor.contact(fields.data);
    station.once(
      station.relayChannels,
      `${vendor.vendor} ${contact.device} ${contact.channel}`,
      [...at, 'relays', ri, vendor.deviceField],
      'a relay channel',
      'Two relay entries switch the same channel: a power cycle of one device would cut the other.',
    );
  });
}

/** A device's relay, IEEE address, firmware image and GPF. */
function checkDevice(device: Raw, di: number, on: DeviceBench, c: CrossCheck): void {
  const { here, station } = c;
  const dat: DataPath = [...on.at, 'devices', di];
  const relayId = str(device.relay);
  if (relayId && !on.relayIds.includes(relayId)) {
    here(
      [...dat, 'relay'],
      `the id of a relay on bench "${on.id}"`,
      on.relayIds.length
        ? `Its relays are ${on.relayIds.join(', ')}; add a relay "${relayId}" under ${displayPath([...on.at, 'relays'])} or use one of them.`
        : `Add a relay "${relayId}" under ${displayPath([...on.at, 'relays'])}.`,
    );
  }
  if (relayId && on.relayIds.includes(relayId)) {
    const first = on.poweredBy.get(relayId);
    if (first)
      here(
        [...dat, 'relay'],
        `a relay no other device uses (relay "${relayId}" already powers the device at ${displayPath(first)})`,
        'Each device needs a relay of its own: switching one would power the other off and on too, and the cases would ' +
          "test what they do not declare (a CH's GPF is powered with the CH: give it under the CH's gpf:).",
      );
    else on.poweredBy.set(relayId, dat);
  }
  const ieee = normalIeee(device.ieee);
  if (ieee) {
    station.once(
      station.ieees,
      ieee,
      [...dat, 'ieee'],
      'an IEEE address',
      'Every device and rig radio has its own IEEE address; check for a copy-paste slip.',
    );
  }
  const image = deviceImage(device, dat, on.isVirtual, c);
  if (!image) return;
  const usedBy = `bench ${on.id} device ${str(device.id) ?? `#${di}`}`;
  useImage(c.used, image, on.isVirtual, usedBy);
  checkGpf(device, dat, on.isVirtual, usedBy, c);
}

/** The device's firmware image, when it names one the manifests hold, for its role and for the kind of bench. */
function deviceImage(device: Raw, dat: DataPath, isVirtual: boolean, { catalogue, here }: CrossCheck): FirmwareImage | undefined {
  const firmwareId = str(device.firmware);
  if (!firmwareId) return undefined;
  const image = catalogue.get(firmwareId);
  if (!image) {
    here(
      [...dat, 'firmware'],
      'the id of an image in the firmware manifests',
      `Known images: ${catalogue.ids.join(', ') || 'none'}. Add it to a manifest listed under firmwareManifests, or correct the id.`,
    );
    return undefined;
  }
  const role = str(device.role);
  if (role && image.role !== role) {
    const aRole = A_ROLE[role as DeviceRole] ?? role;
    here(
      [...dat, 'firmware'],
      `an image for ${aRole}, not "${image.id}", which its manifest declares for ${A_ROLE[image.role]}`,
      `Use ${aRole} image (${
        [...catalogue]
          .filter((i) => i.role === role)
          .map((i) => i.id)
          .join(', ') || 'none declared'
      }), or correct the device's role.`,
    );
    return undefined;
  }
  if (isVirtual && !image.profile) {
    here(
      [...dat, 'firmware'],
      'an image with a behaviour profile, since the bench is virtual',
      `"${image.id}" is real firmware, which the virtual bench cannot run; use a virtual image (${[...catalogue]
        .filter((i) => i.profile && i.role === image.role)
        .map((i) => i.id)
        .join(', ')}) or remove "virtual" from the bench.`,
    );
    return undefined;
  }
  if (!isVirtual && image.profile) {
    here(
      [...dat, 'firmware'],
      'real firmware, since the bench is real',
      `"${image.id}" is a virtual behaviour profile; a real device cannot run it. Name the image the device actually runs, or add "virtual:" to the bench.`,
    );
    return undefined;
  }
  return image;
}

function useImage(used: Map<string, ImageUse>, image: FirmwareImage, virtual: boolean, usedBy: string): void {
  const use = used.get(image.id) ?? { image, usedBy: [], virtual };
  use.usedBy.push(usedBy);
  used.set(image.id, use);
}

/** A CH's gas proxy function: its own IEEE address, and an image that fits the bench. */
function checkGpf(device: Raw, dat: DataPath, isVirtual: boolean, usedBy: string, { catalogue, here, station, used }: CrossCheck): void {
  const gpf = obj(device.gpf);
  const gpfId = str(gpf?.firmware);
  if (!gpf || !gpfId) return;
  const gpfImage = catalogue.get(gpfId);
  const gpfIeee = normalIeee(gpf.ieee);
  if (gpfIeee) {
    station.once(
      station.ieees,
      gpfIeee,
      [...dat, 'gpf', 'ieee'],
      'an IEEE address',
      "The GPF has its own IEEE address, distinct from the CHF's and every other device's.",
    );
  }
  if (str(device.role) !== 'CH')
    here(
      [...dat, 'gpf'],
      'no gpf on a device that is not a CH',
      'Only a Communications Hub holds a gas proxy function; remove gpf or correct the role.',
    );
  else if (!gpfImage)
    here(
      [...dat, 'gpf', 'firmware'],
      'the id of an image in the firmware manifests',
      `Known images: ${catalogue.ids.join(', ') || 'none'}.`,
    );
  else if (isVirtual !== !!gpfImage.profile)
    here(
      [...dat, 'gpf', 'firmware'],
      isVirtual ? 'a GPF behaviour profile, since the bench is virtual' : 'real firmware, since the bench is real',
      'Name a GPF image that fits the bench.',
    );
  else useImage(used, gpfImage, isVirtual, `${usedBy} GPF`);
}

/** A pinned HAN channel is where the sniffers and the rig radio must listen. */
function checkHanChannel(bench: Raw, at: DataPath, sniffers: unknown[], radio: Raw | undefined, here: Here): void {
  const hanChannel = obj(bench.han)?.channel;
  if (typeof hanChannel !== 'number') return;
  const listeners = [
    ...sniffers.map((s, si) => ({ c: obj(s)?.channel, at: [...at, 'sniffers', si, 'channel'] })),
    { c: radio?.channel, at: [...at, 'radio', 'channel'] },
  ];
  for (const o of listeners) {
    if (typeof o.c !== 'number' || o.c === hanChannel) continue;
    here(
      o.at,
      `channel ${hanChannel}, the HAN channel pinned at ${displayPath([...at, 'han', 'channel'])}`,
      "The sniffers and the rig radio listen on the HAN's channel; correct one of the two.",
    );
  }
}

function unique(items: unknown[], at: DataPath, what: string, here: Here): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const id = str(obj(item)?.id);
    if (!id) return;
    const first = seen.get(id);
    if (first !== undefined)
      here([...at, i, 'id'], `a ${what} id not already used`, `${displayPath([...at, first])} has the id "${id}" too; rename one of them.`);
    else seen.set(id, i);
  });
}

function checkLocation(
  item: Raw | undefined,
  at: DataPath,
  what: string,
  isVirtual: boolean,
  serials: Map<string, DataPath>,
  once: Once,
  here: Here,
): void {
  if (!item) return;
  const devicePath = str(item.path);
  const serialNumber = str(item.usbSerialNumber);
  if (devicePath && serialNumber) {
    here(
      [...at, 'usbSerialNumber'],
      'only one of path and usbSerialNumber',
      `Name the ${what} one way: keep the /dev/serial/by-id path or the serial number, not both.`,
    );
    return;
  }
  if (!devicePath && !serialNumber) {
    // A virtual bench makes its own serial devices.
    if (!isVirtual) {
      here(
        [...at, 'path'],
        `the ${what}'s serial device on a real bench: path or usbSerialNumber`,
        'Give its /dev/serial/by-id/… path (stable across USB re-enumeration) or its USB serial number (`ls -l /dev/serial/by-id`), or add "virtual:" to the bench to simulate it.',
      );
    }
    return;
  }
  const hint = `One dongle cannot serve two roles; each sniffer and rig radio needs its own.`;
  if (devicePath) once(serials, `path ${devicePath}`, [...at, 'path'], 'a serial device', hint);
  if (serialNumber) once(serials, `usb ${serialNumber}`, [...at, 'usbSerialNumber'], 'a USB serial number', hint);
}

async function checkTenancyTriggers(data: Raw, rigDir: string, here: Here): Promise<void> {
  for (const [bi, b] of list(data.benches).entries()) {
    const ota = obj(obj(b)?.otaTrigger);
    if (ota?.kind === 'lab-hook' && ['command', 'url'].filter((k) => ota[k] !== undefined).length !== 1)
      here(
        ['benches', bi, 'otaTrigger', ota.command === undefined ? 'command' : 'url'],
        'exactly one of command and url',
        "An OTA lab hook either runs a command (a list: program and arguments) or calls a URL (POST) that has the lab's DCC test access send the image.",
      );
    const trigger = obj(obj(b)?.tenancyTrigger);
    const at: DataPath = ['benches', bi, 'tenancyTrigger'];
    if (trigger?.kind === 'lab-hook') {
      const given = ['command', 'url'].filter((k) => trigger[k] !== undefined);
      if (given.length !== 1) {
        here(
          given.length ? [...at, 'url'] : [...at, 'command'],
          'exactly one of command and url',
          'A lab hook either runs a command (a list: program and arguments) or calls a URL (POST) that makes the supplier send the Change of Tenancy.',
        );
      }
    } else if (trigger?.kind === 'radio' && str(trigger.commandFile)) {
      const file = path.resolve(rigDir, trigger.commandFile as string);
      try {
        await access(file);
      } catch {
        here([...at, 'commandFile'], `a command file that exists (no such file: ${file})`, 'Paths are relative to the rig file.');
      }
    }
  }
}

function checkLabSettings(data: Raw, here: Here): void {
  const given = obj(data.labSettings);
  if (!given) return;
  const settings = resolveLabSettings(given as Partial<LabSettings>);
  const window = settings.interPanWindowMinutes.value;
  const margin = settings.interPanBoundaryMarginSeconds.value;
  if (typeof window === 'number' && typeof margin === 'number' && margin >= window * 60) {
    const at: DataPath = [
      'labSettings',
      given.interPanBoundaryMarginSeconds !== undefined ? 'interPanBoundaryMarginSeconds' : 'interPanWindowMinutes',
    ];
    here(
      at,
      `a margin shorter than the ${window}-minute inter-PAN window`,
      'Boundary probes sit at window − margin and window + margin; the first must fall inside the window.',
    );
  }
}

async function resolveSecrets(
  data: Raw,
  env: Readonly<Record<string, string | undefined>>,
  required: boolean,
  here: Here,
): Promise<RigSecrets> {
  const read = (at: DataPath, name: unknown, what: string): string | undefined => {
    if (typeof name !== 'string' || !ENV_NAME.test(name)) return undefined;
    const value = env[name];
    if (value === undefined || value === '') {
      if (required) {
        here(
          at,
          `the environment variable ${name} to be set (it is not)`,
          `Export ${name} with the ${what} before the run (from the lab's secret store); the rig file only names it.`,
        );
      }
      return undefined;
    }
    return value;
  };
  const mqtt = obj(obj(data.station)?.mqtt) ?? {};
  const keys = obj(data.keys) ?? {};
  const username = read(['station', 'mqtt', 'usernameEnv'], mqtt.usernameEnv, 'MQTT user name');
  const password = read(['station', 'mqtt', 'passwordEnv'], mqtt.passwordEnv, 'MQTT password');
  const caFile = read(['station', 'mqtt', 'caFileEnv'], mqtt.caFileEnv, 'path of the CA certificate file');
  if (caFile) {
    try {
      await access(caFile);
    } catch {
      here(
        ['station', 'mqtt', 'caFileEnv'],
        `the variable ${mqtt.caFileEnv as string} to name a CA file that exists (no such file: ${caFile})`,
        'Point it at the PEM file of the CA that signed the broker certificate.',
      );
    }
  }
  // Values are checked without ever being shown: the problem names the variable only.
  const hex = (at: DataPath, name: unknown, what: string, valid: (h: string) => boolean, shape: string): string | undefined => {
    const raw = read(at, name, what);
    if (raw === undefined) return undefined;
    const h = raw.replace(/[\s:-]/g, '').toLowerCase();
    if (/^[0-9a-f]*$/.test(h) && valid(h)) return h;
    here(
      at,
      `the environment variable ${name as string} to hold ${shape} (its value is not shown)`,
      `Check the value exported as ${name as string}.`,
    );
    return undefined;
  };
  const networkKey = hex(
    ['keys', 'networkKeyEnv'],
    keys.networkKeyEnv,
    'HAN network key',
    (h) => h.length === 32,
    'a 128-bit key as 32 hex digits',
  );
  // ZigBee install codes are 6, 8, 12 or 16 bytes, with or without their 2-byte CRC.
  const installCode = hex(
    ['keys', 'installCodeEnv'],
    keys.installCodeEnv,
    'HHT install code',
    (h) => [12, 16, 20, 24, 28, 32, 36].includes(h.length),
    'an install code as hex (6 to 16 bytes, optionally with its CRC)',
  );
  return new RigSecrets({ username, password, caFile }, networkKey, installCode);
}

function imageProblem(image: FirmwareImage, error: FirmwareImageError, usedBy: readonly string[]): FileProblem {
  const missing = error.actual === undefined;
  const at = ['images', image.declaredAt.index, 'image', missing ? 'file' : 'sha256'];
  return {
    file: displayFile(image.declaredAt.manifest),
    line: image.declaredAt.line,
    path: displayPath(at),
    value: missing ? JSON.stringify(error.file) : JSON.stringify(error.expected),
    expected: missing
      ? `the image file of "${image.id}" (${error.reason}; expected sha256 ${error.expected})`
      : `the sha256 of ${displayFile(error.file)} (image "${image.id}"), which is ${error.actual}`,
    hint: `The run is refused: ${usedBy.join(', ')} would be tested on unknown firmware. ${error.fix}`,
  };
}

async function behaviourOf(image: FirmwareImage, problems: FileProblem[]): Promise<DeviceProfile | undefined> {
  let profile: DeviceProfile;
  try {
    profile = await loadProfile(image.image.file);
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
  const at = ['images', image.declaredAt.index, 'profile'];
  const problem = (expected: string, hint: string) =>
    problems.push({
      file: displayFile(image.declaredAt.manifest),
      line: image.declaredAt.line,
      path: displayPath(at),
      value: JSON.stringify(image.profile),
      expected,
      hint,
    });
  if (profile.id !== image.profile) {
    problem(
      `the id of the profile in ${displayFile(image.image.file)}, "${profile.id}"`,
      'The manifest and the profile file must name the same profile.',
    );
  } else if (
    PROFILE_KIND_OF_ROLE[image.role] !== profile.kind &&
    !(image.role === 'CH' && profile.kind === 'meter' && profile.meterType === 'gpf')
  ) {
    // A CH image is a comms-hub profile, or the profile of the GPF inside the CH.
    problem(
      `a profile for ${A_ROLE[image.role]}, not a ${profile.kind} profile`,
      `Point image.file at a ${PROFILE_KIND_OF_ROLE[image.role] ?? image.role} profile.`,
    );
  } else {
    return profile;
  }
  return undefined;
}

function build(
  rigPath: string,
  rig: RigFile,
  catalogue: FirmwareCatalogue,
  behaviours: ReadonlyMap<string, DeviceProfile>,
  secrets: RigSecrets,
): LoadedRig {
  const rigDir = path.dirname(rigPath);
  const location = (l: { path?: string; usbSerialNumber?: string }): SerialLocation | undefined =>
    l.path ? { path: l.path } : l.usbSerialNumber ? { serialNumber: l.usbSerialNumber } : undefined;
  const gpfOf = (gpf: { ieee: string; firmware: string }, isVirtual: boolean) => {
    const firmware = catalogue.get(gpf.firmware)!;
    const behaviour = behaviours.get(firmware.id);
    return { ieee: gpf.ieee, firmware, ...(isVirtual && behaviour && { behaviour }) };
  };
  const benches: RigBench[] = rig.benches.map((b) => {
    const relays: RigRelay[] = b.relays.map((r) => ({ ...r }));
    return {
      id: b.id,
      ...(b.virtual && { virtual: { ...b.virtual } }),
      relays,
      devices: b.devices.map((d) => {
        const firmware = catalogue.get(d.firmware)!;
        const behaviour = behaviours.get(firmware.id);
        return {
          id: d.id,
          role: d.role,
          ieee: d.ieee,
          firmware,
          relay: relays.find((r) => r.id === d.relay)!,
          ...(d.serialNumber && { serialNumber: d.serialNumber }),
          ...(d.hardwareRevision && { hardwareRevision: d.hardwareRevision }),
          ...(b.virtual && behaviour && { behaviour }),
          ...(d.gpf && { gpf: gpfOf(d.gpf, b.virtual !== undefined) }),
          ...(d.observe && !b.virtual && { observe: location(d.observe) }),
        };
      }),
      sniffers: b.sniffers.map((s) => ({ ...located(s), id: s.id, kind: s.kind, channel: s.channel })),
      radio: {
        ...located(b.radio),
        kind: b.radio.kind,
        channel: b.radio.channel,
        ieee: b.radio.ieee,
        ...(b.radio.secondHhtIeee && { secondHhtIeee: b.radio.secondHhtIeee }),
      },
      ...(b.han && { han: { ...b.han } }),
      ...(b.tenancyTrigger && {
        tenancyTrigger:
          b.tenancyTrigger.kind === 'radio'
            ? { kind: 'radio' as const, commandFile: path.resolve(rigDir, b.tenancyTrigger.commandFile) }
            : { ...b.tenancyTrigger },
      }),
      ...(b.wan && { wan: { ...b.wan } }),
      ...(b.otaTrigger && { otaTrigger: { ...b.otaTrigger } }),
    };
  });
  return new LoadedRig(rigPath, rig.station, resolveLabSettings(rig.labSettings), { ...rig.keys }, benches, catalogue, secrets);
}

/** A sniffer or radio entry with its path or USB serial number as one location (absent on a virtual bench). */
type LocatedPart = { readonly path?: string; readonly usbSerialNumber?: string; readonly [field: string]: unknown };

function located(part: LocatedPart): { [field: string]: unknown; location?: SerialLocation } {
  const { path: devicePath, usbSerialNumber, ...rest } = part;
  const location: SerialLocation | undefined = devicePath
    ? { path: devicePath }
    : usbSerialNumber
      ? { serialNumber: usbSerialNumber }
      : undefined;
  return { ...rest, ...(location && { location }) };
}
