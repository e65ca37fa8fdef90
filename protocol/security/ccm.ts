// CCM* (IEEE 802.15.4 / ZigBee) on Node's AES: sealing one message, and opening one message or
// many under the same key through one core (the caller's frames are read in place).

import { BLOCK, checkKey, newAesState, sameKey, type AesState } from './aes.ts';

/** One message to open: where its parts lie, and the slot its answer goes to. */
export interface CcmOpening {
  /** The answer's index in the result array. */
  index: number;
  /** The nonce is nonce[nonceAt, nonceAt + nonceLength). */
  nonce: Uint8Array;
  nonceAt: number;
  nonceLength: number;
  /** The bytes holding the AAD and the ciphertext followed by the MIC. */
  bytes: Uint8Array;
  aadStart: number;
  aadLength: number;
  /** Index into the AAD whose byte the MAC sees as `patchValue` (the ZigBee security level); -1 for none. */
  patchAt: number;
  patchValue: number;
  /** Where the ciphertext starts in `bytes`, its length and the MIC's after it. */
  messageStart: number;
  m: number;
  micLength: number;
  /** Layout, set by the core: where the keystream and the CBC-MAC input start, and the MAC's blocks. */
  ksAt: number;
  macAt: number;
  blocks: number;
}

export function checkMic(micLength: number): asserts micLength is 4 | 8 | 16 {
  // Levels with no MIC (CCM* without authentication) are not used by ZigBee PRO, nor supported by Node's CCM.
  if (micLength !== 4 && micLength !== 8 && micLength !== 16) throw new Error(`MIC length ${micLength} is not 4, 8 or 16`);
}

export function checkNonceAndLength(nonceLength: number, messageLength: number): void {
  // CCM nonces are 7–13 bytes (Node's rule too); L = 15 - nonce bytes carries the length.
  const n = nonceLength;
  if (n < 7 || n > 13) throw new Error(`a CCM nonce has 7 to 13 bytes, got ${n}`);
  if (messageLength > (n === 13 ? 0xffff : 0xffffff)) {
    throw new Error(`a ${messageLength}-byte message is too long for a ${n}-byte CCM nonce`);
  }
}

function grow(buf: Uint8Array, need: number): Uint8Array {
  return buf.length >= need ? buf : new Uint8Array(Math.max(need, buf.length * 2));
}

/** Bytes of B_0, the encoded AAD and the message, each part padded to whole blocks. */
function macLength(aadLength: number, msgLength: number): number {
  const aadField = aadLength === 0 ? 0 : aadLength < 0xff00 ? 2 : 6;
  return BLOCK + ((aadField + aadLength + 15) >>> 4) * BLOCK + ((msgLength + 15) >>> 4) * BLOCK;
}

/**
 * The counter blocks A_0 … A_blocks at ctr[at]: flags, the nonce, the counter big-endian in the
 * last L bytes. A_i is A_0 copied (four word copies through `ctr32`) with its counter set.
 */
function counterBlocks(
  ctr: Uint8Array,
  ctr32: Int32Array,
  at: number,
  nonce: Uint8Array,
  nonceAt: number,
  n: number,
  blocks: number,
): void {
  const L = 15 - n;
  ctr[at] = L - 1;
  for (let j = 0; j < n; j++) ctr[at + 1 + j] = nonce[nonceAt + j];
  for (let j = 1 + n; j < BLOCK; j++) ctr[at + j] = 0;
  const w0 = at >> 2;
  for (let i = 1, p = at + BLOCK; i <= blocks; i++, p += BLOCK) {
    const w = p >> 2;
    ctr32[w] = ctr32[w0];
    ctr32[w + 1] = ctr32[w0 + 1];
    ctr32[w + 2] = ctr32[w0 + 2];
    ctr32[w + 3] = ctr32[w0 + 3];
    // i < 2^24: checkNonceAndLength bounds the message.
    if (L >= 3) ctr[p + BLOCK - 3] = (i >>> 16) & 0xff;
    ctr[p + BLOCK - 2] = (i >>> 8) & 0xff;
    ctr[p + BLOCK - 1] = i & 0xff;
  }
}

