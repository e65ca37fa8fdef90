// TI Packet Sniffer 2 codec (protocol/ti-sniffer.ts): the guide's example bytes, commands and
// responses, data packets and frame layouts, and the stream decoder's defects (each counted and
// reported with its bytes, never thrown) with resynchronisation on the next SOF.
import { test, expect } from '@playwright/test';
import { DecodeError, EncodeError, fromHex, hex } from '../../protocol/bytes.ts';
import { withFcs } from '../../protocol/crc.ts';
import {
  TI_COMMAND,
  TI_DATA_INFO,
  TiPacketDecoder,
  channelMhz,
  decodeFrequency,
  decodePingData,
  decodeTiData,
  decodeTiResponse,
  detectTiFrameLayout,
  encodeFrequency,
  encodePingData,
  encodeTiCommand,
  encodeTiData,
  encodeTiPacket,
  encodeTiResponse,
  mhzChannel,
  tiBody,
  tiCorrelation,
  tiFcsOk,
  tiPsdu,
  type TiDefect,
  type TiPacket,
} from '../../protocol/ti-sniffer.ts';
import fc from '../support/fast-check.ts';

function decodeAll(...chunks: Uint8Array[]) {
  const packets: string[] = [];
  const defects: [TiDefect, string][] = [];
  const d = new TiPacketDecoder(
    (p) => packets.push(`${p.info.toString(16)}:${hex(p.payload)}`),
    (k, raw) => defects.push([k, hex(raw)]),
  );
  for (const c of chunks) d.push(c);
  return { packets, defects, stats: d.stats, decoder: d };
}

// A MAC frame (data, short addresses) and what the radio heard of it.
const PSDU = fromHex('41880a3412ffff0000aabbcc');
const DATA = encodeTiData({ timestampUs: 0x605040302010n, body: tiBody(PSDU, 'psdu+fcs'), rssi: -61, status: 0x80 | 100 });

test("the guide's example bytes: PING and CFG_PHY(9)", () => {
  expect(hex(encodeTiCommand(TI_COMMAND.PING))).toBe('4053400000404045');
  expect(hex(encodeTiCommand(TI_COMMAND.CFG_PHY, Uint8Array.of(9)))).toBe('405347010009514045');
  expect(decodeAll(fromHex('4053400000404045'), fromHex('405347010009514045')).packets).toEqual(['40:', '47:09']);
});

test('CFG_FREQUENCY carries integer MHz and the fraction × 65536; 2.4 GHz channels are 2405 + 5·(c − 11) MHz', () => {
  // 2405 = 0x0965; FCS 0x45 + 4 + 0x65 + 0x09 = 0xb7.
  expect(hex(encodeTiCommand(TI_COMMAND.CFG_FREQUENCY, encodeFrequency(channelMhz(11))))).toBe('405345040065090000b74045');
  expect(hex(encodeFrequency(2480))).toBe('b0090000');
  expect(hex(encodeFrequency(868.3))).toBe('6403cd4c');
  expect(decodeFrequency(encodeFrequency(868.3))).toBeCloseTo(868.3, 4);
  expect([11, 15, 26].map(channelMhz)).toEqual([2405, 2425, 2480]);
  expect([2405, 2480, 2407, 2485].map(mhzChannel)).toEqual([11, 26, undefined, undefined]);
  expect(() => channelMhz(27)).toThrow(EncodeError);
  expect(() => encodeTiCommand(0x80)).toThrow(/not a command/);
  expect(() => decodeFrequency(Uint8Array.of(1, 2))).toThrow(DecodeError);
});

test('responses: status first, then the data; PING answers chip id, chip revision, firmware id and revision', () => {
  const ping = { chipId: 0x1352, chipRevision: 0x21, firmwareId: 0x50, firmwareRevision: 0x0110 };
  const wire = encodeTiResponse({ status: 0, data: encodePingData(ping) });
  expect(hex(wire)).toBe('405380070000521321501001' + '6e4045');
  expect(decodeAll(wire).packets).toEqual(['80:00521321501001']);
  const response = decodeTiResponse({ info: 0x80, payload: wire.subarray(5, wire.length - 3) });
  expect(response.status).toBe(0);
  expect(decodePingData(response.data)).toEqual(ping);
  expect(() => decodeTiResponse({ info: 0xc0, payload: Uint8Array.of(0) })).toThrow(/not a command response/);
  expect(() => decodeTiResponse({ info: 0x80, payload: new Uint8Array(0) })).toThrow(/status byte/);
  expect(() => decodePingData(Uint8Array.of(1, 2, 3))).toThrow(/expected 6/);
});

