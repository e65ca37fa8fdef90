// The ZigBee OTA Upgrade file (ZCL spec, OTA Upgrade cluster, "OTA File Format"): the header the
// server reads before it offers an image, then tag/length/value sub-elements. What the rig
// verifies before it lets a firmware image near a device: every fault named with its byte offset.
import { DecodeError, EncodeError, eui64, eui64ToBytes, hex, hexN } from './bytes.ts';
import { mmoHash } from './security/mmo.ts';
import { counted } from './words.ts';

/** The upgrade file identifier, first four bytes of every OTA file (little-endian on disk: 1e f1 ee 0b). */
export const OTA_FILE_IDENTIFIER = 0x0beef11e;
/** The only header version the spec defines. */
export const OTA_HEADER_VERSION = 0x0100;
/** Identifier … total image size: the header without its optional fields. */
export const OTA_FIXED_HEADER_LENGTH = 56;
export const OTA_HEADER_STRING_LENGTH = 32;
/** A sub-element's tag (u16) and length (u32) before its data. */
export const OTA_SUB_ELEMENT_HEADER_LENGTH = 6;

/** Header field control bits: which optional fields follow the total image size, in this order. */
export const OTA_FIELD_CONTROL = {
  securityCredentialVersion: 0x0001,
  /** Device specific file: the upgrade file destination (an IEEE address) is present. */
  deviceSpecific: 0x0002,
  hardwareVersions: 0x0004,
} as const;
const KNOWN_FIELD_CONTROL = 0x0007;

/** Sub-element tags (0xf000–0xffff are manufacturer specific). */
export const OTA_TAG = {
  upgradeImage: 0x0000,
  ecdsaSignature: 0x0001,
  ecdsaSigningCertificate: 0x0002,
  imageIntegrityCode: 0x0003,
  pictureData: 0x0004,
  ecdsaSignatureCryptoSuite2: 0x0005,
  ecdsaSigningCertificateCryptoSuite2: 0x0006,
} as const;

export const OTA_TAG_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'Upgrade Image',
  0x0001: 'ECDSA Signature (Crypto Suite 1)',
  0x0002: 'ECDSA Signing Certificate (Crypto Suite 1)',
  0x0003: 'Image Integrity Code',
  0x0004: 'Picture Data',
  0x0005: 'ECDSA Signature (Crypto Suite 2)',
  0x0006: 'ECDSA Signing Certificate (Crypto Suite 2)',
};

export const ZIGBEE_STACK_VERSIONS: Readonly<Record<number, string>> = {
  0x0000: 'ZigBee 2006',
  0x0001: 'ZigBee 2007',
  0x0002: 'ZigBee PRO',
  0x0003: 'ZigBee IP',
};

export const SECURITY_CREDENTIAL_VERSIONS: Readonly<Record<number, string>> = {
  0x00: 'SE 1.0',
  0x01: 'SE 1.1',
  0x02: 'SE 2.0',
  0x03: 'SE 1.2',
};

/** The header's facts; the optional ones are present exactly when the field control says so. */
export interface OtaHeaderFields {
  manufacturerCode: number;
  imageType: number;
  fileVersion: number;
  zigbeeStackVersion: number;
  /** Up to 32 bytes of UTF-8; padded with zeros on disk. */
  headerString: string;
  securityCredentialVersion?: number;
  /** A device specific file's destination, as the rig writes IEEE addresses (`00:0d:6f:…`). */
  upgradeFileDestination?: string;
  minimumHardwareVersion?: number;
  maximumHardwareVersion?: number;
}

export interface OtaHeader extends OtaHeaderFields {
  headerVersion: number;
  headerLength: number;
  fieldControl: number;
  totalImageSize: number;
}

export interface OtaSubElement {
  tag: number;
  /** The tag's name, or `Manufacturer Specific` / `Reserved`. */
  name: string;
  /** Where its tag starts in the file. */
  offset: number;
  data: Uint8Array;
}

export interface OtaImage {
  header: OtaHeader;
  subElements: OtaSubElement[];
}