/**
 * Lays out the CBC-MAC input in `b` up to the message: B_0 (flags, nonce, message length) and
 * the AAD (src[aadStart, aadStart + a), read in place) with its length prefix, zero-padded, from
 * b[at]. `patchAt`, when ≥ 0, is an index into the AAD whose byte is replaced by `patchValue` (the
 * ZigBee security level), so the caller need not copy the header to patch it. Returns where the
 * message goes.
 */
function macHeader(
  b: Uint8Array,
  at: number,
  nonce: Uint8Array,
  nonceAt: number,
  n: number,
  src: Uint8Array,
  aadStart: number,
  a: number,
  patchAt: number,
  patchValue: number,
  msgLength: number,
  micLength: number,
): number {
  const L = 15 - n;
  b[at] = (a > 0 ? 0x40 : 0) | (((micLength - 2) >> 1) << 3) | (L - 1);
  for (let j = 0; j < n; j++) b[at + 1 + j] = nonce[nonceAt + j];
  for (let j = 0, m = msgLength; j < L; j++, m = Math.floor(m / 256)) b[at + BLOCK - 1 - j] = m & 0xff;
  let o = at + BLOCK;
  if (a === 0) return o;
  if (a < 0xff00) {
    b[o++] = a >>> 8;
    b[o++] = a & 0xff;
  } else {
    b[o++] = 0xff;
    b[o++] = 0xfe;
    b[o++] = a >>> 24;
    b[o++] = (a >>> 16) & 0xff;
    b[o++] = (a >>> 8) & 0xff;
    b[o++] = a & 0xff;
  }
  if (a > 64) b.set(src.subarray(aadStart, aadStart + a), o);
  else for (let j = 0; j < a; j++) b[o + j] = src[aadStart + j];
  if (patchAt >= 0) b[o + patchAt] = patchValue;
  o += a;
  const end = ((o + 15) >> 4) << 4;
  while (o < end) b[o++] = 0;
  return o;
}

/**
 * CBC-MAC of b[0, len) with IV 0, on the key's long-lived CBC cipher: its chaining value is
 * cancelled in the first block (X_1 = E(B_0 ^ chain ^ chain)). Returns every CBC output block;
 * the tag is the first M bytes of the last one.
 */
function macRun(s: AesState, b: Uint8Array, len: number): Uint8Array {
  const chain = s.chain;
  for (let j = 0; j < BLOCK; j++) b[j] ^= chain[j];
  const out = s.cbc.update(b.subarray(0, len));
  const last = len - BLOCK;
  for (let j = 0; j < BLOCK; j++) chain[j] = out[last + j];
  return out;
}

/** The openings, most CBC-MAC blocks first: a counting sort (block counts are few and small). */
function longestFirst(group: readonly CcmOpening[]): CcmOpening[] {
  let most = 0;
  for (const o of group) if (o.blocks > most) most = o.blocks;
  const start = new Int32Array(most + 1);
  for (const o of group) start[most - o.blocks]++;
  for (let i = 0, sum = 0; i <= most; i++) {
    const count = start[i];
    start[i] = sum;
    sum += count;
  }
  const sorted: CcmOpening[] = new Array(group.length);
  for (const o of group) sorted[start[most - o.blocks]++] = o;
  return sorted;
}

/**
 * A CCM* engine: the per-key AES ciphers and the scratch buffers it reuses between calls (never
 * kept past one). One per decoder or caller; not shared between concurrent users.
 */
export class Ccm {
  /** Keyed by the caller's key array; the state keeps a copy, so a key changed in place is noticed. */
  private readonly states = new WeakMap<Uint8Array, AesState>();
  private ctr: Uint8Array = new Uint8Array(0);
  private mac: Uint8Array = new Uint8Array(0);
  private state: Uint8Array = new Uint8Array(0);
  private round: Uint8Array = new Uint8Array(0);

