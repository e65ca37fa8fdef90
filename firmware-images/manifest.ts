// Firmware manifests: which images a lab tests, what each claims (clauses, modifications) and the
// sha256 that pins the exact bytes, so a verdict always names the firmware it was reached on.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import {
  DataFile,
  FileProblemsError,
  displayFile,
  expectationOf,
  hintTable,
  nonEmpty,
  patterned,
  slug,
  type DataPath,
  type FileProblem,
} from './data-file.ts';
import { ROOT } from '../paths.ts';
import { counted } from '../protocol/words.ts';

export const DEVICE_ROLES = ['CH', 'ESME', 'GSME', 'PPMID', 'IHD'] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

/** The role with its article, as a sentence reads it: "an ESME", "a CH". */
export const A_ROLE: Readonly<Record<DeviceRole, string>> = {
  CH: 'a CH',
  ESME: 'an ESME',
  GSME: 'a GSME',
  PPMID: 'a PPMID',
  IHD: 'an IHD',
};

/** The manifest of the virtual bench's images (behaviour profiles); every rig's catalogue includes it. */
export const BUILT_IN_MANIFEST = path.join(ROOT, 'firmware-images', 'virtual.yaml');

const SHA256 = 'a sha256 as 64 hex digits';
const U16 = 'a whole number from 0 to 0xffff (YAML reads 0x… as hex)';
const U32 = 'a whole number from 0 to 0xffffffff (YAML reads 0x… as hex)';

/** The facts of a ZigBee OTA upgrade file's header that a manifest pins beside its sha256 (RCN-4). */
export const otaFactsSchema = z.strictObject({
  manufacturerCode: z.int({ error: U16 }).min(0, { error: U16 }).max(0xffff, { error: U16 }),
  imageType: z.int({ error: U16 }).min(0, { error: U16 }).max(0xffff, { error: U16 }),
  fileVersion: z.int({ error: U32 }).min(0, { error: U32 }).max(0xffffffff, { error: U32 }),
});
export type OtaFacts = z.output<typeof otaFactsSchema>;

export const firmwareImageEntrySchema = z
  .strictObject({
    id: slug('an image id'),
    role: z.enum(DEVICE_ROLES),
    manufacturer: nonEmpty('the manufacturer'),
    model: nonEmpty('the model'),
    version: nonEmpty('the firmware version'),
    gbcsVersion: nonEmpty('the GBCS version'),
    smetsVersion: nonEmpty('the SMETS version').optional(),
    /** Clauses and modifications the firmware claims to implement, e.g. `gbcs-10.5-interpan-60min`, `secmp0037`. */
    claims: z.array(slug('a claim')),
    image: z.strictObject({
      /** Relative to the manifest. */
      file: nonEmpty('the image file path'),
      sha256: patterned(/^[0-9a-fA-F]{64}$/, SHA256).transform((s) => s.toLowerCase()),
    }),
    /** Set for virtual images: the image file is this behaviour profile (firmware-images/profiles/). */
    profile: slug('a behaviour profile id').optional(),
    /** Set for an over-the-air image: the file is a ZigBee OTA upgrade file whose header must say this (firmware-images/ota.ts). */
    ota: otaFactsSchema.optional(),
  })
  .refine((e) => e.ota === undefined || e.profile === undefined, {
    path: ['ota'],
    error: 'absent on a behaviour profile (profile is set): an OTA image is a ZigBee OTA upgrade file',
  });

export const firmwareManifestSchema = z.strictObject({
  images: z.array(firmwareImageEntrySchema).min(1),
});

export type FirmwareManifest = z.output<typeof firmwareManifestSchema>;

export interface FirmwareImage {
  readonly id: string;
  readonly role: DeviceRole;
  readonly manufacturer: string;
  readonly model: string;
  readonly version: string;
  readonly gbcsVersion: string;
  readonly smetsVersion?: string;
  readonly claims: readonly string[];
  /** `file` is absolute. */
  readonly image: { readonly file: string; readonly sha256: string };
  readonly profile?: string;
  /** An over-the-air image: its OTA header's facts, checked when it is loaded (firmware-images/ota.ts). */
  readonly ota?: OtaFacts;
  /** Where the manifest declares it (absolute manifest path, index in `images`, line). */
  readonly declaredAt: { readonly manifest: string; readonly index: number; readonly line?: number };
}

/** Every image the rig may put on a bench, by id, across all its manifests. */
export class FirmwareCatalogue implements Iterable<FirmwareImage> {
  readonly #images: ReadonlyMap<string, FirmwareImage>;

  constructor(
    images: Iterable<FirmwareImage>,
    /** Absolute paths of the manifests read, built-in first. */
    readonly manifests: readonly string[],
  ) {
    this.#images = new Map([...images].map((i) => [i.id, i]));
  }

  get(id: string): FirmwareImage | undefined {
    return this.#images.get(id);
  }

  has(id: string): boolean {
    return this.#images.has(id);
  }