/** What the writer needs: the header facts and the sub-elements; lengths, sizes and field control follow from them. */
export interface OtaImageSpec extends OtaHeaderFields {
  subElements: readonly { tag: number; data: Uint8Array }[];
}

/** A refused OTA upgrade file: which field, at which byte offset of the file, and why. */
export class OtaFileError extends DecodeError {
  constructor(field: string, offset: number, reason: string) {
    super(`OTA upgrade file: ${field}`, offset, reason);
    this.name = 'OtaFileError';
  }
}

export function otaTagName(tag: number): string {
  return OTA_TAG_NAMES[tag] ?? (tag >= 0xf000 ? 'Manufacturer Specific' : 'Reserved');
}

/** The header length the field control implies. */
export function otaHeaderLengthFor(fieldControl: number): number {
  return (
    OTA_FIXED_HEADER_LENGTH +
    (fieldControl & OTA_FIELD_CONTROL.securityCredentialVersion ? 1 : 0) +
    (fieldControl & OTA_FIELD_CONTROL.deviceSpecific ? 8 : 0) +
    (fieldControl & OTA_FIELD_CONTROL.hardwareVersions ? 4 : 0)
  );
}

/** A file version as ZigBee recommends reading it: application release.build, stack release.build (one byte each, most significant first). */
export function otaFileVersionText(v: number): string {
  return `${hexN(v >>> 0, 8)} (application ${v >>> 24}.${(v >>> 16) & 0xff}, stack ${(v >>> 8) & 0xff}.${v & 0xff})`;
}

const HEADER_STRING_DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and verifies an OTA upgrade file: identifier, header version, a header length that matches
 * the field control, a total image size equal to the file's length, and sub-elements that fill the
 * file exactly. Throws OtaFileError naming the field and its byte offset.
 */
export function parseOtaImage(file: Uint8Array): OtaImage {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const need = (offset: number, size: number, field: string) => {
    if (offset + size > file.length)
      throw new OtaFileError(field, offset, `needs ${counted(size, 'byte')}, the file ends at byte ${file.length}`);
  };
  const u16 = (offset: number, field: string) => (need(offset, 2, field), view.getUint16(offset, true));
  const u32 = (offset: number, field: string) => (need(offset, 4, field), view.getUint32(offset, true));

  const identifier = u32(0, 'upgrade file identifier');
  if (identifier !== OTA_FILE_IDENTIFIER)
    throw new OtaFileError(
      'upgrade file identifier',
      0,
      `${hexN(identifier, 8)} is not ${hexN(OTA_FILE_IDENTIFIER, 8)} (not an OTA upgrade file)`,
    );
  const headerVersion = u16(4, 'header version');
  if (headerVersion !== OTA_HEADER_VERSION)
    throw new OtaFileError(
      'header version',
      4,
      `${hexN(headerVersion, 4)} is not ${hexN(OTA_HEADER_VERSION, 4)}, the only version defined`,
    );
  const headerLength = u16(6, 'header length');
  const fieldControl = u16(8, 'header field control');
  if (fieldControl & ~KNOWN_FIELD_CONTROL)
    throw new OtaFileError(
      'header field control',
      8,
      `${hexN(fieldControl, 4)} sets reserved bits ${hexN(fieldControl & ~KNOWN_FIELD_CONTROL, 4)}`,
    );
  const implied = otaHeaderLengthFor(fieldControl);
  if (headerLength !== implied)
    throw new OtaFileError(
      'header length',
      6,
      `${headerLength} bytes, but field control ${hexN(fieldControl, 4)} makes the header ${implied} bytes`,
    );
  need(0, headerLength, 'header');
  const header: OtaHeader = {
    headerVersion,
    headerLength,
    fieldControl,
    manufacturerCode: u16(10, 'manufacturer code'),
    imageType: u16(12, 'image type'),
    fileVersion: u32(14, 'file version'),
    zigbeeStackVersion: u16(18, 'ZigBee stack version'),
    headerString: headerStringAt(file, 20),
    totalImageSize: u32(52, 'total image size'),
  };
  if (header.totalImageSize !== file.length)
    throw new OtaFileError('total image size', 52, `says ${header.totalImageSize} bytes, the file is ${file.length}`);
  let at = OTA_FIXED_HEADER_LENGTH;
  if (fieldControl & OTA_FIELD_CONTROL.securityCredentialVersion) header.securityCredentialVersion = file[at++];
  if (fieldControl & OTA_FIELD_CONTROL.deviceSpecific) {
    header.upgradeFileDestination = eui64(file.subarray(at, at + 8));
    at += 8;
  }
  if (fieldControl & OTA_FIELD_CONTROL.hardwareVersions) {
    header.minimumHardwareVersion = view.getUint16(at, true);
    header.maximumHardwareVersion = view.getUint16(at + 2, true);
    if (header.minimumHardwareVersion > header.maximumHardwareVersion)
      throw new OtaFileError(
        'minimum hardware version',
        at,
        `${hexN(header.minimumHardwareVersion, 4)} is above the maximum ${hexN(header.maximumHardwareVersion, 4)}`,
      );
  }
  return { header, subElements: subElementsFrom(file, view, headerLength) };
}