  private aes(key: Uint8Array): AesState {
    let s = this.states.get(key);
    if (s === undefined || !sameKey(s.key, key)) {
      s = newAesState(key);
      this.states.set(key, s);
    }
    return s;
  }

  /** Opens one message: the plaintext, or null when the MIC does not verify. */
  open(key: Uint8Array, opening: CcmOpening): Uint8Array | null {
    const out: (Uint8Array | null)[] = [null];
    opening.index = 0;
    this.openAll(key, [opening], out);
    return out[0];
  }

  /**
   * Opens every message under `key` into out[o.index] (the plaintext, or null when its MIC does
   * not verify), in a handful of AES calls: every keystream from one ECB call; one message's
   * CBC-MAC on the long-lived CBC cipher, many messages' side by side, one ECB call per block
   * position (round r encrypts block r of every message that has one). A call into Node's
   * crypto costs far more than the AES inside it.
   */
  openAll(key: Uint8Array, openings: CcmOpening[], out: (Uint8Array | null)[]): void {
    if (openings.length === 0) return;
    const s = this.aes(key);
    for (const o of openings) {
      checkNonceAndLength(o.nonceLength, o.m);
      o.blocks = macLength(o.aadLength, o.m) / BLOCK;
    }
    // Longest CBC-MAC first, so the messages still running in round r are always a prefix.
    const group = openings.length > 1 ? longestFirst(openings) : openings;
    let ctrBlocks = 0,
      macBlocks = 0;
    for (const o of group) {
      o.ksAt = ctrBlocks * BLOCK;
      o.macAt = macBlocks * BLOCK;
      ctrBlocks += ((o.m + 15) >> 4) + 1;
      macBlocks += o.blocks;
    }
    // Counter blocks A_0 … A_k of every message, one ECB call.
    const ctr = (this.ctr = grow(this.ctr, ctrBlocks * BLOCK));
    const ctr32 = new Int32Array(ctr.buffer, 0, ctrBlocks * 4);
    for (const o of group) counterBlocks(ctr, ctr32, o.ksAt, o.nonce, o.nonceAt, o.nonceLength, (o.m + 15) >> 4);
    const ks = s.ecb.update(ctr.subarray(0, ctrBlocks * BLOCK));
    // Decrypt each message into its result and into its CBC-MAC input (B_0, AAD, message).
    const mac = (this.mac = grow(this.mac, macBlocks * BLOCK));
    for (const o of group) {
      let at = macHeader(
        mac,
        o.macAt,
        o.nonce,
        o.nonceAt,
        o.nonceLength,
        o.bytes,
        o.aadStart,
        o.aadLength,
        o.patchAt,
        o.patchValue,
        o.m,
        o.micLength,
      );
      const plain = new Uint8Array(o.m);
      const bytes = o.bytes;
      for (let j = 0, c = o.messageStart, k = o.ksAt + BLOCK; j < o.m; j++) mac[at + j] = plain[j] = bytes[c + j] ^ ks[k + j];
      const end = o.macAt + o.blocks * BLOCK;
      for (at += o.m; at < end; at++) mac[at] = 0;
      out[o.index] = plain;
    }
    // The tags: the last CBC-MAC block of each message.
    const n = group.length;
    const tags = n === 1 ? macRun(s, mac, macBlocks * BLOCK) : this.macRounds(s, group, macBlocks);
    const first = n === 1 ? (macBlocks - 1) * BLOCK : 0;
    // The MIC is the tag's first bytes masked with S_0; every byte is compared (no early exit).
    for (let g = 0; g < n; g++) {
      const o = group[g];
      const bytes = o.bytes;
      const micAt = o.messageStart + o.m;
      const tagAt = first + g * BLOCK;
      let diff = 0;
      for (let j = 0; j < o.micLength; j++) diff |= tags[tagAt + j] ^ ks[o.ksAt + j] ^ bytes[micAt + j];
      if (diff !== 0) out[o.index] = null;
    }
  }

