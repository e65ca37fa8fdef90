// Messaging 0x0703 (SE 1.4 §D.5): supplier messages on the IHD; cleared on Change of Tenancy (COT-6).

import type { ClusterDef, FieldDef, FlagDef } from '../schema.ts';
import { f } from './fields.ts';

/** Message Control (SE 1.4 Table D-75). Transmission 0 (normal) and importance 0 (low) are not listed. */
export const MESSAGE_CONTROL: readonly FlagDef[] = [
  { mask: 0x03, name: 'transmission', values: { 0: 'normal', 1: 'normal and inter-PAN', 2: 'inter-PAN only' } },
  { mask: 0x0c, name: 'importance', values: { 0: 'low', 1: 'medium', 2: 'high', 3: 'critical' } },
  { mask: 0x20, name: 'enhanced confirmation required' },
  { mask: 0x80, name: 'message confirmation required' },
];

const displayMessage = [
  f('messageId', 'uint32'),
  f('messageControl', 'bitmap8', { flags: MESSAGE_CONTROL }),
  f('startTime', 'utc'), // 0 = now
  f('durationInMinutes', 'uint16'), // 0xFFFF = until changed
  f('message', 'charString'),
  f('extendedMessageControl', 'bitmap8', { optional: true }),
] as const satisfies readonly FieldDef[];

export const MESSAGING = {
  id: 0x0703,
  name: 'Messaging',
  attributes: [],
  commands: [
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Display Message',
      fields: displayMessage,
      summary: (x) => `, id ${x.messageId}, ${JSON.stringify(x.message)}`,
    },
    {
      id: 0x01,
      dir: 'server-to-client',
      name: 'Cancel Message',
      // SE 1.2+ deprecates this octet: send 0 (tshark 4.0 warns otherwise).
      fields: [f('messageId', 'uint32'), f('messageControl', 'bitmap8', { sample: 0, samples: [0] })],
      summary: (x) => `, id ${x.messageId}`,
    },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Display Protected Message',
      fields: displayMessage,
      summary: (x) => `, id ${x.messageId}, ${JSON.stringify(x.message)}`,
    },
    { id: 0x03, dir: 'server-to-client', name: 'Cancel All Messages', fields: [f('implementationDateTime', 'utc')] },
    { id: 0x00, dir: 'client-to-server', name: 'Get Last Message', fields: [] },
    {
      id: 0x01,
      dir: 'client-to-server',
      name: 'Message Confirmation',
      fields: [
        f('messageId', 'uint32'),
        f('confirmationTime', 'utc'),
        f('messageConfirmationControl', 'bitmap8', { optional: true }),
        f('messageResponse', 'octetString', { optional: true }),
      ],
      summary: (x) => `, id ${x.messageId}`,
    },
    { id: 0x02, dir: 'client-to-server', name: 'Get Message Cancellation', fields: [f('earliestImplementationTime', 'utc')] },
  ],
} as const satisfies ClusterDef;
