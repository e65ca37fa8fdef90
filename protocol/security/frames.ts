// Securing and opening ZigBee NWK and APS frames: the authenticated header (level patched to
// 5), the nonce from the aux header, CCM* with a 4-byte MIC. Behaviour follows Wireshark's
// packet-zbee-security.c, which is the oracle the tests use.

import { DecodeError, EncodeError, Reader } from '../bytes.ts';
import { checkKey } from './aes.ts';
import {
  MIC_LENGTH,
  NONCE_LENGTH,
  ZIGBEE_SECURITY_LEVEL,
  decodeAuxHeader,
  fillNonce,
  patchLevel,
  securityNonce,
  type AuxHeader,
} from './aux-header.ts';
import { Ccm, type CcmOpening } from './ccm.ts';

const MIC = MIC_LENGTH[ZIGBEE_SECURITY_LEVEL];

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
 * A secured frame as a CCM* opening, its nonce written to nonce[nonceAt]: the header is
 * authenticated in place, its level bits patched to 5 as it goes into the MAC. Null when the
 * frame is too short to hold a MIC. Throws when the header does not fit the frame
 * (DecodeError) or no source address is known (Error).
 */
function opening(
  index: number,
  frame: Uint8Array,
  end: number,
  headerStart: number,
  aux: AuxHeader,
  auxStart: number,
  sourceLE: Uint8Array | undefined,
  nonce: Uint8Array,
  nonceAt: number,
): CcmOpening | null {
  const payloadStart = auxStart + aux.length;
  if (headerStart < 0 || headerStart > auxStart || payloadStart > end) {
    throw new DecodeError('secured payload', payloadStart, `header ${headerStart}..${payloadStart} does not fit a ${end}-byte frame`);
  }
  const m = end - payloadStart - MIC;
  if (m < 0) return null;
  const src = nonceSource(aux, sourceLE);
  if (src.length !== 8) throw new Error(`the nonce needs an 8-byte source IEEE address, got ${src.length} bytes`);
  fillNonce(nonce, nonceAt, src, aux.frameCounter, aux.control);
  return {
    index,
    nonce,
    nonceAt,
    nonceLength: NONCE_LENGTH,
    bytes: frame,
    aadStart: headerStart,
    aadLength: payloadStart - headerStart,
    patchAt: auxStart - headerStart,
    patchValue: patchLevel(frame[auxStart]),
    messageStart: payloadStart,
    m,
    micLength: MIC,
    ksAt: 0,
    macAt: 0,
    blocks: 0,
  };
}

/**
 * Decrypts a secured NWK or APS frame with the first candidate whose MIC verifies. `frame` ends
 * where the MIC ends (no MAC FCS); the header starts at `headerStart`, the aux header at `auxStart`.
 * `ccm` is the caller's engine (a decoder keeps one: its ciphers outlive the call).
 */
export function unsecure(
  frame: Uint8Array,
  headerStart: number,
  aux: AuxHeader,
  auxStart: number,
  candidates: readonly Uint8Array[],
  sourceLE?: Uint8Array,
  ccm: Ccm = new Ccm(),
): { plaintext: Uint8Array; key: Uint8Array } | null {
  const o = opening(0, frame, frame.length, headerStart, aux, auxStart, sourceLE, new Uint8Array(NONCE_LENGTH), 0);
  if (!o || candidates.length === 0) return null;
  for (let i = 0; i < candidates.length; i++) {
    const key = candidates[i];
    checkKey(key);
    const plaintext = ccm.open(key, o);
    if (plaintext) return { plaintext, key };
  }
  return null;
}

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

/**
 * unsecure() for many frames at once, each with one key: the same answers (the plaintext, or
 * null when the MIC fails or the frame cannot hold one) from the same CCM* core, in a handful
 * of AES calls per key instead of two per frame.
 */
export function unsecureMany(frames: readonly SecuredFrame[], ccm: Ccm = new Ccm()): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = new Array(frames.length).fill(null);
  // Every nonce in one array: no array per frame.
  const nonces = new Uint8Array(frames.length * NONCE_LENGTH);
  const byKey = new Map<Uint8Array, CcmOpening[]>();
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const o = opening(i, f.frame, f.end ?? f.frame.length, f.headerStart, f.aux, f.auxStart, f.sourceLE, nonces, i * NONCE_LENGTH);
    if (!o) continue;
    checkKey(f.key);
    let group = byKey.get(f.key);
    if (group === undefined) byKey.set(f.key, (group = []));
    group.push(o);
  }
  for (const [key, group] of byKey) ccm.openAll(key, group, out);
  return out;
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
  ccm: Ccm = new Ccm(),
): Uint8Array {
  const aux = decodeAuxHeader(new Reader(header, auxStart));
  if (auxStart + aux.length !== header.length) {
    throw new EncodeError('security header', `aux header ends at ${auxStart + aux.length}, header has ${header.length} bytes`);
  }
  const aad = authData(header, headerStart, auxStart, aux.length);
  const nonce = securityNonce(nonceSource(aux, sourceLE), aux.frameCounter, aux.control);
  checkKey(key);
  const sealed = ccm.seal(key, nonce, aad, plaintext, MIC);
  const out = new Uint8Array(header.length + sealed.length);
  out.set(header, 0);
  out.set(sealed, header.length);
  return out;
}
