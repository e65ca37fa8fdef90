// ZigBee NWK/APS security: the auxiliary header, CCM* with the level patched to 5, the AES-MMO
// hash and its keyed hash (key-transport / key-load keys, install codes), and a key table.
// Behaviour follows Wireshark's packet-zbee-security.c, which is the oracle the tests use.

import { createCipheriv, type Cipher } from 'node:crypto';
import { DecodeError, EncodeError, Reader, copyBytes } from './bytes.ts';
import type { Writer } from './bytes.ts';

export type KeyId = 'link' | 'network' | 'key-transport' | 'key-load';

/** The key identifier field (bits 3–4 of the security control), indexed by its value. */
const KEY_IDS: readonly KeyId[] = ['link', 'network', 'key-transport', 'key-load'];

export interface AuxHeader {
  /** The security control byte as on air (its level bits normally read 0). */
  control: number;
  level: number;
  keyId: KeyId;
  extendedNonce: boolean;
  frameCounter: number;
  /** The sender's IEEE address, 8 bytes little-endian as on air, when extendedNonce. */
  source?: Uint8Array;
  /** Present when keyId is 'network'. */
  keySeq?: number;
  /** Bytes of the auxiliary header. */
  length: number;
}

const LEVEL_MASK = 0x07;
const KEY_ID_SHIFT = 3;
const EXTENDED_NONCE = 0x20;
/** Bits 6–7 are outside the fields above; keep them as sent. */
const OTHER_BITS = 0xc0;
/** ZigBee PRO always secures with ENC-MIC-32 but sends level 0: receivers substitute 5. */
export const ZIGBEE_SECURITY_LEVEL = 5;
/** MIC bytes for each security level (0–3 no encryption, 4–7 with). */
const MIC_LENGTH: readonly number[] = [0, 4, 8, 16, 0, 4, 8, 16];

export function decodeAuxHeader(r: Reader): AuxHeader {
  const start = r.offset;
  const control = r.u8('security control');
  const keyId = KEY_IDS[(control >> KEY_ID_SHIFT) & 0x03];
  const extendedNonce = (control & EXTENDED_NONCE) !== 0;
  const frameCounter = r.u32('security frame counter');
  // An interned copy (shared, never written): the header stays valid if the caller reuses the frame buffer.
  const source = extendedNonce ? r.eui64Bytes('security source address').le : undefined;
  const keySeq = keyId === 'network' ? r.u8('security key sequence number') : undefined;
  // Every key present (absent ones undefined): one hidden class for every header.
  return { control, level: control & LEVEL_MASK, keyId, extendedNonce, frameCounter, source, keySeq, length: r.offset - start };
}

export function encodeAuxHeader(w: Writer, h: Omit<AuxHeader, 'length' | 'control'> & { control?: number }): void {
  const keyIndex = KEY_IDS.indexOf(h.keyId);
  if (keyIndex < 0) throw new EncodeError('security key id', `unknown key id "${String(h.keyId)}"`);
  if (!Number.isInteger(h.level) || h.level < 0 || h.level > 7) throw new EncodeError('security level', `${h.level} is not in 0..7`);
  const control = ((h.control ?? 0) & OTHER_BITS) | h.level | (keyIndex << KEY_ID_SHIFT) | (h.extendedNonce ? EXTENDED_NONCE : 0);
  w.u8(control, 'security control');
  w.u32(h.frameCounter, 'security frame counter');
  if (h.extendedNonce) {
    if (h.source?.length !== 8) throw new EncodeError('security source address', 'an extended nonce needs the 8-byte source IEEE address');
    w.bytes(h.source);
  }
  if (h.keyId === 'network') {
    if (h.keySeq === undefined) throw new EncodeError('security key sequence number', 'a network key id needs a key sequence number');
    w.u8(h.keySeq, 'security key sequence number');
  }
}

