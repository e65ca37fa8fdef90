// Prepayment 0x0705 (SE 1.4 §D.7): top-ups and debt; its logs are cleared on Change of Tenancy (COT-4).

import type { AttributeDef, ClusterDef } from '../schema.ts';
import type { ZclTypeName } from '../types.ts';
import { ATTRIBUTE_REPORTING_STATUS, attrs, f } from './fields.ts';

// Five top-up entries at 0x0100 + 0x10·n and three debt entries at 0x0210 + 0x10·n (PROTOCOL.md §7).
/** Top-up sets #1 (the latest) … #5: where each set's date/time and amount attributes are. */
export const TOP_UP_SETS: readonly { readonly n: number; readonly time: number; readonly amount: number }[] = [1, 2, 3, 4, 5].map((n) => {
  const base = 0x0100 + 0x10 * (n - 1);
  return { n, time: base, amount: base + 1 };
});

const topUpSet: AttributeDef[] = TOP_UP_SETS.flatMap(({ n, time, amount }) =>
  attrs([
    [time, `Top-up Date/time #${n}`, 'utc'],
    [amount, `Top-up Amount #${n}`, 'int32'],
    [time + 2, `Originating Device #${n}`, 'enum8'],
    [time + 3, `Top-up Code #${n}`, 'octetString'],
  ]),
);

const debtSet: AttributeDef[] = [1, 2, 3].flatMap((n) => {
  const base = 0x0210 + 0x10 * (n - 1);
  const rows: [number, string, ZclTypeName][] = [
    [0, 'Debt Label', 'octetString'],
    [1, 'Debt Amount', 'uint32'],
    [2, 'Debt Recovery Method', 'enum8'],
    [3, 'Debt Recovery Start Time', 'utc'],
    [4, 'Debt Recovery Collection Time', 'uint16'],
    [6, 'Debt Recovery Frequency', 'enum8'],
    [7, 'Debt Recovery Amount', 'uint32'],
    [9, 'Debt Recovery Top Up Percentage', 'uint16'],
  ];
  return attrs(rows.map(([o, name, type]) => [base + o, `${name} #${n}`, type] as const));
});

export const ORIGINATING_DEVICE: Readonly<Record<number, string>> = {
  0: 'Energy Service Interface',
  1: 'Meter',
  2: 'In-Home Display Device',
};

