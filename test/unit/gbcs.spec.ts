import { readFileSync, readdirSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import fc from '../support/fast-check.ts';
import { DecodeError, EncodeError, Reader, fromHex, hex } from '../../protocol/bytes.ts';
import {
  buildGbcs,
  derLength,
  dlmsDateTimeIso,
  gbcsBuildInput,
  gbcsTitle,
  parseGbcs,
  readDerLength,
  recogniseGbcs,
  GBCS_ALERTS,
  GBCS_USE_CASES,
} from '../../protocol/gbcs.ts';
import type { GbcsBuildInput, GbcsPayloadKind } from '../../protocol/gbcs.ts';

// The RTDS vectors live beside the repo (shared/ next to main/), as in CI.
const VECTORS = new URL('../../../shared/gbcs-vectors/', import.meta.url);
const load = (file: string): Uint8Array => fromHex(readFileSync(new URL(file, VECTORS), 'utf8'));

const ACB = '90:b3:d5:1f:30:00:00:02';
const SUPPLIER = '90:b3:d5:1f:30:01:00:00';
const ESME = '00:db:12:34:56:78:90:a0';
const CHF = '00:db:12:34:56:78:90:a2';
const GPF = '00:db:12:34:56:78:90:a3';

interface Row {
  bytes: number;
  cra: 'command' | 'response' | 'alert';
  from: string;
  to: string;
  counter: bigint;
  mc: number;
  /** Supplementary remote party and its counter, when other-information is 18 bytes. */
  supp?: [string, bigint];
  kind: GbcsPayloadKind;
}

// The README table, one row per file (every vector: DD-wrapped, no date-time, signature length 0).
const TABLE: Record<string, Row> = {
  '8.11_CCS01__CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX': {
    bytes: 154,
    cra: 'command',
    from: ACB,
    to: CHF,
    counter: 0x516n,
    mc: 0x0001,
    supp: [SUPPLIER, 0x3ean],
    kind: 'dlms-access-request',
  },
  '8.11_CCS01__CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX': {
    bytes: 94,
    cra: 'response',
    from: CHF,
    to: ACB,
    counter: 0x516n,
    mc: 0x0001,
    supp: [SUPPLIER, 0x3ean],
    kind: 'dlms-access-response',
  },
  '8.11_CCS01__CCS01_8.11_ERROR_COMMAND_GBCS.HEX': {
    bytes: 154,
    cra: 'command',
    from: ACB,
    to: CHF,
    counter: 0x517n,
    mc: 0x0001,
    supp: [SUPPLIER, 0x3ebn],
    kind: 'dlms-access-request',
  },
  '8.11_CCS01__CCS01_8.11_ERROR_RESPONSE_GBCS.HEX': {
    bytes: 94,
    cra: 'response',
    from: CHF,
    to: ACB,
    counter: 0x517n,
    mc: 0x0001,
    supp: [SUPPLIER, 0x3ebn],
    kind: 'dlms-access-response',
  },
  '8.11_CCS02__CCS02_8.11_SUCCESS_COMMAND_GBCS.HEX': {
    bytes: 104,
    cra: 'command',
    from: ACB,
    to: CHF,
    counter: 0x516n,
    mc: 0x0002,
    supp: [SUPPLIER, 0x3ean],
    kind: 'dlms-access-request',
  },
  '8.11_CCS02__CCS02_8.11_SUCCESS_RESPONSE_GBCS.HEX': {
    bytes: 88,
    cra: 'response',
    from: CHF,
    to: ACB,
    counter: 0x516n,
    mc: 0x0002,
    supp: [SUPPLIER, 0x3ean],
    kind: 'dlms-access-response',
  },
  '8.11_CCS02__CCS02_8.11_ERROR_COMMAND_GBCS.HEX': {
    bytes: 104,
    cra: 'command',
    from: ACB,
    to: CHF,
    counter: 0x517n,
    mc: 0x0002,
    supp: [SUPPLIER, 0x3ebn],
    kind: 'dlms-access-request',
  },
  '8.11_CCS02__CCS02_8.11_ERROR_RESPONSE_GBCS.HEX': {
    bytes: 88,
    cra: 'response',
    from: CHF,
    to: ACB,
    counter: 0x517n,
    mc: 0x0002,
    supp: [SUPPLIER, 0x3ebn],
    kind: 'dlms-access-response',
  },
  '3.2_ECS12__ECS12_3.2_SUCCESS_COMMAND_GBCS.HEX': {
    bytes: 92,
    cra: 'command',
    from: SUPPLIER,
    to: ESME,
    counter: 0x3e8n,
    mc: 0x0022,
    kind: 'dlms-access-request',
  },
  '3.2_ECS12__ECS12_3.2_SUCCESS_RESPONSE_GBCS.HEX': {
    bytes: 72,
    cra: 'response',
    from: ESME,
    to: SUPPLIER,
    counter: 0x3e8n,
    mc: 0x0022,
    kind: 'dlms-access-response',
  },
  '3.2_ECS12__ECS12_3.2_ERROR_COMMAND_GBCS.HEX': {
    bytes: 92,
    cra: 'command',
    from: SUPPLIER,
    to: ESME,
    counter: 0x3ean,
    mc: 0x0022,
    kind: 'dlms-access-request',
  },
  '3.2_ECS12__ECS12_3.2_ERROR_RESPONSE_GBCS.HEX': {
    bytes: 72,
    cra: 'response',
    from: ESME,
    to: SUPPLIER,
    counter: 0x3ean,
    mc: 0x0022,
    kind: 'dlms-access-response',
  },
  '3.2_GCS09__GCS09_3.2_SUCCESS_COMMAND_GBCS.HEX': {
    bytes: 88,
    cra: 'command',
    from: SUPPLIER,
    to: GPF,
    counter: 0x3e8n,
    mc: 0x0072,
    kind: 'gbz',
  },
  '3.2_GCS09__GCS09_3.2_SUCCESS_RESPONSE_GBCS.HEX': {
    bytes: 73,
    cra: 'response',
    from: GPF,
    to: SUPPLIER,
    counter: 0x3e8n,
    mc: 0x0072,
    kind: 'gbz',
  },
  'NA_CS14__CS14_NA_8F12_ALERT_GBCS.HEX': {
    bytes: 174,
    cra: 'alert',
    from: CHF,
    to: ACB,
    counter: 0xfa0n,
    mc: 0x0018,
    kind: 'dlms-data-notification',
  },
};
const FILES = Object.keys(TABLE);

/** Where DF sits in a DD message: after DD, 6 empty fields, a 1- or 2-byte length and the 5-byte security header. */
const groupingStart = (b: Uint8Array): number => (b[7] === 0x81 ? 14 : 13);

test('the vector directory holds exactly the files of the README table', () => {
  const onDisk = readdirSync(VECTORS)
    .filter((f) => f.endsWith('.HEX'))
    .sort();
  expect(onDisk).toEqual([...FILES].sort());
});

for (const [file, row] of Object.entries(TABLE)) {
  test(`parses ${file} as its README row says`, () => {
    const bytes = load(file);
    expect(bytes.length).toBe(row.bytes);
    const m = parseGbcs(bytes);
    expect(m.envelope).toBe('general-ciphering');
    expect(m.cra).toBe(row.cra);
    expect(m.counter).toBe(row.counter);
    expect(m.originator).toBe(row.from);
    expect(m.recipient).toBe(row.to);
    expect(m.messageCode).toBe(row.mc);
    expect(m.dateTime).toBeUndefined();
    expect(m.signature.length).toBe(0);
    expect(m.mac?.length).toBe(12);
    expect(m.payloadKind).toBe(row.kind);
    expect(m.payloadOffset + m.payload.length + 1 + 12).toBe(bytes.length);
    if (row.supp) {
      expect(m.otherInfoExtra.length).toBe(16);
      expect(m.supplementary).toEqual({ remoteParty: row.supp[0], remotePartyCounter: row.supp[1] });
    } else {
      expect(m.otherInfoExtra.length).toBe(0);
      expect(m.supplementary).toBeUndefined();
    }

    const d = recogniseGbcs(bytes);
    expect(d).toMatchObject({
      envelope: 'general-ciphering',
      cra: row.cra,
      messageCode: row.mc,
      useCase: GBCS_USE_CASES[row.mc].name,
      title: GBCS_USE_CASES[row.mc].title,
      originator: row.from,
      recipient: row.to,
      originatorCounter: row.counter.toString(),
    });
  });

  test(`re-encodes ${file} byte for byte`, () => {
    const bytes = load(file);
    const m = parseGbcs(bytes);
    expect(hex(buildGbcs(gbcsBuildInput(m)))).toBe(hex(bytes));
    // The bare grouping header is the DD message without its MAC header and MAC.
    const signing = buildGbcs({ ...gbcsBuildInput(m), envelope: 'general-signing', mac: undefined });
    expect(hex(signing)).toBe(hex(bytes.subarray(groupingStart(bytes), bytes.length - 12)));
    const again = parseGbcs(signing);
    expect(again.envelope).toBe('general-signing');
    expect(again.mac).toBeUndefined();
    expect({ ...again, envelope: m.envelope, mac: m.mac, payloadOffset: m.payloadOffset, gbz: undefined }).toEqual({
      ...m,
      gbz: undefined,
    });
  });
}

test('CCS01 is built from structured supplementary fields, and titled', () => {
  const bytes = load('8.11_CCS01__CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX');
  const m = parseGbcs(bytes);
  const input: GbcsBuildInput = {
    envelope: 'general-ciphering',
    cra: 'command',
    counter: 1302,
    originator: ACB,
    recipient: CHF,
    messageCode: 0x0001,
    otherInfoExtra: { remoteParty: SUPPLIER, remotePartyCounter: 0x3ean },
    payload: m.payload,
    mac: m.mac,
  };
  expect(hex(buildGbcs(input))).toBe(hex(bytes));
  expect(m.payload.length).toBe(77);
  expect(gbcsTitle(recogniseGbcs(bytes)!)).toBe(
    'GBCS CCS01 Add Device to CHF Device Log (command) 90:b3:d5:1f:30:00:00:02 → 00:db:12:34:56:78:90:a2 #1302',
  );
  // Without a MAC the bench gets a zero placeholder; the rig holds no keys.
  const unsigned = buildGbcs({ ...input, mac: undefined });
  expect(hex(unsigned.subarray(-12))).toBe('00'.repeat(12));
  expect(hex(unsigned.subarray(0, -12))).toBe(hex(bytes.subarray(0, -12)));
});

test('the CS14 alert carries alert code 0x8F12 CHF Device Log Changed', () => {
  const bytes = load('NA_CS14__CS14_NA_8F12_ALERT_GBCS.HEX');
  expect(parseGbcs(bytes).alertCode).toBe(0x8f12);
  const d = recogniseGbcs(bytes)!;
  expect(d.alertCode).toBe(0x8f12);
  expect(d.alert).toBe('CHF Device Log Changed');
  expect(d.alert).toBe(GBCS_ALERTS[0x8f12]);
  expect(gbcsTitle(d)).toBe(
    'GBCS CS14 Device Addition to / Removal from HAN Whitelist Alerts (alert) 00:db:12:34:56:78:90:a2 → 90:b3:d5:1f:30:00:00:02 #4000 alert 0x8f12 CHF Device Log Changed',
  );
  // Commands and responses carry no alert code.
  expect(recogniseGbcs(load('8.11_CCS01__CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX'))!.alertCode).toBeUndefined();
});

test('GCS09 is GBZ: one component, cluster 0x0708, a 20-byte ZCL Publish Change of Tenancy', () => {
  const bytes = load('3.2_GCS09__GCS09_3.2_SUCCESS_COMMAND_GBCS.HEX');
  const gbz = parseGbcs(bytes).gbz!;
  expect(gbz.profile).toBe(0x0109);
  expect(gbz.count).toBe(1);
  expect(gbz.components).toHaveLength(1);
  const [c] = gbz.components;
  expect(c).toMatchObject({ control: 0x01, cluster: 0x0708, length: 20, encrypted: false });
  expect(c.fromDateTime).toBeUndefined();
  expect(c.zcl.length).toBe(20);
  // ZCL header 09 00 00 (cluster-specific, server→client, seq 0, command 0), then LE fields.
  expect(hex(c.zcl)).toBe('090000' + '00000000' + '804a371c' + '00' + '206ec61f' + '00020000');
  expect(hex(bytes.subarray(c.offset, c.offset + 6))).toBe('010708001409');

  const response = parseGbcs(load('3.2_GCS09__GCS09_3.2_SUCCESS_RESPONSE_GBCS.HEX')).gbz!;
  expect(response.components.map((x) => [x.cluster, hex(x.zcl)])).toEqual([[0x0708, '00000b0000']]);
});

test('a GBZ alert exposes its alert code and timestamp', () => {
  const payload = fromHex('0109 01 8183 1C374A80 AABB');
  const bytes = buildGbcs({
    envelope: 'general-signing',
    cra: 'alert',
    counter: 7n,
    originator: GPF,
    recipient: ACB,
    messageCode: 0x1001,
    payload,
  });
  const m = parseGbcs(bytes);
  expect(m.gbz?.alert).toEqual({ code: 0x8183, time: 0x1c374a80, rest: fromHex('AABB') });
  expect(recogniseGbcs(bytes)).toMatchObject({
    useCase: 'Alert',
    title: 'Generic Non-Critical Alert',
    alertCode: 0x8183,
    alert: 'Device joined SMHAN',
  });
});

test('GBZ components with a from-date-time or encryption are split as the control field says', () => {
  const payload = fromHex('0109 02 10 0708 0007 1C374A80 090000  02 0700 0004 DEADBEEF');
  const m = parseGbcs(
    buildGbcs({
      envelope: 'general-signing',
      cra: 'command',
      counter: 1n,
      originator: SUPPLIER,
      recipient: GPF,
      messageCode: 0x0072,
      payload,
    }),
  );
  expect(m.gbz!.components.map((c) => [c.control, c.cluster, c.encrypted, c.fromDateTime, hex(c.zcl)])).toEqual([
    [0x10, 0x0708, false, 0x1c374a80, '090000'],
    [0x02, 0x0700, true, undefined, 'deadbeef'],
  ]);
  // A component count that disagrees with the content is an error.
  const bad = fromHex('0109 02 01 0708 0003 090000');
  expect(() =>
    parseGbcs(
      buildGbcs({
        envelope: 'general-signing',
        cra: 'command',
        counter: 1n,
        originator: SUPPLIER,
        recipient: GPF,
        messageCode: 0x0072,
        payload: bad,
      }),
    ),
  ).toThrow(DecodeError);
});

test('header date-time, 26-byte other-information and a 64-byte signature round-trip', () => {
  const dateTime = fromHex('07DE031BFF0F2D20008000FF');
  const input: GbcsBuildInput = {
    envelope: 'general-signing',
    cra: 'response',
    counter: 2n ** 64n - 1n,
    originator: CHF,
    recipient: ACB,
    messageCode: 0x1000,
    otherInfoExtra: { remoteParty: SUPPLIER, remotePartyCounter: 5n, originatorCounter: 6n },
    dateTime,
    payload: fromHex('DA 20000001 00 00 01 00'),
    signature: new Uint8Array(64).fill(0xab),
  };
  const bytes = buildGbcs(input);
  const m = parseGbcs(bytes);
  expect(m.dateTimeIso).toBe('2014-03-27T15:45:32Z');
  expect(m.supplementary).toEqual({ remoteParty: SUPPLIER, remotePartyCounter: 5n, originatorCounter: 6n });
  expect(m.signature.length).toBe(64);
  expect(m.counter).toBe(2n ** 64n - 1n);
  expect(recogniseGbcs(bytes)!.originatorCounter).toBe('18446744073709551615');
  expect(hex(buildGbcs(gbcsBuildInput(m)))).toBe(hex(bytes));
});

test('DLMS date-time: unspecified deviation is UTC, a given one follows the Blue Book sign', () => {
  expect(dlmsDateTimeIso(fromHex('07DF0101FF000000008000FF'))).toBe('2015-01-01T00:00:00Z');
  expect(dlmsDateTimeIso(fromHex('07DE031BFF0F2D2000FFC400'))).toBe('2014-03-27T14:45:32Z'); // −60: Paris
  expect(dlmsDateTimeIso(fromHex('07DE031BFF0F2D32FF000000'))).toBe('2014-03-27T15:45:50Z');
  expect(dlmsDateTimeIso(fromHex('FFFF031BFF0F2D20008000FF'))).toBeUndefined(); // any year
  expect(dlmsDateTimeIso(fromHex('07DF021FFF000000008000FF'))).toBeUndefined(); // 31 February
});

test('DER lengths: short, 81 xx and 82 xx xx forms', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [0x7f, '7f'],
    [0x80, '8180'],
    [0xff, '81ff'],
    [0x100, '820100'],
    [0xffff, '82ffff'],
  ];
  for (const [n, enc] of cases) {
    expect(hex(derLength(n))).toBe(enc);
    const r = new Reader(fromHex(enc));
    expect(readDerLength(r, 'len')).toBe(n);
    expect(r.remaining).toBe(0);
  }
  expect(() => derLength(0x10000)).toThrow(EncodeError);
  expect(() => derLength(-1)).toThrow(EncodeError);
  expect(readDerLength(new Reader(fromHex('8105')), 'len')).toBe(5); // non-minimal is read
  for (const bad of ['80', '83010000', '81', '8201']) expect(() => readDerLength(new Reader(fromHex(bad)), 'len')).toThrow(DecodeError);
  // The vectors use both: 0x54 and 81 91 for the ciphered service length.
  expect(hex(load('8.11_CCS01__CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX').subarray(7, 9))).toBe('8191');

  // A 300-byte payload needs 82-form lengths all the way out.
  const payload = new Uint8Array(300).fill(0x30);
  const bytes = buildGbcs({
    envelope: 'general-ciphering',
    cra: 'command',
    counter: 1n,
    originator: ACB,
    recipient: CHF,
    messageCode: 3,
    payload,
  });
  expect(hex(bytes.subarray(7, 10))).toBe(hex(derLength(bytes.length - 10)));
  expect(bytes[7]).toBe(0x82);
  const m = parseGbcs(bytes);
  expect(m.payloadKind).toBe('asn1');
  expect(hex(bytes.subarray(m.payloadOffset - 3, m.payloadOffset))).toBe('82012c');
});

