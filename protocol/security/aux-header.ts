// The ZigBee security auxiliary header (NWK and APS) and the CCM* nonce built from it.

import { EncodeError } from '../bytes.ts';
import type { Reader, Writer } from '../bytes.ts';

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
export const MIC_LENGTH: readonly number[] = [0, 4, 8, 16, 0, 4, 8, 16];

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
export function patchLevel(control: number, level = ZIGBEE_SECURITY_LEVEL): number {
  return (control & ~LEVEL_MASK) | level;
}

/** Bytes of a ZigBee CCM* nonce. */
export const NONCE_LENGTH = 13;

/** 13-byte CCM* nonce: source IEEE (LE, as on air), frame counter (LE), control with level 5. */
export function securityNonce(sourceLE: Uint8Array, frameCounter: number, control: number): Uint8Array {
  if (sourceLE.length !== 8) throw new Error(`the nonce needs an 8-byte source IEEE address, got ${sourceLE.length} bytes`);
  return fillNonce(new Uint8Array(NONCE_LENGTH), 0, sourceLE, frameCounter, control);
}

/** Writes the nonce into buf[at, at + 13), so a batch keeps every nonce in one array. */
export function fillNonce(buf: Uint8Array, at: number, sourceLE: Uint8Array, frameCounter: number, control: number): Uint8Array {
  for (let i = 0; i < 8; i++) buf[at + i] = sourceLE[i];
  const fc = frameCounter >>> 0;
  buf[at + 8] = fc & 0xff;
  buf[at + 9] = (fc >>> 8) & 0xff;
  buf[at + 10] = (fc >>> 16) & 0xff;
  buf[at + 11] = fc >>> 24;
  buf[at + 12] = patchLevel(control);
  return buf;
}
