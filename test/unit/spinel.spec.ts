// The HDLC-lite stream decoder's defects (each counted and reported with its bytes, never thrown)
// and Spinel's errors on bytes that are not Spinel. Agreement with an independent implementation
// is in test/oracle/spinel-vs-zigbee-on-host.spec.ts.
import { test, expect } from '@playwright/test';
import { DecodeError, EncodeError } from '../../protocol/bytes.ts';
import {
  HdlcDecoder,
  MD_FLAG,
  STATUS_OK,
  decodeRawReceived,
  decodeRawTransmit,
  decodeSpinel,
  decodeTransmitDone,
  encodeRawTransmit,
  encodeSpinel,
  encodeTransmitDone,
  hdlcEncode,
  isResetStatus,
  readPackedList,
  readUtf8,
  statusName,
  utf8Value,
  type HdlcDefect,
} from '../../protocol/spinel.ts';

function decodeAll(...chunks: Uint8Array[]) {
  const frames: string[] = [];
  const defects: [HdlcDefect, string][] = [];
  const d = new HdlcDecoder(
    (f) => frames.push(Buffer.from(f).toString('hex')),
    (k, raw) => defects.push([k, Buffer.from(raw).toString('hex')]),
    64,
  );
  for (const c of chunks) d.push(c);
  return { frames, defects, stats: d.stats };
}

const frameA = Uint8Array.from([0x80, 0x06, 0x00, 0x70]);
const frameB = Uint8Array.from([0x81, 0x06, 0x7e, 0x7d]);

test('frames split across reads at every byte come out whole, in order; idle flags are not defects', () => {
  const wire = Buffer.concat([Buffer.from([0x7e, 0x7e]), hdlcEncode(frameA), hdlcEncode(frameB)]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const r = decodeAll(wire.subarray(0, cut), wire.subarray(cut));
    expect(r.frames).toEqual(['80060070', '81067e7d']);
    expect(r.defects).toEqual([]);
  }
});

test('bytes before the first flag (a port opened mid-frame) are skipped, not reported', () => {
  const r = decodeAll(Uint8Array.from([0x12, 0x34, 0x56]), hdlcEncode(frameA));
  expect(r.frames).toEqual(['80060070']);
  expect(r.defects).toEqual([]);
});

test('a corrupted byte is a bad-fcs defect with its bytes; the next frame still decodes', () => {
  const bad = hdlcEncode(frameA);
  bad[2] ^= 0x01;
  const r = decodeAll(bad, hdlcEncode(frameB));
  expect(r.frames).toEqual(['81067e7d']);
  expect(r.defects.map(([k]) => k)).toEqual(['bad-fcs']);
  expect(r.defects[0][1].startsWith('8007')).toBe(true);
  expect(r.stats).toEqual({ frames: 1, defects: { 'bad-fcs': 1, 'too-short': 0, 'bad-escape': 0, 'too-long': 0 } });
});

test('an escape before a flag, a runt, and an overlong frame are each their own defect', () => {
  const r = decodeAll(
    Uint8Array.from([0x7e, 0x80, 0x7d, 0x7e, 0x80, 0x01, 0x7e]),
    new Uint8Array(70).fill(0x41),
    Uint8Array.from([0x7e]),
    hdlcEncode(frameA),
  );
  expect(r.defects.map(([k]) => k)).toEqual(['bad-escape', 'too-short', 'too-long']);
  expect(r.frames).toEqual(['80060070']);
});

test('Spinel: a header without the 10 flag bits, a four-byte packed command, bad ids are refused with the field and offset', () => {
  expect(() => decodeSpinel(Uint8Array.from([0x01, 0x02]))).toThrow(
    new DecodeError('spinel.header', 0, 'flag bits 00, not 10: not a Spinel frame'),
  );
  expect(() => decodeSpinel(Uint8Array.from([0x80, 0xff, 0xff, 0xff, 0x01]))).toThrow(
    /spinel.command at offset 1: a packed unsigned integer longer than three bytes/,
  );
  expect(() => decodeSpinel(Uint8Array.from([0x80]))).toThrow(/spinel.command at offset 1: needs 1 byte, 0 left/);
  expect(() => encodeSpinel({ iid: 4, tid: 0, command: 0, payload: new Uint8Array() })).toThrow(
    new EncodeError('spinel.iid', '4 is not 0–3'),
  );
  expect(() => encodeSpinel({ iid: 0, tid: 16, command: 0, payload: new Uint8Array() })).toThrow(EncodeError);
  expect(() => encodeSpinel({ iid: 0, tid: 1, command: 2_097_152, payload: new Uint8Array() })).toThrow(/not a packed unsigned integer/);
});

test('STREAM_RAW: partial metadata takes the defaults; a PSDU over 127 bytes is refused', () => {
  const { transmit } = decodeRawTransmit(Uint8Array.from([0x02, 0x00, 0xaa, 0xbb, 15]));
  expect(transmit).toEqual({ channel: 15 });
  expect(() => encodeRawTransmit(new Uint8Array(128), { channel: 11 })).toThrow(/128 bytes: an 802.15.4 PSDU holds at most 127/);
  expect(decodeRawReceived(Uint8Array.from([0x01, 0x00, 0x42]))).toEqual({
    psdu: Uint8Array.from([0x42]),
    rssi: -128,
    noiseFloor: -128,
    flags: 0,
  });
  expect(() => decodeRawReceived(Uint8Array.from([0x05, 0x00, 0x42]))).toThrow(/stream_raw.frame at offset 2: needs 5 bytes, 1 left/);
});

test('transmit done: status, frame pending, and the acknowledgement read back; a failure carries no ack', () => {
  const ack = {
    psdu: Uint8Array.from([0x02, 0x00, 0x07, 0, 0]),
    rssi: -50,
    noiseFloor: -95,
    flags: 0,
    channel: 15,
    lqi: 200,
    timestampUs: 123n,
    rxError: 0,
  };
  expect(decodeTransmitDone(encodeTransmitDone({ status: STATUS_OK, framePending: true, headerUpdated: false, ack }))).toEqual({
    status: 0,
    framePending: true,
    headerUpdated: false,
    ack,
  });
  expect(decodeTransmitDone(encodeTransmitDone({ status: 17, framePending: false, headerUpdated: false }))).toEqual({
    status: 17,
    framePending: false,
    headerUpdated: false,
  });
  expect(statusName(17)).toBe('NO_ACK');
  expect(statusName(999)).toBe('status 999');
  expect(isResetStatus(114)).toBe(true);
  expect(isResetStatus(0)).toBe(false);
  expect(MD_FLAG.TX).toBe(1);
});

test('values: UTF-8 strings to their zero byte, packed lists', () => {
  expect(readUtf8(utf8Value('OPENTHREAD/1.4.0; NRF52840'))).toBe('OPENTHREAD/1.4.0; NRF52840');
  expect(readUtf8(Uint8Array.from([0x41, 0x42]))).toBe('AB');
  expect(readPackedList(Uint8Array.from([0x22, 0x81, 0x04, 0x40]), 'caps')).toEqual([34, 513, 64]);
});