/** The security control byte with its level bits replaced by `level`. */
function patchLevel(control: number, level = ZIGBEE_SECURITY_LEVEL): number {
  return (control & ~LEVEL_MASK) | level;
}

/** 13-byte CCM* nonce: source IEEE (LE, as on air), frame counter (LE), control with level 5. */
export function securityNonce(sourceLE: Uint8Array, frameCounter: number, control: number): Uint8Array {
  if (sourceLE.length !== 8) throw new Error(`the nonce needs an 8-byte source IEEE address, got ${sourceLE.length} bytes`);
  return fillNonce(new Uint8Array(13), sourceLE, frameCounter, control);
}

function fillNonce(nonce: Uint8Array, sourceLE: Uint8Array, frameCounter: number, control: number): Uint8Array {
  for (let i = 0; i < 8; i++) nonce[i] = sourceLE[i];
  const fc = frameCounter >>> 0;
  nonce[8] = fc & 0xff;
  nonce[9] = (fc >>> 8) & 0xff;
  nonce[10] = (fc >>> 16) & 0xff;
  nonce[11] = fc >>> 24;
  nonce[12] = patchLevel(control);
  return nonce;
}

function checkKey(key: Uint8Array): void {
  // Never echo the key itself: only its length.
  if (key.length !== 16) throw new Error(`an AES-128 key has 16 bytes, got ${key.length}`);
}

function checkMic(micLength: number): asserts micLength is 4 | 8 | 16 {
  // Levels with no MIC (CCM* without authentication) are not used by ZigBee PRO, nor supported by Node's CCM.
  if (micLength !== 4 && micLength !== 8 && micLength !== 16) throw new Error(`MIC length ${micLength} is not 4, 8 or 16`);
}

const BLOCK = 16;

/** One AES-128 block encryption under `key` (ECB of one block = the raw block cipher). */
function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(block));
}

/**
 * Per-key AES state for the CCM* fast path: an ECB cipher for the CTR keystream and a CBC
 * cipher for the CBC-MAC, both long-lived (creating a Node cipher costs far more than using
 * one). `chain` is the CBC cipher's current chaining value, the last block it produced.
 */
interface AesState {
  key: Uint8Array;
  ecb: Cipher;
  cbc: Cipher;
  chain: Uint8Array;
}

const ZERO_BLOCK = new Uint8Array(BLOCK);
/** Keyed by the caller's key array; `key` is a copy, so a caller changing its array in place is noticed. */
const aesStates = new WeakMap<Uint8Array, AesState>();