  /** CBC-MAC in rounds, X_{r+1} = E(X_r ^ B_r) for every message with a block r; the tags at g × 16. */
  private macRounds(s: AesState, group: readonly CcmOpening[], macBlocks: number): Uint8Array {
    const n = group.length;
    const state = (this.state = grow(this.state, n * BLOCK));
    const input = (this.round = grow(this.round, n * BLOCK));
    // 32-bit views (the scratch buffers start their own ArrayBuffers): a block is 4 XORs, not 16.
    const mac32 = new Int32Array(this.mac.buffer, 0, macBlocks * 4);
    const state32 = new Int32Array(state.buffer, 0, n * 4);
    const input32 = new Int32Array(input.buffer, 0, n * 4);
    state32.fill(0);
    for (let r = 0, active = n; active > 0; r++) {
      while (active > 0 && group[active - 1].blocks <= r) active--;
      if (active === 0) break;
      for (let g = 0, x = 0; g < active; g++, x += 4) {
        const b = (group[g].macAt >> 2) + r * 4;
        input32[x] = state32[x] ^ mac32[b];
        input32[x + 1] = state32[x + 1] ^ mac32[b + 1];
        input32[x + 2] = state32[x + 2] ^ mac32[b + 2];
        input32[x + 3] = state32[x + 3] ^ mac32[b + 3];
      }
      state.set(s.ecb.update(input.subarray(0, active * BLOCK)), 0);
    }
    return state;
  }

  /** Encrypts: ciphertext followed by the MIC. */
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, micLength: number): Uint8Array {
    const m = plaintext.length;
    const n = nonce.length;
    checkNonceAndLength(n, m);
    const s = this.aes(key);
    const len = macLength(aad.length, m);
    const b = (this.mac = grow(this.mac, len));
    let o = macHeader(b, 0, nonce, 0, n, aad, 0, aad.length, -1, 0, m, micLength);
    b.set(plaintext, o);
    for (o += m; o < len; o++) b[o] = 0;
    const mac = macRun(s, b, len);
    const at = len - BLOCK;
    const blocks = (m + 15) >> 4;
    const ctr = (this.ctr = grow(this.ctr, (blocks + 1) * BLOCK));
    counterBlocks(ctr, new Int32Array(ctr.buffer, 0, (blocks + 1) * 4), 0, nonce, 0, n, blocks);
    const ks = s.ecb.update(ctr.subarray(0, (blocks + 1) * BLOCK));
    const out = new Uint8Array(m + micLength);
    for (let j = 0; j < m; j++) out[j] = plaintext[j] ^ ks[BLOCK + j];
    for (let j = 0; j < micLength; j++) out[m + j] = mac[at + j] ^ ks[j];
    return out;
  }
}

/** CCM* decryption and MIC check; null when the MIC does not verify (wrong key or tampered frame). */
export function ccmStarDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  encryptedWithMic: Uint8Array,
  micLength = 4,
): Uint8Array | null {
  checkKey(key);
  checkMic(micLength);
  if (encryptedWithMic.length < micLength) return null;
  // The core reads the AAD and the message from one array.
  const bytes = new Uint8Array(aad.length + encryptedWithMic.length);
  bytes.set(aad, 0);
  bytes.set(encryptedWithMic, aad.length);
  const m = encryptedWithMic.length - micLength;
  return new Ccm().open(key, {
    index: 0,
    nonce,
    nonceAt: 0,
    nonceLength: nonce.length,
    bytes,
    aadStart: 0,
    aadLength: aad.length,
    patchAt: -1,
    patchValue: 0,
    messageStart: aad.length,
    m,
    micLength,
    ksAt: 0,
    macAt: 0,
    blocks: 0,
  });
}

/** CCM* encryption: ciphertext followed by the MIC. */
export function ccmStarEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, micLength = 4): Uint8Array {
  checkKey(key);
  checkMic(micLength);
  return new Ccm().seal(key, nonce, aad, plaintext, micLength);
}