export const PREPAYMENT = {
  id: 0x0705,
  name: 'Prepayment',
  attributes: [
    ...attrs([
      [0x0000, 'Payment Control Configuration', 'bitmap16'],
      [0x0001, 'Credit Remaining', 'int32'],
      [0x0002, 'Emergency Credit Remaining', 'int32'],
      [0x0003, 'Credit Status', 'bitmap8'],
      [0x0004, 'Credit Remaining Timestamp', 'utc'],
      [0x0005, 'Accumulated Debt', 'int32'],
      [0x0006, 'Overall Debt Cap', 'int32'],
      [0x0010, 'Emergency Credit Limit / Allowance', 'uint32'],
      [0x0011, 'Emergency Credit Threshold', 'uint32'],
      [0x0020, 'Total Credit Added', 'uint48'],
      [0x0021, 'Max Credit Limit', 'uint32'],
      [0x0022, 'Max Credit Per Top Up', 'uint32'],
      [0x0030, 'Friendly Credit Warning', 'uint8'],
      [0x0031, 'Low Credit Warning', 'uint32'],
      [0x0032, 'IHD Low Credit Warning', 'uint32'],
      [0x0033, 'Interrupt Suspend Time', 'uint8'],
      [0x0034, 'Remaining Friendly Credit Time', 'uint16'],
      [0x0035, 'Next Friendly Credit Period', 'utc'],
      [0x0040, 'Cut Off Value', 'int32'],
      [0x0080, 'Token Carrier ID', 'octetString'],
    ]),
    ...topUpSet,
    ...debtSet,
    ...attrs([
      [0x0400, 'Prepayment Alarm Status', 'bitmap16'],
      [0x0401, 'Prepay Generic Alarm Mask', 'bitmap16'],
      [0x0402, 'Prepay Switch Alarm Mask', 'bitmap16'],
      [0x0403, 'Prepay Event Alarm Mask', 'bitmap16'],
    ]),
    ATTRIBUTE_REPORTING_STATUS,
  ],
  commands: [
    // client → server
    {
      id: 0x00,
      dir: 'client-to-server',
      name: 'Select Available Emergency Credit',
      fields: [f('commandIssueDateTime', 'utc'), f('originatingDevice', 'enum8', { values: ORIGINATING_DEVICE })],
    },
    {
      id: 0x02,
      dir: 'client-to-server',
      name: 'Change Debt',
      fields: [
        f('issuerEventId', 'uint32'),
        f('debtLabel', 'octetString'),
        f('debtAmount', 'int32'),
        f('debtRecoveryMethod', 'enum8'),
        f('debtAmountType', 'enum8'),
        f('debtRecoveryStartTime', 'utc'),
        f('debtRecoveryCollectionTime', 'uint16'),
        f('debtRecoveryFrequency', 'enum8'),
        f('debtRecoveryAmount', 'int32'),
        f('debtRecoveryBalancePercentage', 'uint16'),
      ],
    },
    {
      id: 0x03,
      dir: 'client-to-server',
      name: 'Emergency Credit Setup',
      fields: [
        f('issuerEventId', 'uint32'),
        f('startTime', 'utc'),
        f('emergencyCreditLimit', 'uint32'),
        f('emergencyCreditThreshold', 'uint32'),
      ],
    },
    {
      id: 0x04,
      dir: 'client-to-server',
      name: 'Consumer Top Up',
      fields: [f('originatingDevice', 'enum8', { values: ORIGINATING_DEVICE }), f('topUpCode', 'octetString')],
    },
    {
      id: 0x05,
      dir: 'client-to-server',
      name: 'Credit Adjustment',
      fields: [
        f('issuerEventId', 'uint32'),
        f('startTime', 'utc'),
        f('creditAdjustmentType', 'enum8'),
        f('creditAdjustmentValue', 'int32'),
      ],
    },
    {
      id: 0x06,
      dir: 'client-to-server',
      name: 'Change Payment Mode',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('implementationDateTime', 'utc'),
        f('proposedPaymentControlConfiguration', 'bitmap16'),
        f('cutOffValue', 'int32'),
      ],
    },
    {
      id: 0x07,
      dir: 'client-to-server',
      name: 'Get Prepay Snapshot',
      fields: [f('earliestStartTime', 'utc'), f('latestEndTime', 'utc'), f('snapshotOffset', 'uint8'), f('snapshotCause', 'bitmap32')],
    },
    { id: 0x08, dir: 'client-to-server', name: 'Get Top Up Log', fields: [f('latestEndTime', 'utc'), f('numberOfRecords', 'uint8')] },
    { id: 0x09, dir: 'client-to-server', name: 'Set Low Credit Warning Level', fields: [f('lowCreditWarningLevel', 'uint32')] },
    {
      id: 0x0a,
      dir: 'client-to-server',
      name: 'Get Debt Repayment Log',
      fields: [f('latestEndTime', 'utc'), f('numberOfDebts', 'uint8'), f('debtType', 'enum8')],
    },
    {
      id: 0x0b,
      dir: 'client-to-server',
      name: 'Set Maximum Credit Limit',
      fields: [
        f('providerId', 'uint32'),
        f('issuerEventId', 'uint32'),
        f('implementationDateTime', 'utc'),
        f('maximumCreditLevel', 'uint32'),
        f('maximumCreditPerTopUp', 'uint32'),
      ],
    },
    {
      id: 0x0c,
      dir: 'client-to-server',
      name: 'Set Overall Debt Cap',
      fields: [f('providerId', 'uint32'), f('issuerEventId', 'uint32'), f('implementationDateTime', 'utc'), f('overallDebtCap', 'int32')],
    },
    // server → client
    {
      id: 0x01,
      dir: 'server-to-client',
      name: 'Publish Prepay Snapshot',
      fields: [
        f('snapshotId', 'uint32'),
        f('snapshotTime', 'utc'),
        f('totalSnapshotsFound', 'uint8'),
        f('commandIndex', 'uint8'),
        f('totalNumberOfCommands', 'uint8'),
        f('snapshotCause', 'bitmap32'),
        f('snapshotPayloadType', 'enum8'),
        { name: 'snapshotPayload', type: 'bytes' },
      ],
    },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Change Payment Mode Response',
      fields: [
        f('friendlyCredit', 'bitmap8'),
        f('friendlyCreditCalendarId', 'uint32'),
        f('emergencyCreditLimit', 'uint32'),
        f('emergencyCreditThreshold', 'uint32'),
      ],
    },
    {
      id: 0x03,
      dir: 'server-to-client',
      name: 'Consumer Top Up Response',
      fields: [
        f('resultType', 'enum8'),
        f('topUpValue', 'int32'),
        f('sourceOfTopUp', 'enum8', { values: ORIGINATING_DEVICE }),
        f('creditRemaining', 'int32'),
      ],
      summary: (x) => `, result ${x.resultType}, value ${x.topUpValue}`,
    },
    {
      id: 0x05,
      dir: 'server-to-client',
      name: 'Publish Top Up Log',
      // UNCONFIRMED widths (PROTOCOL.md §7): SE 1.4 D.7.2.4.5 as tshark 4.0 reads it,
      // {code octet string, amount int32, time UTC} per record.
      note: 'record widths unconfirmed: SE 1.4 layout {code octstr, amount int32, time UTC}',
      fields: [
        f('commandIndex', 'uint8'),
        f('totalNumberOfCommands', 'uint8'),
        { name: 'topUps', type: 'list', of: [f('topUpCode', 'octetString'), f('topUpAmount', 'int32'), f('topUpTime', 'utc')] },
      ],
      summary: (x) => `, ${(x.topUps as unknown[]).length} top-ups (command ${Number(x.commandIndex) + 1}/${x.totalNumberOfCommands})`,
    },
    {
      id: 0x06,
      dir: 'server-to-client',
      name: 'Publish Debt Log',
      // UNCONFIRMED widths, as for the top-up log: SE 1.4 D.7.2.4.6 as tshark 4.0 reads it.
      note: 'record widths unconfirmed: SE 1.4 layout {collection time UTC, amount int32, debt type enum8, outstanding uint32}',
      fields: [
        f('commandIndex', 'uint8'),
        f('totalNumberOfCommands', 'uint8'),
        {
          name: 'debts',
          type: 'list',
          of: [f('collectionTime', 'utc'), f('amountCollected', 'int32'), f('debtType', 'enum8'), f('outstandingDebt', 'uint32')],
        },
      ],
      summary: (x) => `, ${(x.debts as unknown[]).length} debt records`,
    },
  ],
} as const satisfies ClusterDef;
