// Builds whole 802.15.4 frames layer by layer (MAC ← NWK ← APS ← payload), securing the NWK
// and APS layers with CCM* as a real device would: the virtual bench and the rig radio send these.
import { type Writer, eui64ToBytes } from './bytes.ts';
import { encodeApsHeader, type ApsHeaderSpec } from './aps.ts';
import { encodeMac, type MacFrameSpec } from './mac.ts';
import { encodeNwkHeader, type NwkHeaderSpec } from './nwk.ts';
import { encodeAuxHeader, secure, type KeyId } from './security.ts';

export interface SecuritySpec {
  key: Uint8Array;
  frameCounter: number;
  /** The securing device's IEEE address, `00:11:…` (most significant byte first). */
  source: string;
  keyId?: KeyId;
  /** Network key sequence number (key id network). */
  keySeq?: number;
  /** Carry the source address in the aux header (always true at NWK level). */
  extendedNonce?: boolean;
}

export interface FrameSpec {
  mac: Omit<MacFrameSpec, 'payload'>;
  nwk?: Omit<NwkHeaderSpec, 'security'> & { security?: SecuritySpec };
  aps?: Omit<ApsHeaderSpec, 'security'> & { security?: SecuritySpec };
  /** What the innermost layer carries: ZCL/ZDP after APS, a command after NWK or MAC. */
  payload: Uint8Array;
}

/** Appends the aux header for `s` and seals `plaintext` after `header` (which starts at headerStart 0). */
function sealed(header: Writer, s: SecuritySpec, defaultKeyId: KeyId, plaintext: Uint8Array): Uint8Array {
  const auxStart = header.length;
  const keyId = s.keyId ?? defaultKeyId;
  const extendedNonce = s.extendedNonce ?? true;
  const sourceLE = eui64ToBytes(s.source);
  encodeAuxHeader(header, {
    level: 0, // ZigBee sends level 0 on air; receivers assume 5 (ENC-MIC-32).
    keyId,
    extendedNonce,
    frameCounter: s.frameCounter,
    source: extendedNonce ? sourceLE : undefined,
    keySeq: keyId === 'network' ? (s.keySeq ?? 0) : undefined,
  });
  return secure(header.finish(), 0, auxStart, plaintext, s.key, sourceLE);
}

export function encodeFrame(spec: FrameSpec, fcs = true): Uint8Array {
  let inner = spec.payload;
  if (spec.aps) {
    const { security, ...header } = spec.aps;
    const w = encodeApsHeader({ ...header, security: !!security });
    inner = security ? sealed(w, security, 'link', inner) : w.bytes(inner).finish();
  }
  if (spec.nwk) {
    const { security, ...header } = spec.nwk;
    const w = encodeNwkHeader({ ...header, security: !!security });
    inner = security ? sealed(w, security, 'network', inner) : w.bytes(inner).finish();
  }
  return encodeMac({ ...spec.mac, payload: inner }, fcs);
}

/**
 * A payload too long for one frame, as APS fragments (ZigBee 3.0 §2.2.8.4.5): the first carries
 * the number of blocks, the others their block number; every fragment asks for an APS ack.
 * `maxBlock` is the APS payload bytes per fragment (some CH implementations use 61 or less).
 * NWK-secured fragments take consecutive frame counters from the spec's: a counter is never reused.
 */
export function encodeFragmentedFrames(spec: FrameSpec, maxBlock: number, fcs = true): Uint8Array[] {
  if (!spec.aps) return [encodeFrame(spec, fcs)];
  const blocks: Uint8Array[] = [];
  for (let o = 0; o < spec.payload.length; o += maxBlock) blocks.push(spec.payload.subarray(o, o + maxBlock));
  if (blocks.length <= 1) return [encodeFrame(spec, fcs)];
  return blocks.map((payload, i) =>
    encodeFrame(
      {
        ...spec,
        mac: { ...spec.mac, seq: (spec.mac.seq + i) & 0xff },
        nwk: spec.nwk && {
          ...spec.nwk,
          seq: ((spec.nwk.seq ?? 0) + i) & 0xff,
          ...(spec.nwk.security && { security: { ...spec.nwk.security, frameCounter: (spec.nwk.security.frameCounter + i) >>> 0 } }),
        },
        aps: { ...spec.aps!, ackRequest: true, fragment: { first: i === 0, block: i === 0 ? blocks.length : i } },
        payload,
      },
      fcs,
    ),
  );
}
