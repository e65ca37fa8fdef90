// Key Establishment 0x0800 (SE 1.4 §C.3): CBKE, also over inter-PAN for the HHT (GBCS 10.5).

import type { ClusterDef, FieldDef } from '../schema.ts';
import { f } from './fields.ts';

export const KE_SUITES: Readonly<Record<number, string>> = { 1: 'CBKE-ECMQV 163k1', 2: 'CBKE-ECMQV 283k1' };

export const KE_TERMINATE_STATUS: Readonly<Record<number, string>> = {
  1: 'Unknown Issuer',
  2: 'Bad Key Confirm',
  3: 'Bad Message',
  4: 'No Resources',
  5: 'Unsupported Suite',
  6: 'Invalid Certificate',
};

const SUITE_163K1 = 1;
const SUITE_283K1 = 2;

// The identity is the implicit certificate: 48 bytes for 163k1, 74 for 283k1 (SE 1.4 §C.3.1.2),
// the rest of the payload for a suite the table does not know.
const initiate = [
  f('keyEstablishmentSuite', 'bitmap16', { values: KE_SUITES }),
  f('ephemeralDataGenerateTime', 'uint8'),
  f('confirmKeyGenerateTime', 'uint8'),
  { name: 'identity', type: 'bytes', length: 48, when: (r) => r.keyEstablishmentSuite === SUITE_163K1 },
  { name: 'identity', type: 'bytes', length: 74, when: (r) => r.keyEstablishmentSuite === SUITE_283K1 },
  { name: 'identity', type: 'bytes', when: (r) => r.keyEstablishmentSuite !== SUITE_163K1 && r.keyEstablishmentSuite !== SUITE_283K1 },
] as const satisfies readonly FieldDef[];
// Ephemeral public key: 22 bytes (163k1) or 37 bytes (283k1); the command does not say which.
const ephemeral = [{ name: 'ephemeralData', type: 'bytes', sample: '03' + 'a5'.repeat(21) }] as const satisfies readonly FieldDef[];
const terminate = [
  f('statusCode', 'enum8', { values: KE_TERMINATE_STATUS }),
  f('waitTime', 'uint8'),
  f('keyEstablishmentSuite', 'bitmap16', { values: KE_SUITES }),
] as const satisfies readonly FieldDef[];
const suiteSummary = (x: Record<string, unknown>) => `, ${x.keyEstablishmentSuiteName ?? x.keyEstablishmentSuite}`;
const terminateSummary = (x: Record<string, unknown>) => `, ${x.statusCodeName ?? x.statusCode}, wait ${x.waitTime} s`;

export const KEY_ESTABLISHMENT = {
  id: 0x0800,
  name: 'Key Establishment',
  attributes: [{ id: 0x0000, name: 'Supported Key Establishment Suites', type: 'bitmap16' }],
  commands: [
    { id: 0x00, dir: 'client-to-server', name: 'Initiate Key Establishment Request', fields: initiate, summary: suiteSummary },
    { id: 0x01, dir: 'client-to-server', name: 'Ephemeral Data Request', fields: ephemeral },
    {
      id: 0x02,
      dir: 'client-to-server',
      name: 'Confirm Key Data Request',
      fields: [{ name: 'secureMessageAuthenticationCode', type: 'bytes', length: 16 }],
    },
    { id: 0x03, dir: 'client-to-server', name: 'Terminate Key Establishment', fields: terminate, summary: terminateSummary },
    { id: 0x00, dir: 'server-to-client', name: 'Initiate Key Establishment Response', fields: initiate, summary: suiteSummary },
    { id: 0x01, dir: 'server-to-client', name: 'Ephemeral Data Response', fields: ephemeral },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Confirm Key Data Response',
      fields: [{ name: 'secureMessageAuthenticationCode', type: 'bytes', length: 16 }],
    },
    { id: 0x03, dir: 'server-to-client', name: 'Terminate Key Establishment', fields: terminate, summary: terminateSummary },
  ],
} as const satisfies ClusterDef;
