// The SMHAN as the virtual meters and HAN clients speak it: unicast ZCL over NWK data frames
// (the Smart Energy profile, endpoint 1), the NWK rejoin handshake with the CH, and the ZDP Device_annce a
// device broadcasts when it comes back.
import { eui64ToBytes, hex16 } from '../protocol/bytes.ts';
import type { DecodedZcl } from '../protocol/decoded.ts';
import { HanDecoder } from '../protocol/decoder.ts';
import { encodeFrame } from '../protocol/encoder.ts';
import { ieeeText, type HanSecurity } from '../protocol/hht-messages.ts';
import { KeyTable } from '../protocol/security.ts';
import { PROFILE_SMART_ENERGY, PROFILE_ZDP, ZDP_DEVICE_ANNCE } from '../protocol/aps.ts';
import { buildBeacon } from '../protocol/beacons.ts';
import { NWK_REJOIN_REQUEST, NWK_REJOIN_RESPONSE } from '../protocol/nwk.ts';
import {
  DEVICE_MANAGEMENT,
  MESSAGING,
  METERING,
  PREPAYMENT,
  encodeZcl,
  globalCommandId,
  zclStatusCode,
  type ZclFrameSpec,
} from '../protocol/zcl/index.ts';

/** A device on the HAN: its NWK short address and IEEE address. */
export interface HanAddress {
  short: number;
  ieee: string;
}

/** The Smart Energy clusters of Change of Tenancy (PROTOCOL.md §7). */
export const SE_CLUSTER = {
  metering: METERING.id,
  messaging: MESSAGING.id,
  prepayment: PREPAYMENT.id,
  deviceManagement: DEVICE_MANAGEMENT.id,
} as const;

/** ZCL status codes the virtual servers answer with (PROTOCOL.md §6). */
export const ZCL = {
  success: zclStatusCode('Success'),
  unsupportedClusterCommand: zclStatusCode('Unsupported Cluster Command'),
  unsupportedAttribute: zclStatusCode('Unsupported Attribute'),
  notFound: zclStatusCode('Not Found'),
} as const;

/** Global commands the virtual devices send or read. */
export const GLOBAL = {
  readAttributes: globalCommandId('Read Attributes'),
  readAttributesResponse: globalCommandId('Read Attributes Response'),
  reportAttributes: globalCommandId('Report Attributes'),
  defaultResponse: globalCommandId('Default Response'),
} as const;

const SE_ENDPOINT = 1;
const ZDP_ENDPOINT = 0;
const BROADCAST_RX_ON = 0xfffd;
const MAC_BROADCAST = 0xffff;
/** Device_annce / Rejoin Request capability: mains powered, receiver on when idle, full function device. */
const MAINS_ROUTER_CAPABILITY = 0x8e;
/** The HAN's coordinator and trust centre: the CH. */
export const COORDINATOR_SHORT = 0x0000;

/** ZCL seconds since 2000-01-01T00:00:00Z ⇄ bench time (ms since the Unix epoch). */
const ZCL_EPOCH_MS = Date.UTC(2000, 0, 1);
export const toZclUtc = (ms: number): number => Math.floor((ms - ZCL_EPOCH_MS) / 1000);
export const fromZclUtc = (seconds: number): number => ZCL_EPOCH_MS + seconds * 1000;

const MAC_DST_MODE_SHORT = 2,
  MAC_DST_MODE_EXTENDED = 3;

/**
 * Whether a frame's MAC destination is this device (or everyone), read from the header alone: a
 * device skips frames for others without decoding or decrypting them, as its radio's filter does.
 */
export function isForDevice(psdu: Uint8Array, self: HanAddress): boolean {
  if (psdu.length < 5) return false;
  const mode = (psdu[1] >> 2) & 0x3;
  if (mode === MAC_DST_MODE_SHORT) {
    const dst = psdu[5] | (psdu[6] << 8);
    return dst === MAC_BROADCAST || dst === self.short;
  }
  if (mode === MAC_DST_MODE_EXTENDED) {
    const ieee = eui64ToBytes(self.ieee);
    return ieee.every((b, i) => psdu[5 + i] === b);
  }
  return true;
}

