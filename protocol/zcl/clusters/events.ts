// Events 0x0709 (SE 1.4 §D.11): event logs; Publish Event Log kept as octets.

import type { ClusterDef } from '../schema.ts';
import { OPAQUE, f } from './fields.ts';

export const EVENTS = {
  id: 0x0709,
  name: 'Events',
  attributes: [],
  commands: [
    {
      id: 0x00,
      dir: 'client-to-server',
      name: 'Get Event Log',
      fields: [
        f('eventControlLogId', 'uint8'),
        f('eventId', 'uint16'),
        f('startTime', 'utc'),
        f('endTime', 'utc'),
        f('numberOfEvents', 'uint8'),
        f('eventOffset', 'uint16'),
      ],
    },
    { id: 0x01, dir: 'client-to-server', name: 'Clear Event Log Request', fields: [f('logId', 'uint8')] },
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Publish Event',
      fields: [
        f('logId', 'uint8'),
        f('eventId', 'uint16'),
        f('eventTime', 'utc'),
        f('eventControl', 'bitmap8'),
        f('eventData', 'octetString'),
      ],
    },
    { id: 0x01, dir: 'server-to-client', name: 'Publish Event Log', fields: OPAQUE },
    { id: 0x02, dir: 'server-to-client', name: 'Clear Event Log Response', fields: [f('clearedEventsLogs', 'bitmap8')] },
  ],
} as const satisfies ClusterDef;
