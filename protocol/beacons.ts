// 802.15.4 beacon request and ZigBee beacon (IEEE 802.15.4-2006 §7.2.2.1, §7.3.7; ZigBee PRO
// §3.6.7): every ZigBee router and coordinator in range answers a beacon request with its
// beacon, so a beacon request is how the rig asks "who is on this channel, on which PAN?".
import { Writer, hex16 } from './bytes.ts';
import { encodeMac } from './mac.ts';
import { encodeZigbeeBeacon, type ZigbeeBeaconSpec } from './nwk.ts';

const BEACON_REQUEST = 0x07;
const BROADCAST = '0xffff';
/** Beacon order 15 and superframe order 15 (a non-beacon-enabled PAN), final CAP slot 15. */
const NON_BEACON_SUPERFRAME = 0x0fff;

/** A MAC Beacon Request: broadcast to every PAN, no source address. */
export function buildBeaconRequest(seq: number): Uint8Array {
  return encodeMac({ type: 'command', seq, dstPan: BROADCAST, dst: BROADCAST, payload: new Uint8Array([BEACON_REQUEST]) }, false);
}

export interface BeaconSpec extends ZigbeeBeaconSpec {
  seq: number;
  pan: number;
  /** The beaconing device's short address (0x0000 for the coordinator). */
  short: number;
  panCoordinator: boolean;
  associationPermit?: boolean;
}

/** A ZigBee beacon as a router or the coordinator sends it in answer to a beacon request. */
export function buildBeacon(spec: BeaconSpec): Uint8Array {
  const superframe = NON_BEACON_SUPERFRAME | (spec.panCoordinator ? 0x4000 : 0) | (spec.associationPermit ? 0x8000 : 0);
  const w = new Writer(32)
    .u16(superframe, 'beacon superframe specification')
    .u8(0, 'beacon GTS specification')
    .u8(0, 'beacon pending address specification');
  encodeZigbeeBeacon(spec, w);
  return encodeMac({ type: 'beacon', seq: spec.seq, srcPan: hex16(spec.pan), src: hex16(spec.short), payload: w.finish() }, false);
}