/**
 * One device's end of the HAN: its own sequence numbers, frames out, frames in. With a network
 * key (the field's SMHAN) it NWK-secures every frame it sends, with its own frame counter and its
 * IEEE in the extended nonce, and reads only what that key opens: a frame secured with another key is noise.
 */
export class HanStack {
  readonly self: HanAddress;
  #seq = 0;
  #zclSeq = 0;
  #frameCounter = 0;
  readonly #decoder: HanDecoder;
  /** The keys this device reads the HAN with. */
  readonly keys: KeyTable;

  constructor(
    self: HanAddress,
    readonly pan: number,
    readonly networkKey?: Uint8Array,
  ) {
    this.self = { short: self.short, ieee: ieeeText(self.ieee) };
    const keys = new KeyTable();
    if (networkKey) keys.addNetworkKey(networkKey);
    this.#decoder = new HanDecoder(keys);
    this.keys = keys;
  }

  /** How its next frame is secured (a fresh frame counter), or undefined on an unsecured HAN. */
  security(): HanSecurity | undefined {
    return this.networkKey && { networkKey: this.networkKey, frameCounter: this.#frameCounter++ };
  }

  #nwkSecurity() {
    const s = this.security();
    return s && { key: s.networkKey, frameCounter: s.frameCounter, source: this.self.ieee };
  }

  /** A ZCL transaction sequence number for a request or an unsolicited command. */
  nextZclSeq(): number {
    const s = this.#zclSeq;
    this.#zclSeq = (s + 1) & 0xff;
    return s;
  }

