// The ZigBee AES-MMO hash and its keyed hash (HMAC), which derive the key-transport and
// key-load keys and the link key of an install code.

import { BLOCK, aesBlock, checkKey } from './aes.ts';

/**
 * ZigBee AES-MMO hash (spec B.6): Hash_i = E(Hash_{i-1}, M_i) xor M_i from Hash_0 = 0, over the
 * message padded with 0x80, zeros and its bit length — 16 bits, or for messages of 2^16 bits and
 * more, 32 bits followed by 16 zero bits.
 */
export function mmoHash(data: Uint8Array): Uint8Array {
  const bits = data.length * 8;
  if (bits >= 2 ** 32) throw new Error(`AES-MMO hashes messages under 2^32 bits, got ${data.length} bytes`);
  const long = bits >= 0x10000;
  // Bytes the length field takes at the end of the last block.
  const trailer = long ? 6 : 2;
  const padded = new Uint8Array(Math.ceil((data.length + 1 + trailer) / BLOCK) * BLOCK);
  padded.set(data, 0);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  if (long) view.setUint32(padded.length - 6, bits, false);
  else view.setUint16(padded.length - 2, bits, false);
  let hash: Uint8Array = new Uint8Array(BLOCK);
  for (let i = 0; i < padded.length; i += BLOCK) {
    const m = padded.subarray(i, i + BLOCK);
    const e = aesBlock(hash, m);
    for (let j = 0; j < BLOCK; j++) e[j] ^= m[j];
    hash = e;
  }
  return hash;
}

const IPAD = 0x36;
const OPAD = 0x5c;

/** Inputs of the ZigBee keyed hash (spec 4.5.3 / B.1.4) that the stack uses. */
export const KEYED_HASH_INPUT = { keyTransport: 0x00, keyLoad: 0x02, verifyKey: 0x03 } as const;

/** ZigBee keyed hash: HMAC over AES-MMO of a one-byte input, MMO(key^opad || MMO(key^ipad || input)). */
export function keyedHash(key: Uint8Array, input: number): Uint8Array {
  checkKey(key);
  if (!Number.isInteger(input) || input < 0 || input > 0xff) throw new Error(`keyed hash input ${input} is not a byte`);
  const inner = new Uint8Array(BLOCK + 1);
  const outer = new Uint8Array(2 * BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = key[i] ^ IPAD;
    outer[i] = key[i] ^ OPAD;
  }
  inner[BLOCK] = input;
  outer.set(mmoHash(inner), BLOCK);
  return mmoHash(outer);
}