test('decode errors name the field and the frame offset', () => {
  const bytes = load('3.2_ECS12__ECS12_3.2_SUCCESS_COMMAND_GBCS.HEX').slice();
  const fail = (b: Uint8Array, base = 0): DecodeError => {
    try {
      parseGbcs(b, base);
    } catch (e) {
      if (e instanceof DecodeError) return e;
      throw e;
    }
    throw new Error('parsed');
  };
  const cra = bytes.slice();
  cra[15] = 4;
  expect(fail(cra)).toMatchObject({ field: 'CRA flag', offset: 15 });
  expect(fail(cra, 100)).toMatchObject({ field: 'CRA flag', offset: 115 });
  const sec = bytes.slice();
  sec[8] = 0x31;
  expect(fail(sec)).toMatchObject({ field: 'security header', offset: 8 });
  expect(fail(bytes.subarray(0, 50))).toMatchObject({ field: 'ciphered service length' });
  expect(fail(fromHex('0F0000'))).toMatchObject({ field: 'GBCS envelope', offset: 0 });
  const sig = bytes.slice();
  sig[bytes.length - 13] = 0x01; // signature length 1
  expect(fail(sig).field).toBe('signature length');
});

test('recogniseGbcs: undefined for every truncation and for trailing bytes', () => {
  for (const file of FILES) {
    const bytes = load(file);
    for (let n = 0; n < bytes.length; n++) expect(recogniseGbcs(bytes.subarray(0, n)), `${file} cut to ${n}`).toBeUndefined();
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(recogniseGbcs(longer)).toBeUndefined();
    // The bare grouping header, truncated, is not GBCS either.
    const signing = bytes.subarray(groupingStart(bytes), bytes.length - 12);
    expect(recogniseGbcs(signing)).toBeDefined();
    for (let n = 0; n < signing.length; n++) expect(recogniseGbcs(signing.subarray(0, n))).toBeUndefined();
  }
});