  #nextSeq(): number {
    const s = this.#seq;
    this.#seq = (s + 1) & 0xff;
    return s;
  }

  /** A unicast ZCL frame to `dst`; the NWK extended source says who sent it. */
  zcl(dst: number, cluster: number, spec: ZclFrameSpec): Uint8Array {
    const seq = this.#nextSeq();
    const pan = hex16(this.pan);
    return encodeFrame(
      {
        mac: { type: 'data', seq, dstPan: pan, dst: hex16(dst), srcPan: pan, src: hex16(this.self.short) },
        nwk: {
          type: 'data',
          dst: hex16(dst),
          src: hex16(this.self.short),
          radius: 30,
          seq,
          src64: this.self.ieee,
          security: this.#nwkSecurity(),
        },
        aps: {
          type: 'data',
          delivery: 'unicast',
          dstEp: SE_ENDPOINT,
          srcEp: SE_ENDPOINT,
          cluster,
          profile: PROFILE_SMART_ENERGY,
          counter: seq,
        },
        payload: encodeZcl(cluster, spec),
      },
      false,
    );
  }

  /** ZDP Device_annce, broadcast: what a device sends when it is back on the HAN (PWR-3). */
  announce(): Uint8Array {
    const seq = this.#nextSeq();
    const pan = hex16(this.pan);
    const payload = new Uint8Array(12);
    payload[0] = seq;
    payload[1] = this.self.short & 0xff;
    payload[2] = this.self.short >> 8;
    payload.set(eui64ToBytes(this.self.ieee), 3);
    payload[11] = MAINS_ROUTER_CAPABILITY;
    return encodeFrame(
      {
        mac: { type: 'data', seq, dstPan: pan, dst: hex16(MAC_BROADCAST), srcPan: pan, src: hex16(this.self.short) },
        nwk: {
          type: 'data',
          dst: hex16(BROADCAST_RX_ON),
          src: hex16(this.self.short),
          radius: 30,
          seq,
          src64: this.self.ieee,
          security: this.#nwkSecurity(),
        },
        aps: {
          type: 'data',
          delivery: 'broadcast',
          dstEp: ZDP_ENDPOINT,
          srcEp: ZDP_ENDPOINT,
          cluster: ZDP_DEVICE_ANNCE,
          profile: PROFILE_ZDP,
          counter: seq,
        },
        payload,
      },
      false,
    );
  }

  /** An NWK command to one device: the rejoin handshake (a secured rejoin on a secured HAN). */
  #nwkCommand(dst: number, dst64: string | undefined, body: number[]): Uint8Array {
    const seq = this.#nextSeq();
    const pan = hex16(this.pan);
    return encodeFrame(
      {
        mac: { type: 'data', seq, dstPan: pan, dst: hex16(dst), srcPan: pan, src: hex16(this.self.short) },
        nwk: {
          type: 'command',
          dst: hex16(dst),
          src: hex16(this.self.short),
          radius: 1,
          seq,
          dst64,
          src64: this.self.ieee,
          security: this.#nwkSecurity(),
        },
        payload: new Uint8Array(body),
      },
      false,
    );
  }

  /** NWK Rejoin Request to the coordinator: how a device that lost or never had the HAN asks the CH to (re)admit it. */
  rejoinRequest(): Uint8Array {
    return this.#nwkCommand(COORDINATOR_SHORT, undefined, [NWK_REJOIN_REQUEST, MAINS_ROUTER_CAPABILITY]);
  }

  /** NWK Rejoin Response from the coordinator: status 0 admits the device, with its short address (by default the one it asked from). */
  rejoinResponse(to: HanAddress, status: number, assigned = to.short): Uint8Array {
    return this.#nwkCommand(to.short, to.ieee, [NWK_REJOIN_RESPONSE, assigned & 0xff, assigned >> 8, status]);
  }

  /** Its beacon, in answer to a beacon request: the coordinator's advertises the HAN (PAN, extended PAN id = the CH's IEEE). */
  beacon(coordinatorIeee: string): Uint8Array {
    const coordinator = this.self.short === COORDINATOR_SHORT;
    return buildBeacon({
      seq: this.#nextSeq(),
      pan: this.pan,
      short: this.self.short,
      panCoordinator: coordinator,
      extendedPanId: coordinatorIeee,
      routerCapacity: true,
      endDeviceCapacity: true,
      depth: coordinator ? 0 : 1,
    });
  }

  /** What a frame on the air means to this device: a ZCL command or a rejoin command addressed to it, a Device_annce, a beacon request, or nothing. */
  read(psdu: Uint8Array): HanMessage | undefined {
    if (!isForDevice(psdu, this.self)) return undefined;
    const d = this.#decoder.decode({ n: 1, timestampUs: 0n, frame: psdu, fcsIncluded: false });
    if (d.mac.command === 'Beacon Request') return { kind: 'beacon-request' };
    if (d.error || d.nwk?.src === undefined || d.nwk.dst === undefined) return undefined;
    if (d.mac.dstPan !== undefined && Number(d.mac.dstPan) !== this.pan) return undefined;
    const src = Number(d.nwk.src),
      dst = Number(d.nwk.dst);
    const from: HanAddress | undefined = d.nwk.src64 ? { short: src, ieee: d.nwk.src64 } : undefined;
    if (d.nwk.type === 'command') {
      if (dst !== this.self.short || (d.nwk.dst64 !== undefined && d.nwk.dst64 !== this.self.ieee)) return undefined;
      if (d.nwk.commandId === NWK_REJOIN_REQUEST && from) return { kind: 'rejoin-request', from };
      if (d.nwk.commandId === NWK_REJOIN_RESPONSE)
        return { kind: 'rejoin-response', from: src, status: Number(d.nwk.commandFields?.status) };
      return undefined;
    }
    if (d.nwk.type !== 'data' || d.aps?.type !== 'data') return undefined;
    if (Number(d.aps.profile) === PROFILE_ZDP && Number(d.aps.cluster) === ZDP_DEVICE_ANNCE) {
      return from && from.short !== this.self.short ? { kind: 'announce', from } : undefined;
    }
    if (dst !== this.self.short || !d.zcl || d.aps.cluster === undefined) return undefined;
    return { kind: 'zcl', src, ieee: from?.ieee, cluster: Number(d.aps.cluster), zcl: d.zcl };
  }
}

export type HanMessage =
  | { kind: 'zcl'; src: number; ieee?: string; cluster: number; zcl: DecodedZcl }
  | { kind: 'announce'; from: HanAddress }
  | { kind: 'rejoin-request'; from: HanAddress }
  | { kind: 'rejoin-response'; from: number; status: number }
  | { kind: 'beacon-request' };
