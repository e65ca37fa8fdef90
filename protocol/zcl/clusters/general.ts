// General clusters SE devices carry: Basic 0x0000, Time 0x000A, OTA Upgrade 0x0019 (ZCL rev 6
// §3.2, §3.12; OTA Upgrade cluster spec §6.10). Names as tshark 4.0 prints them.

import { hexN } from '../../bytes.ts';
import { ZCL_STATUS } from '../global.ts';
import type { ClusterDef, FieldDef, Fields } from '../schema.ts';
import { attrs, f } from './fields.ts';

/** Basic attributes the rig reads: the firmware build a device reports (RCN-4: before and after an OTA upgrade). */
export const BASIC_ATTRIBUTE = { softwareBuildId: 0x4000 } as const;

export const BASIC = {
  id: 0x0000,
  name: 'Basic',
  attributes: attrs([
    [0x0000, 'ZCL Version', 'uint8'],
    [0x0001, 'Application Version', 'uint8'],
    [0x0002, 'Stack Version', 'uint8'],
    [0x0003, 'HW Version', 'uint8'],
    [0x0004, 'Manufacturer Name', 'charString'],
    [0x0005, 'Model Identifier', 'charString'],
    [0x0006, 'Date Code', 'charString'],
    [0x0007, 'Power Source', 'enum8'],
    [0x0010, 'Location Description', 'charString'],
    [0x0011, 'Physical Environment', 'enum8'],
    [0x0012, 'Device Enabled', 'bool'],
    [0x0013, 'Alarm Mask', 'bitmap8'],
    [0x0014, 'Disable Local Config', 'bitmap8'],
    [BASIC_ATTRIBUTE.softwareBuildId, 'Software Build Id', 'charString'],
  ]),
  commands: [{ id: 0x00, dir: 'client-to-server', name: 'Reset to Factory Defaults', fields: [] }],
} as const satisfies ClusterDef;

export const TIME = {
  id: 0x000a,
  name: 'Time',
  attributes: attrs([
    [0x0000, 'Time', 'utc'],
    [0x0001, 'Time Status', 'bitmap8'],
    [0x0002, 'Time Zone', 'int32'],
    [0x0003, 'Daylight Saving Time Start', 'uint32'],
    [0x0004, 'Daylight Saving Time End', 'uint32'],
    [0x0005, 'Daylight Saving Time Shift', 'int32'],
    [0x0006, 'Standard Time', 'uint32'],
    [0x0007, 'Local Time', 'uint32'],
    [0x0008, 'Last Set Time', 'utc'],
    [0x0009, 'Valid Until Time', 'utc'],
  ]),
  commands: [],
} as const satisfies ClusterDef;

const SUCCESS = 0x00;
const WAIT_FOR_DATA = 0x97;
const otaStatus = f('status', 'uint8', { values: ZCL_STATUS });
const image = [
  f('manufacturerCode', 'uint16'),
  f('imageType', 'uint16'),
  f('fileVersion', 'uint32'),
] as const satisfies readonly FieldDef[];
const onSuccess = (d: FieldDef): FieldDef => ({ ...d, when: (r: Fields) => r.status === SUCCESS });
const imageSummary = (x: Fields) =>
  x.fileVersion === undefined
    ? ''
    : `, image ${hexN(x.manufacturerCode as number, 4)}/${hexN(x.imageType as number, 4)} v${hexN(x.fileVersion as number, 8)}`;

/** OTA Upgrade client attributes the rig reads over the HAN (RCN-4). */
export const OTA_UPGRADE_ATTRIBUTE = {
  currentFileVersion: 0x0002,
  imageUpgradeStatus: 0x0006,
  manufacturerId: 0x0007,
  imageTypeId: 0x0008,
} as const;

/** Image Upgrade Status values (ZCL OTA Upgrade cluster). */
export const OTA_IMAGE_UPGRADE_STATUS = {
  normal: 0x00,
  downloadInProgress: 0x01,
  downloadComplete: 0x02,
  waitingToUpgrade: 0x03,
  countDown: 0x04,
  waitForMore: 0x05,
  waitingToUpgradeViaExternalEvent: 0x06,
} as const;

