// ZCL foundation ("global") commands and status codes (ZCL rev 6 §2.5, §2.6.3); names as
// Wireshark 4.0 prints them (zbee_zcl.cmd.id, zbee_zcl.attr.status).

import { hex16, hexN } from '../bytes.ts';
import type { CommandDef, FieldDef, Fields } from './schema.ts';
import { utcToIso, zclTypeById } from './types.ts';

export const ZCL_STATUS: Readonly<Record<number, string>> = {
  0x00: 'Success',
  0x01: 'Failure',
  0x7e: 'Not Authorized',
  0x7f: 'Reserved Field Not Zero',
  0x80: 'Malformed Command',
  0x81: 'Unsupported Cluster Command',
  0x82: 'Unsupported General Command',
  0x83: 'Unsupported Manufacturer Cluster Command',
  0x84: 'Unsupported Manufacturer General Command',
  0x85: 'Invalid Field',
  0x86: 'Unsupported Attribute',
  0x87: 'Invalid Value',
  0x88: 'Read Only',
  0x89: 'Insufficient Space',
  0x8a: 'Duplicate Exists',
  0x8b: 'Not Found',
  0x8c: 'Unreportable Attribute',
  0x8d: 'Invalid Data Type',
  0x8e: 'Invalid Selector',
  0x8f: 'Write Only',
  0x90: 'Inconsistent Startup State',
  0x91: 'Defined Out of Band',
  0x92: 'Inconsistent Value',
  0x93: 'Action Denied',
  0x94: 'Timeout',
  0x95: 'Ota Abort',
  0x96: 'Ota Invalid Image',
  0x97: 'Ota Wait For Data',
  0x98: 'Ota No Image Available',
  0x99: 'Ota Require More Image',
  0x9a: 'Ota Notification Pending',
  0xc0: 'Hardware Failure',
  0xc1: 'Software Failure',
  0xc2: 'Calibration Error',
  0xc3: 'Unsupported Cluster',
  0xc4: 'Limit Reached',
};

export function zclStatusName(status: number): string {
  return ZCL_STATUS[status] ?? `Reserved ${hexN(status, 2)}`;
}

const REPORTING_DIRECTION = { 0: 'Reported', 1: 'Received' } as const;

const isSuccess = (r: Fields) => r.status === 0;
const isFailure = (r: Fields) => r.status !== 0;
const isAnalog = (r: Fields) => zclTypeById(r.dataType as number)?.analog === true;

const attributeId = { name: 'attributeId', type: 'uint16', attributeId: true } as const satisfies FieldDef;
const status = { name: 'status', type: 'uint8', values: ZCL_STATUS } as const satisfies FieldDef;