function headerStringAt(file: Uint8Array, offset: number): string {
  const raw = file.subarray(offset, offset + OTA_HEADER_STRING_LENGTH);
  const end = raw.indexOf(0);
  try {
    return HEADER_STRING_DECODER.decode(end < 0 ? raw : raw.subarray(0, end));
  } catch {
    throw new OtaFileError('header string', offset, 'is not UTF-8 text');
  }
}

/** Tag/length/data records from the end of the header to the end of the file, which they must fill exactly. */
function subElementsFrom(file: Uint8Array, view: DataView, from: number): OtaSubElement[] {
  const out: OtaSubElement[] = [];
  for (let at = from; at < file.length; ) {
    const left = file.length - at;
    if (left < OTA_SUB_ELEMENT_HEADER_LENGTH)
      throw new OtaFileError(`sub-element ${out.length + 1}`, at, `${counted(left, 'byte')} left, too few for a tag and a length (6)`);
    const tag = view.getUint16(at, true);
    const length = view.getUint32(at + 2, true);
    const dataAt = at + OTA_SUB_ELEMENT_HEADER_LENGTH;
    if (length > file.length - dataAt)
      throw new OtaFileError(
        `sub-element ${out.length + 1} (${otaTagName(tag)}) length`,
        at + 2,
        `${length} bytes, but only ${file.length - dataAt} are left in the file`,
      );
    out.push({ tag, name: otaTagName(tag), offset: at, data: file.subarray(dataAt, dataAt + length) });
    at = dataAt + length;
  }
  return out;
}