function aesState(key: Uint8Array): AesState {
  let s = aesStates.get(key);
  if (s === undefined || !sameKey(s.key, key)) {
    const ecb = createCipheriv('aes-128-ecb', key, null);
    ecb.setAutoPadding(false);
    const cbc = createCipheriv('aes-128-cbc', key, ZERO_BLOCK);
    cbc.setAutoPadding(false);
    s = { key: key.slice(), ecb, cbc, chain: new Uint8Array(BLOCK) };
    aesStates.set(key, s);
  }
  return s;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Scratch buffers, grown on demand and reused (single-threaded, never kept past a call). */
let ctrScratch: Uint8Array = new Uint8Array(16 * BLOCK);
let macScratch: Uint8Array = new Uint8Array(16 * BLOCK);

function grow(buf: Uint8Array, need: number): Uint8Array {
  return buf.length >= need ? buf : new Uint8Array(Math.max(need, buf.length * 2));
}

/** The CTR keystream S_0, S_1, … S_blocks in one ECB call: S_0 masks the MIC, the rest the payload. */
function keystream(s: AesState, nonce: Uint8Array, blocks: number): Uint8Array {
  const n = nonce.length;
  const L = 15 - n;
  const len = (blocks + 1) * BLOCK;
  const ctr = (ctrScratch = grow(ctrScratch, len));
  for (let i = 0, o = 0; i <= blocks; i++, o += BLOCK) {
    ctr[o] = L - 1;
    for (let j = 0; j < n; j++) ctr[o + 1 + j] = nonce[j];
    // The counter, big-endian in the last L bytes (i < 2^24: checkNonceAndLength bounds m).
    for (let j = 1 + n; j < BLOCK - 3; j++) ctr[o + j] = 0;
    if (L >= 3) ctr[o + BLOCK - 3] = (i >>> 16) & 0xff;
    ctr[o + BLOCK - 2] = (i >>> 8) & 0xff;
    ctr[o + BLOCK - 1] = i & 0xff;
  }
  return s.ecb.update(ctr.subarray(0, len));
}

/** Bytes of B_0, the encoded AAD and the message, each part padded to whole blocks. */
function macLength(aadLength: number, msgLength: number): number {
  const aadField = aadLength === 0 ? 0 : aadLength < 0xff00 ? 2 : 6;
  return BLOCK + ((aadField + aadLength + 15) >>> 4) * BLOCK + ((msgLength + 15) >>> 4) * BLOCK;
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
  src: Uint8Array,
  aadStart: number,
  a: number,
  patchAt: number,
  patchValue: number,
  msgLength: number,
  micLength: number,
): number {
  const n = nonce.length;
  const L = 15 - n;
  b[at] = (a > 0 ? 0x40 : 0) | (((micLength - 2) >> 1) << 3) | (L - 1);
  for (let j = 0; j < n; j++) b[at + 1 + j] = nonce[j];
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

function checkNonceAndLength(nonce: Uint8Array, messageLength: number): void {
  // CCM nonces are 7–13 bytes (Node's rule too); L = 15 - nonce bytes carries the length.
  const n = nonce.length;
  if (n < 7 || n > 13) throw new Error(`a CCM nonce has 7 to 13 bytes, got ${n}`);
  if (messageLength > (n === 13 ? 0xffff : 0xffffff)) {
    throw new Error(`a ${messageLength}-byte message is too long for a ${n}-byte CCM nonce`);
  }
}

/** The CCM* core: decrypts `data` (ciphertext then MIC) and checks the MIC; null when it fails. */
function ccmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  patchAt: number,
  patchValue: number,
  data: Uint8Array,
  micLength: number,
): Uint8Array | null {
  const m = data.length - micLength;
  checkNonceAndLength(nonce, m);
  const s = aesState(key);
  const ks = keystream(s, nonce, (m + 15) >> 4);
  const len = macLength(aad.length, m);
  const b = (macScratch = grow(macScratch, len));
  let o = macHeader(b, 0, nonce, aad, 0, aad.length, patchAt, patchValue, m, micLength);
  // Decrypt straight into the MAC input as well as the result.
  const plain = new Uint8Array(m);
  for (let j = 0; j < m; j++) b[o + j] = plain[j] = data[j] ^ ks[BLOCK + j];
  for (o += m; o < len; o++) b[o] = 0;
  const mac = macRun(s, b, len);
  const at = len - BLOCK;
  // Every MIC byte is compared, whatever the first difference (no early exit).
  let diff = 0;
  for (let j = 0; j < micLength; j++) diff |= mac[at + j] ^ ks[j] ^ data[m + j];
  return diff === 0 ? plain : null;
}

/** CCM* encryption core: ciphertext followed by the MIC. */
function ccmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, micLength: number): Uint8Array {
  const m = plaintext.length;
  checkNonceAndLength(nonce, m);
  const s = aesState(key);
  const len = macLength(aad.length, m);
  const b = (macScratch = grow(macScratch, len));
  let o = macHeader(b, 0, nonce, aad, 0, aad.length, -1, 0, m, micLength);
  b.set(plaintext, o);
  for (o += m; o < len; o++) b[o] = 0;
  const mac = macRun(s, b, len);
  const at = len - BLOCK;
  const ks = keystream(s, nonce, (m + 15) >> 4);
  const out = new Uint8Array(m + micLength);
  for (let j = 0; j < m; j++) out[j] = plaintext[j] ^ ks[BLOCK + j];
  for (let j = 0; j < micLength; j++) out[m + j] = mac[at + j] ^ ks[j];
  return out;
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
  return ccmOpen(key, nonce, aad, -1, 0, encryptedWithMic, micLength);
}