test('recogniseGbcs never throws on random bytes and does not take them for GBCS', () => {
  const payloads = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    // Random ZCL-like frames and random bodies behind either envelope tag.
    fc.tuple(fc.constantFrom(0xdd, 0xdf), fc.uint8Array({ maxLength: 200 })).map(([t, b]) => Uint8Array.of(t, ...b)),
  );
  fc.assert(
    fc.property(payloads, (b) => recogniseGbcs(b) === undefined),
    { numRuns: 5000 },
  );
});

test('parseGbcs throws only DecodeErrors on mutated vectors, and recogniseGbcs never throws', () => {
  const vectors = FILES.map(load);
  const mutated = fc
    .tuple(fc.constantFrom(...vectors), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([v, edits]) => {
      const b = v.slice();
      for (const [i, x] of edits) b[i % b.length] = x;
      return b;
    });
  fc.assert(
    fc.property(mutated, (b) => {
      recogniseGbcs(b);
      try {
        parseGbcs(b);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});

test('buildGbcs then parseGbcs gives back every field', () => {
  const eui = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
  const input = fc.record({
    envelope: fc.constantFrom('general-ciphering' as const, 'general-signing' as const),
    cra: fc.constantFrom('command' as const, 'response' as const, 'alert' as const),
    counter: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    originator: eui,
    recipient: eui,
    messageCode: fc.integer({ min: 0, max: 0xffff }),
    extra: fc.constantFrom(0, 8, 16, 24, 40).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    // GBZ content has its own structure; random bytes stay off its profile id.
    payload: fc.uint8Array({ maxLength: 400 }).filter((p) => !(p[0] === 0x01 && p[1] === 0x09)),
    signature: fc.constantFrom(0, 64).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    mac: fc.uint8Array({ minLength: 12, maxLength: 12 }),
  });
  fc.assert(
    fc.property(input, (x) => {
      const bytes = buildGbcs({ ...x, otherInfoExtra: x.extra, mac: x.envelope === 'general-ciphering' ? x.mac : undefined });
      const m = parseGbcs(bytes);
      expect([m.envelope, m.cra, m.counter, m.originator, m.recipient, m.messageCode]).toEqual([
        x.envelope,
        x.cra,
        x.counter,
        x.originator,
        x.recipient,
        x.messageCode,
      ]);
      expect(hex(m.otherInfoExtra)).toBe(hex(x.extra));
      expect(hex(m.payload)).toBe(hex(x.payload));
      expect(hex(m.signature)).toBe(hex(x.signature));
      expect(m.mac && hex(m.mac)).toBe(x.envelope === 'general-ciphering' ? hex(x.mac) : undefined);
      expect(m.certificate?.length ?? 0).toBe(x.extra.length > 24 ? x.extra.length - 16 : 0); // certificate follows RP id + counter
      expect(hex(buildGbcs(gbcsBuildInput(m)))).toBe(hex(bytes));
    }),
    { numRuns: 500 },
  );
});

test('buildGbcs refuses what the wire cannot carry', () => {
  const base: GbcsBuildInput = {
    envelope: 'general-signing',
    cra: 'command',
    counter: 1n,
    originator: ACB,
    recipient: CHF,
    messageCode: 1,
    payload: new Uint8Array(1),
  };
  expect(() => buildGbcs({ ...base, signature: new Uint8Array(10) })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, otherInfoExtra: new Uint8Array(3) })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, mac: new Uint8Array(12) })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, envelope: 'general-ciphering', mac: new Uint8Array(11) })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, counter: -1n })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, originator: '00:11' })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, dateTime: new Uint8Array(11) })).toThrow(EncodeError);
  expect(() => buildGbcs({ ...base, payload: new Uint8Array(0x10000) })).toThrow(EncodeError);
});

