// ZigBee NWK/APS security, one concept per file in protocol/security/: the auxiliary header and
// nonce, CCM* (one core for one message and for many), securing and opening frames, the AES-MMO
// hash and keyed hash, install codes, and the key table.

export {
  decodeAuxHeader,
  encodeAuxHeader,
  securityNonce,
  ZIGBEE_SECURITY_LEVEL,
  type AuxHeader,
  type KeyId,
} from './security/aux-header.ts';
export { Ccm, ccmStarDecrypt, ccmStarEncrypt, type CcmOpening } from './security/ccm.ts';
export { secure, unsecure, unsecureMany, type SecuredFrame } from './security/frames.ts';
export { crc16x25, installCodeToLinkKey } from './security/install-code.ts';
export { KeyTable, ZIGBEE_ALLIANCE_09 } from './security/key-table.ts';
export { KEYED_HASH_INPUT, keyedHash, mmoHash } from './security/mmo.ts';
