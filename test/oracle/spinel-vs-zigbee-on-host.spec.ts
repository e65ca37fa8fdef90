// Our Spinel codec against an independent implementation: zigbee-on-host's OpenThread RCP driver
// (GPL-3.0-or-later — a test-only oracle, never imported by product code). Every frame either
// side writes, the other reads back to the same values; the HDLC bytes are identical.
import { test, expect } from '@playwright/test';
import assert from 'node:assert/strict';
import { decodeHdlcFrame, encodeHdlcFrame } from 'zigbee-on-host/dist/spinel/hdlc.js';
import {
  decodeSpinelFrame,
  encodeSpinelFrame,
  readStreamRaw,
  writePropertyStreamRaw,
  getPackedUInt,
  setPackedUInt,
  getPackedUIntSize,
} from 'zigbee-on-host/dist/spinel/spinel.js';
import fc from '../support/fast-check.ts';
import { Reader, Writer } from '../../protocol/bytes.ts';
import {
  HdlcDecoder,
  SPINEL_CMD,
  SPINEL_PROP,
  decodeRawReceived,
  decodeRawTransmit,
  decodeSpinel,
  encodeRawReceived,
  encodeRawTransmit,
  encodeSpinel,
  hdlcEncode,
  propertyPayload,
  readPacked,
  readProperty,
  writePacked,
} from '../../protocol/spinel.ts';

const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
/** zigbee-on-host's HDLC decoder takes one whole frame with its flags and returns the content without the FCS. */
const theirHdlcFrame = (wire: Uint8Array): Buffer => decodeHdlcFrame(buf(wire));

/** Our stream decoder over one wire buffer: the frames it gives. */
function ourFrames(wire: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  new HdlcDecoder((f) => out.push(Uint8Array.from(f))).push(wire);
  return out;
}

test("HDLC-lite: our frames are byte for byte the oracle's, and each side reads the other's", () => {
  fc.assert(
    fc.property(bytes(300), (frame) => {
      const ours = hdlcEncode(frame);
      const theirs = new Uint8Array(encodeHdlcFrame(buf(frame)));
      assert.strictEqual(buf(ours).toString('hex'), buf(theirs).toString('hex'));
      assert.strictEqual(theirHdlcFrame(ours).toString('hex'), buf(frame).toString('hex'));
      if (frame.length > 0)
        assert.deepStrictEqual(
          ourFrames(theirs).map((f) => buf(f).toString('hex')),
          [buf(frame).toString('hex')],
        );
    }),
    { numRuns: 500 },
  );
});

test("packed unsigned integers: ours and the oracle's agree on every size, 0 to 2,097,151", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2_097_151 }), (n) => {
      const ours = writePacked(new Writer(), n, 'n').finish();
      const theirs = Buffer.alloc(getPackedUIntSize(n));
      setPackedUInt(theirs, 0, n, theirs.length);
      assert.strictEqual(buf(ours).toString('hex'), theirs.toString('hex'));
      assert.strictEqual(getPackedUInt(buf(ours), 0)[0], n);
      assert.strictEqual(readPacked(new Reader(theirs), 'n'), n);
    }),
    { numRuns: 500 },
  );
  // The spec's own example: 1337 → B9 0A.
  assert.strictEqual(buf(writePacked(new Writer(), 1337, 'n').finish()).toString('hex'), 'b90a');
});

test('Spinel frames: header, command and payload read the same on both sides', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 2_097_151 }),
      bytes(200),
      (iid, tid, command, payload) => {
        const ours = encodeSpinel({ iid, tid, command, payload });
        const theirs = decodeSpinelFrame(buf(hdlcEncode(ours))) as unknown as {
          header: { tid: number; nli: number; flg: number };
          commandId: number;
          payload: Buffer;
        };
        assert.deepStrictEqual(
          { tid: theirs.header.tid, iid: theirs.header.nli, flg: theirs.header.flg, command: theirs.commandId },
          { tid, iid, flg: 2, command },
        );
        assert.strictEqual(buf(theirs.payload).toString('hex'), buf(payload).toString('hex'));
        const wire = new Uint8Array(
          encodeSpinelFrame({ header: { tid, nli: iid, flg: 2 }, commandId: command, payload: buf(payload) }) as unknown as Buffer,
        );
        const [frame] = ourFrames(wire);
        assert.deepStrictEqual(decodeSpinel(frame), { iid, tid, command, payload: Uint8Array.from(payload) });
      },
    ),
    { numRuns: 300 },
  );
});

