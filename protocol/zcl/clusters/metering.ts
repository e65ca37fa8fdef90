// Metering 0x0702 (SE 1.4 §D.3): readings and the historical consumption that a Change of
// Tenancy must clear on the IHD (COT-4). Attribute names as tshark 4.0 prints them.

import type { AttributeDef, ClusterDef } from '../schema.ts';
import { ATTRIBUTE_REPORTING_STATUS, attrs, f, iso } from './fields.ts';

// Tier summations, delivered/received pairs: Current Tier n Summation Delivered at 0x0100 + 2(n-1).
const tierSummations: AttributeDef[] = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) =>
  attrs([
    [0x0100 + 2 * (n - 1), `Current Tier ${n} Summation Delivered`, 'uint48'],
    [0x0101 + 2 * (n - 1), `Current Tier ${n} Summation Received`, 'uint48'],
  ]),
);

// Historical consumption series (SE 1.4 Table D-33): delivered/received pairs.
function series(base: number, labels: string[], type: 'uint24' | 'uint32'): AttributeDef[] {
  return labels.flatMap((l, i) =>
    attrs([
      [base + 2 * i, `${l} Consumption Delivered`, type],
      [base + 2 * i + 1, `${l} Consumption Received`, type],
    ]),
  );
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const SNAPSHOT_CAUSE = [
  'general',
  'end of billing period',
  'end of block period',
  'change of tariff information',
  'change of price matrix',
  'change of block thresholds',
  'change of CV',
  'change of CF',
  'change of calendar',
  'critical peak pricing',
  'manually triggered from client',
  'end of resolve period',
  'change of tenancy',
  'change of supplier',
  'change of (meter) mode',
  'debt payment',
  'scheduled snapshot',
  'OTA firmware download',
].map((name, bit) => ({ mask: 2 ** bit, name }));

const SCHEME_A = 1;
const SCHEME_B = 2;
const NOTIFICATION_SCHEMES = { 1: 'Predefined Notification Scheme A', 2: 'Predefined Notification Scheme B' };

/** The attribute outside protocol/ reports or reads: Current Summation Delivered (Wh). */
export const METERING_ATTRIBUTE = { currentSummationDelivered: 0x0000 } as const;

export const METERING = {
  id: 0x0702,
  name: 'Metering',
  attributes: [
    ...attrs([
      [METERING_ATTRIBUTE.currentSummationDelivered, 'Current Summation Delivered', 'uint48'],
      [0x0001, 'Current Summation Received', 'uint48'],
      [0x0002, 'Current Max Demand Delivered', 'uint48'],
      [0x0003, 'Current Max Demand Received', 'uint48'],
      [0x0004, 'DFTSummation', 'uint48'],
      [0x0005, 'Daily Freeze Time', 'uint16'],
      [0x0006, 'Power Factor', 'int8'],
      [0x0007, 'Reading Snapshot Time', 'utc'],
      [0x0008, 'Current Max Demand Delivered Time', 'utc'],
      [0x0009, 'Current Max Demand Received Time', 'utc'],
      [0x000a, 'Default Update Period', 'uint8'],
      [0x000b, 'Fast Poll Update Period', 'uint8'],
      [0x000c, 'Current Block Period Consumption Delivered', 'uint48'],
      [0x000d, 'Daily Consumption Target', 'uint24'],
      [0x000e, 'Current Block', 'enum8'],
      [0x000f, 'Profile Interval Period', 'enum8'],
      [0x0011, 'Preset Reading Time', 'uint16'],
      [0x0012, 'Volume Per Report', 'uint16'],
      [0x0013, 'Flow Restriction', 'uint8'],
      [0x0014, 'Supply Status', 'enum8'],
      [0x001c, 'Previous Block Period Consumption Delivered', 'uint48'],
      [0x001d, 'Current Block Period Consumption Received', 'uint48'],
      [0x001e, 'Current Block Received', 'enum8'],
      [0x001f, 'DFT Summation Received', 'uint48'],
    ]),
    ...tierSummations,
    ...attrs([
      [0x0200, 'Status', 'bitmap8'],
      [0x0201, 'Remaining Battery Life', 'uint8'],
      [0x0202, 'Hours in Operation', 'uint24'],
      [0x0203, 'Hours in Fault', 'uint24'],
      [0x0204, 'Extended Status', 'bitmap64'],
      [0x0205, 'Remaining Battery Life in Days', 'uint16'],
      [0x0206, 'Current Meter ID', 'octetString'],
      [0x0207, 'Ambient Consumption Indicator', 'enum8'],
      [0x0300, 'Unit of Measure', 'enum8'],
      [0x0301, 'Multiplier', 'uint24'],
      [0x0302, 'Divisor', 'uint24'],
      [0x0303, 'Summation Formatting', 'bitmap8'],
      [0x0304, 'Demand Formatting', 'bitmap8'],
      [0x0305, 'Historical Consumption Formatting', 'bitmap8'],
      [0x0306, 'Metering Device Type', 'bitmap8'],
      [0x0307, 'Site ID', 'octetString'],
      [0x0308, 'Meter Serial Number', 'octetString'],
      [0x0309, 'Energy Carrier Unit of Measure', 'enum8'],
      [0x030a, 'Energy Carrier Summation Formatting', 'bitmap8'],
      [0x030b, 'Energy Carrier Demand Formatting', 'bitmap8'],
      [0x030c, 'Temperature Unit of Measure', 'enum8'],
      [0x030d, 'Temperature Formatting', 'bitmap8'],
      [0x030e, 'Module Serial Number', 'octetString'],
      [0x030f, 'Operating Tariff Label Delivered', 'octetString'],
      // Historical consumption set (0x0400–0x0416)
      [0x0400, 'Instantaneous Demand', 'int24'],
      [0x0401, 'Current Day Consumption Delivered', 'uint24'],
      [0x0402, 'Current Day Consumption Received', 'uint24'],
      [0x0403, 'Previous Day Consumption Delivered', 'uint24'],
      [0x0404, 'Previous Day Consumption Received', 'uint24'],
      [0x0405, 'Current Partial Profile Interval Start Time Delivered', 'utc'],
      [0x0406, 'Current Partial Profile Interval Start Time Received', 'utc'],
      [0x0407, 'Current Partial Profile Interval Value Delivered', 'uint24'],
      [0x0408, 'Current Partial Profile Interval Value Received', 'uint24'],
      [0x0409, 'Current Day Max Pressure', 'uint48'],
      [0x040a, 'Current Day Min Pressure', 'uint48'],
      [0x040b, 'Previous Day Max Pressure', 'uint48'],
      [0x040c, 'Previous Day Min Pressure', 'uint48'],
      [0x040d, 'Current Day Max Demand', 'int24'],
      [0x040e, 'Previous Day Max Demand', 'int24'],
      [0x040f, 'Current Month Max Demand', 'int24'],
      [0x0410, 'Current Year Max Demand', 'int24'],
      [0x0411, 'Current Day Max Energy Carrier Demand', 'int24'],
      [0x0412, 'Previous Day Max Energy Carrier Demand', 'int24'],
      [0x0413, 'Current Month Max Energy Carrier Demand', 'int24'],
      [0x0414, 'Current Month Min Energy Carrier Demand', 'int24'],
      [0x0415, 'Current Year Max Energy Carrier Demand', 'int24'],
      [0x0416, 'Current Year Min Energy Carrier Demand', 'int24'],
    ]),
    ...series(
      0x0420,
      range(2, 8).map((n) => `Previous Day ${n}`),
      'uint24',
    ),
    ...series(0x0430, ['Current Week', 'Previous Week', ...range(2, 5).map((n) => `Previous Week ${n}`)], 'uint24'),
    ...series(0x0440, ['Current Month', 'Previous Month', ...range(2, 13).map((n) => `Previous Month ${n}`)], 'uint32'),
    ...attrs([
      [0x045c, 'Historical Freeze Time', 'uint16'],
      [0x0500, 'Max Number of Periods Delivered', 'uint8'],
      [0x0600, 'Current Demand Delivered', 'uint24'],
      [0x0601, 'Demand Limit', 'uint24'],
      [0x0602, 'Demand Integration Period', 'uint8'],
      [0x0603, 'Number of Demand Subintervals', 'uint8'],
      [0x0604, 'Demand Limit Arm Duration', 'uint16'],
      [0x0605, 'Load Limit Supply State', 'enum8'],
      [0x0606, 'Load Limit Counter', 'uint8'],
      [0x0607, 'Supply Tamper State', 'enum8'],
      [0x0608, 'Supply Depletion State', 'enum8'],
      [0x0609, 'Supply Uncontrolled Flow State', 'enum8'],
    ]),
    ATTRIBUTE_REPORTING_STATUS,
  ],
  commands: [
    // client → server
    {
      id: 0x00,
      dir: 'client-to-server',
      name: 'Get Profile',
      fields: [
        f('intervalChannel', 'enum8', { values: { 0: 'Consumption Delivered', 1: 'Consumption Received' } }),
        f('endTime', 'utc'),
        f('numberOfPeriods', 'uint8'),
      ],
      summary: (x) => `, channel ${x.intervalChannel}, end ${iso(x.endTime)}, ${x.numberOfPeriods} periods`,
    },
    { id: 0x01, dir: 'client-to-server', name: 'Request Mirror Response', fields: [f('endpointId', 'uint16')] },
    { id: 0x02, dir: 'client-to-server', name: 'Mirror Removed', fields: [f('removedEndpointId', 'uint16')] },
    {
      id: 0x03,
      dir: 'client-to-server',
      name: 'Request Fast Poll Mode',
      fields: [f('fastPollUpdatePeriod', 'uint8'), f('duration', 'uint8')],
    },
    {
      id: 0x04,
      dir: 'client-to-server',
      name: 'Schedule Snapshot',
      fields: [
        f('issuerEventId', 'uint32'),
        f('commandIndex', 'uint8'),
        f('totalNumberOfCommands', 'uint8'),
        f('snapshotScheduleId', 'uint8'),
        f('snapshotStartTime', 'utc'),
        f('snapshotSchedule', 'bitmap24'),
        f('snapshotPayloadType', 'enum8'),
        f('snapshotCause', 'bitmap32', { flags: SNAPSHOT_CAUSE }),
      ],
    },
    { id: 0x05, dir: 'client-to-server', name: 'Take Snapshot', fields: [f('snapshotCause', 'bitmap32', { flags: SNAPSHOT_CAUSE })] },
    {
      id: 0x06,
      dir: 'client-to-server',
      name: 'Get Snapshot',
      fields: [
        f('earliestStartTime', 'utc'),
        f('latestEndTime', 'utc'),
        f('snapshotOffset', 'uint8'),
        f('snapshotCause', 'bitmap32', { flags: SNAPSHOT_CAUSE }),
      ],
    },
    {
      id: 0x07,
      dir: 'client-to-server',
      name: 'Start Sampling',
      fields: [
        f('issuerEventId', 'uint32'),
        f('startSamplingTime', 'utc'),
        f('sampleType', 'enum8'),
        f('sampleRequestInterval', 'uint16'),
        f('maxNumberOfSamples', 'uint16'),
      ],
    },
    {
      id: 0x08,
      dir: 'client-to-server',
      name: 'Get Sampled Data',
      fields: [f('sampleId', 'uint16'), f('earliestSampleTime', 'utc'), f('sampleType', 'enum8'), f('numberOfSamples', 'uint16')],
    },
    {
      id: 0x09,
      dir: 'client-to-server',
      name: 'Mirror Report Attribute Response',
      // Scheme A carries the functional flags only; scheme B four more (SE 1.4 §D.3.2.3.1.10);
      // other schemes: whatever flags follow.
      fields: [
        f('notificationScheme', 'uint8', { values: NOTIFICATION_SCHEMES }),
        f('functionalNotificationFlags', 'bitmap32'),
        ...[2, 3, 4, 5].map((n) => f(`notificationFlags${n}`, 'bitmap32', { when: (r) => r.notificationScheme === SCHEME_B })),
        {
          name: 'notificationFlags',
          type: 'list',
          of: 'bitmap32',
          when: (r) => r.notificationScheme !== SCHEME_A && r.notificationScheme !== SCHEME_B,
        },
      ],
    },
    {
      id: 0x0a,
      dir: 'client-to-server',
      name: 'Reset Load Limit Counter',
      fields: [f('providerId', 'uint32'), f('issuerEventId', 'uint32')],
    },
    {
      id: 0x0b,
      dir: 'client-to-server',
      name: 'Change Supply',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('requestDateTime', 'utc'),
        f('implementationDateTime', 'utc'),
        f('proposedSupplyStatus', 'enum8'),
        f('supplyControlBits', 'bitmap8'),
      ],
    },
    { id: 0x0c, dir: 'client-to-server', name: 'Local Change Supply', fields: [f('proposedSupplyStatus', 'enum8')] },
    {
      id: 0x0d,
      dir: 'client-to-server',
      name: 'Set Supply Status',
      fields: [
        f('issuerEventId', 'uint32'),
        f('supplyTamperState', 'enum8'),
        f('supplyDepletionState', 'enum8'),
        f('supplyUncontrolledFlowState', 'enum8'),
        f('loadLimitSupplyState', 'enum8'),
      ],
    },
    {
      id: 0x0e,
      dir: 'client-to-server',
      name: 'Set Uncontrolled Flow Threshold',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('uncontrolledFlowThreshold', 'uint16'),
        f('unitOfMeasure', 'enum8'),
        f('multiplier', 'uint16'),
        f('divisor', 'uint16'),
        f('stabilisationPeriod', 'uint8'),
        f('measurementPeriod', 'uint16'),
      ],
    },
    // server → client
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Get Profile Response',
      fields: [
        f('endTime', 'utc'),
        f('status', 'enum8', {
          values: {
            0: 'Success',
            1: 'Undefined Interval Channel requested',
            2: 'Interval Channel not supported',
            3: 'Invalid End Time',
            4: 'More periods requested than can be returned',
            5: 'No intervals available for the requested time',
          },
        }),
        f('profileIntervalPeriod', 'enum8'),
        f('numberOfPeriodsDelivered', 'uint8'),
        { name: 'intervals', type: 'list', of: 'uint24', countFrom: 'numberOfPeriodsDelivered' },
      ],
      summary: (x) => `, end ${iso(x.endTime)}, ${x.numberOfPeriodsDelivered} periods, ${x.statusName ?? x.status}`,
    },
    { id: 0x01, dir: 'server-to-client', name: 'Request Mirror', fields: [] },
    { id: 0x02, dir: 'server-to-client', name: 'Remove Mirror', fields: [] },
    {
      id: 0x03,
      dir: 'server-to-client',
      name: 'Request Fast Poll Mode Response',
      fields: [f('appliedUpdatePeriod', 'uint8'), f('fastPollModeEndTime', 'utc')],
    },
    {
      id: 0x04,
      dir: 'server-to-client',
      name: 'Schedule Snapshot Response',
      fields: [
        f('issuerEventId', 'uint32'),
        { name: 'schedules', type: 'list', of: [f('snapshotScheduleId', 'uint8'), f('snapshotScheduleConfirmation', 'enum8')] },
      ],
    },
    {
      id: 0x05,
      dir: 'server-to-client',
      name: 'Take Snapshot Response',
      fields: [f('snapshotId', 'uint32'), f('snapshotConfirmation', 'enum8')],
    },
    {
      id: 0x06,
      dir: 'server-to-client',
      name: 'Publish Snapshot',
      // The sub-payload's layout depends on snapshotPayloadType: kept as octets.
      fields: [
        f('snapshotId', 'uint32'),
        f('snapshotTime', 'utc'),
        f('totalSnapshotsFound', 'uint8'),
        f('commandIndex', 'uint8'),
        f('totalNumberOfCommands', 'uint8'),
        f('snapshotCause', 'bitmap32', { flags: SNAPSHOT_CAUSE }),
        f('snapshotPayloadType', 'enum8'),
        { name: 'snapshotSubPayload', type: 'bytes' },
      ],
      summary: (x) => `, snapshot ${x.snapshotId} at ${iso(x.snapshotTime)}`,
    },
    {
      id: 0x07,
      dir: 'server-to-client',
      name: 'Get Sampled Data Response',
      fields: [
        f('sampleId', 'uint16'),
        f('sampleStartTime', 'utc'),
        f('sampleType', 'enum8'),
        f('sampleRequestInterval', 'uint16'),
        f('numberOfSamples', 'uint16'),
        { name: 'samples', type: 'list', of: 'uint24', countFrom: 'numberOfSamples' },
      ],
    },
    {
      id: 0x08,
      dir: 'server-to-client',
      name: 'Configure Mirror',
      fields: [
        f('issuerEventId', 'uint32'),
        f('reportingInterval', 'uint24'),
        f('mirrorNotificationReporting', 'bool'),
        f('notificationScheme', 'uint8'),
      ],
    },
    {
      id: 0x09,
      dir: 'server-to-client',
      name: 'Configure Notification Scheme',
      fields: [f('issuerEventId', 'uint32'), f('notificationScheme', 'uint8'), f('notificationFlagOrder', 'bitmap32')],
    },
    {
      id: 0x0a,
      dir: 'server-to-client',
      name: 'Configure Notification Flags',
      fields: [
        f('issuerEventId', 'uint32'),
        f('notificationScheme', 'uint8'),
        f('notificationFlagAttributeId', 'uint16'),
        f('clusterId', 'uint16'),
        f('manufacturerCode', 'uint16'),
        f('numberOfCommands', 'uint8'),
        { name: 'commandIds', type: 'list', of: 'uint8', countFrom: 'numberOfCommands' },
      ],
    },
    {
      id: 0x0b,
      dir: 'server-to-client',
      name: 'Get Notified Message',
      fields: [f('notificationScheme', 'uint8'), f('notificationFlagAttributeId', 'uint16'), f('notificationFlags', 'bitmap32')],
    },
    {
      id: 0x0c,
      dir: 'server-to-client',
      name: 'Supply Status Response',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('implementationDateTime', 'utc'),
        f('supplyStatusAfterImplementation', 'enum8'),
      ],
    },
    { id: 0x0d, dir: 'server-to-client', name: 'Start Sampling Response', fields: [f('sampleId', 'uint16')] },
  ],
} as const satisfies ClusterDef;