export const OTA_UPGRADE = {
  id: 0x0019,
  name: 'OTA Upgrade',
  attributes: attrs([
    [0x0000, 'Upgrade Server ID', 'ieeeAddress'],
    [0x0001, 'File Offset', 'uint32'],
    [OTA_UPGRADE_ATTRIBUTE.currentFileVersion, 'Current File Version', 'uint32'],
    [0x0003, 'Current ZigBee Stack Version', 'uint16'],
    [0x0004, 'Downloaded File Version', 'uint32'],
    [0x0005, 'Downloaded ZigBee Stack Version', 'uint16'],
    [OTA_UPGRADE_ATTRIBUTE.imageUpgradeStatus, 'Image Upgrade Status', 'enum8'],
    [OTA_UPGRADE_ATTRIBUTE.manufacturerId, 'Manufacturer ID', 'uint16'],
    [OTA_UPGRADE_ATTRIBUTE.imageTypeId, 'Image Type ID', 'uint16'],
    [0x0009, 'Minimum Block Request Delay', 'uint16'],
  ]),
  commands: [
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Image Notify',
      // Payload type 0: jitter only; 1: + manufacturer; 2: + image type; 3: + file version.
      fields: [
        f('payloadType', 'enum8', {
          values: {
            0: 'Query jitter',
            1: 'Query jitter and manufacturer code',
            2: 'Query jitter, manufacturer code, and image type',
            3: 'Query jitter, manufacturer code, image type, and new file version',
          },
        }),
        f('queryJitter', 'uint8'),
        f('manufacturerCode', 'uint16', { when: (r) => (r.payloadType as number) >= 1 }),
        f('imageType', 'uint16', { when: (r) => (r.payloadType as number) >= 2 }),
        f('fileVersion', 'uint32', { when: (r) => (r.payloadType as number) >= 3 }),
      ],
    },
    {
      id: 0x01,
      dir: 'client-to-server',
      name: 'Query Next Image Request',
      fields: [
        f('fieldControl', 'bitmap8', { flags: [{ mask: 0x01, name: 'hardware version present' }] }),
        ...image,
        f('hardwareVersion', 'uint16', { when: (r) => ((r.fieldControl as number) & 0x01) !== 0 }),
      ],
      summary: imageSummary,
    },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Query Next Image Response',
      fields: [otaStatus, ...image.map(onSuccess), onSuccess(f('imageSize', 'uint32'))],
      summary: (x) => `, ${x.statusName ?? x.status}${imageSummary(x)}`,
    },
    {
      id: 0x03,
      dir: 'client-to-server',
      name: 'Image Block Request',
      fields: [
        f('fieldControl', 'bitmap8', {
          flags: [
            { mask: 0x01, name: 'request node address present' },
            { mask: 0x02, name: 'minimum block period present' },
          ],
        }),
        ...image,
        f('fileOffset', 'uint32'),
        f('maximumDataSize', 'uint8'),
        f('requestNodeAddress', 'ieeeAddress', { when: (r) => ((r.fieldControl as number) & 0x01) !== 0 }),
        f('minimumBlockPeriod', 'uint16', { when: (r) => ((r.fieldControl as number) & 0x02) !== 0 }),
      ],
      summary: (x) => `, offset ${x.fileOffset}, max ${x.maximumDataSize}`,
    },
    {
      id: 0x04,
      dir: 'client-to-server',
      name: 'Image Page Request',
      fields: [
        f('fieldControl', 'bitmap8', { flags: [{ mask: 0x01, name: 'request node address present' }] }),
        ...image,
        f('fileOffset', 'uint32'),
        f('maximumDataSize', 'uint8'),
        f('pageSize', 'uint16'),
        f('responseSpacing', 'uint16'),
        f('requestNodeAddress', 'ieeeAddress', { when: (r) => ((r.fieldControl as number) & 0x01) !== 0 }),
      ],
    },
    {
      id: 0x05,
      dir: 'server-to-client',
      name: 'Image Block Response',
      // Success carries a block (its u8 size + data is an octet string on the wire); Wait For
      // Data carries when to ask again.
      fields: [
        otaStatus,
        ...image.map(onSuccess),
        onSuccess(f('fileOffset', 'uint32')),
        onSuccess(f('imageData', 'octetString')),
        f('currentTime', 'utc', { when: (r) => r.status === WAIT_FOR_DATA }),
        f('requestTime', 'utc', { when: (r) => r.status === WAIT_FOR_DATA }),
        f('minimumBlockPeriod', 'uint16', { when: (r) => r.status === WAIT_FOR_DATA, optional: true }),
      ],
      summary: (x) =>
        x.status === SUCCESS ? `, offset ${x.fileOffset}, ${(x.imageData as string).length / 2} bytes` : `, ${x.statusName ?? x.status}`,
    },
    {
      id: 0x06,
      dir: 'client-to-server',
      name: 'Upgrade End Request',
      fields: [otaStatus, ...image],
      summary: (x) => `, ${x.statusName ?? x.status}${imageSummary(x)}`,
    },
    {
      id: 0x07,
      dir: 'server-to-client',
      name: 'Upgrade End Response',
      fields: [...image, f('currentTime', 'utc'), f('upgradeTime', 'utc')],
      summary: imageSummary,
    },
    {
      id: 0x08,
      dir: 'client-to-server',
      name: 'Query Specific File Request',
      fields: [f('requestNodeAddress', 'ieeeAddress'), ...image, f('currentZigbeeStackVersion', 'uint16')],
    },
    {
      id: 0x09,
      dir: 'server-to-client',
      name: 'Query Specific File Response',
      fields: [otaStatus, ...image.map(onSuccess), onSuccess(f('imageSize', 'uint32'))],
    },
  ],
} as const satisfies ClusterDef;
