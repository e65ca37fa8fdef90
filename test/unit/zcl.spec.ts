// ZCL frames and the Smart Energy cluster tables: every table row round-trips, the GCS09 vector
// decodes, and the decoder survives anything.
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import fc from '../support/fast-check.ts';
import { DecodeError, EncodeError, fromHex, hex } from '../../protocol/bytes.ts';
import {
  CLUSTERS,
  GLOBAL_COMMANDS,
  decodeZcl,
  decodeZclHeader,
  encodeZcl,
  findCommand,
  getCluster,
  isOpaque,
  sampleFields,
  summariseZcl,
  tableCommands,
  zclCommandName,
  zclStatusName,
} from '../../protocol/zcl/index.ts';
import type { Direction, FieldDef, Fields, TableCommand } from '../../protocol/zcl/index.ts';
import { derivedKey } from '../../protocol/zcl/schema.ts';

const VECTORS = new URL('../../../shared/gbcs-vectors/', import.meta.url);
const loadHex = (file: string): string => readFileSync(new URL(file, VECTORS), 'utf8').trim();

/** A GBZ component's ZCL bytes: after `<cluster> <length>` in the message hex. */
function gbzZcl(file: string, cluster: string, length: number): Uint8Array {
  const h = loadHex(file);
  const marker = cluster + length.toString(16).padStart(4, '0').toUpperCase();
  const at = h.indexOf(marker);
  expect(at, `${marker} in ${file}`).toBeGreaterThan(0);
  return fromHex(h.slice(at + marker.length, at + marker.length + 2 * length));
}

// Both directions for global commands, so the engine is exercised beyond tableCommands' choice.
function everyCommand(): TableCommand[] {
  const out: TableCommand[] = tableCommands().filter((t) => t.type === 'cluster');
  for (const cl of CLUSTERS) {
    for (const command of GLOBAL_COMMANDS) {
      for (const dir of ['client-to-server', 'server-to-client'] as const) out.push({ cluster: cl.id, type: 'global', dir, command });
    }
  }
  return out;
}

function label(t: TableCommand): string {
  return `0x${t.cluster.toString(16).padStart(4, '0')} ${t.type} ${t.dir} ${t.command.name}`;
}

// Playwright's expect records a step per call: far too slow for thousands of frames, so the hot
// loops check with these and report every problem in one expect.

/** Where `actual` differs from `expected`, reading expected as a pattern (extra keys allowed). */
function mismatch(actual: unknown, expected: unknown, path = ''): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: ${show(actual)} ≠ ${show(expected)}`;
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(actual[i], expected[i], `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return `${path}: ${show(actual)} ≠ ${show(expected)}`;
    for (const [k, v] of Object.entries(expected)) {
      const m = mismatch((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
      if (m) return m;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : `${path}: ${show(actual)} ≠ ${show(expected)}`;
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
}

/** A sample as a manufacturer-specific frame decodes: its attribute ids are not the table's. */
function withoutAttributeNames(v: Fields): Fields {
  const strip = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(strip)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(
            Object.entries(x)
              .filter(([k]) => k !== 'attributeName')
              .map(([k, y]) => [k, strip(y)]),
          )
        : x;
  return strip(v) as Fields;
}

/** encode → decode → same header and fields, and encoding the decoded frame gives the same bytes. */
function roundTripProblem(
  t: TableCommand,
  fields: Fields,
  header: { seq: number; mfr?: number; ddr?: boolean } = { seq: 7 },
): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = encodeZcl(t.cluster, {
      type: t.type,
      cmd: t.command.id,
      dir: t.dir,
      seq: header.seq,
      mfr: header.mfr,
      disableDefaultResponse: header.ddr,
      fields,
    });
  } catch (e) {
    return `${label(t)}: encode ${show(fields)}: ${(e as Error).message}`;
  }
  const what = `${label(t)} ${hex(bytes)}`;
  const d = decodeZcl(bytes, t.cluster);
  if (d.error) return `${what}: ${d.error.message}`;
  const m =
    mismatch(d, { type: t.type, cmd: t.command.id, dir: t.dir, seq: header.seq, name: t.command.name }) ??
    mismatch(d.mfr, header.mfr, '.mfr') ??
    mismatch(d.disableDefaultResponse, header.ddr ? true : undefined, '.disableDefaultResponse') ??
    mismatch(d.fields, fields, '.fields');
  if (m) return `${what}: ${m}`;
  const again = hex(encodeZcl(t.cluster, d));
  return again === hex(bytes) ? undefined : `${what}: re-encoded as ${again}`;
}