test('the use case and alert tables hold PROTOCOL.md §8', () => {
  const uc = Object.fromEntries(Object.entries(GBCS_USE_CASES).map(([k, v]) => [Number(k), v.name]));
  expect(uc).toMatchObject({ 0x0001: 'CCS01', 0x0002: 'CCS02', 0x0003: 'CCS03', 0x0022: 'ECS12', 0x0072: 'GCS09', 0x0018: 'CS14' });
  expect(GBCS_USE_CASES[0x1000].title).toBe('Generic Critical Alert');
  expect(GBCS_USE_CASES[0x1001].title).toBe('Generic Non-Critical Alert');
  expect(GBCS_ALERTS).toMatchObject({
    0x8f12: 'CHF Device Log Changed',
    0x8183: 'Device joined SMHAN',
    0x8071: 'GPF Device Log Changed',
    0x81a2: 'CH Connected to ESME',
    0x81a3: 'CH Disconnected from ESME',
  });
  // An unknown message code is still recognised, named by its code.
  const bytes = buildGbcs({
    envelope: 'general-signing',
    cra: 'command',
    counter: 9n,
    originator: ACB,
    recipient: CHF,
    messageCode: 0xabcd,
    payload: fromHex('D9'),
  });
  expect(gbcsTitle(recogniseGbcs(bytes)!)).toBe(`GBCS 0xabcd Unknown use case (command) ${ACB} → ${CHF} #9`);
});
