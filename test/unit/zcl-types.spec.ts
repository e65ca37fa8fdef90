// ZCL data types: every row of the type table round-trips, boundaries included.
import { test, expect } from '@playwright/test';
import fc from '../support/fast-check.ts';
import { DecodeError, EncodeError, Reader, Writer, fromHex, hex } from '../../protocol/bytes.ts';
import { sampleValue } from '../../protocol/zcl/samples.ts';
import { ZCL_TYPES, decodeValue, encodeValue, isoToUtc, utcToIso, zclType, zclTypeById } from '../../protocol/zcl/types.ts';
import type { ZclTypeName } from '../../protocol/zcl/types.ts';

function enc(type: ZclTypeName, v: unknown): string {
  const w = new Writer();
  encodeValue(w, type, v, 'v');
  return hex(w.finish());
}

function dec(type: ZclTypeName, h: string): unknown {
  const r = new Reader(fromHex(h));
  const v = decodeValue(r, zclType(type).id, 'v');
  expect(r.remaining).toBe(0);
  return v;
}

function roundTrip(type: ZclTypeName, v: unknown): void {
  expect(dec(type, enc(type, v)), `${type} ${String(v)}`).toEqual(v);
}

// Playwright's expect records a step per call, too slow for thousands of values: loops use this.
function roundTripProblem(type: ZclTypeName, v: unknown): string | undefined {
  const show = (x: unknown) => JSON.stringify(x, (_k, y) => (typeof y === 'bigint' ? `${y}n` : y));
  try {
    const w = new Writer();
    encodeValue(w, type, v, 'v');
    const bytes = w.finish();
    const r = new Reader(bytes);
    const back = decodeValue(r, zclType(type).id, 'v');
    if (r.remaining) return `${type} ${show(v)}: ${r.remaining} bytes left`;
    if (show(back) !== show(v) || (typeof v === 'number' && !Object.is(back, v))) return `${type} ${show(v)} came back as ${show(back)}`;
    const w2 = new Writer();
    encodeValue(w2, type, back, 'v');
    return hex(w2.finish()) === hex(bytes) ? undefined : `${type} ${show(v)} re-encoded differently`;
  } catch (e) {
    return `${type} ${show(v)}: ${(e as Error).message}`;
  }
}

test('the type table has unique ids and names, and the ids PROTOCOL.md §6 lists', () => {
  expect(new Set(ZCL_TYPES.map((t) => t.id)).size).toBe(ZCL_TYPES.length);
  expect(new Set(ZCL_TYPES.map((t) => t.name)).size).toBe(ZCL_TYPES.length);
  const ids: Record<number, ZclTypeName> = {
    0x08: 'data8',
    0x0f: 'data64',
    0x10: 'bool',
    0x18: 'bitmap8',
    0x1f: 'bitmap64',
    0x20: 'uint8',
    0x22: 'uint24',
    0x24: 'uint40',
    0x25: 'uint48',
    0x26: 'uint56',
    0x27: 'uint64',
    0x28: 'int8',
    0x2f: 'int64',
    0x30: 'enum8',
    0x31: 'enum16',
    0x39: 'float32',
    0x41: 'octetString',
    0x42: 'charString',
    0x43: 'longOctetString',
    0x44: 'longCharString',
    0x48: 'array',
    0x4c: 'struct',
    0xe2: 'utc',
    0xf0: 'ieeeAddress',
    0xf1: 'securityKey',
  };
  for (const [id, name] of Object.entries(ids)) expect(zclTypeById(Number(id))?.name).toBe(name);
});

test('every type round-trips its canonical and seeded samples', () => {
  const problems: string[] = [];
  for (const t of ZCL_TYPES) {
    for (const seed of [undefined, ...Array.from({ length: 300 }, (_, i) => i + 1)]) {
      const p = roundTripProblem(t.name, sampleValue(t.name, seed));
      if (p) problems.push(`seed ${seed}: ${p}`);
    }
  }
  expect(problems).toEqual([]);
});