test.describe('the cluster tables', () => {
  test('registry: unique cluster ids, the clusters PROTOCOL.md §7 names', () => {
    expect(new Set(CLUSTERS.map((c) => c.id)).size).toBe(CLUSTERS.length);
    for (const id of [0x0000, 0x000a, 0x0019, 0x0700, 0x0701, 0x0702, 0x0703, 0x0704, 0x0705, 0x0707, 0x0708, 0x0709, 0x0800]) {
      expect(getCluster(id), `cluster 0x${id.toString(16)}`).toBeDefined();
    }
  });

  test('rows are well formed: unique ids per direction, unique attribute ids, trailing optionals, counts before lists', () => {
    const checkFields = (where: string, fields: readonly FieldDef[]) => {
      let sawOptional = false;
      const seen: string[] = [];
      for (const f of fields) {
        if (f.optional) sawOptional = true;
        // A field after an optional one must be optional too (or the payload is ambiguous).
        else expect(sawOptional && !f.when, `${where}.${f.name} follows an optional field`).toBe(false);
        if (f.type === 'list' && f.countFrom) expect(seen, `${where}.${f.name} counts from an earlier field`).toContain(f.countFrom);
        if (f.type === 'typed') expect(seen, `${where}.${f.name} takes its type from an earlier field`).toContain(f.typeFrom);
        if (f.type === 'list' && typeof f.of !== 'string') checkFields(`${where}.${f.name}[]`, f.of);
        seen.push(f.name);
      }
      // Derived names (…Name, …Flags) must not land on a real field.
      const names = new Set(fields.map((f) => f.name));
      for (const f of fields) {
        if (f.type === 'dataType' || ('values' in f && f.values) || ('attributeId' in f && f.attributeId)) {
          expect(names.has(derivedKey(f.name, 'Name')), `${where}.${derivedKey(f.name, 'Name')}`).toBe(false);
        }
        if ('flags' in f && f.flags) expect(names.has(derivedKey(f.name, 'Flags')), `${where}.${derivedKey(f.name, 'Flags')}`).toBe(false);
      }
    };
    for (const c of [...CLUSTERS, { id: -1, name: 'global', attributes: [], commands: GLOBAL_COMMANDS }]) {
      const keys = c.commands.map((x) => `${x.dir} ${x.id}`);
      expect(new Set(keys).size, `${c.name} command ids`).toBe(keys.length);
      const names = c.commands.map((x) => `${x.dir} ${x.name.toLowerCase()}`);
      expect(new Set(names).size, `${c.name} command names`).toBe(names.length);
      const attrs = c.attributes.map((a) => a.id);
      expect(new Set(attrs).size, `${c.name} attribute ids`).toBe(attrs.length);
      for (const x of c.commands) checkFields(`${c.name}.${x.name}`, x.fields);
    }
  });

  test('the commands the rig relies on are tabled with their payloads (PROTOCOL.md §7, §8)', () => {
    const has = (cluster: number, dir: Direction, id: number, name: string) => {
      const c = findCommand(cluster, 'cluster', dir, id);
      expect(c?.name, `0x${cluster.toString(16)} ${dir} 0x${id.toString(16)}`).toBe(name);
      expect(isOpaque(c!), name).toBe(false);
    };
    const c2s = 'client-to-server',
      s2c = 'server-to-client';
    has(0x0708, s2c, 0x00, 'Publish Change of Tenancy');
    has(0x0708, c2s, 0x00, 'Get Change of Tenancy');
    has(0x0708, c2s, 0x04, 'Report Event Configuration');
    has(0x0708, s2c, 0x06, 'Update CIN');
    has(0x0703, s2c, 0x00, 'Display Message');
    has(0x0703, s2c, 0x03, 'Cancel All Messages');
    has(0x0703, c2s, 0x01, 'Message Confirmation');
    has(0x0704, c2s, 0x00, 'Request Tunnel');
    has(0x0704, s2c, 0x00, 'Request Tunnel Response');
    has(0x0704, c2s, 0x02, 'Transfer Data');
    has(0x0704, s2c, 0x01, 'Transfer Data');
    has(0x0704, s2c, 0x06, 'Tunnel Closure Notification');
    has(0x0704, s2c, 0x05, 'Supported Tunnel Protocols Response');
    has(0x0705, c2s, 0x04, 'Consumer Top Up');
    has(0x0705, s2c, 0x05, 'Publish Top Up Log');
    has(0x0705, s2c, 0x06, 'Publish Debt Log');
    has(0x0702, c2s, 0x00, 'Get Profile');
    has(0x0702, s2c, 0x00, 'Get Profile Response');
    has(0x0702, s2c, 0x06, 'Publish Snapshot');
    has(0x0019, c2s, 0x03, 'Image Block Request');
    has(0x0019, s2c, 0x07, 'Upgrade End Response');
    has(0x0800, c2s, 0x00, 'Initiate Key Establishment Request');
    has(0x0800, s2c, 0x03, 'Terminate Key Establishment');
    const metering = getCluster(0x0702)!;
    for (let id = 0x0400; id <= 0x0411; id++)
      expect(
        metering.attributes.some((a) => a.id === id),
        `metering 0x${id.toString(16)}`,
      ).toBe(true);
    const dm = getCluster(0x0708)!;
    for (const id of [0x0100, 0x0101, 0x0200, 0x0201, 0x0300]) expect(dm.attributes.some((a) => a.id === id)).toBe(true);
  });
});