  get ids(): string[] {
    return [...this.#images.keys()];
  }

  [Symbol.iterator](): Iterator<FirmwareImage> {
    return this.#images.values();
  }

  toJSON(): { manifests: readonly string[]; images: FirmwareImage[] } {
    return { manifests: this.manifests, images: [...this.#images.values()] };
  }
}

const MANIFEST_HINTS = hintTable({
  'images.*.role': 'The device types gbcs-rig tests: CH, ESME, GSME, PPMID, IHD.',
  'images.*.image.sha256': 'Compute it with `sha256sum <file>` and paste the 64 hex digits.',
  'images.*.claims': 'List what the firmware claims, e.g. [gbcs-10.5-interpan-60min, secmp0056]; an empty list is allowed.',
  'images.*.claims.*': 'Claims are slugs such as gbcs-10.5-interpan-60min or secmp0037.',
  '**.version': 'Quote versions in YAML ("4.10", not 4.10, which YAML reads as the number 4.1).',
  '**.gbcsVersion': 'Quote versions in YAML ("4.1"), or YAML reads them as numbers.',
  '**.smetsVersion': 'Quote versions in YAML ("5.1"), or YAML reads them as numbers.',
  '**.id': 'Ids are slugs, e.g. acme-ch-4-2-1.',
  ...Object.fromEntries(
    ['images.*.ota', 'images.*.ota.manufacturerCode', 'images.*.ota.imageType', 'images.*.ota.fileVersion'].map((k) => [
      k,
      'The header facts of the ZigBee OTA upgrade file: { manufacturerCode: 0x7a55, imageType: 0x0101, fileVersion: 0x01010002 }.',
    ]),
  ),
});

/** A manifest to read, and the value that named it (for a rig's `firmwareManifests[i]`). */
export interface ManifestSource {
  readonly file: string;
  readonly referrer?: { in: DataFile; at: DataPath };
}

/** Reads manifests and collects every problem instead of stopping at the first; the catalogue holds the valid images. */
export async function collectFirmwareManifests(
  sources: readonly ManifestSource[],
): Promise<{ catalogue: FirmwareCatalogue; problems: FileProblem[] }> {
  const problems: FileProblem[] = [];
  const images = new Map<string, FirmwareImage>();
  const read: string[] = [];
  for (const source of sources) {
    const file = path.resolve(source.file);
    // The built-in manifest named again by a rig is the same manifest, not a clash of ids.
    if (read.includes(file)) continue;
    read.push(file);
    const parsed = await DataFile.read(file, 'a firmware manifest', source.referrer);
    if (Array.isArray(parsed)) {
      problems.push(...parsed);
      continue;
    }
    const result = firmwareManifestSchema.safeParse(parsed.data, { error: expectationOf });
    if (!result.success) {
      problems.push(
        ...parsed.problemsFromIssues(result.error.issues, MANIFEST_HINTS, 'See firmware-images/virtual.yaml for a valid manifest.'),
      );
      continue;
    }
    result.data.images.forEach((entry, index) => {
      const earlier = images.get(entry.id);
      if (earlier) {
        const where = `${displayFile(earlier.declaredAt.manifest)}${earlier.declaredAt.line ? `:${earlier.declaredAt.line}` : ''}`;
        problems.push(
          parsed.problem(
            ['images', index, 'id'],
            `an image id no other image uses`,
            `"${entry.id}" is already declared at ${where}; rename one of them.`,
          ),
        );
        return;
      }
      const { image, ...rest } = entry;
      images.set(entry.id, {
        ...rest,
        image: { file: path.resolve(path.dirname(file), image.file), sha256: image.sha256 },
        declaredAt: { manifest: file, index, line: parsed.lineOf(['images', index]) },
      });
    });
  }
  return { catalogue: new FirmwareCatalogue(images.values(), read), problems };
}

export class FirmwareManifestError extends FileProblemsError {
  override name = 'FirmwareManifestError';
}

/** Reads firmware manifests into one catalogue; ids must be unique across them. Throws FirmwareManifestError listing every problem. */
export async function loadFirmwareManifests(paths: readonly string[]): Promise<FirmwareCatalogue> {
  const { catalogue, problems } = await collectFirmwareManifests(paths.map((file) => ({ file })));
  if (problems.length) {
    throw new FirmwareManifestError(`Firmware manifests refused (${counted(problems.length, 'problem')}):`, problems);
  }
  return catalogue;
}

/** The sha256 of a file, streamed (firmware images can be large), in lowercase hex. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** An image whose bytes are not the ones its manifest pins: testing it would sign a verdict for the wrong firmware. */
export class FirmwareImageError extends Error {
  override name = 'FirmwareImageError';

  constructor(
    readonly imageId: string,
    readonly file: string,
    readonly expected: string,
    /** undefined when the file could not be read. */
    readonly actual: string | undefined,
    readonly reason: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Firmware image "${imageId}" (${file}): ${reason}; expected sha256 ${expected}, actual ${actual ?? 'none (no file to hash)'}. ` +
        `The run is refused. ${fix}`,
      options,
    );
  }
}

/** Hashes the image file and throws FirmwareImageError unless it matches the manifest's sha256. */
export async function verifyImage(image: Pick<FirmwareImage, 'id' | 'image'>): Promise<void> {
  const { file, sha256: expected } = image.image;
  let actual: string;
  try {
    actual = await sha256OfFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${(cause as Error).message})`;
    throw new FirmwareImageError(
      image.id,
      file,
      expected,
      undefined,
      reason,
      'Put the image at that path, or correct image.file in its manifest (relative to the manifest).',
      { cause },
    );
  }
  if (actual !== expected) {
    throw new FirmwareImageError(
      image.id,
      file,
      expected,
      actual,
      'the file is not the image its manifest pins',
      'Restore the image the manifest names or, if this file is the firmware to test, update image.sha256 in the manifest.',
    );
  }
}
