// The ZigBee OTA upgrade file: a published header checked by hand, every refusal named with its
// byte offset, and write → parse as a property over every header shape the field control allows.
import { test, expect } from '@playwright/test';
import fc from '../support/fast-check.ts';
import { fromHex, hex } from '../../protocol/bytes.ts';
import {
  OTA_FIELD_CONTROL,
  OtaFileError,
  otaFileVersionText,
  otaHeaderLengthFor,
  parseOtaImage,
  writeOtaImage,
  type OtaImageSpec,
} from '../../protocol/ota-image.ts';

/**
 * A published example, read by hand: the OTA header of zigpy's test image (zigpy/zigpy tests/test_ota_provider.py,
 * IKEA's manufacturer code 4476 = 0x117c), followed by its one sub-element, tag 0x0000 with the 4 bytes "abcd".
 *   1ef1ee0b identifier | 0001 version 0x0100 | 3800 header length 56 | 0000 field control | 7c11 manufacturer 0x117c
 *   0121 image type 0x2101 | 78563412 file version 0x12345678 | 0200 stack ZigBee PRO | "Test OTA Image" + 18 NULs
 *   42000000 total size 66 = 56 + 6 + 4.
 */
const ZIGPY_HEADER =
  '1ef1ee0b0001380000007c11012178563412020054657374204f544120496d61' + '676500000000000000000000000000000000000042000000';
const ZIGPY_FILE = fromHex(ZIGPY_HEADER + '0000' + '04000000' + hex(new TextEncoder().encode('abcd')));

test('the published zigpy test image parses to the facts read by hand', () => {
  const { header, subElements } = parseOtaImage(ZIGPY_FILE);
  expect(header).toEqual({
    headerVersion: 0x0100,
    headerLength: 56,
    fieldControl: 0,
    manufacturerCode: 4476,
    imageType: 0x2101,
    fileVersion: 0x12345678,
    zigbeeStackVersion: 2,
    headerString: 'Test OTA Image',
    totalImageSize: 66,
  });
  expect(subElements.map((s) => [s.tag, s.name, s.offset, new TextDecoder().decode(s.data)])).toEqual([[0, 'Upgrade Image', 56, 'abcd']]);
  expect(otaFileVersionText(0x12345678)).toBe('0x12345678 (application 18.52, stack 86.120)');
});

test('our writer gives the published bytes for the same facts', () => {
  const written = writeOtaImage({
    manufacturerCode: 4476,
    imageType: 0x2101,
    fileVersion: 0x12345678,
    zigbeeStackVersion: 2,
    headerString: 'Test OTA Image',
    subElements: [{ tag: 0, data: new TextEncoder().encode('abcd') }],
  });
  expect(hex(written)).toBe(hex(ZIGPY_FILE));
});

/** The zigpy file with bytes changed: `at` → the new bytes (hex). */
function patched(at: number, bytes: string, file = ZIGPY_FILE): Uint8Array {
  const out = new Uint8Array(file);
  out.set(fromHex(bytes), at);
  return out;
}