test('integers: little-endian, boundaries, numbers up to 2^53 and bigints beyond', () => {
  expect(enc('uint16', 0x1234)).toBe('3412');
  expect(enc('uint24', 0x123456)).toBe('563412');
  expect(enc('uint48', 0x0102030405)).toBe('050403020100');
  expect(enc('int8', -1)).toBe('ff');
  expect(enc('int24', -8388608)).toBe('000080');
  expect(enc('bitmap32', 0x00000200)).toBe('00020000');
  for (let n = 1; n <= 8; n++) {
    const bits = 8 * n;
    const umax = (1n << BigInt(bits)) - 1n;
    const imin = -(1n << BigInt(bits - 1));
    const imax = (1n << BigInt(bits - 1)) - 1n;
    const norm = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
    const problems: string[] = [];
    for (const v of [0n, 1n, umax - 1n, umax]) {
      for (const kind of ['uint', 'bitmap', 'data']) {
        const p = roundTripProblem(`${kind}${bits}` as ZclTypeName, norm(v));
        if (p) problems.push(p);
      }
    }
    for (const v of [imin, imin + 1n, -1n, 0n, 1n, imax]) {
      const p = roundTripProblem(`int${bits}` as ZclTypeName, norm(v));
      if (p) problems.push(p);
    }
    expect(problems).toEqual([]);
    expect(() => enc(`uint${bits}` as ZclTypeName, umax + 1n)).toThrow(EncodeError);
    expect(() => enc(`int${bits}` as ZclTypeName, imax + 1n)).toThrow(EncodeError);
    expect(() => enc(`int${bits}` as ZclTypeName, imin - 1n)).toThrow(EncodeError);
  }
  // The 2^53 line: below it a number, from it a bigint; bigint inputs encode too.
  expect(dec('uint64', enc('uint64', 2 ** 53 - 1))).toBe(2 ** 53 - 1);
  expect(dec('uint64', enc('uint64', 2n ** 53n))).toBe(2n ** 53n);
  expect(dec('uint56', 'ffffffffffffff')).toBe(2n ** 56n - 1n);
  expect(dec('int64', '0000000000000080')).toBe(-(2n ** 63n));
  expect(dec('int48', '000000000080')).toBe(-(2 ** 47));
  expect(dec('uint48', enc('uint48', 5n))).toBe(5);
  expect(() => enc('uint8', 1.5)).toThrow(EncodeError);
  expect(() => enc('uint32', 2 ** 53)).toThrow(EncodeError); // unsafe integers must come as bigint
});

test('booleans, floats, UTC, IEEE address and key', () => {
  expect(dec('bool', '00')).toBe(false);
  expect(dec('bool', '01')).toBe(true);
  expect(dec('bool', 'ff')).toBe(0xff); // ZCL's invalid boolean stays visible
  expect(enc('bool', 0xff)).toBe('ff');
  for (const v of [0, 1.5, -2, 65504, 2 ** -14, 2 ** -24, 0.333251953125]) expect(roundTripProblem('float16', v)).toBeUndefined();
  expect(enc('float16', 1)).toBe('003c');
  expect(enc('float32', 1)).toBe('0000803f');
  roundTrip('float32', Math.fround(0.1));
  roundTrip('float64', 0.1);
  expect(Number.isNaN(dec('float32', '0000c07f') as number)).toBe(true);

  expect(dec('utc', '206ec61f')).toBe(0x1fc66e20);
  expect(utcToIso(0x1fc66e20)).toBe('2016-11-22T02:46:56Z');
  expect(utcToIso(0x1c374a80)).toBe('2015-01-01T00:00:00Z');
  expect(utcToIso(0)).toBe('2000-01-01T00:00:00Z');
  expect(utcToIso(0xffffffff)).toBe('invalid');
  expect(isoToUtc('2016-11-22T02:46:56Z')).toBe(0x1fc66e20);
  expect(isoToUtc(new Date('2015-01-01T00:00:00Z'))).toBe(0x1c374a80);
  expect(() => isoToUtc('1999-12-31T23:59:59Z')).toThrow();

  // IEEE addresses: on air least significant byte first, as text most significant first.
  expect(dec('ieeeAddress', 'a39078563412db00')).toBe('00:db:12:34:56:78:90:a3');
  expect(enc('ieeeAddress', '00:db:12:34:56:78:90:a3')).toBe('a39078563412db00');
  expect(() => enc('ieeeAddress', '00:11')).toThrow(EncodeError);
  roundTrip('securityKey', '000102030405060708090a0b0c0d0e0f');
  expect(() => enc('securityKey', '0001')).toThrow(EncodeError);
});