/** CCM* encryption: ciphertext followed by the MIC. */
export function ccmStarEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, micLength = 4): Uint8Array {
  checkKey(key);
  checkMic(micLength);
  return ccmSeal(key, nonce, aad, plaintext, micLength);
}

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

/** The well-known default trust-centre link key "ZigBeeAlliance09" (public, not a secret). */
export const ZIGBEE_ALLIANCE_09 = new Uint8Array(Buffer.from('ZigBeeAlliance09', 'ascii'));

interface NetworkKeyEntry {
  key: Uint8Array;
  seq?: number;
}

interface LinkKeyEntry {
  key: Uint8Array;
  /** Partner IEEE, 8 bytes LE as on air. */
  partner?: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The keyed-hash input that derives the key for each APS key id, when one is derived. */
const DERIVATION: Partial<Record<KeyId, number>> = {
  'key-transport': KEYED_HASH_INPUT.keyTransport,
  'key-load': KEYED_HASH_INPUT.keyLoad,
};

const NONE: readonly Uint8Array[] = Object.freeze([]);

/**
 * Keys the rig knows. Keys are secrets: nothing here prints them (toString, JSON and
 * util.inspect show counts only), and the fields are private.
 */
export class KeyTable {
  #network: NetworkKeyEntry[] = [];
  #link: LinkKeyEntry[] = [];
  #trustCentre?: Uint8Array;
  /** candidates() answers per network key sequence number, dropped whenever the keys change. */
  #networkCache = new Map<number | undefined, readonly Uint8Array[]>();
  /** Link candidates and their derivations per keyed-hash input, while no key is bound to a partner (so the sender does not matter). */
  #linkCache?: readonly Uint8Array[];
  #derivedCache = new Map<number, readonly Uint8Array[]>();
  /** Keyed hashes of the stored link keys (private copies, never changed in place), per input. */
  #derivedKeys = new WeakMap<Uint8Array, Map<number, Uint8Array>>();

  addNetworkKey(key: Uint8Array, seq?: number): void {
    this.learnNetworkKey(key, seq);
  }

  /** Adds a network key (e.g. from a decrypted Transport Key); true when it was not known. */
  learnNetworkKey(key: Uint8Array, seq?: number): boolean {
    checkKey(key);
    const known = this.#network.find((e) => sameBytes(e.key, key));
    if (known) {
      if (seq !== undefined && known.seq !== seq) {
        known.seq = seq;
        this.#networkCache.clear();
      }
      return false;
    }
    this.#network.push(seq === undefined ? { key: copyBytes(key) } : { key: copyBytes(key), seq });
    this.#networkCache.clear();
    return true;
  }

  /** A link key, optionally bound to the partner's IEEE (8 bytes LE as on air). */
  addLinkKey(key: Uint8Array, partnerLE?: Uint8Array): void {
    checkKey(key);
    if (partnerLE && partnerLE.length !== 8) throw new Error(`a partner IEEE address has 8 bytes, got ${partnerLE.length}`);
    const partner = partnerLE && copyBytes(partnerLE);
    const dup = this.#link.some((e) => sameBytes(e.key, key) && (e.partner && partner ? sameBytes(e.partner, partner) : e.partner === partner));
    if (!dup) this.#link.push(partner ? { key: copyBytes(key), partner } : { key: copyBytes(key) });
    this.#linksChanged();
  }

  /** A link key from an install code (the CRC is checked). */
  addInstallCode(code: Uint8Array, partnerLE?: Uint8Array): void {
    this.addLinkKey(installCodeToLinkKey(code), partnerLE);
  }