/** `[0x0000=1234, 0x0005 Unsupported Attribute]` from attribute records. */
function attributeList(records: unknown): string {
  const items = (records as Fields[]).map((r) => {
    const id = hex16(r.attributeId as number);
    if (r.status !== undefined && r.status !== 0) return `${id} ${zclStatusName(r.status as number)}`;
    if (r.value === undefined) return id;
    // A UTC attribute reads as a time, not as seconds since 2000.
    return `${id}=${zclTypeById(r.dataType as number)?.name === 'utc' && typeof r.value === 'number' ? utcToIso(r.value) : show(r.value)}`;
  });
  return ` [${items.join(', ')}]`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v !== null && typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

const writeRecords = {
  name: 'records',
  type: 'list',
  of: [attributeId, { name: 'dataType', type: 'dataType' }, { name: 'value', type: 'typed', typeFrom: 'dataType' }],
} as const satisfies FieldDef;

// Configure Reporting record (§2.5.7.1): reported attributes carry the intervals and, for analog
// types only, the reportable change; received attributes carry a timeout.
const reportingConfig: FieldDef[] = [
  { name: 'dataType', type: 'dataType', when: (r) => r.direction === 0 },
  { name: 'minimumInterval', type: 'uint16', when: (r) => r.direction === 0 },
  { name: 'maximumInterval', type: 'uint16', when: (r) => r.direction === 0 },
  { name: 'reportableChange', type: 'typed', typeFrom: 'dataType', when: (r) => r.direction === 0 && isAnalog(r) },
  // Any direction but 0 reads as "received", as tshark 4.0 reads it (ZCL reserves 2–255).
  { name: 'timeout', type: 'uint16', when: (r) => r.direction !== 0 },
];

const direction = { name: 'direction', type: 'uint8', values: REPORTING_DIRECTION } as const satisfies FieldDef;

export const GLOBAL_COMMANDS = [
  {
    id: 0x00,
    name: 'Read Attributes',
    dir: 'either',
    fields: [{ name: 'attributes', type: 'list', of: 'uint16' }],
    summary: (f) => ` [${(f.attributes as number[]).map((id) => hex16(id)).join(', ')}]`,
  },
  {
    id: 0x01,
    name: 'Read Attributes Response',
    dir: 'either',
    fields: [
      {
        name: 'records',
        type: 'list',
        of: [
          attributeId,
          status,
          { name: 'dataType', type: 'dataType', when: isSuccess },
          { name: 'value', type: 'typed', typeFrom: 'dataType', when: isSuccess },
        ],
      },
    ],
    summary: (f) => attributeList(f.records),
  },
  { id: 0x02, name: 'Write Attributes', dir: 'either', fields: [writeRecords], summary: (f) => attributeList(f.records) },
  { id: 0x03, name: 'Write Attributes Undivided', dir: 'either', fields: [writeRecords], summary: (f) => attributeList(f.records) },
  {
    id: 0x04,
    name: 'Write Attributes Response',
    dir: 'either',
    // All written: a single Success octet; otherwise one {status, attribute} per failure.
    fields: [{ name: 'records', type: 'list', of: [status, { ...attributeId, when: isFailure }] }],
    summary: (f) => statusList(f.records),
  },
  { id: 0x05, name: 'Write Attributes No Response', dir: 'either', fields: [writeRecords], summary: (f) => attributeList(f.records) },
  {
    id: 0x06,
    name: 'Configure Reporting',
    dir: 'either',
    fields: [{ name: 'records', type: 'list', of: [direction, attributeId, ...reportingConfig] }],
    summary: (f) => ` [${(f.records as Fields[]).map((r) => hex16(r.attributeId as number)).join(', ')}]`,
  },
  {
    id: 0x07,
    name: 'Configure Reporting Response',
    dir: 'either',
    // All configured: a lone Success octet; otherwise full {status, direction, attribute}
    // records, as tshark 4.0 reads them (a lone failure status it flags, and so do we not).
    fields: [
      {
        name: 'records',
        type: 'list',
        of: [status, { ...direction, optional: true }, { ...attributeId, optional: true }],
      },
    ],
    summary: (f) => statusList(f.records),
  },
  {
    id: 0x08,
    name: 'Read Reporting Configuration',
    dir: 'either',
    fields: [{ name: 'records', type: 'list', of: [direction, attributeId] }],
  },
  {
    id: 0x09,
    name: 'Read Reporting Configuration Response',
    dir: 'either',
    fields: [
      {
        name: 'records',
        type: 'list',
        of: [status, direction, attributeId, ...reportingConfig.map((d) => ({ ...d, when: (r: Fields) => isSuccess(r) && d.when!(r) }))],
      },
    ],
  },
  {
    id: 0x0a,
    name: 'Report Attributes',
    dir: 'either',
    fields: [writeRecords],
    summary: (f) => attributeList(f.records),
  },
  {
    id: 0x0b,
    name: 'Default Response',
    dir: 'either',
    fields: [{ name: 'commandId', type: 'uint8' }, status],
    summary: (f) => ` to ${hexN(f.commandId as number, 2)}, ${zclStatusName(f.status as number)}`,
  },
  {
    id: 0x0c,
    name: 'Discover Attributes',
    dir: 'either',
    fields: [
      { name: 'startAttributeId', type: 'uint16' },
      { name: 'maximumAttributeIds', type: 'uint8' },
    ],
  },
  {
    id: 0x0d,
    name: 'Discover Attributes Response',
    dir: 'either',
    fields: [
      { name: 'discoveryComplete', type: 'bool' },
      { name: 'records', type: 'list', of: [attributeId, { name: 'dataType', type: 'dataType' }] },
    ],
    summary: (f) => ` [${(f.records as Fields[]).map((r) => hex16(r.attributeId as number)).join(', ')}]`,
  },
  // Structured reads and writes carry selectors nobody in SE uses: kept opaque.
  { id: 0x0e, name: 'Read Attributes Structured', dir: 'either', fields: [{ name: 'payload', type: 'bytes' }] },
  { id: 0x0f, name: 'Write Attributes Structured', dir: 'either', fields: [{ name: 'payload', type: 'bytes' }] },
  { id: 0x10, name: 'Write Attributes Structured Response', dir: 'either', fields: [{ name: 'payload', type: 'bytes' }] },
  {
    id: 0x11,
    name: 'Discover Commands Received',
    dir: 'either',
    fields: [
      { name: 'startCommandId', type: 'uint8' },
      { name: 'maximumCommandIds', type: 'uint8' },
    ],
  },
  {
    id: 0x12,
    name: 'Discover Commands Received Response',
    dir: 'either',
    fields: [
      { name: 'discoveryComplete', type: 'bool' },
      { name: 'commandIds', type: 'list', of: 'uint8' },
    ],
  },
] as const satisfies readonly CommandDef[];

function statusList(records: unknown): string {
  const rs = records as Fields[];
  if (rs.length === 1 && rs[0].attributeId === undefined) return `, ${zclStatusName(rs[0].status as number)}`;
  return ` [${rs.map((r) => `${r.attributeId === undefined ? '?' : hex16(r.attributeId as number)} ${zclStatusName(r.status as number)}`).join(', ')}]`;
}