/** Writes an OTA upgrade file; the field control, header length and total image size follow from the spec. */
export function writeOtaImage(spec: OtaImageSpec): Uint8Array {
  const hw = spec.minimumHardwareVersion !== undefined || spec.maximumHardwareVersion !== undefined;
  if (hw && (spec.minimumHardwareVersion === undefined || spec.maximumHardwareVersion === undefined))
    throw new EncodeError('hardware versions', 'give both the minimum and the maximum, or neither');
  const fieldControl =
    (spec.securityCredentialVersion !== undefined ? OTA_FIELD_CONTROL.securityCredentialVersion : 0) |
    (spec.upgradeFileDestination !== undefined ? OTA_FIELD_CONTROL.deviceSpecific : 0) |
    (hw ? OTA_FIELD_CONTROL.hardwareVersions : 0);
  const headerLength = otaHeaderLengthFor(fieldControl);
  const text = new TextEncoder().encode(spec.headerString);
  if (text.length > OTA_HEADER_STRING_LENGTH)
    throw new EncodeError('header string', `${text.length} bytes of UTF-8, at most ${OTA_HEADER_STRING_LENGTH}`);
  if (text.includes(0)) throw new EncodeError('header string', 'holds a NUL, which ends the string on disk');
  const size = spec.subElements.reduce((n, s) => n + OTA_SUB_ELEMENT_HEADER_LENGTH + s.data.length, headerLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const u16 = (at: number, v: number, field: string) => view.setUint16(at, checked(v, 0xffff, field), true);
  const u32 = (at: number, v: number, field: string) => view.setUint32(at, checked(v, 0xffffffff, field), true);
  u32(0, OTA_FILE_IDENTIFIER, 'upgrade file identifier');
  u16(4, OTA_HEADER_VERSION, 'header version');
  u16(6, headerLength, 'header length');
  u16(8, fieldControl, 'header field control');
  u16(10, spec.manufacturerCode, 'manufacturer code');
  u16(12, spec.imageType, 'image type');
  u32(14, spec.fileVersion, 'file version');
  u16(18, spec.zigbeeStackVersion, 'ZigBee stack version');
  out.set(text, 20);
  u32(52, size, 'total image size');
  let at = OTA_FIXED_HEADER_LENGTH;
  if (spec.securityCredentialVersion !== undefined)
    out[at++] = checked(spec.securityCredentialVersion, 0xff, 'security credential version');
  if (spec.upgradeFileDestination !== undefined) {
    out.set(eui64ToBytes(spec.upgradeFileDestination), at);
    at += 8;
  }
  if (hw) {
    u16(at, spec.minimumHardwareVersion!, 'minimum hardware version');
    u16(at + 2, spec.maximumHardwareVersion!, 'maximum hardware version');
  }
  at = headerLength;
  for (const [i, s] of spec.subElements.entries()) {
    u16(at, s.tag, `sub-element ${i + 1} tag`);
    u32(at + 2, s.data.length, `sub-element ${i + 1} length`);
    out.set(s.data, at + OTA_SUB_ELEMENT_HEADER_LENGTH);
    at += OTA_SUB_ELEMENT_HEADER_LENGTH + s.data.length;
  }
  return out;
}

function checked(v: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new EncodeError(field, `${v} is not a whole number from 0 to ${hexN(max, max > 0xff ? 4 : 2)}`);
  return v;
}

/** The header facts a manifest records and a device's profile must match, in words. */
export function otaHeaderSummary(h: OtaHeader): string {
  return (
    `manufacturer ${hexN(h.manufacturerCode, 4)}, image type ${hexN(h.imageType, 4)}, file version ${otaFileVersionText(h.fileVersion)}, ` +
    `${ZIGBEE_STACK_VERSIONS[h.zigbeeStackVersion] ?? `stack ${hexN(h.zigbeeStackVersion, 4)}`}, "${h.headerString}", ${h.totalImageSize} bytes`
  );
}

/** An Image Integrity Code's length: one AES-MMO hash. */
export const OTA_INTEGRITY_CODE_LENGTH = 16;

/**
 * The Image Integrity Code of a file whose integrity sub-element starts at `offset`: the AES-MMO hash of every
 * byte before it (our reading of the OTA file format; the header's total image size already counts the code).
 */
export function otaIntegrityCode(file: Uint8Array, offset: number): Uint8Array {
  return mmoHash(file.subarray(0, offset));
}

/** Checks the file's Image Integrity Code sub-element, if it has one; throws OtaFileError at its data when it does not match. */
export function verifyOtaIntegrityCode(file: Uint8Array, image: OtaImage): void {
  const code = image.subElements.find((s) => s.tag === OTA_TAG.imageIntegrityCode);
  if (!code) return;
  const at = code.offset + OTA_SUB_ELEMENT_HEADER_LENGTH;
  if (code.data.length !== OTA_INTEGRITY_CODE_LENGTH)
    throw new OtaFileError('image integrity code', at, `${code.data.length} bytes, an AES-MMO hash is ${OTA_INTEGRITY_CODE_LENGTH}`);
  const expected = hex(otaIntegrityCode(file, code.offset));
  if (hex(code.data) !== expected)
    throw new OtaFileError('image integrity code', at, `${hex(code.data)} is not the AES-MMO hash of the bytes before it (${expected})`);
}
