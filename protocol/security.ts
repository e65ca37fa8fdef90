// ZigBee NWK/APS security: the auxiliary header, CCM* with the level patched to 5, the AES-MMO
// hash and its keyed hash (key-transport / key-load keys, install codes), and a key table.
// Behaviour follows Wireshark's packet-zbee-security.c, which is the oracle the tests use.

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { DecodeError, EncodeError, Reader } from './bytes.ts';
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
  // Copy, so the header stays valid if the caller reuses the frame buffer.
  const source = extendedNonce ? r.bytesN(8, 'security source address').slice() : undefined;
  const keySeq = keyId === 'network' ? r.u8('security key sequence number') : undefined;
  const h: AuxHeader = { control, level: control & LEVEL_MASK, keyId, extendedNonce, frameCounter, length: r.offset - start };
  if (source) h.source = source;
  if (keySeq !== undefined) h.keySeq = keySeq;
  return h;
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
  const nonce = new Uint8Array(13);
  nonce.set(sourceLE, 0);
  new DataView(nonce.buffer).setUint32(8, frameCounter >>> 0, true);
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
  const split = encryptedWithMic.length - micLength;
  const decipher = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: micLength });
  decipher.setAuthTag(encryptedWithMic.subarray(split));
  decipher.setAAD(aad, { plaintextLength: split });
  try {
    const out = decipher.update(encryptedWithMic.subarray(0, split));
    decipher.final();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    // Node reports a failed MIC check by throwing; to the caller it is just "not this key".
    return null;
  }
}

/** CCM* encryption: ciphertext followed by the MIC. */
export function ccmStarEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, micLength = 4): Uint8Array {
  checkKey(key);
  checkMic(micLength);
  const cipher = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: micLength });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const out = new Uint8Array(body.length + micLength);
  out.set(body, 0);
  out.set(cipher.getAuthTag(), body.length);
  return out;
}

const BLOCK = 16;

/** One AES-128 block encryption under `key` (ECB of one block = the raw block cipher). */
function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(block));
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

/**
 * Keys the rig knows. Keys are secrets: nothing here prints them (toString, JSON and
 * util.inspect show counts only), and the fields are private.
 */
export class KeyTable {
  #network: NetworkKeyEntry[] = [];
  #link: LinkKeyEntry[] = [];
  #trustCentre?: Uint8Array;

  addNetworkKey(key: Uint8Array, seq?: number): void {
    this.learnNetworkKey(key, seq);
  }

  /** Adds a network key (e.g. from a decrypted Transport Key); true when it was not known. */
  learnNetworkKey(key: Uint8Array, seq?: number): boolean {
    checkKey(key);
    const known = this.#network.find((e) => sameBytes(e.key, key));
    if (known) {
      if (seq !== undefined) known.seq = seq;
      return false;
    }
    this.#network.push(seq === undefined ? { key: key.slice() } : { key: key.slice(), seq });
    return true;
  }

  /** A link key, optionally bound to the partner's IEEE (8 bytes LE as on air). */
  addLinkKey(key: Uint8Array, partnerLE?: Uint8Array): void {
    checkKey(key);
    if (partnerLE && partnerLE.length !== 8) throw new Error(`a partner IEEE address has 8 bytes, got ${partnerLE.length}`);
    const partner = partnerLE?.slice();
    const dup = this.#link.some((e) => sameBytes(e.key, key) && (e.partner && partner ? sameBytes(e.partner, partner) : e.partner === partner));
    if (!dup) this.#link.push(partner ? { key: key.slice(), partner } : { key: key.slice() });
  }

  /** A link key from an install code (the CRC is checked). */
  addInstallCode(code: Uint8Array, partnerLE?: Uint8Array): void {
    this.addLinkKey(installCodeToLinkKey(code), partnerLE);
  }

  setTrustCentreLinkKey(key: Uint8Array): void {
    checkKey(key);
    this.#trustCentre = key.slice();
  }

  get size(): { network: number; link: number; trustCentre: boolean } {
    return { network: this.#network.length, link: this.#link.length, trustCentre: this.#trustCentre !== undefined };
  }

  /**
   * Keys to try for a secured frame, most likely first. NWK frames use only network keys
   * (those with the frame's key sequence number first). APS frames use the key id's table:
   * link keys (bound to the sender first, then the trust-centre key, then the rest), or for
   * key-transport / key-load the keyed hash of each of those. `sourceLE` stands in for
   * aux.source when the frame has no extended nonce.
   */
  candidates(aux: AuxHeader, layer: 'nwk' | 'aps', sourceLE?: Uint8Array): Uint8Array[] {
    if (aux.keyId === 'network') return this.#networkCandidates(aux.keySeq);
    // ZigBee PRO secures the NWK layer with the network key only: anything else cannot decrypt.
    if (layer === 'nwk') return [];
    const links = this.#linkCandidates(aux.source ?? sourceLE);
    const input = DERIVATION[aux.keyId];
    return input === undefined ? links : links.map((k) => keyedHash(k, input));
  }

  #networkCandidates(seq?: number): Uint8Array[] {
    // Matching sequence number first, then unknown ones, then the rest (a stale sequence is a finding, not a reason not to decrypt).
    const rank = (e: NetworkKeyEntry) => (e.seq === seq ? 0 : e.seq === undefined ? 1 : 2);
    return [...this.#network].sort((a, b) => rank(a) - rank(b)).map((e) => e.key);
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
 * Decrypts a secured NWK or APS frame with the first candidate whose MIC verifies. `frame` ends
 * where the MIC ends (no MAC FCS); the header starts at `headerStart`, the aux header at `auxStart`.
 */
export function unsecure(
  frame: Uint8Array,
  headerStart: number,
  aux: AuxHeader,
  auxStart: number,
  candidates: Uint8Array[],
  sourceLE?: Uint8Array,
): { plaintext: Uint8Array; key: Uint8Array } | null {
  const payloadStart = auxStart + aux.length;
  if (headerStart < 0 || headerStart > auxStart || payloadStart > frame.length) {
    throw new DecodeError('secured payload', payloadStart, `header ${headerStart}..${payloadStart} does not fit a ${frame.length}-byte frame`);
  }
  const micLength = MIC_LENGTH[ZIGBEE_SECURITY_LEVEL];
  if (frame.length - payloadStart < micLength) return null;
  const aad = authData(frame, headerStart, auxStart, aux.length);
  const nonce = securityNonce(nonceSource(aux, sourceLE), aux.frameCounter, aux.control);
  const secured = frame.subarray(payloadStart);
  for (const key of candidates) {
    const plaintext = ccmStarDecrypt(key, nonce, aad, secured, micLength);
    if (plaintext) return { plaintext, key };
  }
  return null;
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

