// Price 0x0700 (SE 1.4 §D.4). The requests are tabled; the long Publish commands are known by
// name and kept as octets until a suite needs them.

import type { ClusterDef, FieldDef } from '../schema.ts';
import { ATTRIBUTE_REPORTING_STATUS, OPAQUE, f } from './fields.ts';

const sinceEvent = [
  f('earliestStartTime', 'utc'),
  f('minIssuerEventId', 'uint32'),
  f('numberOfCommands', 'uint8'),
] as const satisfies readonly FieldDef[];

export const PRICE = {
  id: 0x0700,
  name: 'Price',
  attributes: [ATTRIBUTE_REPORTING_STATUS],
  commands: [
    // client → server
    { id: 0x00, dir: 'client-to-server', name: 'Get Current Price', fields: [f('commandOptions', 'bitmap8')] },
    { id: 0x01, dir: 'client-to-server', name: 'Get Scheduled Prices', fields: [f('startTime', 'utc'), f('numberOfEvents', 'uint8')] },
    {
      id: 0x02,
      dir: 'client-to-server',
      name: 'Price Acknowledgement',
      fields: [f('providerId', 'uint32'), f('issuerEventId', 'uint32'), f('priceAckTime', 'utc'), f('control', 'bitmap8')],
    },
    {
      id: 0x03,
      dir: 'client-to-server',
      name: 'Get Block Period(s)',
      fields: [f('startTime', 'utc'), f('numberOfEvents', 'uint8'), f('tariffType', 'bitmap8')],
    },
    { id: 0x04, dir: 'client-to-server', name: 'Get Conversion Factor', fields: sinceEvent },
    { id: 0x05, dir: 'client-to-server', name: 'Get Calorific Value', fields: sinceEvent },
    { id: 0x06, dir: 'client-to-server', name: 'Get Tariff Information', fields: [...sinceEvent, f('tariffType', 'bitmap8')] },
    { id: 0x07, dir: 'client-to-server', name: 'Get Price Matrix', fields: [f('issuerTariffId', 'uint32')] },
    { id: 0x08, dir: 'client-to-server', name: 'Get Block Thresholds', fields: [f('issuerTariffId', 'uint32')] },
    { id: 0x09, dir: 'client-to-server', name: 'Get CO2 Value', fields: [...sinceEvent, f('tariffType', 'bitmap8')] },
    { id: 0x0a, dir: 'client-to-server', name: 'Get Tier Labels', fields: [f('issuerTariffId', 'uint32')] },
    { id: 0x0b, dir: 'client-to-server', name: 'Get Billing Period', fields: [...sinceEvent, f('tariffType', 'bitmap8')] },
    { id: 0x0c, dir: 'client-to-server', name: 'Get Consolidated Bill', fields: [...sinceEvent, f('tariffType', 'bitmap8')] },
    { id: 0x0d, dir: 'client-to-server', name: 'CPP Event Response', fields: [f('issuerEventId', 'uint32'), f('cppAuth', 'enum8')] },
    { id: 0x0e, dir: 'client-to-server', name: 'Get Credit Payment', fields: [f('latestEndTime', 'utc'), f('numberOfRecords', 'uint8')] },
    { id: 0x0f, dir: 'client-to-server', name: 'Get Currency Conversion', fields: [] },
    { id: 0x10, dir: 'client-to-server', name: 'Get Tariff Cancellation', fields: [] },
    // server → client
    { id: 0x00, dir: 'server-to-client', name: 'Publish Price', fields: OPAQUE },
    { id: 0x01, dir: 'server-to-client', name: 'Publish Block Period', fields: OPAQUE },
    {
      id: 0x02,
      dir: 'server-to-client',
      name: 'Publish Conversion Factor',
      fields: [
        f('issuerEventId', 'uint32'),
        f('startTime', 'utc'),
        f('conversionFactor', 'uint32'),
        f('conversionFactorTrailingDigit', 'bitmap8'),
      ],
    },
    {
      id: 0x03,
      dir: 'server-to-client',
      name: 'Publish Calorific Value',
      fields: [
        f('issuerEventId', 'uint32'),
        f('startTime', 'utc'),
        f('calorificValue', 'uint32'),
        f('calorificValueUnit', 'enum8'),
        f('calorificValueTrailingDigit', 'bitmap8'),
      ],
    },
    { id: 0x04, dir: 'server-to-client', name: 'Publish Tariff Information', fields: OPAQUE },
    { id: 0x05, dir: 'server-to-client', name: 'Publish Price Matrix', fields: OPAQUE },
    { id: 0x06, dir: 'server-to-client', name: 'Publish Block Thresholds', fields: OPAQUE },
    { id: 0x07, dir: 'server-to-client', name: 'Publish CO2 Value', fields: OPAQUE },
    { id: 0x08, dir: 'server-to-client', name: 'Publish Tier Labels', fields: OPAQUE },
    { id: 0x09, dir: 'server-to-client', name: 'Publish Billing Period', fields: OPAQUE },
    { id: 0x0a, dir: 'server-to-client', name: 'Publish Consolidated Bill', fields: OPAQUE },
    { id: 0x0b, dir: 'server-to-client', name: 'Publish CPP Event', fields: OPAQUE },
    { id: 0x0c, dir: 'server-to-client', name: 'Publish Credit Payment', fields: OPAQUE },
    { id: 0x0d, dir: 'server-to-client', name: 'Publish Currency Conversion', fields: OPAQUE },
    {
      id: 0x0e,
      dir: 'server-to-client',
      name: 'Cancel Tariff',
      fields: [f('providerId', 'uint32'), f('issuerTariffId', 'uint32'), f('tariffType', 'bitmap8')],
    },
  ],
} as const satisfies ClusterDef;
