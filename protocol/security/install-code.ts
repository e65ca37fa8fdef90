// Install codes (ZigBee Base Device Behaviour 10.1): a code and its CRC give a link key.

import { mmoHash } from './mmo.ts';

/** CRC-16/X-25 (reflected 0x1021, init and xorout 0xFFFF), the install-code checksum. */
export function crc16x25(data: Uint8Array): number {
  let crc = 0xffff;
  for (const b of data) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc ^ 0xffff;
}

/** Install-code lengths without their CRC (ZigBee Base Device Behaviour 10.1). */
const INSTALL_CODE_LENGTHS: readonly number[] = [6, 8, 12, 16];

/** Checks the install code's trailing CRC (LE) and derives the link key: MMO over code and CRC. */
export function installCodeToLinkKey(code: Uint8Array): Uint8Array {
  const n = code.length - 2;
  if (!INSTALL_CODE_LENGTHS.includes(n)) {
    throw new Error(`an install code has ${INSTALL_CODE_LENGTHS.join(', ')} bytes plus a 2-byte CRC, got ${code.length} bytes`);
  }
  const expected = crc16x25(code.subarray(0, n));
  const found = code[n] | (code[n + 1] << 8);
  if (expected !== found) {
    const h4 = (v: number) => '0x' + v.toString(16).padStart(4, '0');
    throw new Error(`install code CRC is wrong: expected ${h4(expected)}, found ${h4(found)}`);
  }
  return mmoHash(code);
}