test('data packets: 6-byte little-endian timestamp, the frame, signed RSSI, status (bit 7 FCS OK); no packet FCS', () => {
  // SOF, info c0, length, timestamp 10 20 30 40 50 60 as the guide's byte-order example, frame+FCS, rssi c3, status e4, EOF.
  const body = hex(withFcs(PSDU));
  expect(hex(DATA)).toBe(`4053c0${(6 + PSDU.length + 4).toString(16).padStart(2, '0')}00102030405060${body}c3e44045`);
  const packets: TiPacket[] = [];
  new TiPacketDecoder((p) => packets.push(p)).push(DATA);
  const d = decodeTiData(packets[0]);
  expect(d).toMatchObject({ timestampUs: 0x605040302010n, rssi: -61, status: 0xe4 });
  expect(tiFcsOk(d.status)).toBe(true);
  expect(tiCorrelation(d.status)).toBe(100);
  expect(tiFcsOk(0x7f)).toBe(false);
  expect(() => decodeTiData({ info: TI_DATA_INFO, payload: new Uint8Array(7) })).toThrow(/fewer than timestamp/);
  expect(() => decodeTiData({ info: 0x80, payload: new Uint8Array(8) })).toThrow(/not a data packet/);
});

test("a data packet carrying an FCS byte (the guide's general format) is read too, and counted", () => {
  const payload = DATA.subarray(5, DATA.length - 2);
  const withPacketFcs = encodeTiPacket({ info: TI_DATA_INFO, payload }, { fcs: true });
  const r = decodeAll(withPacketFcs, DATA);
  expect(r.packets).toHaveLength(2);
  expect(r.packets[0]).toBe(r.packets[1]);
  expect(r.stats.dataWithFcs).toBe(1);
  expect(r.defects).toEqual([]);
});

test('frame layouts: each round-trips, and the layout of an intact frame is recognised by its FCS', () => {
  for (const layout of ['psdu', 'psdu+fcs', 'phr+psdu+fcs'] as const) {
    const body = tiBody(PSDU, layout);
    expect(hex(tiPsdu(body, layout))).toBe(hex(PSDU));
    expect(detectTiFrameLayout(body)).toBe(layout);
  }
  expect(hex(tiBody(PSDU, 'phr+psdu+fcs')).slice(0, 2)).toBe((PSDU.length + 2).toString(16).padStart(2, '0'));
  expect(() => tiPsdu(Uint8Array.of(9, 1, 2, 3), 'phr+psdu+fcs')).toThrow(/length byte 9, but 3 bytes follow/);
  expect(() => tiPsdu(Uint8Array.of(1), 'psdu+fcs')).toThrow(/too short/);
});

test('packets split across reads at every byte come out whole, in order', () => {
  const wire = Buffer.concat([encodeTiCommand(TI_COMMAND.PING), DATA, encodeTiResponse({ status: 4, data: new Uint8Array(0) })]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const r = decodeAll(wire.subarray(0, cut), wire.subarray(cut));
    expect(r.packets).toEqual(['40:', `c0:${hex(DATA.subarray(5, DATA.length - 2))}`, '80:04']);
    expect(r.defects).toEqual([]);
  }
});

test('defects: noise before a SOF, a bad FCS, a missing EOF and an overlong length are each reported with their bytes, then it resynchronises', () => {
  const ping = encodeTiCommand(TI_COMMAND.PING);
  const badFcs = fromHex('4053400000414045');
  const noEof = fromHex('405347010009510000');
  const overlong = fromHex('405340ffff');
  const r = decodeAll(fromHex('00ff12'), ping, badFcs, ping, noEof, ping, overlong, ping);
  expect(r.packets).toEqual(['40:', '40:', '40:', '40:']);
  expect(r.defects).toEqual([
    ['bad-sof', '00ff12'],
    ['bad-fcs', '4053400000414045'],
    ['bad-eof', '405347010009510000'],
    // After the header with no EOF, its remaining bytes are noise until the next SOF.
    ['bad-sof', '47010009510000'],
    ['bad-length', '405340ffff'],
    ['bad-sof', '40ffff'],
  ]);
  expect(r.stats.defects).toEqual({ 'bad-sof': 3, 'bad-fcs': 1, 'bad-eof': 1, 'bad-length': 1 });
  expect(r.stats.packets).toBe(4);
});

test('long noise with no SOF is reported without waiting, and a stream ending inside a packet is one defect at flush', () => {
  const r = decodeAll(new Uint8Array(5000).fill(0x11));
  expect(r.defects).toEqual([['bad-sof', '11'.repeat(5000)]]);
  r.decoder.push(DATA.subarray(0, 10));
  expect(r.defects).toHaveLength(1);
  r.decoder.flush();
  expect(r.defects[1]).toEqual(['bad-eof', hex(DATA.subarray(0, 10))]);
});

test('a packet among noise chunks (with no 0x40 in them) is found whole, and every noise byte is reported as bad-sof', () => {
  const noiseChunk = fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x === 0x40 ? 0x41 : x)));
  fc.assert(
    fc.property(fc.array(noiseChunk, { maxLength: 8 }), fc.nat(8), (noise, at) => {
      const chunks: Uint8Array[] = [...noise];
      chunks.splice(Math.min(at, chunks.length), 0, DATA as Uint8Array);
      const r = decodeAll(...chunks);
      r.decoder.flush();
      expect(r.packets).toEqual([`c0:${hex(DATA.subarray(5, DATA.length - 2))}`]);
      expect(r.defects.every(([k]) => k === 'bad-sof')).toBe(true);
      expect(r.defects.reduce((n, [, raw]) => n + raw.length / 2, 0)).toBe(noise.reduce((n, c) => n + c.length, 0));
    }),
  );
});
