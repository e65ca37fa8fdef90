// The decoded frame: the one stable shape that the CLI prints, reports quote and the audit
// trail titles from. Addresses are lowercase hex strings (`0x1234`, `00:11:…:77` most
// significant byte first); ids and counters are numbers. Documented in docs/cli.md (The decoded frame).

export interface DecodedMac {
  type: 'beacon' | 'data' | 'ack' | 'command' | 'reserved';
  /** Absent when the frame suppresses its sequence number. */
  seq?: number;
  security: boolean;
  framePending: boolean;
  ackRequest: boolean;
  panIdCompression: boolean;
  version: number;
  dstPan?: string;
  dst?: string;
  srcPan?: string;
  src?: string;
  fcs?: string;
  fcsOk?: boolean;
  /** MAC command name, for command frames. */
  command?: string;
  /** Beacon fields, for beacon frames (ZigBee beacon payload included when present). */
  beacon?: Record<string, unknown>;
}

export interface DecodedNwk {
  type: 'data' | 'command' | 'inter-pan' | 'reserved';
  version: number;
  dst?: string;
  src?: string;
  radius?: number;
  seq?: number;
  dst64?: string;
  src64?: string;
  secured: boolean;
  /** True when the payload was decrypted and its MIC verified; false when it stayed encrypted. */
  decrypted?: boolean;
  security?: DecodedSecurity;
  command?: string;
  commandId?: number;
  /** Rejoin Request: `capability`; Rejoin Response: `address` (the device's short) and `status` (0 = success). */
  commandFields?: Record<string, number | string>;
}

export interface DecodedSecurity {
  level: number;
  keyId: 'link' | 'network' | 'key-transport' | 'key-load';
  frameCounter: number;
  source?: string;
  keySeq?: number;
}

export interface DecodedAps {
  type: 'data' | 'command' | 'ack' | 'inter-pan';
  delivery: 'unicast' | 'indirect' | 'broadcast' | 'group';
  cluster?: string;
  profile?: string;
  dstEp?: number;
  srcEp?: number;
  group?: string;
  counter?: number;
  secured: boolean;
  decrypted?: boolean;
  security?: DecodedSecurity;
  /** APS command name (Transport Key, …), for command frames. */
  command?: string;
  commandId?: number;
  /** ZDP service name when the profile is 0x0000. */
  zdp?: string;
  /**
   * An APS fragment: `block` is the block number (on the first fragment, the number of blocks).
   * The payload is decoded in the frame that completes the message (`reassembled`, with the
   * frame numbers that carried it), as Wireshark does.
   */
  fragment?: { block: number; first: boolean; reassembled?: number[] };
}

export interface DecodedZcl {
  type: 'global' | 'cluster';
  cmd: number;
  dir: 'client-to-server' | 'server-to-client';
  mfr?: number;
  seq: number;
  name: string;
  /** The command's fields, decoded by the cluster table (absent when the command is unknown). */
  fields?: Record<string, unknown>;
}

export interface DecodedGbcs {
  envelope: 'general-ciphering' | 'general-signing';
  cra: 'command' | 'response' | 'alert';
  messageCode: number;
  useCase: string;
  title: string;
  originator: string;
  recipient: string;
  originatorCounter: string;
  alertCode?: number;
  alert?: string;
}

/** What the capture recorded about the frame's reception (TAP TLVs, ZEP header, TI CC24xx metadata), when it did. */
export interface DecodedRadio {
  /** 802.15.4 channel. */
  channel?: number;
  /** dBm. */
  rssi?: number;
  /** Link quality (ZEP header, TAP LQI TLV). */
  lqi?: number;
  /** TI CC24xx correlation value (0–127), from the metadata in place of the FCS. */
  correlation?: number;
  /** ZEP: the sniffer's device id and (v2) its sequence number. */
  zepDevice?: number;
  zepSeq?: number;
}

export interface DecodedFrame {
  /** 1-based frame number in its capture. */
  n: number;
  /** ISO 8601 UTC with microseconds. */
  time: string;
  radio?: DecodedRadio;
  mac: DecodedMac;
  nwk?: DecodedNwk;
  aps?: DecodedAps;
  zcl?: DecodedZcl;
  gbcs?: DecodedGbcs;
  /** One human line, e.g. `ZCL 0x0708 Publish Change of Tenancy → 0x1234, implementation 2026-11-21T00:00:00Z`. */
  summary: string;
  /** The first thing that could not be decoded, with its byte offset in the MAC frame. */
  error?: { offset: number; message: string };
}
