// Over-the-air firmware images (RCN-4): ZigBee OTA upgrade files pinned by a manifest entry's sha256
// and OTA header facts. Loading one verifies both, and that it is meant for the device it is to go to.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hexN } from '../protocol/bytes.ts';
import {
  OTA_TAG,
  otaHeaderSummary,
  otaIntegrityCode,
  parseOtaImage,
  verifyOtaIntegrityCode,
  writeOtaImage,
  type OtaHeader,
} from '../protocol/ota-image.ts';
import { verifyImage, type DeviceRole, type FirmwareImage, type OtaFacts } from './manifest.ts';

/** The manufacturer code of the virtual bench's devices' OTA images: outside the range the CSA has allocated so far. */
export const VIRTUAL_OTA_MANUFACTURER_CODE = 0x7a55;
/** The image type of each virtual HAN client's firmware (image types are the manufacturer's to choose). */
export const VIRTUAL_OTA_IMAGE_TYPE = { ihd: 0x0101, ppmid: 0x0102 } as const;
/** The file version a virtual IHD or PPMID runs out of the box: application 1.0, stack 0.2. */
export const VIRTUAL_OTA_FILE_VERSION = 0x01000002;
/** The version the virtual bench's OTA images carry: application 1.1, stack 0.2. */
export const VIRTUAL_OTA_NEXT_FILE_VERSION = 0x01010002;

/** One OTA image the virtual bench ships, as firmware-images/ota/build.ts writes it. */
export interface VirtualOtaImageDef {
  file: string;
  clientType: keyof typeof VIRTUAL_OTA_IMAGE_TYPE;
  fileVersion: number;
  headerString: string;
  /** Bytes of the upgrade image sub-element (deterministic filler standing for the firmware). */
  size: number;
}

export const VIRTUAL_OTA_IMAGES: readonly VirtualOtaImageDef[] = [
  {
    file: 'ota/ihd-1.1.0.zigbee',
    clientType: 'ihd',
    fileVersion: VIRTUAL_OTA_NEXT_FILE_VERSION,
    headerString: 'gbcs-rig virtual IHD 1.1.0',
    size: 1024,
  },
  {
    file: 'ota/ppmid-1.1.0.zigbee',
    clientType: 'ppmid',
    fileVersion: VIRTUAL_OTA_NEXT_FILE_VERSION,
    headerString: 'gbcs-rig virtual PPMID 1.1.0',
    size: 1024,
  },
];

/** A virtual OTA image's bytes, the same on every build: SHA-256 in counter mode over its name stands for the firmware. */
export function buildVirtualOtaImage(def: VirtualOtaImageDef): Uint8Array {
  const firmware = new Uint8Array(def.size);
  for (let i = 0; i * 32 < def.size; i++) {
    const block = createHash('sha256').update(`${def.file} ${i}`).digest();
    firmware.set(block.subarray(0, Math.min(32, def.size - i * 32)), i * 32);
  }
  const facts = {
    manufacturerCode: VIRTUAL_OTA_MANUFACTURER_CODE,
    imageType: VIRTUAL_OTA_IMAGE_TYPE[def.clientType],
    fileVersion: def.fileVersion,
    zigbeeStackVersion: 0x0002,
    headerString: def.headerString,
    // Smart Energy 1.x devices carry their certificate version; GBCS HAN devices are SE 1.2-based.
    securityCredentialVersion: 0x03,
  };
  // The integrity code hashes the whole file before it, header included: write it once with a placeholder, then fill it in.
  const placeholder = new Uint8Array(16);
  const file = writeOtaImage({
    ...facts,
    subElements: [
      { tag: OTA_TAG.upgradeImage, data: firmware },
      { tag: OTA_TAG.imageIntegrityCode, data: placeholder },
    ],
  });
  const codeAt = file.length - 16 - 6;
  file.set(otaIntegrityCode(file, codeAt), codeAt + 6);
  return file;
}

/** An OTA image the rig refuses to offer: the file, its header or the device it was meant for is not what the manifest says. */
export class OtaImageError extends Error {
  override name = 'OtaImageError';
  constructor(
    readonly imageId: string,
    readonly file: string,
    reason: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`OTA image "${imageId}" (${file}): ${reason}. ${fix}`, options);
  }
}

