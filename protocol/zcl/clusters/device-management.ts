// Device Management 0x0708 (SE 1.4 §D.10): Change of Tenancy and Change of Supplier (GBCS GCS09,
// ECS12; SECMP0056). Wireshark names these "… Change Of …"; the project writes "Change of".

import { hexN } from '../../bytes.ts';
import type { ClusterDef, FlagDef } from '../schema.ts';
import { ATTRIBUTE_REPORTING_STATUS, attrs, f, iso } from './fields.ts';

/** Proposed Tenancy Change Control bits (PROTOCOL.md §7; SE 1.4 Table D-184). */
export const TENANCY_CHANGE_CONTROL: readonly FlagDef[] = [
  { mask: 0x1, name: 'pre-snapshots' },
  { mask: 0x2, name: 'post-snapshots' },
  { mask: 0x4, name: 'reset credit register' },
  { mask: 0x8, name: 'reset debit register' },
  { mask: 0x10, name: 'reset billing period' },
  { mask: 0x20, name: 'clear tariff plan' },
  { mask: 0x40, name: 'clear standing charge' },
  { mask: 0x80, name: 'block historical load profile' },
  { mask: 0x100, name: 'clear historical load profile' },
  { mask: 0x200, name: 'clear IHD data (consumer)' },
  { mask: 0x400, name: 'clear IHD data (supplier)' },
  { mask: 0x1800, name: 'meter contactor state', values: { 0: 'off', 1: 'armed', 2: 'on', 3: 'unchanged' } },
  { mask: 0x2000, name: 'clear transaction log' },
  { mask: 0x4000, name: 'clear prepayment data' },
];

/** The attributes outside protocol/ reads or serves: Provider ID and the Change of Tenancy pair (PROTOCOL.md §7). */
export const DEVICE_MANAGEMENT_ATTRIBUTE = { providerId: 0x0100, tenancyImplementation: 0x0200, tenancyControl: 0x0201 } as const;

const CONFIGURATION_CONTROL = { 0: 'Apply by List', 1: 'Apply by Event Group', 2: 'Apply by Log Type', 3: 'Apply by Configuration Match' };

