// AES-128 as the security code uses it: one block, and the long-lived per-key ciphers of CCM*.

import { createCipheriv, type Cipher } from 'node:crypto';

export const BLOCK = 16;

export function checkKey(key: Uint8Array): void {
  // Never echo the key itself: only its length.
  if (key.length !== 16) throw new Error(`an AES-128 key has 16 bytes, got ${key.length}`);
}

/** One AES-128 block encryption under `key` (ECB of one block = the raw block cipher). */
export function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(block));
}

/**
 * Per-key AES state for CCM*: an ECB cipher for the CTR keystream and a CBC cipher for the
 * CBC-MAC, both long-lived (creating a Node cipher costs far more than using one). `chain` is
 * the CBC cipher's current chaining value, the last block it produced.
 */
export interface AesState {
  /** A copy of the key, so a caller changing its array in place is noticed. */
  key: Uint8Array;
  ecb: Cipher;
  cbc: Cipher;
  chain: Uint8Array;
}

const ZERO_BLOCK = new Uint8Array(BLOCK);

export function newAesState(key: Uint8Array): AesState {
  const ecb = createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  const cbc = createCipheriv('aes-128-cbc', key, ZERO_BLOCK);
  cbc.setAutoPadding(false);
  return { key: key.slice(), ecb, cbc, chain: new Uint8Array(BLOCK) };
}

export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (a[i] !== b[i]) return false;
  return true;
}
