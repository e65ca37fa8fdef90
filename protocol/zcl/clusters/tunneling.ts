// Tunneling 0x0704 (SE 1.4 §D.6): GBCS messages between the CHF and HAN devices (GBCS 7.2).

import type { ClusterDef } from '../schema.ts';
import { ATTRIBUTE_REPORTING_STATUS, f } from './fields.ts';

/** Protocol ids, as tshark 4.0 names them; GBCS's 6 is spelled GB-HRGP there. */
export const TUNNEL_PROTOCOLS: Readonly<Record<number, string>> = {
  0: 'DLMS/COSEM (IEC 62056)',
  1: 'IEC 61107',
  2: 'ANSI C12',
  3: 'M-BUS',
  4: 'SML',
  5: 'ClimateTalk',
  6: 'GB-HRGP',
  7: 'IPv6',
  8: 'IPv4',
  9: 'null',
  199: 'test',
  200: 'Manufacturer Specific',
};

export const TUNNEL_STATUS: Readonly<Record<number, string>> = {
  0: 'Success',
  1: 'Busy',
  2: 'No More Tunnel IDs',
  3: 'Protocol Not Supported',
  4: 'Flow Control Not Supported',
};

export const TRANSFER_DATA_STATUS: Readonly<Record<number, string>> = {
  0: 'No Such Tunnel',
  1: 'Wrong Device',
  2: 'Data Overflow',
};

// For GB-HRGP tunnels the data opens with GBCS's tunnel command (01 GET, 02 n GET-RESPONSE,
// 03 PUT + message), which tshark 4.0 decodes as "GBCS Tunnel"; the table keeps data whole.
// Seeded samples stay clear of 01–03 and of GBCS envelopes (DD, DF): tshark re-titles those
// frames "GBCS …", and a sample's frame should read as Transfer Data.
const transferData = [
  f('tunnelId', 'uint16'),
  { name: 'data', type: 'bytes', sample: '01', samples: ['04', '7f00', '10203040', 'a5'.repeat(40), '00', 'ff'.repeat(8)] } as const,
];
const dataSummary = (x: Record<string, unknown>) => `, tunnel ${x.tunnelId}, ${(x.data as string).length / 2} bytes`;

export const TUNNELING = {
  id: 0x0704,
  name: 'Tunneling',
  attributes: [{ id: 0x0000, name: 'Close Tunnel Timeout', type: 'uint16' }, ATTRIBUTE_REPORTING_STATUS],
  commands: [
    {
      id: 0x00,
      dir: 'client-to-server',
      name: 'Request Tunnel',
      fields: [
        // GBCS 7.2: protocol 6, manufacturer 0xFFFF, no flow control, 1500 bytes.
        f('protocolId', 'enum8', { values: TUNNEL_PROTOCOLS, sample: 6 }),
        f('manufacturerCode', 'uint16', { sample: 0xffff }),
        f('flowControlSupport', 'bool', { sample: false }),
        f('maximumIncomingTransferSize', 'uint16', { sample: 1500 }),
      ],
      summary: (x) => `, protocol ${x.protocolName ?? x.protocolId}`,
    },
    {
      id: 0x01,
      dir: 'client-to-server',
      name: 'Close Tunnel',
      fields: [f('tunnelId', 'uint16')],
      summary: (x) => `, tunnel ${x.tunnelId}`,
    },
    { id: 0x02, dir: 'client-to-server', name: 'Transfer Data', fields: transferData, summary: dataSummary },
    {
      id: 0x03,
      dir: 'client-to-server',
      name: 'Transfer Data Error',
      fields: [f('tunnelId', 'uint16'), f('transferDataStatus', 'uint8', { values: TRANSFER_DATA_STATUS })],
      summary: (x) => `, tunnel ${x.tunnelId}, ${x.transferDataStatusName ?? x.transferDataStatus}`,
    },
    { id: 0x04, dir: 'client-to-server', name: 'Ack Transfer Data', fields: [f('tunnelId', 'uint16'), f('numberOfBytesLeft', 'uint16')] },
    { id: 0x05, dir: 'client-to-server', name: 'Ready Data', fields: [f('tunnelId', 'uint16'), f('numberOfOctetsLeft', 'uint16')] },
    { id: 0x06, dir: 'client-to-server', name: 'Get Supported Tunnel Protocols', fields: [f('protocolOffset', 'uint8')] },
    {
      id: 0x00,
      dir: 'server-to-client',
      name: 'Request Tunnel Response',
      fields: [f('tunnelId', 'uint16'), f('tunnelStatus', 'uint8', { values: TUNNEL_STATUS }), f('maximumIncomingTransferSize', 'uint16')],
      summary: (x) => `, tunnel ${x.tunnelId}, ${x.tunnelStatusName ?? x.tunnelStatus}`,
    },
    { id: 0x01, dir: 'server-to-client', name: 'Transfer Data', fields: transferData, summary: dataSummary },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Transfer Data Error',
      fields: [f('tunnelId', 'uint16'), f('transferDataStatus', 'uint8', { values: TRANSFER_DATA_STATUS })],
      summary: (x) => `, tunnel ${x.tunnelId}, ${x.transferDataStatusName ?? x.transferDataStatus}`,
    },
    { id: 0x03, dir: 'server-to-client', name: 'Ack Transfer Data', fields: [f('tunnelId', 'uint16'), f('numberOfBytesLeft', 'uint16')] },
    { id: 0x04, dir: 'server-to-client', name: 'Ready Data', fields: [f('tunnelId', 'uint16'), f('numberOfOctetsLeft', 'uint16')] },
    {
      id: 0x05,
      dir: 'server-to-client',
      name: 'Supported Tunnel Protocols Response',
      fields: [
        f('protocolListComplete', 'bool'),
        f('protocolCount', 'uint8'),
        {
          name: 'protocols',
          type: 'list',
          countFrom: 'protocolCount',
          of: [f('manufacturerCode', 'uint16'), f('protocolId', 'enum8', { values: TUNNEL_PROTOCOLS })],
        },
      ],
    },
    {
      id: 0x06,
      dir: 'server-to-client',
      name: 'Tunnel Closure Notification',
      fields: [f('tunnelId', 'uint16')],
      summary: (x) => `, tunnel ${x.tunnelId}`,
    },
  ],
} as const satisfies ClusterDef;
