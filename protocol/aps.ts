// ZigBee APS layer: data, command, ack and inter-PAN headers (with the extended header for
// fragmentation), APS command names and the Transport Key payload, and ZDP service names.
import { EncodeError, type Reader, Writer, hex16 } from './bytes.ts';
import type { DecodedAps } from './decoded.ts';

export const APS_FRAME_TYPES: DecodedAps['type'][] = ['data', 'command', 'ack', 'inter-pan'];
export const APS_DELIVERY: DecodedAps['delivery'][] = ['unicast', 'indirect', 'broadcast', 'group'];

export const PROFILE_ZDP = 0x0000;
export const PROFILE_HOME_AUTOMATION = 0x0104;
export const PROFILE_SMART_ENERGY = 0x0109;
/** ZDP Device_annce: a device announcing its short address after it (re)joins. */
export const ZDP_DEVICE_ANNCE = 0x0013;

/** APS command ids → names (ZigBee 3.0 table 4-27, Wireshark's wording). */
export const APS_COMMANDS: Record<number, string> = {
  0x01: 'SKKE-1',
  0x02: 'SKKE-2',
  0x03: 'SKKE-3',
  0x04: 'SKKE-4',
  0x05: 'Transport Key',
  0x06: 'Update Device',
  0x07: 'Remove Device',
  0x08: 'Request Key',
  0x09: 'Switch Key',
  0x0a: 'EA Initiator Challenge',
  0x0b: 'EA Responder Challenge',
  0x0c: 'EA Initiator MAC and Data',
  0x0d: 'EA Responder MAC and Data',
  0x0e: 'Tunnel',
  0x0f: 'Verify Key',
  0x10: 'Confirm Key',
  0x11: 'Relay Message Downstream',
  0x12: 'Relay Message Upstream',
};

/** Transport Key key types (ZigBee 3.0 table 4-33). */
export const TRANSPORT_KEY_TYPES: Record<number, string> = {
  0x00: 'Trust Center Master Key',
  0x01: 'Standard Network Key',
  0x02: 'Application Master Key',
  0x03: 'Application Link Key',
  0x04: 'Trust Center Link Key',
  0x05: 'High-Security Network Key',
};

/** ZDP cluster ids → service names (ZigBee 3.0 table 2-40); responses are the request id | 0x8000. */
export const ZDP_SERVICES: Record<number, string> = {
  0x0000: 'NWK_addr_req',
  0x0001: 'IEEE_addr_req',
  0x0002: 'Node_Desc_req',
  0x0003: 'Power_Desc_req',
  0x0004: 'Simple_Desc_req',
  0x0005: 'Active_EP_req',
  0x0006: 'Match_Desc_req',
  0x0010: 'Complex_Desc_req',
  0x0011: 'User_Desc_req',
  0x0012: 'Discovery_Cache_req',
  [ZDP_DEVICE_ANNCE]: 'Device_annce',
  0x0014: 'User_Desc_set',
  0x0015: 'System_Server_Discovery_req',
  0x001f: 'Parent_annce',
  0x0020: 'End_Device_Bind_req',
  0x0021: 'Bind_req',
  0x0022: 'Unbind_req',
  0x0030: 'Mgmt_NWK_Disc_req',
  0x0031: 'Mgmt_Lqi_req',
  0x0032: 'Mgmt_Rtg_req',
  0x0033: 'Mgmt_Bind_req',
  0x0034: 'Mgmt_Leave_req',
  0x0035: 'Mgmt_Direct_Join_req',
  0x0036: 'Mgmt_Permit_Joining_req',
  0x0037: 'Mgmt_Cache_req',
  0x0038: 'Mgmt_NWK_Update_req',
};

export function zdpServiceName(cluster: number): string {
  const base = ZDP_SERVICES[cluster & 0x7fff];
  if (!base) return `ZDP 0x${cluster.toString(16).padStart(4, '0')}`;
  if (!(cluster & 0x8000)) return base;
  return base === 'Parent_annce' ? 'Parent_annce_rsp' : base.replace(/_(req|set|annce)$/, '_rsp');
}

export interface ApsParse {
  aps: DecodedAps;
  headerStart: number;
  auxStart?: number;
  payloadStart: number;
  /** Fragmentation from the extended header: 0 none, 1 first, 2 not first. */
  fragmentation: number;
  cluster?: number;
  profile?: number;
}

function readClusterProfile(r: Reader, out: ApsParse): void {
  out.cluster = r.u16('APS cluster');
  out.profile = r.u16('APS profile');
  out.aps.cluster = hex16(out.cluster);
  out.aps.profile = hex16(out.profile);
}

