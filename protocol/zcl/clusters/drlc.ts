// Demand Response and Load Control 0x0701 (SE 1.4 §D.2): known by name; payloads as octets.

import type { ClusterDef } from '../schema.ts';
import { OPAQUE } from './fields.ts';

export const DRLC = {
  id: 0x0701,
  name: 'Demand Response and Load Control',
  attributes: [],
  commands: [
    { id: 0x00, dir: 'server-to-client', name: 'Load Control Event', fields: OPAQUE },
    { id: 0x01, dir: 'server-to-client', name: 'Cancel Load Control Event', fields: OPAQUE },
    { id: 0x02, dir: 'server-to-client', name: 'Cancel All Load Control Events', fields: OPAQUE },
    { id: 0x00, dir: 'client-to-server', name: 'Report Event Status', fields: OPAQUE },
    { id: 0x01, dir: 'client-to-server', name: 'Get Scheduled Events', fields: OPAQUE },
  ],
} as const satisfies ClusterDef;