test.describe('every command in every table round-trips', () => {
  for (const cl of [...CLUSTERS.map((c) => c.id)]) {
    test(`cluster 0x${cl.toString(16).padStart(4, '0')}: canonical and seeded samples`, () => {
      const rows = everyCommand().filter((t) => t.cluster === cl);
      expect(rows.length).toBeGreaterThan(0);
      const problems: string[] = [];
      for (const t of rows) {
        for (const seed of [undefined, ...Array.from({ length: 60 }, (_, i) => i + 1)]) {
          const p = roundTripProblem(t, sampleFields(t.cluster, t.command, seed));
          if (p) problems.push(`seed ${seed}: ${p}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  test('tableCommands lists every cluster command once, and globals per cluster with attributes', () => {
    const rows = tableCommands();
    const clusterRows = rows.filter((r) => r.type === 'cluster');
    expect(clusterRows.length).toBe(CLUSTERS.reduce((n, c) => n + c.commands.length, 0));
    const meteringGlobals = rows.filter((r) => r.type === 'global' && r.cluster === 0x0702);
    expect(meteringGlobals.find((r) => r.command.name === 'Read Attributes')?.dir).toBe('client-to-server');
    expect(meteringGlobals.find((r) => r.command.name === 'Read Attributes Response')?.dir).toBe('server-to-client');
    expect(meteringGlobals.find((r) => r.command.name === 'Write Attributes No Response')?.dir).toBe('client-to-server');
    expect(meteringGlobals.filter((r) => r.command.name === 'Default Response')).toHaveLength(2);
  });

  test('canonical samples are typical values: GB-HRGP tunnel request, CoT control 0x200', () => {
    const rt = findCommand(0x0704, 'cluster', 'client-to-server', 0x00)!;
    expect(sampleFields(0x0704, rt)).toEqual({
      protocolId: 6,
      protocolName: 'GB-HRGP',
      manufacturerCode: 0xffff,
      flowControlSupport: false,
      maximumIncomingTransferSize: 1500,
    });
    const bytes = encodeZcl(0x0704, { name: 'Request Tunnel', dir: 'client-to-server', seq: 1, fields: sampleFields(0x0704, rt) });
    expect(hex(bytes)).toBe('010100' + '06' + 'ffff' + '00' + 'dc05');
    const cot = findCommand(0x0708, 'cluster', 'server-to-client', 0x00)!;
    expect(sampleFields(0x0708, cot)).toMatchObject({ implementationDateTime: 0x1fc66e20, control: 0x200 });
  });
});

test.describe('the GCS09 vector (RTDS 4.5.0)', () => {
  const command = () => gbzZcl('3.2_GCS09__GCS09_3.2_SUCCESS_COMMAND_GBCS.HEX', '0708', 0x14);
  const response = () => gbzZcl('3.2_GCS09__GCS09_3.2_SUCCESS_RESPONSE_GBCS.HEX', '0708', 0x05);

  test('the command is a Publish Change of Tenancy', () => {
    const zcl = command();
    expect(hex(zcl)).toBe('090000' + '00000000' + '804a371c' + '00' + '206ec61f' + '00020000');
    const d = decodeZcl(zcl, 0x0708);
    expect(d).toEqual({
      type: 'cluster',
      cmd: 0x00,
      dir: 'server-to-client',
      seq: 0,
      name: 'Publish Change of Tenancy',
      fields: {
        providerId: 0,
        issuerEventId: 0x1c374a80,
        tariffType: 0,
        implementationDateTime: 0x1fc66e20,
        control: 0x00000200,
        controlFlags: ['clear IHD data (consumer)'],
      },
    });
    expect(summariseZcl(0x0708, d)).toBe(
      'ZCL 0x0708 Publish Change of Tenancy, implementation 2016-11-22T02:46:56Z, control 0x00000200 (clear IHD data (consumer))',
    );
    expect(summariseZcl(0x0708, d, '0x1234')).toBe(
      'ZCL 0x0708 Publish Change of Tenancy → 0x1234, implementation 2016-11-22T02:46:56Z, control 0x00000200 (clear IHD data (consumer))',
    );
    // Built from the table by name, the same 20 bytes.
    const built = encodeZcl(0x0708, {
      name: 'Publish Change of Tenancy',
      dir: 'server-to-client',
      seq: 0,
      fields: { providerId: 0, issuerEventId: 0x1c374a80, tariffType: 0, implementationDateTime: 0x1fc66e20, control: 0x200 },
    });
    expect(hex(built)).toBe(hex(zcl));
  });

  test('the response is a Default Response: command 0x00, Success', () => {
    const d = decodeZcl(response(), 0x0708);
    expect(d).toEqual({
      type: 'global',
      cmd: 0x0b,
      dir: 'client-to-server',
      seq: 0,
      name: 'Default Response',
      fields: { commandId: 0x00, status: 0x00, statusName: 'Success' },
    });
    expect(summariseZcl(0x0708, d)).toBe('ZCL 0x0708 Default Response to 0x00, Success');
    expect(hex(encodeZcl(0x0708, d))).toBe('00000b0000');
  });

  test('tenancy control bits are named little-endian, the contactor state as a sub-field', () => {
    const fields = { providerId: 1, issuerEventId: 2, tariffType: 0, implementationDateTime: 3, control: 0x1a00 | 0x1 | 0x4000 };
    const bytes = encodeZcl(0x0708, { name: 'Publish Change of Tenancy', dir: 'server-to-client', seq: 1, fields });
    expect(hex(bytes.subarray(-4))).toBe('015a0000');
    expect(decodeZcl(bytes, 0x0708).fields!.controlFlags).toEqual([
      'pre-snapshots',
      'clear IHD data (consumer)',
      'meter contactor state: unchanged',
      'clear prepayment data',
    ]);
  });
});

test.describe('headers, names and errors', () => {
  test('frame control bits: type, manufacturer code, direction, disable default response', () => {
    expect(decodeZclHeader(fromHex('1d3412070b'))).toEqual({
      type: 'cluster',
      dir: 'server-to-client',
      mfr: 0x1234,
      disableDefaultResponse: true,
      seq: 7,
      cmd: 0x0b,
      length: 5,
    });
    const h = decodeZclHeader(fromHex('100102'));
    expect(h).toEqual({ type: 'global', dir: 'client-to-server', disableDefaultResponse: true, seq: 1, cmd: 2, length: 3 });
    expect(
      hex(encodeZcl(0x0702, { type: 'global', cmd: 0x00, dir: 'client-to-server', mfr: 0x1234, seq: 9, fields: { attributes: [0] } })),
    ).toBe('04341209000000');
    // A manufacturer-specific global command is still the global command.
    expect(decodeZcl(fromHex('0434120900' + '0000'), 0x0702)).toMatchObject({
      name: 'Read Attributes',
      mfr: 0x1234,
      fields: { attributes: [0] },
    });
    // …whose attribute ids are the manufacturer's: not named from the standard table.
    const mfrReport = decodeZcl(fromHex('1c3412010a' + '0000' + '20' + '05'), 0x0702);
    expect(mfrReport.fields).toEqual({ records: [{ attributeId: 0, dataType: 0x20, dataTypeName: 'uint8', value: 5 }] });
    expect(decodeZcl(fromHex('18010a' + '0000' + '20' + '05'), 0x0702).fields!.records).toMatchObject([
      { attributeName: 'Current Summation Delivered' },
    ]);
  });

  test('a truncated or reserved header is a DecodeError at its frame offset', () => {
    expect(() => decodeZcl(fromHex(''), 0x0708, 30)).toThrow(/ZCL frame control at offset 30/);
    expect(() => decodeZcl(fromHex('0900'), 0x0708, 30)).toThrow(/ZCL command id at offset 32/);
    expect(() => decodeZcl(fromHex('0534'), 0x0708, 30)).toThrow(/ZCL manufacturer code at offset 31/);
    expect(() => decodeZcl(fromHex('020000'), 0x0708, 30)).toThrow(/reserved frame type 2/);
    expect(() => decodeZcl(fromHex('020000'), 0x0708)).toThrow(DecodeError);
  });

  test('a truncated payload keeps the title and the fields read so far, with the error offset', () => {
    const full = encodeZcl(0x0708, {
      name: 'Publish Change of Tenancy',
      dir: 'server-to-client',
      seq: 3,
      fields: { providerId: 1, issuerEventId: 2, tariffType: 0, implementationDateTime: 3, control: 0x200 },
    });
    const d = decodeZcl(full.subarray(0, 14), 0x0708, 100);
    expect(d).toMatchObject({ name: 'Publish Change of Tenancy', seq: 3, fields: { providerId: 1, issuerEventId: 2, tariffType: 0 } });
    expect(d.error).toEqual({ offset: 112, message: 'implementationDateTime at offset 112: needs 4 bytes, 2 left' });
    expect(summariseZcl(0x0708, d)).toBe('ZCL 0x0708 Publish Change of Tenancy');
    // Inside a list of records: the field path names the record.
    const ra = decodeZcl(fromHex('1801010000' + '00' + '2501'), 0x0702);
    expect(ra.error?.message).toBe('records[0].value at offset 7: needs 6 bytes, 1 left');
    // An unknown data type in an attribute record: the type octet's offset.
    const bad = decodeZcl(fromHex('18010a' + '0000' + '77' + '01'), 0x0702, 10);
    expect(bad.error).toEqual({ offset: 15, message: 'records[0].dataType at offset 15: unknown ZCL data type 0x77' });
  });

  test('bytes after the last field are kept as `trailing` and written back', () => {
    const d = decodeZcl(fromHex('0907060100' + 'beef'), 0x0704);
    expect(d.fields).toEqual({ tunnelId: 1, trailing: 'beef' });
    expect(hex(encodeZcl(0x0704, d))).toBe('0907060100beef');
  });

  test('names: table names, Wireshark spellings accepted, unknown and manufacturer-specific commands', () => {
    expect(zclCommandName(0x0704, 'cluster', 'client-to-server', 0x02)).toBe('Transfer Data');
    expect(zclCommandName(0x0704, 'cluster', 'server-to-client', 0x01)).toBe('Transfer Data');
    expect(zclCommandName(0x0704, 'cluster', 'server-to-client', 0x7f)).toBe('Unknown Command 0x7f');
    expect(zclCommandName(0x0704, 'cluster', 'server-to-client', 0x01, 0x1234)).toBe('Manufacturer Specific Command 0x01');
    expect(zclCommandName(0xfc00, 'global', 'server-to-client', 0x0b)).toBe('Default Response');
    expect(zclCommandName(0xfc00, 'cluster', 'server-to-client', 0x00)).toBe('Unknown Command 0x00');
    expect(zclStatusName(0x86)).toBe('Unsupported Attribute');
    expect(zclStatusName(0x7e)).toBe('Not Authorized');
    expect(zclStatusName(0x55)).toBe('Reserved 0x55');

    const unknown = decodeZcl(fromHex('09017f0102'), 0x0704);
    expect(unknown).toEqual({ type: 'cluster', cmd: 0x7f, dir: 'server-to-client', seq: 1, name: 'Unknown Command 0x7f' });
    const mfr = decodeZcl(fromHex('0d3412010001'), 0x0704);
    expect(mfr).toEqual({
      type: 'cluster',
      cmd: 0x00,
      dir: 'server-to-client',
      mfr: 0x1234,
      seq: 1,
      name: 'Manufacturer Specific Command 0x00',
    });
    expect(
      hex(encodeZcl(0x0704, { type: 'cluster', cmd: 0x00, dir: 'server-to-client', mfr: 0x1234, seq: 1, payload: fromHex('01') })),
    ).toBe('0d3412010001');

    const byWireshark = encodeZcl(0x0708, { name: 'get change of tenancy', dir: 'client-to-server', seq: 2 });
    expect(hex(byWireshark)).toBe('010200');
    expect(hex(encodeZcl(0x0708, { name: 'Get Change Of Tenancy', dir: 'client-to-server', seq: 2 }))).toBe('010200');
  });

  test('encode errors name what is wrong', () => {
    expect(() => encodeZcl(0x0708, { name: 'Publish Change of Tenancy', dir: 'client-to-server', seq: 0 })).toThrow(
      /no client-to-server command "Publish Change of Tenancy"/,
    );
    expect(() => encodeZcl(0x0708, { name: 'Publish Change of Tenancy', cmd: 1, dir: 'server-to-client', seq: 0 })).toThrow(EncodeError);
    expect(() =>
      encodeZcl(0x0708, { name: 'Publish Change of Tenancy', dir: 'server-to-client', seq: 0, fields: { providerId: 1 } }),
    ).toThrow(/issuerEventId: missing/);
    expect(() =>
      encodeZcl(0x0708, {
        name: 'Publish Change of Tenancy',
        dir: 'server-to-client',
        seq: 0,
        fields: { providerId: -1, issuerEventId: 0, tariffType: 0, implementationDateTime: 0, control: 0 },
      }),
    ).toThrow(/providerId/);
    expect(() => encodeZcl(0x0704, { type: 'cluster', cmd: 0x7f, dir: 'server-to-client', seq: 0, fields: { a: 1 } })).toThrow(
      /give a payload/,
    );
    expect(() =>
      encodeZcl(0x0702, {
        name: 'Get Profile Response',
        dir: 'server-to-client',
        seq: 0,
        fields: { endTime: 0, status: 0, profileIntervalPeriod: 0, numberOfPeriodsDelivered: 2, intervals: [1] },
      }),
    ).toThrow(/intervals: has 1 items but numberOfPeriodsDelivered says 2/);
    expect(() =>
      encodeZcl(0x0703, {
        name: 'Message Confirmation',
        dir: 'client-to-server',
        seq: 0,
        fields: { messageId: 1, confirmationTime: 0, messageResponse: '00' },
      }),
    ).toThrow(/cannot follow the omitted optional field/);
    expect(() =>
      encodeZcl(0x0800, {
        name: 'Confirm Key Data Request',
        dir: 'client-to-server',
        seq: 0,
        fields: { secureMessageAuthenticationCode: '00' },
      }),
    ).toThrow(/needs 16 bytes/);
  });
});

test.describe('global commands', () => {
  test('Read Attributes and its response name the attributes; failures carry no value', () => {
    const req = encodeZcl(0x0000, { name: 'Read Attributes', dir: 'client-to-server', seq: 1, fields: { attributes: [0x0004, 0x0005] } });
    expect(hex(req)).toBe('00010004000500');
    expect(summariseZcl(0x0000, decodeZcl(req, 0x0000))).toBe('ZCL 0x0000 Read Attributes [0x0004, 0x0005]');

    const rsp = fromHex('1801' + '01' + '0400' + '00' + '42' + '03' + '474252' + '0500' + '86');
    const d = decodeZcl(rsp, 0x0000);
    expect(d.fields).toEqual({
      records: [
        {
          attributeId: 4,
          attributeName: 'Manufacturer Name',
          status: 0,
          statusName: 'Success',
          dataType: 0x42,
          dataTypeName: 'charString',
          value: 'GBR',
        },
        { attributeId: 5, attributeName: 'Model Identifier', status: 0x86, statusName: 'Unsupported Attribute' },
      ],
    });
    expect(summariseZcl(0x0000, d)).toBe('ZCL 0x0000 Read Attributes Response [0x0004="GBR", 0x0005 Unsupported Attribute]');
    expect(hex(encodeZcl(0x0000, d))).toBe(hex(rsp));

    const hist = decodeZcl(fromHex('18020a' + '0104' + '22' + '102700' + '0004' + '2a' + 'f6ffff'), 0x0702);
    expect(hist.fields!.records).toEqual([
      { attributeId: 0x0401, attributeName: 'Current Day Consumption Delivered', dataType: 0x22, dataTypeName: 'uint24', value: 10000 },
      { attributeId: 0x0400, attributeName: 'Instantaneous Demand', dataType: 0x2a, dataTypeName: 'int24', value: -10 },
    ]);

    // A UTC attribute (type 0xe2) reads as a time in the summary; 0xffffffff as ZCL's invalid time.
    const topUps = decodeZcl(
      fromHex('180301' + '0001' + '00' + 'e2' + '7c1ee930' + '1001' + '00' + 'e2' + 'ffffffff' + '0101' + '00' + '2b' + 'd0070000'),
      0x0705,
    );
    expect(summariseZcl(0x0705, topUps)).toBe(
      'ZCL 0x0705 Read Attributes Response [0x0100=2026-01-01T12:01:00Z, 0x0110=invalid, 0x0101=2000]',
    );
  });

  test('Write Attributes Response and Configure Reporting Response: the lone Success octet', () => {
    expect(decodeZcl(fromHex('180104' + '00'), 0x0702).fields).toEqual({ records: [{ status: 0, statusName: 'Success' }] });
    const failed = decodeZcl(fromHex('180104' + '88' + '0000' + '86' + '0100'), 0x0702);
    expect(failed.fields!.records).toMatchObject([
      { status: 0x88, attributeId: 0 },
      { status: 0x86, attributeId: 1 },
    ]);
    expect(summariseZcl(0x0702, failed)).toBe('ZCL 0x0702 Write Attributes Response [0x0000 Read Only, 0x0001 Unsupported Attribute]');
    const ok = decodeZcl(fromHex('180107' + '00'), 0x0702);
    expect(ok.fields).toEqual({ records: [{ status: 0, statusName: 'Success' }] });
    expect(summariseZcl(0x0702, ok)).toBe('ZCL 0x0702 Configure Reporting Response, Success');
    expect(decodeZcl(fromHex('180107' + '8c' + '00' + '0004'), 0x0702).fields!.records).toMatchObject([
      { status: 0x8c, direction: 0, attributeId: 0x0400 },
    ]);
  });

  test('Configure Reporting: analog types carry a reportable change, discrete ones do not, received ones a timeout', () => {
    const fields = {
      records: [
        { direction: 0, attributeId: 0x0400, dataType: 0x2a, minimumInterval: 1, maximumInterval: 60, reportableChange: 10 },
        { direction: 0, attributeId: 0x0200, dataType: 0x18, minimumInterval: 0, maximumInterval: 300 },
        { direction: 1, attributeId: 0x0000, timeout: 600 },
      ],
    };
    const b = encodeZcl(0x0702, { name: 'Configure Reporting', dir: 'client-to-server', seq: 4, fields });
    expect(hex(b)).toBe(
      '000406' + '00' + '0004' + '2a' + '0100' + '3c00' + '0a0000' + '00' + '0002' + '18' + '0000' + '2c01' + '01' + '0000' + '5802',
    );
    expect(decodeZcl(b, 0x0702).fields).toMatchObject(fields);
  });
});

test.describe('summaries', () => {
  test('one line per command, with the facts a reader wants', () => {
    const s = (cluster: number, name: string, dir: Direction, fields: Fields) =>
      summariseZcl(cluster, decodeZcl(encodeZcl(cluster, { name, dir, seq: 1, fields }), cluster));
    expect(s(0x0704, 'Transfer Data', 'client-to-server', { tunnelId: 3, data: '03dd00' })).toBe(
      'ZCL 0x0704 Transfer Data, tunnel 3, 3 bytes',
    );
    expect(
      s(0x0704, 'Request Tunnel', 'client-to-server', {
        protocolId: 6,
        manufacturerCode: 0xffff,
        flowControlSupport: false,
        maximumIncomingTransferSize: 1500,
      }),
    ).toBe('ZCL 0x0704 Request Tunnel, protocol GB-HRGP');
    expect(
      s(0x0703, 'Display Message', 'server-to-client', {
        messageId: 9,
        messageControl: 0x08,
        startTime: 0,
        durationInMinutes: 0xffff,
        message: 'Hello',
      }),
    ).toBe('ZCL 0x0703 Display Message, id 9, "Hello"');
    expect(s(0x0708, 'Get Change of Tenancy', 'client-to-server', {})).toBe('ZCL 0x0708 Get Change of Tenancy');
    expect(
      s(0x0705, 'Publish Top Up Log', 'server-to-client', {
        commandIndex: 0,
        totalNumberOfCommands: 1,
        topUps: [{ topUpCode: '01', topUpAmount: 500, topUpTime: 0 }],
      }),
    ).toBe('ZCL 0x0705 Publish Top Up Log, 1 top-ups (command 1/1)');
    // A summary never throws, whatever the fields.
    expect(
      summariseZcl(0x0708, { type: 'cluster', cmd: 0, dir: 'server-to-client', seq: 0, name: 'Publish Change of Tenancy', fields: {} }),
    ).toContain('Publish Change of Tenancy');
  });
});

test.describe('properties', () => {
  const clusterIds = [...CLUSTERS.map((c) => c.id), 0xfc00];

  test('decodeZcl on random bytes throws nothing but a header DecodeError, and every offset is inside the frame', () => {
    fc.assert(
      fc.property(fc.constantFrom(...clusterIds), fc.uint8Array({ maxLength: 64 }), fc.nat(200), (cluster, bytes, base) => {
        const inside = (offset: number, from: number) => offset >= from && offset <= base + bytes.length;
        let d: ReturnType<typeof decodeZcl>;
        try {
          d = decodeZcl(bytes, cluster, base);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw new Error(`not a DecodeError: ${String(e)}`);
          if (!inside(e.offset, base)) throw new Error(`offset ${e.offset} outside the frame: ${e.message}`);
          return;
        }
        if (d.error && !inside(d.error.offset, base + 3))
          throw new Error(`offset ${d.error.offset} outside the payload: ${d.error.message}`);
        if (typeof summariseZcl(cluster, d) !== 'string') throw new Error('no summary');
      }),
      { numRuns: 20000 },
    );
  });

  test('random payloads behind valid headers of tabled commands: decoded or an error, and what decodes re-encodes', () => {
    const rows = everyCommand();
    fc.assert(
      fc.property(fc.nat(rows.length - 1), fc.uint8Array({ maxLength: 48 }), (i, payload) => {
        const t = rows[i];
        const bytes = encodeZcl(t.cluster, { type: t.type, cmd: t.command.id, dir: t.dir, seq: 1, payload });
        const d = decodeZcl(bytes, t.cluster);
        if (d.name !== t.command.name) throw new Error(`${label(t)} named ${d.name}`);
        if (!d.error && hex(encodeZcl(t.cluster, d)) !== hex(bytes)) throw new Error(`${label(t)} ${hex(bytes)} re-encoded differently`);
      }),
      { numRuns: 20000 },
    );
  });

  test('encode∘decode is the identity on frames generated from the tables', () => {
    const rows = everyCommand();
    fc.assert(
      fc.property(
        fc.nat(rows.length - 1),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.nat(255),
        fc.option(fc.nat(0xffff), { nil: undefined }),
        fc.boolean(),
        (i, seed, seq, mfr, ddr) => {
          const t = rows[i];
          // A manufacturer code makes a cluster command the manufacturer's: only globals keep their row.
          const m = t.type === 'global' ? mfr : undefined;
          const fields = sampleFields(t.cluster, t.command, seed);
          const p = roundTripProblem(t, m === undefined ? fields : withoutAttributeNames(fields), { seq, mfr: m, ddr });
          if (p) throw new Error(p);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
