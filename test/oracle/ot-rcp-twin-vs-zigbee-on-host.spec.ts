// The emulated ot-rcp (sim/ot-rcp-firmware.ts) driven by an independent host: zigbee-on-host's own
// Spinel encoders write the requests its OpenThread RCP driver sends, and its decoders read what the
// twin answers (GPL-3.0-or-later: a test-only oracle, never imported by product code). What the
// virtual bench's RCP says must be what a real host understands.
import { test, expect } from '@playwright/test';
import { decodeHdlcFrame } from 'zigbee-on-host/dist/spinel/hdlc.js';
import {
  decodeSpinelFrame,
  encodeSpinelFrame,
  getPackedUInt,
  readPropertyC,
  readPropertyS,
  readStreamRaw,
  writePropertyb,
  writePropertyC,
  writePropertyE,
  writePropertyS,
  writePropertyStreamRaw,
} from 'zigbee-on-host/dist/spinel/spinel.js';
import { encodeMac } from '../../protocol/mac.ts';
import type { DeviceLine } from '../../sim/serial-devices.ts';
import { VirtualOtRcpFirmware } from '../../sim/ot-rcp-firmware.ts';

type TheirFrame = { header: { tid: number; nli: number; flg: number }; commandId: number; payload: Buffer };

/** A device line that keeps each write (one HDLC frame each) and lets the test write as the host. */
function wire(): { line: DeviceLine; out: Buffer[]; host: (bytes: Buffer) => void } {
  const out: Buffer[] = [];
  let receive: (bytes: Buffer) => void = () => {};
  let written = 0;
  const line: DeviceLine = {
    dtr: true,
    get bytesWritten() {
      return written;
    },
    write(data) {
      const b = Buffer.from(data as Uint8Array);
      written += b.length;
      out.push(b);
    },
    onReceive(listener) {
      receive = listener;
    },
    async unplug() {},
  };
  return { line, out, host: (bytes) => receive(bytes) };
}

const theirs = (frame: Buffer) => decodeSpinelFrame(decodeHdlcFrame(frame)) as unknown as TheirFrame;
const request = (tid: number, commandId: number, payload: Buffer) =>
  encodeSpinelFrame({ header: { tid, nli: 0, flg: 2 }, commandId, payload } as never) as Buffer;

test("zigbee-on-host's requests get the answers its driver expects: same TID, PROP_VALUE_IS of the property, values it reads", () => {
  const { line, out, host } = wire();
  const fw = new VirtualOtRcpFirmware(line);
  // The boot announcement: PROP_VALUE_IS LAST_STATUS RESET_POWER_ON (112) with TID 0.
  const boot = theirs(out.shift()!);
  expect({ tid: boot.header.tid, command: boot.commandId, prop: getPackedUInt(boot.payload, 0)[0] }).toEqual({
    tid: 0,
    command: 6,
    prop: 0,
  });
  expect(getPackedUInt(boot.payload, 1)[0]).toBe(112);

  host(request(1, 3, writePropertyb(32, true)));
  host(request(2, 3, writePropertyC(33, 21)));
  host(request(3, 3, writePropertyE(52, 0x000d6f000a1b2c3dn)));
  host(request(4, 3, writePropertyS(53, 0x3c21)));
  host(request(5, 3, writePropertyS(54, 0x4b1d)));
  host(request(6, 3, writePropertyb(55, true)));
  const answers = out.splice(0).map(theirs);
  expect(answers.map((a) => [a.header.tid, a.commandId, getPackedUInt(a.payload, 0)[0]])).toEqual([
    [1, 6, 32],
    [2, 6, 33],
    [3, 6, 52],
    [4, 6, 53],
    [5, 6, 54],
    [6, 6, 55],
  ]);
  expect(readPropertyC(33, answers[1].payload)).toBe(21);
  expect(readPropertyS(53, answers[3].payload)).toBe(0x3c21);
  expect(readPropertyS(54, answers[4].payload)).toBe(0x4b1d);
  // zigbee-on-host writes the EUI-64 big-endian (writeBigUInt64BE): the twin holds it as written.
  expect(fw.ieee).toBe('000d6f000a1b2c3d');

  // A transmission as its driver sends one: the frame goes on air without its FCS, LAST_STATUS OK comes back with the same TID.
  const sent: Buffer[] = [];
  fw.onTransmit((psdu) => sent.push(Buffer.from(psdu)));
  const mac = encodeMac(
    { type: 'data', seq: 9, dstPan: '0xffff', dst: '0xffff', srcPan: '0x4b1d', src: '0x3c21', payload: Buffer.from('hi') },
    true,
  );
  host(
    request(
      7,
      3,
      writePropertyStreamRaw(Buffer.from(mac), {
        txChannel: 21,
        ccaBackoffAttempts: 4,
        ccaRetries: 3,
        enableCSMACA: true,
        headerUpdated: false,
        reTx: false,
        securityProcessed: true,
        txDelay: 0,
        txDelayBaseTime: 0,
        rxChannelAfterTxDone: 21,
      } as never),
    ),
  );
  expect(sent.map((b) => b.toString('hex'))).toEqual([Buffer.from(mac.subarray(0, mac.length - 2)).toString('hex')]);
  const done = theirs(out.shift()!);
  expect([done.header.tid, done.commandId, getPackedUInt(done.payload, 0)[0], getPackedUInt(done.payload, 1)[0]]).toEqual([7, 6, 0, 0]);

  // A frame heard on air comes up as unsolicited STREAM_RAW (TID 0) that its reader takes apart.
  const heard = encodeMac(
    { type: 'data', seq: 3, dstPan: '0x4b1d', dst: '0x3c21', srcPan: '0x4b1d', src: '0x0000', payload: Buffer.from('ok') },
    false,
  );
  expect(fw.deliver(heard, { rssi: -61, lqi: 200, channel: 21, atUs: 123_456n })).toBe(true);
  const raw = theirs(out.shift()!);
  expect([raw.header.tid, raw.commandId, getPackedUInt(raw.payload, 0)[0]]).toEqual([0, 6, 113]);
  const [psdu, md] = readStreamRaw(raw.payload, 1) as unknown as [Buffer, { rssi: number; noiseFloor: number; flags: number }];
  expect(psdu.subarray(0, psdu.length - 2).toString('hex')).toBe(Buffer.from(heard).toString('hex'));
  expect(md).toMatchObject({ rssi: -61, noiseFloor: -128, flags: 0 });
});