export const DEVICE_MANAGEMENT = {
  id: 0x0708,
  name: 'Device Management',
  attributes: attrs([
    [DEVICE_MANAGEMENT_ATTRIBUTE.providerId, 'Provider ID', 'uint32'],
    [0x0101, 'Provider Name', 'octetString'],
    [0x0102, 'Provider Contact Details', 'octetString'],
    [0x0110, 'Proposed Provider ID', 'uint32'],
    [0x0111, 'Proposed Provider Name', 'octetString'],
    [0x0112, 'Proposed Provider Change Date/Time', 'utc'],
    [0x0113, 'Proposed Provider Change Control', 'bitmap32'],
    [0x0114, 'Proposed Provider Contact Details', 'octetString'],
    [0x0120, 'Received Provider ID', 'uint32'],
    [0x0121, 'Received Provider Name', 'octetString'],
    [0x0122, 'Received Provider Contact Details', 'octetString'],
    [0x0130, 'Received Proposed Provider ID', 'uint32'],
    [0x0131, 'Received Proposed Provider Name', 'octetString'],
    [0x0132, 'Received Proposed Provider Change Date/Time', 'utc'],
    [0x0133, 'Received Proposed Provider Change Control', 'bitmap32'],
    [0x0134, 'Received Proposed Provider Contact Details', 'octetString'],
    [DEVICE_MANAGEMENT_ATTRIBUTE.tenancyImplementation, 'Change of Tenancy Update Date/Time', 'utc'],
    [DEVICE_MANAGEMENT_ATTRIBUTE.tenancyControl, 'Proposed Tenancy Change control', 'bitmap32'],
    [0x0300, 'WAN Status', 'enum8'],
    [0x0400, 'Low Medium Threshold', 'uint32'],
    [0x0401, 'Medium High Threshold', 'uint32'],
  ]).concat(ATTRIBUTE_REPORTING_STATUS),
  commands: [
    // client → server
    { id: 0x00, dir: 'client-to-server', name: 'Get Change of Tenancy', wireshark: 'Get Change Of Tenancy', fields: [] },
    { id: 0x01, dir: 'client-to-server', name: 'Get Change of Supplier', wireshark: 'Get Change Of Supplier', fields: [] },
    { id: 0x02, dir: 'client-to-server', name: 'Request New Password', fields: [f('passwordType', 'enum8')] },
    { id: 0x03, dir: 'client-to-server', name: 'Get Site ID', fields: [] },
    {
      id: 0x04,
      dir: 'client-to-server',
      name: 'Report Event Configuration',
      fields: [
        f('commandIndex', 'uint8'),
        f('totalCommands', 'uint8'),
        { name: 'events', type: 'list', of: [f('eventId', 'uint16'), f('eventConfiguration', 'bitmap8')] },
      ],
    },
    { id: 0x05, dir: 'client-to-server', name: 'Get CIN', fields: [] },
    // server → client
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Publish Change of Tenancy',
      wireshark: 'Publish Change Of Tenancy',
      // 17 bytes. tshark 4.0 shows `control` byte-swapped (reads it big-endian); ZCL is little-endian.
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('tariffType', 'enum8'),
        f('implementationDateTime', 'utc'),
        f('control', 'bitmap32', { flags: TENANCY_CHANGE_CONTROL, sample: 0x200 }),
      ],
      summary: (x) => {
        const flags = x.controlFlags as string[] | undefined;
        return `, implementation ${iso(x.implementationDateTime)}, control ${hexN(x.control as number, 8)}${flags?.length ? ` (${flags.join(', ')})` : ''}`;
      },
    },
    {
      id: 0x01,
      dir: 'server-to-client',
      name: 'Publish Change of Supplier',
      wireshark: 'Publish Change Of Supplier',
      fields: [
        f('currentProviderId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('tariffType', 'enum8'),
        f('proposedProviderId', 'uint32'),
        f('implementationDateTime', 'utc'),
        f('control', 'bitmap32'),
        f('proposedProviderName', 'charString'),
        f('proposedProviderContactDetails', 'charString'),
      ],
      summary: (x) => `, provider ${x.proposedProviderId}, implementation ${iso(x.implementationDateTime)}`,
    },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Request New Password Response',
      fields: [
        f('issuerEventId', 'uint32'),
        f('implementationDateTime', 'utc'),
        f('durationInMinutes', 'uint16'),
        f('passwordType', 'enum8'),
        f('password', 'charString'),
      ],
    },
    {
      id: 0x03,
      dir: 'server-to-client',
      name: 'Update Site ID',
      fields: [f('issuerEventId', 'uint32'), f('siteIdTime', 'utc'), f('providerId', 'uint32'), f('siteId', 'charString')],
      summary: (x) => `, ${JSON.stringify(x.siteId)}`,
    },
    {
      id: 0x04,
      dir: 'server-to-client',
      name: 'Set Event Configuration',
      // What follows configurationControl depends on it (SE 1.4 §D.10.2.2.5); unknown: octets.
      fields: [
        f('issuerEventId', 'uint32'),
        f('startDateTime', 'utc'),
        f('eventConfiguration', 'bitmap8'),
        f('configurationControl', 'enum8', { values: CONFIGURATION_CONTROL }),
        f('numberOfEvents', 'uint8', { when: (r) => r.configurationControl === 0 }),
        { name: 'eventIds', type: 'list', of: 'uint16', countFrom: 'numberOfEvents', when: (r) => r.configurationControl === 0 },
        f('eventGroupId', 'uint16', { when: (r) => r.configurationControl === 1 }),
        f('logId', 'enum8', { when: (r) => r.configurationControl === 2 }),
        f('configurationValueMatch', 'bitmap8', { when: (r) => r.configurationControl === 3 }),
        { name: 'eventConfigurationPayload', type: 'bytes', when: (r) => (r.configurationControl as number) > 3 },
      ],
    },
    { id: 0x05, dir: 'server-to-client', name: 'Get Event Configuration', fields: [f('eventId', 'uint16')] },
    {
      id: 0x06,
      dir: 'server-to-client',
      name: 'Update CIN',
      fields: [
        f('issuerEventId', 'uint32'),
        f('implementationDateTime', 'utc'),
        f('providerId', 'uint32'),
        f('customerIdNumber', 'charString'),
      ],
    },
  ],
} as const satisfies ClusterDef;