export function decodeApsHeader(r: Reader): ApsParse {
  const headerStart = r.offset;
  const fcf = r.u8('APS frame control');
  const typeId = fcf & 3;
  const deliveryId = (fcf >> 2) & 3;
  // Every key in the shape's order, absent ones undefined: one hidden class for every frame.
  const aps: DecodedAps = {
    type: APS_FRAME_TYPES[typeId],
    delivery: APS_DELIVERY[deliveryId],
    secured: (fcf & 0x20) !== 0,
    group: undefined,
    dstEp: undefined,
    cluster: undefined,
    profile: undefined,
    srcEp: undefined,
    counter: undefined,
    fragment: undefined,
    security: undefined,
    decrypted: undefined,
    commandId: undefined,
    command: undefined,
    zdp: undefined,
  };
  const out: ApsParse = {
    aps,
    headerStart,
    auxStart: undefined,
    payloadStart: 0,
    fragmentation: 0,
    cluster: undefined,
    profile: undefined,
  };
  const ackFormat = (fcf & 0x10) !== 0;
  if (typeId === 3) {
    // Inter-PAN: [group], cluster, profile, then the ZCL frame; no endpoints, no counter.
    if (deliveryId === 3) aps.group = hex16(r.u16('APS group'));
    readClusterProfile(r, out);
    out.payloadStart = r.offset;
    return out;
  }
  const hasEndpoints = typeId === 0 || (typeId === 2 && !ackFormat);
  if (hasEndpoints) {
    if (deliveryId === 3) aps.group = hex16(r.u16('APS group'));
    else aps.dstEp = r.u8('APS destination endpoint');
    readClusterProfile(r, out);
    aps.srcEp = r.u8('APS source endpoint');
  }
  aps.counter = r.u8('APS counter');
  if (fcf & 0x80) {
    const ext = r.u8('APS extended frame control');
    out.fragmentation = ext & 3;
    if (out.fragmentation !== 0) {
      const block = r.u8('APS block number');
      aps.fragment = { block, first: out.fragmentation === 1 };
      if (typeId === 2) r.u8('APS ack bitfield');
    }
  }
  if (aps.secured) out.auxStart = r.offset;
  out.payloadStart = r.offset;
  return out;
}

/** Names an APS command; for Transport Key, returns the network key it carries, if any. */
export function decodeApsCommand(aps: DecodedAps, r: Reader): { networkKey?: Uint8Array; keySeq?: number } {
  const id = r.u8('APS command id');
  aps.commandId = id;
  aps.command = APS_COMMANDS[id] ?? `Unknown APS command 0x${id.toString(16).padStart(2, '0')}`;
  if (id !== 0x05) return {};
  const keyType = r.u8('Transport Key key type');
  const key = r.bytesN(16, 'Transport Key key');
  if (keyType === 0x01 || keyType === 0x05) {
    const keySeq = r.u8('Transport Key sequence number');
    return { networkKey: key, keySeq };
  }
  return {};
}

export interface ApsHeaderSpec {
  type: 'data' | 'command' | 'ack' | 'inter-pan';
  delivery?: 'unicast' | 'indirect' | 'broadcast' | 'group';
  security?: boolean;
  ackRequest?: boolean;
  dstEp?: number;
  group?: number;
  cluster?: number;
  profile?: number;
  srcEp?: number;
  counter?: number;
  /** Fragmentation (extended header): the first fragment carries the number of blocks. */
  fragment?: { first: boolean; block: number };
}

export function encodeApsHeader(spec: ApsHeaderSpec, w = new Writer(16)): Writer {
  const typeId = APS_FRAME_TYPES.indexOf(spec.type);
  const deliveryId = APS_DELIVERY.indexOf(spec.delivery ?? 'unicast');
  w.u8(
    typeId | (deliveryId << 2) | (spec.security ? 0x20 : 0) | (spec.ackRequest ? 0x40 : 0) | (spec.fragment ? 0x80 : 0),
    'APS frame control',
  );
  const needClusterProfile = () => {
    if (spec.cluster === undefined || spec.profile === undefined) throw new EncodeError('APS header', 'cluster and profile are required');
    w.u16(spec.cluster, 'APS cluster').u16(spec.profile, 'APS profile');
  };
  if (typeId === 3) {
    if (deliveryId === 3) w.u16(spec.group ?? 0, 'APS group');
    needClusterProfile();
    return w;
  }
  if (typeId === 0 || typeId === 2) {
    if (deliveryId === 3) w.u16(spec.group ?? 0, 'APS group');
    else w.u8(spec.dstEp ?? 0, 'APS destination endpoint');
    needClusterProfile();
    w.u8(spec.srcEp ?? 0, 'APS source endpoint');
  }
  w.u8(spec.counter ?? 0, 'APS counter');
  if (spec.fragment) w.u8(spec.fragment.first ? 1 : 2, 'APS extended frame control').u8(spec.fragment.block, 'APS block number');
  return w;
}