test('strings: length prefix, empty, invalid (all-ones length) as null, UTF-8, limits', () => {
  expect(enc('charString', 'GB')).toBe('024742');
  expect(enc('charString', '£')).toBe('02c2a3'); // length counts bytes
  expect(dec('charString', '02c2a3')).toBe('£');
  expect(dec('charString', '01a3')).toEqual({ octets: 'a3' }); // not UTF-8: the octets kept, so it re-encodes exactly
  expect(enc('octetString', 'a0b1')).toBe('02a0b1');
  expect(enc('octetString', Uint8Array.of(1, 2))).toBe('020102');
  expect(enc('longOctetString', 'a0')).toBe('0100a0');
  expect(enc('longCharString', 'x')).toBe('010078');
  for (const t of ['octetString', 'charString', 'longOctetString', 'longCharString'] as const) {
    roundTrip(t, null);
    roundTrip(t, '');
  }
  expect(dec('octetString', 'ff')).toBeNull();
  expect(dec('longCharString', 'ffff')).toBeNull();
  roundTrip('octetString', 'ab'.repeat(254));
  expect(() => enc('octetString', 'ab'.repeat(255))).toThrow(EncodeError);
  roundTrip('charString', 'x'.repeat(254));
  expect(() => enc('charString', 'x'.repeat(255))).toThrow(EncodeError);
  roundTrip('longCharString', 'y'.repeat(1000));
  expect(() => enc('octetString', 'xyz')).toThrow(EncodeError);
});

test('collections, time of day and date', () => {
  expect(enc('array', { elementType: 'uint16', elements: [1, 2] })).toBe('2102000100' + '0200');
  roundTrip('array', { elementType: 'charString', elements: ['a', '', null] });
  roundTrip('array', { elementType: 'uint8', elements: null });
  roundTrip('set', { elementType: 'ieeeAddress', elements: ['00:11:22:33:44:55:66:77'] });
  roundTrip('bag', { elementType: 'uint64', elements: [2n ** 64n - 1n] });
  roundTrip('struct', [
    { type: 'uint8', value: 1 },
    { type: 'array', value: { elementType: 'int16', elements: [-1] } },
  ]);
  roundTrip('struct', null);
  roundTrip('struct', []);
  expect(dec('timeOfDay', '0c22ffff')).toEqual({ hours: 12, minutes: 34, seconds: null, hundredths: null });
  expect(dec('date', '7c0b1504')).toEqual({ year: 2024, month: 11, day: 21, weekday: 4 });
  roundTrip('date', { year: null, month: null, day: 1, weekday: null });
});

test('an unknown type id is a DecodeError that names the type and the frame offset', () => {
  const r = new Reader(fromHex('0000ff00'), 2, 40);
  try {
    decodeValue(r, 0x77, 'value');
    throw new Error('no error');
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).offset).toBe(42);
    expect((e as DecodeError).message).toContain('0x77');
    expect((e as DecodeError).field).toBe('value');
  }
  // Inside an array: the element-type octet's own offset.
  expect(() => decodeValue(new Reader(fromHex('770100'), 0, 10), 0x48, 'a')).toThrow(/a at offset 10: unknown ZCL data type 0x77/);
  expect(() => decodeValue(new Reader(fromHex('0102')), 0x21, 'u16')).not.toThrow();
  expect(() => decodeValue(new Reader(fromHex('01')), 0x21, 'u16')).toThrow(/u16 at offset 0: needs 2 bytes, 1 left/);
});

test('collections nested beyond the depth cap are a DecodeError, not a stack overflow', () => {
  // An array of arrays of arrays …: each level is `48 ff ff`-style headers; 1 element each.
  const bytes = fromHex('4801004801004801004801004801004801004801004801004801004801002000');
  expect(() => decodeValue(new Reader(bytes), 0x48, 'deep')).toThrow(DecodeError);
});

test('decodeValue on random bytes throws nothing but DecodeError', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZCL_TYPES.map((t) => t.id), 0x77, 0xff), fc.uint8Array({ maxLength: 40 }), (id, bytes) => {
      try {
        decodeValue(new Reader(bytes), id, 'v');
      } catch (e) {
        if (!(e instanceof DecodeError)) throw new Error(`not a DecodeError: ${String(e)}`);
        if (e.offset < 0 || e.offset > bytes.length) throw new Error(`offset ${e.offset} outside ${bytes.length} bytes`);
      }
    }),
    { numRuns: 3000 },
  );
});