export interface VerifiedOtaImage {
  readonly image: FirmwareImage;
  readonly bytes: Uint8Array;
  readonly header: OtaHeader;
  readonly sha256: string;
  /**
   * Its Image Integrity Code sub-element against the rig's reading of it (AES-MMO of the bytes before it; unconfirmed):
   * reported, never a refusal — a vendor's image must not be refused on a reading no public example confirmed.
   */
  readonly integrityCode: 'absent' | 'matches' | 'differs';
}

/** What a device runs, as its OTA client reports it (Manufacturer ID, Image Type ID, Current File Version attributes). */
export interface OtaDeviceIdentity {
  manufacturerCode: number;
  imageType: number;
  fileVersion?: number;
  /** The device in words, for the error: "the IHD ihd". */
  what: string;
}

const FACTS: readonly (keyof OtaFacts)[] = ['manufacturerCode', 'imageType', 'fileVersion'];

/**
 * Reads an OTA image the manifest pins: its sha256 (FirmwareImageError otherwise), a valid OTA header and sub-elements,
 * a matching integrity code, header facts equal to the manifest's `ota`, and — given the device — its manufacturer code and image type.
 */
export async function loadOtaImage(image: FirmwareImage, device?: OtaDeviceIdentity): Promise<VerifiedOtaImage> {
  const file = image.image.file;
  if (!image.ota)
    throw new OtaImageError(
      image.id,
      file,
      'its manifest entry has no ota facts',
      'Add ota: { manufacturerCode, imageType, fileVersion } to the entry.',
    );
  await verifyImage(image);
  const bytes = new Uint8Array(await readFile(file));
  let parsed: ReturnType<typeof parseOtaImage>;
  try {
    parsed = parseOtaImage(bytes);
  } catch (cause) {
    throw new OtaImageError(image.id, file, (cause as Error).message, 'The file is not a valid ZigBee OTA upgrade file: rebuild it.', {
      cause,
    });
  }
  const header = parsed.header;
  const differ = FACTS.filter((k) => header[k] !== image.ota![k]);
  if (differ.length)
    throw new OtaImageError(
      image.id,
      file,
      `its OTA header says ${differ.map((k) => `${k} ${hexN(header[k], k === 'fileVersion' ? 8 : 4)}`).join(', ')}, ` +
        `its manifest ${differ.map((k) => `${hexN(image.ota![k], k === 'fileVersion' ? 8 : 4)}`).join(', ')}`,
      'Correct ota in the manifest entry, or put the image it describes at image.file.',
    );
  if (device && (header.manufacturerCode !== device.manufacturerCode || header.imageType !== device.imageType))
    throw new OtaImageError(
      image.id,
      file,
      `it is for manufacturer ${hexN(header.manufacturerCode, 4)} image type ${hexN(header.imageType, 4)}, ` +
        `${device.what} runs manufacturer ${hexN(device.manufacturerCode, 4)} image type ${hexN(device.imageType, 4)}`,
      'Offer the device an image built for it (its OTA attributes Manufacturer ID 0x0007 and Image Type ID 0x0008).',
    );
  return { image, bytes, header, sha256: image.image.sha256, integrityCode: integrityCodeOf(bytes, parsed) };
}

function integrityCodeOf(bytes: Uint8Array, parsed: ReturnType<typeof parseOtaImage>): VerifiedOtaImage['integrityCode'] {
  if (!parsed.subElements.some((s) => s.tag === OTA_TAG.imageIntegrityCode)) return 'absent';
  try {
    verifyOtaIntegrityCode(bytes, parsed);
    return 'matches';
  } catch {
    return 'differs';
  }
}

/** The catalogue's OTA images for a device: its role, its manufacturer code and image type, a newer file version; newest first. */
export function otaImagesFor(catalogue: Iterable<FirmwareImage>, role: DeviceRole, device: OtaDeviceIdentity): FirmwareImage[] {
  return [...catalogue]
    .filter(
      (i) =>
        i.role === role &&
        i.ota !== undefined &&
        i.ota.manufacturerCode === device.manufacturerCode &&
        i.ota.imageType === device.imageType &&
        (device.fileVersion === undefined || i.ota.fileVersion > device.fileVersion),
    )
    .sort((a, b) => b.ota!.fileVersion - a.ota!.fileVersion);
}

/** The image's header facts in words, for evidence and reports. */
export const describeOtaImage = (v: VerifiedOtaImage): string => `${v.image.id}: ${otaHeaderSummary(v.header)}, sha256 ${v.sha256}`;