  setTrustCentreLinkKey(key: Uint8Array): void {
    checkKey(key);
    this.#trustCentre = copyBytes(key);
    this.#linksChanged();
  }

  #linksChanged(): void {
    this.#linkCache = undefined;
    this.#derivedCache.clear();
  }

  get size(): { network: number; link: number; trustCentre: boolean } {
    return { network: this.#network.length, link: this.#link.length, trustCentre: this.#trustCentre !== undefined };
  }

  /**
   * Keys to try for a secured frame, most likely first. NWK frames use only network keys
   * (those with the frame's key sequence number first). APS frames use the key id's table:
   * link keys (bound to the sender first, then the trust-centre key, then the rest), or for
   * key-transport / key-load the keyed hash of each of those. `sourceLE` stands in for
   * aux.source when the frame has no extended nonce. The list is shared between calls
   * (frozen): copy it to change it.
   */
  candidates(aux: AuxHeader, layer: 'nwk' | 'aps', sourceLE?: Uint8Array): readonly Uint8Array[] {
    if (aux.keyId === 'network') return this.#networkCandidates(aux.keySeq);
    // ZigBee PRO secures the NWK layer with the network key only: anything else cannot decrypt.
    if (layer === 'nwk') return NONE;
    const input = DERIVATION[aux.keyId];
    if (this.#link.every((e) => e.partner === undefined)) {
      // No partner-bound keys: the answer does not depend on the sender, so it is kept.
      const links = (this.#linkCache ??= Object.freeze(this.#linkCandidates(undefined)));
      if (input === undefined) return links;
      let derived = this.#derivedCache.get(input);
      if (derived === undefined) {
        derived = Object.freeze(links.map((k) => this.#derived(k, input)));
        this.#derivedCache.set(input, derived);
      }
      return derived;
    }
    const links = this.#linkCandidates(aux.source ?? sourceLE);
    return input === undefined ? links : links.map((k) => this.#derived(k, input));
  }

  /** keyedHash(k, input) for a stored key, computed once. */
  #derived(k: Uint8Array, input: number): Uint8Array {
    let byInput = this.#derivedKeys.get(k);
    if (byInput === undefined) {
      byInput = new Map();
      this.#derivedKeys.set(k, byInput);
    }
    let d = byInput.get(input);
    if (d === undefined) {
      d = keyedHash(k, input);
      byInput.set(input, d);
    }
    return d;
  }

  #networkCandidates(seq?: number): readonly Uint8Array[] {
    let out = this.#networkCache.get(seq);
    if (out === undefined) {
      // Matching sequence number first, then unknown ones, then the rest (a stale sequence is a finding, not a reason not to decrypt).
      const rank = (e: NetworkKeyEntry) => (e.seq === seq ? 0 : e.seq === undefined ? 1 : 2);
      out = Object.freeze([...this.#network].sort((a, b) => rank(a) - rank(b)).map((e) => e.key));
      // A frame can carry any of 256 sequence numbers: the cache stays that small.
      this.#networkCache.set(seq, out);
    }
    return out;
  }

  #linkCandidates(sender?: Uint8Array): Uint8Array[] {
    const bound = sender ? this.#link.filter((e) => e.partner && sameBytes(e.partner, sender)) : [];
    const out: Uint8Array[] = [];
    const push = (k: Uint8Array) => {
      if (!out.some((o) => sameBytes(o, k))) out.push(k);
    };
    for (const e of bound) push(e.key);
    if (this.#trustCentre) push(this.#trustCentre);
    for (const e of this.#link) if (!e.partner) push(e.key);
    for (const e of this.#link) if (e.partner && !bound.includes(e)) push(e.key);
    return out;
  }

  toString(): string {
    const s = this.size;
    return `KeyTable(${s.network} network, ${s.link} link, trust-centre ${s.trustCentre ? 'set' : 'unset'}; keys redacted)`;
  }

  toJSON(): object {
    return { ...this.size, keys: 'redacted' };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The authenticated data: header through aux header, with the level bits patched to 5. */
function authData(frame: Uint8Array, headerStart: number, auxStart: number, auxLength: number): Uint8Array {
  const aad = frame.slice(headerStart, auxStart + auxLength);
  aad[auxStart - headerStart] = patchLevel(aad[auxStart - headerStart]);
  return aad;
}

function nonceSource(aux: AuxHeader, sourceLE: Uint8Array | undefined): Uint8Array {
  const src = aux.source ?? sourceLE;
  if (!src) throw new Error('a frame without extended nonce needs the sender IEEE address (sourceLE) to decrypt');
  return src;
}

/**
 * Where a secured frame's payload starts and how long its message is (without the MIC), and the
 * nonce's source address; null when the frame is too short to hold a MIC. Throws when the
 * header does not fit the frame (DecodeError) or no source address is known (Error).
 */
function sealedLayout(
  frame: Uint8Array,
  end: number,
  headerStart: number,
  aux: AuxHeader,
  auxStart: number,
  sourceLE: Uint8Array | undefined,
): { payloadStart: number; m: number; src: Uint8Array } | null {
  const payloadStart = auxStart + aux.length;
  if (headerStart < 0 || headerStart > auxStart || payloadStart > end) {
    throw new DecodeError('secured payload', payloadStart, `header ${headerStart}..${payloadStart} does not fit a ${end}-byte frame`);
  }
  const m = end - payloadStart - MIC_LENGTH[ZIGBEE_SECURITY_LEVEL];
  if (m < 0) return null;
  const src = nonceSource(aux, sourceLE);
  if (src.length !== 8) throw new Error(`the nonce needs an 8-byte source IEEE address, got ${src.length} bytes`);
  return { payloadStart, m, src };
}

/**
 * Decrypts a secured NWK or APS frame with the first candidate whose MIC verifies. `frame` ends
 * where the MIC ends (no MAC FCS); the header starts at `headerStart`, the aux header at `auxStart`.
 */
export function unsecure(
  frame: Uint8Array,
  headerStart: number,
  aux: AuxHeader,
  auxStart: number,
  candidates: readonly Uint8Array[],
  sourceLE?: Uint8Array,
): { plaintext: Uint8Array; key: Uint8Array } | null {
  const layout = sealedLayout(frame, frame.length, headerStart, aux, auxStart, sourceLE);
  if (!layout || candidates.length === 0) return null;
  const { payloadStart, src } = layout;
  const micLength = MIC_LENGTH[ZIGBEE_SECURITY_LEVEL];
  // The header is authenticated in place, its level bits patched to 5 as it goes into the MAC.
  const aad = frame.subarray(headerStart, payloadStart);
  const levelAt = auxStart - headerStart;
  const level = patchLevel(frame[auxStart]);
  const nonce = fillNonce(nonceScratch, src, aux.frameCounter, aux.control);
  const secured = frame.subarray(payloadStart);
  for (let i = 0; i < candidates.length; i++) {
    const key = candidates[i];
    checkKey(key);
    const plaintext = ccmOpen(key, nonce, aad, levelAt, level, secured, micLength);
    if (plaintext) return { plaintext, key };
  }
  return null;
}

const nonceScratch = new Uint8Array(13);

/** One secured frame for unsecureMany: unsecure's arguments, with the one key to try. */
export interface SecuredFrame {
  frame: Uint8Array;
  /** Where the MIC ends in `frame` (before a MAC FCS): frame.length when absent. */
  end?: number;
  headerStart: number;
  auxStart: number;
  aux: AuxHeader;
  key: Uint8Array;
  /** The sender's IEEE (8 bytes LE) when the aux header carries none. */
  sourceLE?: Uint8Array;
}

/** Per-frame layout for unsecureMany, in the scratch buffers. */
interface Opening {
  index: number;
  /** The nonce's parts (fillNonce), so no nonce array is made per frame. */
  source: Uint8Array;
  payloadStart: number;
  /** Message bytes (ciphertext without MIC). */
  m: number;
  /** Where this frame's counter blocks start in the keystream, and its CBC-MAC input in macBuf. */
  ksAt: number;
  macAt: number;
  /** CBC-MAC blocks (B_0, AAD, message). */
  blocks: number;
}

let batchMacScratch: Uint8Array = new Uint8Array(64 * BLOCK);
let stateScratch: Uint8Array = new Uint8Array(64 * BLOCK);
let roundScratch: Uint8Array = new Uint8Array(64 * BLOCK);

/**
 * unsecure() for many frames at once, each with one key: the same answers (the plaintext, or
 * null when the MIC fails or the frame cannot hold one), in a handful of AES calls per key
 * instead of two per frame. Every frame's CTR keystream comes from one ECB call; the CBC-MACs
 * run side by side, one ECB call per block position (round r encrypts block r of every frame
 * that has one). A call into Node's crypto costs far more than the AES inside it.
 */
export function unsecureMany(frames: readonly SecuredFrame[]): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array(frames.length).fill(null);
  const micLength = MIC_LENGTH[ZIGBEE_SECURITY_LEVEL];
  const byKey = new Map<Uint8Array, Opening[]>();
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const layout = sealedLayout(f.frame, f.end ?? f.frame.length, f.headerStart, f.aux, f.auxStart, f.sourceLE);
    if (!layout) continue;
    const { payloadStart, m, src } = layout;
    checkKey(f.key);
    const blocks = macLength(payloadStart - f.headerStart, m) / BLOCK;
    let group = byKey.get(f.key);
    if (group === undefined) byKey.set(f.key, (group = []));
    group.push({ index: i, source: src, payloadStart, m, ksAt: 0, macAt: 0, blocks });
  }
  for (const [key, group] of byKey) openGroup(aesState(key), frames, group, micLength, out);
  return out;
}

/** The openings, most CBC-MAC blocks first: a counting sort (block counts are few and small). */
function longestFirst(group: readonly Opening[]): Opening[] {
  let most = 0;
  for (const o of group) if (o.blocks > most) most = o.blocks;
  const start = new Int32Array(most + 1);
  for (const o of group) start[most - o.blocks]++;
  for (let i = 0, sum = 0; i <= most; i++) {
    const count = start[i];
    start[i] = sum;
    sum += count;
  }
  const sorted: Opening[] = new Array(group.length);
  for (const o of group) sorted[start[most - o.blocks]++] = o;
  return sorted;
}

function openGroup(s: AesState, frames: readonly SecuredFrame[], openings: Opening[], micLength: number, out: (Uint8Array | null)[]): void {
  // Longest CBC-MAC first, so the frames still running in round r are always a prefix.
  const group = longestFirst(openings);
  let ctrBlocks = 0, macBlocks = 0;
  for (const o of group) {
    o.ksAt = ctrBlocks * BLOCK;
    o.macAt = macBlocks * BLOCK;
    ctrBlocks += ((o.m + 15) >> 4) + 1;
    macBlocks += o.blocks;
  }
  // Counter blocks A_0 … A_k of every frame, one ECB call.
  const ctr = (ctrScratch = grow(ctrScratch, ctrBlocks * BLOCK));
  const ctr32 = new Int32Array(ctr.buffer, 0, ctrBlocks * 4);
  for (const o of group) {
    const aux = frames[o.index].aux;
    const nonce = fillNonce(nonceScratch, o.source, aux.frameCounter, aux.control);
    const a0 = o.ksAt;
    ctr[a0] = 1; // L - 1 for 13-byte nonces (L = 2)
    for (let j = 0; j < 13; j++) ctr[a0 + 1 + j] = nonce[j];
    ctr[a0 + 14] = ctr[a0 + 15] = 0;
    // A_i is A_0 (four word copies) with the counter i in its last two bytes.
    const w0 = a0 >> 2;
    for (let i = 1, at = a0 + BLOCK, last = (o.m + 15) >> 4; i <= last; i++, at += BLOCK) {
      const w = at >> 2;
      ctr32[w] = ctr32[w0];
      ctr32[w + 1] = ctr32[w0 + 1];
      ctr32[w + 2] = ctr32[w0 + 2];
      ctr32[w + 3] = ctr32[w0 + 3];
      ctr[at + 14] = (i >>> 8) & 0xff;
      ctr[at + 15] = i & 0xff;
    }
  }
  const ks = s.ecb.update(ctr.subarray(0, ctrBlocks * BLOCK));
  // Decrypt each message into its result and into its CBC-MAC input (B_0, AAD, message).
  const mac = (batchMacScratch = grow(batchMacScratch, macBlocks * BLOCK));
  for (const o of group) {
    const f = frames[o.index];
    const frame = f.frame;
    const nonce = fillNonce(nonceScratch, o.source, f.aux.frameCounter, f.aux.control);
    const aadLength = o.payloadStart - f.headerStart;
    let at = macHeader(mac, o.macAt, nonce, frame, f.headerStart, aadLength, f.auxStart - f.headerStart, patchLevel(frame[f.auxStart]), o.m, micLength);
    const plain = new Uint8Array(o.m);
    for (let j = 0, c = o.payloadStart, k = o.ksAt + BLOCK; j < o.m; j++) mac[at + j] = plain[j] = frame[c + j] ^ ks[k + j];
    const end = o.macAt + o.blocks * BLOCK;
    for (at += o.m; at < end; at++) mac[at] = 0;
    out[o.index] = plain;
  }
  // CBC-MAC in rounds: X_{r+1} = E(X_r ^ B_r) for every frame with a block r.
  const n = group.length;
  const state = (stateScratch = grow(stateScratch, n * BLOCK));
  const input = (roundScratch = grow(roundScratch, n * BLOCK));
  // 32-bit views (the scratch buffers start their own ArrayBuffers): a block is 4 XORs, not 16.
  const mac32 = new Int32Array(mac.buffer, 0, macBlocks * 4);
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
  // The MIC is the CBC-MAC's first bytes masked with S_0; every byte is compared (no early exit).
  for (let g = 0; g < n; g++) {
    const o = group[g];
    const frame = frames[o.index].frame;
    const micAt = o.payloadStart + o.m;
    let diff = 0;
    for (let j = 0; j < micLength; j++) diff |= state[g * BLOCK + j] ^ ks[o.ksAt + j] ^ frame[micAt + j];
    if (diff !== 0) out[o.index] = null;
  }
}

/**
 * The inverse of unsecure: `header` is every byte up to the end of the aux header (level as
 * sent on air, normally 0), the aux header starting at `auxStart`; returns header, encrypted
 * payload and MIC.
 */
export function secure(
  header: Uint8Array,
  headerStart: number,
  auxStart: number,
  plaintext: Uint8Array,
  key: Uint8Array,
  sourceLE?: Uint8Array,
): Uint8Array {
  const aux = decodeAuxHeader(new Reader(header, auxStart));
  if (auxStart + aux.length !== header.length) {
    throw new EncodeError('security header', `aux header ends at ${auxStart + aux.length}, header has ${header.length} bytes`);
  }
  const aad = authData(header, headerStart, auxStart, aux.length);
  const nonce = securityNonce(nonceSource(aux, sourceLE), aux.frameCounter, aux.control);
  const sealed = ccmStarEncrypt(key, nonce, aad, plaintext, MIC_LENGTH[ZIGBEE_SECURITY_LEVEL]);
  const out = new Uint8Array(header.length + sealed.length);
  out.set(header, 0);
  out.set(sealed, header.length);
  return out;
}