const refusal = (file: Uint8Array): string => {
  try {
    parseOtaImage(file);
  } catch (e) {
    expect(e).toBeInstanceOf(OtaFileError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};

test('every malformed file is refused with the field and its byte offset', () => {
  expect(refusal(patched(0, '1ef1ee0c'))).toBe(
    'OTA upgrade file: upgrade file identifier at offset 0: 0x0ceef11e is not 0x0beef11e (not an OTA upgrade file)',
  );
  expect(refusal(patched(4, '0002'))).toBe('OTA upgrade file: header version at offset 4: 0x0200 is not 0x0100, the only version defined');
  expect(refusal(patched(6, '3900'))).toBe(
    'OTA upgrade file: header length at offset 6: 57 bytes, but field control 0x0000 makes the header 56 bytes',
  );
  // Field control says hardware versions follow, the header length does not count them.
  expect(refusal(patched(8, '0400'))).toBe(
    'OTA upgrade file: header length at offset 6: 56 bytes, but field control 0x0004 makes the header 60 bytes',
  );
  expect(refusal(patched(8, '0800'))).toBe('OTA upgrade file: header field control at offset 8: 0x0008 sets reserved bits 0x0008');
  expect(refusal(patched(52, '43000000'))).toBe('OTA upgrade file: total image size at offset 52: says 67 bytes, the file is 66');
  expect(refusal(ZIGPY_FILE.subarray(0, 40))).toBe('OTA upgrade file: header at offset 0: needs 56 bytes, the file ends at byte 40');
  expect(refusal(new Uint8Array(3))).toBe('OTA upgrade file: upgrade file identifier at offset 0: needs 4 bytes, the file ends at byte 3');
  // Sub-element length past the end (total size adjusted so the header is consistent).
  expect(refusal(patched(58, '05000000'))).toBe(
    'OTA upgrade file: sub-element 1 (Upgrade Image) length at offset 58: 5 bytes, but only 4 are left in the file',
  );
  // Three stray bytes after the last sub-element.
  const longer = new Uint8Array(69);
  longer.set(ZIGPY_FILE);
  longer.set(fromHex('45000000'), 52);
  expect(refusal(longer)).toBe('OTA upgrade file: sub-element 2 at offset 66: 3 bytes left, too few for a tag and a length (6)');
  expect(refusal(patched(20, 'ff'))).toBe('OTA upgrade file: header string at offset 20: is not UTF-8 text');
});

test('optional header fields: security credential version, destination, hardware versions, in order', () => {
  const spec: OtaImageSpec = {
    manufacturerCode: 0x1234,
    imageType: 0x0101,
    fileVersion: 0x00000102,
    zigbeeStackVersion: 2,
    headerString: 'IHD',
    securityCredentialVersion: 3,
    upgradeFileDestination: '00:0d:6f:00:00:00:00:01',
    minimumHardwareVersion: 1,
    maximumHardwareVersion: 2,
    subElements: [{ tag: 0, data: new Uint8Array([1, 2, 3]) }],
  };
  const file = writeOtaImage(spec);
  expect(file.length).toBe(69 + 9);
  expect(hex(file.subarray(8, 10))).toBe('0700');
  expect(hex(file.subarray(56, 69))).toBe('03' + '01000000006f0d00' + '01000200');
  const { header } = parseOtaImage(file);
  expect([header.headerLength, header.securityCredentialVersion, header.upgradeFileDestination]).toEqual([
    69,
    3,
    '00:0d:6f:00:00:00:00:01',
  ]);
  expect(refusal(patched(65, '0300', file))).toBe(
    'OTA upgrade file: minimum hardware version at offset 65: 0x0003 is above the maximum 0x0002',
  );
  expect(() => writeOtaImage({ ...spec, maximumHardwareVersion: undefined })).toThrow(/give both the minimum and the maximum/);
  expect(() => writeOtaImage({ ...spec, headerString: 'x'.repeat(33) })).toThrow(/header string: 33 bytes of UTF-8, at most 32/);
  expect(() => writeOtaImage({ ...spec, manufacturerCode: 0x10000 })).toThrow(/manufacturer code: 65536 is not a whole number/);
});

const u16 = fc.integer({ min: 0, max: 0xffff });
const specs: fc.Arbitrary<OtaImageSpec> = fc
  .record({
    manufacturerCode: u16,
    imageType: u16,
    fileVersion: fc.integer({ min: 0, max: 0xffffffff }),
    zigbeeStackVersion: u16,
    headerString: fc
      .string({ maxLength: 10, unit: 'grapheme' })
      .filter((s) => !s.includes('\0') && new TextEncoder().encode(s).length <= 32),
    security: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    destination: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
    hw: fc.option(fc.tuple(u16, u16), { nil: undefined }),
    subElements: fc.array(fc.record({ tag: u16, data: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 }),
  })
  .map(({ security, destination, hw, ...rest }) => ({
    ...rest,
    ...(security !== undefined && { securityCredentialVersion: security }),
    ...(destination && { upgradeFileDestination: [...destination].map((b) => b.toString(16).padStart(2, '0')).join(':') }),
    ...(hw && { minimumHardwareVersion: Math.min(...hw), maximumHardwareVersion: Math.max(...hw) }),
  }));

test('property: parse(write(spec)) gives the spec back, with the header length the field control implies', () => {
  fc.assert(
    fc.property(specs, (spec) => {
      const file = writeOtaImage(spec);
      const { header, subElements } = parseOtaImage(file);
      const { subElements: wanted, ...facts } = spec;
      expect(header).toMatchObject(facts);
      expect(header.headerLength).toBe(otaHeaderLengthFor(header.fieldControl));
      expect(header.totalImageSize).toBe(file.length);
      expect(!!(header.fieldControl & OTA_FIELD_CONTROL.deviceSpecific)).toBe(spec.upgradeFileDestination !== undefined);
      expect(subElements.map((s) => ({ tag: s.tag, data: [...s.data] }))).toEqual(wanted.map((s) => ({ tag: s.tag, data: [...s.data] })));
    }),
  );
});

test('property: any bytes either parse or are refused with an OtaFileError inside the file', () => {
  fc.assert(
    fc.property(specs, fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 255 }), (spec, at, byte) => {
      const file = writeOtaImage(spec);
      const broken = new Uint8Array(file);
      if (broken.length > 0) broken[at % broken.length] = byte;
      try {
        parseOtaImage(broken);
      } catch (e) {
        expect(e).toBeInstanceOf(OtaFileError);
        expect((e as OtaFileError).offset).toBeLessThanOrEqual(broken.length);
      }
    }),
  );
});
