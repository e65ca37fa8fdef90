// ZCL and the Smart Energy cluster tables: the public surface of protocol/zcl.

export {
  decodeZcl,
  decodeZclHeader,
  encodeZcl,
  encodeZclHeader,
  findCommand,
  findCommandByName,
  summariseZcl,
  zclCommandName,
} from './frame.ts';
export type { ZclDecoded, ZclFrameSpec, ZclFrameType, ZclHeader } from './frame.ts';
export { isOpaque, sampleFields, sampleValue, tableCommands } from './samples.ts';
export type { TableCommand } from './samples.ts';
export { GLOBAL_COMMANDS, ZCL_STATUS, zclStatusName } from './global.ts';
export {
  BASIC,
  CLUSTERS,
  DEVICE_MANAGEMENT,
  MESSAGING,
  METERING,
  OTA_UPGRADE,
  PREPAYMENT,
  TUNNELING,
  getCluster,
} from './clusters/index.ts';
export { BASIC_ATTRIBUTE, OTA_IMAGE_UPGRADE_STATUS, OTA_UPGRADE_ATTRIBUTE } from './clusters/general.ts';
export { DEVICE_MANAGEMENT_ATTRIBUTE, TENANCY_CHANGE_CONTROL } from './clusters/device-management.ts';
export { METERING_ATTRIBUTE } from './clusters/metering.ts';
export { TOP_UP_SETS } from './clusters/prepayment.ts';
export { attributeTypeId, flagMask, globalCommandId, zclStatusCode } from './ids.ts';
export { ZCL_TYPES, decodeValue, encodeValue, isoToUtc, utcToIso, zclType, zclTypeById, zclTypeName } from './types.ts';
export type { ZclTypeDef, ZclTypeName, ZclValue } from './types.ts';
export type { AttributeDef, ClusterDef, CommandDef, Direction, FieldDef, Fields, FlagDef } from './schema.ts';
export { fieldsOf, globalFieldsOf, payloadOf } from './payloads.ts';
export type { CommandName, CommandPayload, FieldValue, Payload, ZclValueOf } from './payloads.ts';