test("STREAM_RAW transmit: our request is the oracle's byte for byte", () => {
  fc.assert(
    fc.property(
      bytes(127),
      fc.integer({ min: 11, max: 26 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 7 }),
      (psdu, channel, csmaCa, maxBackoffs, maxRetries) => {
        const ours = propertyPayload(SPINEL_PROP.STREAM_RAW, encodeRawTransmit(psdu, { channel, csmaCa, maxBackoffs, maxRetries }));
        const theirs = writePropertyStreamRaw(buf(psdu), {
          txChannel: channel,
          ccaBackoffAttempts: maxBackoffs,
          ccaRetries: maxRetries,
          enableCSMACA: csmaCa,
          headerUpdated: false,
          reTx: false,
          securityProcessed: false,
          txDelay: 0,
          txDelayBaseTime: 0,
          rxChannelAfterTxDone: channel,
        });
        assert.strictEqual(buf(ours).toString('hex'), buf(theirs as unknown as Uint8Array).toString('hex'));
        const { prop, value } = readProperty(ours);
        assert.strictEqual(prop, SPINEL_PROP.STREAM_RAW);
        const back = decodeRawTransmit(value);
        assert.strictEqual(buf(back.psdu).toString('hex'), buf(psdu).toString('hex'));
        assert.deepStrictEqual(
          {
            channel: back.transmit.channel,
            csmaCa: back.transmit.csmaCa,
            maxBackoffs: back.transmit.maxBackoffs,
            maxRetries: back.transmit.maxRetries,
          },
          { channel, csmaCa, maxBackoffs, maxRetries },
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('STREAM_RAW receive: the oracle reads the frame, RSSI, noise floor and flags we write', () => {
  fc.assert(
    fc.property(
      bytes(127),
      fc.integer({ min: -128, max: 127 }),
      fc.integer({ min: -128, max: 127 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 11, max: 26 }),
      fc.integer({ min: 0, max: 255 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      (psdu, rssi, noiseFloor, flags, channel, lqi, timestampUs) => {
        const value = encodeRawReceived({ psdu, rssi, noiseFloor, flags, channel, lqi, timestampUs });
        const [frame, md] = readStreamRaw(buf(value), 0) as unknown as [Buffer, { rssi: number; noiseFloor: number; flags: number }];
        assert.strictEqual(buf(frame).toString('hex'), buf(psdu).toString('hex'));
        assert.deepStrictEqual(md, { rssi, noiseFloor, flags });
        assert.deepStrictEqual(decodeRawReceived(value), {
          psdu: Uint8Array.from(psdu),
          rssi,
          noiseFloor,
          flags,
          channel,
          lqi,
          timestampUs,
          rxError: 0,
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('a PROP_VALUE_IS frame the oracle builds reads back through our HDLC stream decoder, split across reads', () => {
  const value = encodeRawReceived({
    psdu: Uint8Array.from([0x03, 0x08, 0x7e, 0xff, 0xff, 0x7d, 0x07, 0x11, 0x13]),
    rssi: -60,
    noiseFloor: -100,
    flags: 0,
  });
  const wire = new Uint8Array(
    encodeSpinelFrame({
      header: { tid: 0, nli: 0, flg: 2 },
      commandId: SPINEL_CMD.PROP_VALUE_IS,
      payload: buf(propertyPayload(SPINEL_PROP.STREAM_RAW, value)),
    }) as unknown as Buffer,
  );
  const frames: Uint8Array[] = [];
  const d = new HdlcDecoder((f) => frames.push(Uint8Array.from(f)));
  for (let i = 0; i < wire.length; i += 3) d.push(wire.subarray(i, i + 3));
  expect(frames).toHaveLength(1);
  const f = decodeSpinel(frames[0]);
  expect(f.command).toBe(SPINEL_CMD.PROP_VALUE_IS);
  const { prop, value: got } = readProperty(f.payload);
  expect(prop).toBe(SPINEL_PROP.STREAM_RAW);
  expect(decodeRawReceived(got).psdu).toEqual(Uint8Array.from([0x03, 0x08, 0x7e, 0xff, 0xff, 0x7d, 0x07, 0x11, 0x13]));
});
