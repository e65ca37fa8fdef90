// The Spinel session and the `ot-rcp` rig radio and sniffer against the virtual OpenThread RCP
// (sim/ot-rcp-firmware.ts), over MockBinding and over a socat pty with the real serialport bindings.
import { expect, type TestInfo } from '@playwright/test';
import { hex } from '../../protocol/bytes.ts';
import { encodeMac } from '../../protocol/mac.ts';
import {
  PROMISCUOUS,
  SPINEL_CAP,
  SPINEL_CMD,
  SPINEL_PROP,
  decodeRawTransmit,
  encodeSpinel,
  hdlcEncode,
  propertyPayload,
  readProperty,
} from '../../protocol/spinel.ts';
import type { RigFault } from '../../drivers/faults.ts';
import { LOST_FRAME_LIMIT } from '../../drivers/ot-rcp.ts';
import { OtRcpRadio } from '../../drivers/radio/ot-rcp.ts';
import { OtRcpSniffer } from '../../drivers/sniffer/ot-rcp.ts';
import type { SniffedFrame, UnreadInput } from '../../drivers/sniffer/sniffer.ts';
import { NRF52840_OT_RCP, VirtualOtRcpFirmware, type VirtualOtRcpOptions } from '../../sim/ot-rcp-firmware.ts';
import { RecordingLog, TRANSPORTS, openBenchLine, test, type Defer, type Transport } from '../support/serial-bench.ts';

const HHT = '00:0d:6f:00:0a:1b:2c:3d';
const OTHER = '00:0d:6f:00:0a:1b:2c:99';
// Inter-PAN from the HHT: broadcast on PAN 0xFFFF, extended source (no FCS).
const HHT_PSDU = encodeMac(
  { type: 'data', seq: 7, dstPan: '0xffff', dst: '0xffff', srcPan: '0x1a2b', src: HHT, payload: Uint8Array.of(0x0b, 0x00) },
  false,
);
const toHht = (seq: number) =>
  encodeMac(
    { type: 'data', seq, dstPan: '0xffff', dst: HHT, srcPan: '0x4b1d', src: '00:db:12:34:56:78:90:a2', payload: Uint8Array.of(1) },
    false,
  );
const toOther = (seq: number) =>
  encodeMac(
    { type: 'data', seq, dstPan: '0xffff', dst: OTHER, srcPan: '0x4b1d', src: '00:db:12:34:56:78:90:a2', payload: Uint8Array.of(2) },
    false,
  );
const at = (us: bigint, channel = 15) => ({ rssi: -48, lqi: 230, channel, atUs: us });

async function bench(transport: Transport, testInfo: TestInfo, defer: Defer, options: VirtualOtRcpOptions = {}) {
  const line = await openBenchLine(transport, testInfo, defer);
  const fw = new VirtualOtRcpFirmware(line.device, options);
  const log = new RecordingLog();
  return { line, fw, log };
}

async function benchRadio(transport: Transport, testInfo: TestInfo, defer: Defer, replyTimeoutMs?: number) {
  const { line, fw, log } = await bench(transport, testInfo, defer);
  const radio = await OtRcpRadio.open(
    { path: line.hostPath },
    { binding: line.binding, log, where: 'rig radio', now: () => 42, replyTimeoutMs },
  );
  defer(() => radio.close());
  return { fw, log, radio, settle: () => radio.drain({ receivedBytes: fw.bytesWritten }) };
}

async function benchSniffer(transport: Transport, testInfo: TestInfo, defer: Defer) {
  const { line, fw, log } = await bench(transport, testInfo, defer);
  const sniffer = await OtRcpSniffer.open(
    { path: line.hostPath },
    { binding: line.binding, log, where: 'sniffer "han"', now: () => 1_000 },
  );
  defer(() => sniffer.close());
  return { fw, log, sniffer, settle: () => sniffer.drain({ receivedBytes: fw.bytesWritten }) };
}

const commandNames = (fw: VirtualOtRcpFirmware) =>
  fw.commands.map((c) => {
    if (c.command === SPINEL_CMD.RESET) return 'RESET';
    const { prop } = readProperty(c.payload);
    const name = Object.entries(SPINEL_PROP).find(([, id]) => id === prop)![0];
    return `${c.command === SPINEL_CMD.PROP_VALUE_GET ? 'GET' : 'SET'} ${name}`;
  });

for (const transport of TRANSPORTS) {
  test.describe(`ot-rcp rig radio over ${transport}`, () => {
    test('resets and identifies the RCP, takes the HHT addresses and transmits with the transmit-done of its own TID', async ({
      defer,
    }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer);
      expect(radio.firmware).toBe(NRF52840_OT_RCP.ncpVersion);
      expect(radio.identity).toMatchObject({ protocol: { major: 4, minor: 3 }, hwaddr: 'f4:ce:36:00:00:15:4b:01' });
      expect(radio.identity.caps).toEqual(expect.arrayContaining([SPINEL_CAP.CONFIG_RADIO, SPINEL_CAP.MAC_RAW]));
      const sent: Array<{ psdu: string; channel: number }> = [];
      fw.onTransmit((psdu, channel) => sent.push({ psdu: hex(psdu), channel }));

      await radio.setChannel(15);
      await radio.setIeee(HHT);
      await radio.setHanAddress({ pan: 0x4b1d, short: 0x3c21 });
      // LADDR travels most significant byte first (spinel.h `E`), as it is written.
      expect({ channel: fw.channel, ieee: fw.ieee, pan: fw.pan, short: fw.short }).toEqual({
        channel: 15,
        ieee: '000d6f000a1b2c3d',
        pan: 0x4b1d,
        short: 0x3c21,
      });
      expect(fw.promiscuous).toBe(PROMISCUOUS.OFF);
      await radio.transmit(HHT_PSDU);
      await radio.transmit(HHT_PSDU);
      expect(sent).toEqual([
        { psdu: hex(HHT_PSDU), channel: 15 },
        { psdu: hex(HHT_PSDU), channel: 15 },
      ]);
      expect(commandNames(fw)).toEqual([
        'RESET',
        'GET PROTOCOL_VERSION',
        'GET NCP_VERSION',
        'GET CAPS',
        'GET HWADDR',
        'SET PHY_ENABLED',
        'SET MAC_PROMISCUOUS_MODE',
        'SET MAC_RAW_STREAM_ENABLED',
        'SET PHY_CHAN',
        'SET MAC_15_4_LADDR',
        'SET MAC_15_4_PANID',
        'SET MAC_15_4_SADDR',
        'SET STREAM_RAW',
        'SET STREAM_RAW',
      ]);
      // Every command but the reset carries a TID 1–15, each transmission its own; the PSDU goes with two FCS bytes the radio fills.
      const tids = fw.commands.slice(1).map((c) => c.tid);
      expect(tids.every((t) => t >= 1 && t <= 15)).toBe(true);
      const [a, b] = fw.commands.slice(-2);
      expect(a.tid).not.toBe(b.tid);
      expect(hex(decodeRawTransmit(readProperty(a.payload).value).psdu)).toBe(`${hex(HHT_PSDU)}0000`);
      expect(radio.fault).toBeUndefined();
    });

    test('reports frames to the HHT while receiving, not frames to others, with RSSI, LQI, channel and the RCP timestamp', async ({
      defer,
    }, testInfo) => {
      const { fw, radio, settle } = await benchRadio(transport, testInfo, defer);
      await radio.setChannel(15);
      await radio.setIeee(HHT);
      const seen: SniffedFrame[] = [];
      radio.onFrame((f) => seen.push(f));
      // Heard before receive(true): the RCP acknowledges it, the driver does not report it.
      expect(fw.deliver(toHht(1), at(9_000_000n))).toBe(true);
      await settle();
      await radio.receive(true);
      expect(fw.deliver(toOther(2), at(9_500_000n))).toBe(false);
      expect(fw.deliver(toHht(3), at(10_000_000n))).toBe(true);
      expect(fw.deliver(toHht(4), at(10_000_100n, 16))).toBe(false);
      await settle();
      expect(seen.map((f) => hex(f.frame))).toEqual([hex(toHht(3))]);
      expect(seen[0]).toMatchObject({ rssi: -48, lqi: 230, channel: 15, snifferUs: 10_000_000n });
      expect(radio.anchor).toMatchObject({ snifferUs: 10_000_000n, benchMs: 42 });
      expect(radio.toBenchTime(10_001_000n)).toBe(43);
    });

    test('a CCA failure is a radio-refused fault naming the status, and the radio stays usable', async ({ defer }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer);
      await radio.setChannel(11);
      fw.failTransmit('CCA_FAILURE');
      const error = await radio.transmit(HHT_PSDU).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'radio-refused', where: 'rig radio' });
      expect((error as RigFault).message).toContain('CCA_FAILURE');
      expect((error as RigFault).fix).toContain('busy');
      // NO_ACK: the frame went out.
      fw.failTransmit('NO_ACK');
      await radio.transmit(HHT_PSDU);
      await radio.transmit(HHT_PSDU);
      expect(radio.fault).toBeUndefined();
    });

    test('an RCP that stops answering is radio-unavailable naming the command; later commands fail the same way', async ({
      defer,
    }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer, 200);
      await radio.setChannel(11);
      fw.mute();
      const error = await radio.setChannel(12).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'radio-unavailable' });
      expect((error as RigFault).message).toMatch(/no answer to PROP_VALUE_SET PHY_CHAN \(TID \d+\) within 200 ms/);
      expect((error as RigFault).fix).toContain('ot-rcp');
      await expect(radio.transmit(HHT_PSDU)).rejects.toBe(error);
      expect(radio.fault).toBe(error);
    });

    test('a reset announced mid-session is a fault: the RCP lost its settings', async ({ defer }, testInfo) => {
      const { fw, radio, settle } = await benchRadio(transport, testInfo, defer);
      await radio.setChannel(11);
      const before = radio.session.resets;
      fw.resetSpontaneously('RESET_WATCHDOG');
      await settle().catch(() => {});
      expect(radio.fault).toMatchObject({ kind: 'radio-unavailable' });
      expect(radio.fault!.message).toContain('RESET_WATCHDOG');
      expect(radio.session.resets).toBe(before + 1);
    });

    test('an RCP unplugged while a transmission is outstanding fails it with serial-port-lost', async ({ defer }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer, 10_000);
      await radio.setChannel(11);
      fw.mute();
      const pending = radio.transmit(HHT_PSDU).catch((e: unknown) => e);
      await expect.poll(() => fw.commands.at(-1) && readProperty(fw.commands.at(-1)!.payload).prop).toBe(SPINEL_PROP.STREAM_RAW);
      await fw.unplug();
      expect(await pending).toMatchObject({ kind: 'serial-port-lost' });
    });
  });

  test.describe(`ot-rcp sniffer over ${transport}`, () => {
    test('starts promiscuous on its channel and hears every frame there, FCS stripped', async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      const frames = sniffer.frames();
      await sniffer.start(20);
      expect({ channel: fw.channel, promiscuous: fw.promiscuous, rawStream: fw.rawStream }).toEqual({
        channel: 20,
        promiscuous: PROMISCUOUS.FULL,
        rawStream: true,
      });
      expect(commandNames(fw).slice(5)).toEqual([
        'SET PHY_ENABLED',
        'SET PHY_CHAN',
        'SET MAC_PROMISCUOUS_MODE',
        'SET MAC_RAW_STREAM_ENABLED',
      ]);
      expect(fw.deliver(toOther(1), at(5_000_000n, 20))).toBe(true);
      expect(fw.deliver(HHT_PSDU, at(5_000_250n, 20))).toBe(true);
      expect(fw.deliver(HHT_PSDU, at(5_000_500n, 21))).toBe(false);
      await settle();
      const first = (await frames.next()).value as SniffedFrame;
      const second = (await frames.next()).value as SniffedFrame;
      expect([hex(first.frame), hex(second.frame)]).toEqual([hex(toOther(1)), hex(HHT_PSDU)]);
      expect(second).toMatchObject({ rssi: -48, lqi: 230, channel: 20, snifferUs: 5_000_250n });
      expect(sniffer.toBenchTime(5_000_250n)).toBe(1_000.25);
      await sniffer.close();
      expect(fw.rawStream).toBe(false);
      expect((await frames.next()).done).toBe(true);
    });

    test('a receive error and garbage bytes are lost frames, counted and reported, never fatal; a frame after them is read', async ({
      defer,
    }, testInfo) => {
      const { fw, sniffer, settle, log } = await benchSniffer(transport, testInfo, defer);
      const unread: UnreadInput[] = [];
      sniffer.onUnread((u) => unread.push(u));
      const seen: SniffedFrame[] = [];
      sniffer.onFrame((f) => seen.push(f));
      await sniffer.start(15);
      fw.deliverReceiveError(17, at(1n));
      fw.emitGarbage(Uint8Array.of(0x7e, 0x01, 0x02, 0x03, 0x04, 0x7e, 0x05, 0x7e, 0x99, 0x7d, 0x7e));
      fw.deliver(HHT_PSDU, at(2_000n));
      await settle();
      expect(unread.map((u) => u.reason)).toEqual(['receive error FCS', 'HDLC bad-fcs', 'HDLC too-short', 'HDLC bad-escape']);
      expect(unread.every((u) => u.malformed)).toBe(true);
      expect(sniffer.session.stats.defects).toEqual({ 'bad-fcs': 1, 'too-short': 1, 'bad-escape': 1, 'too-long': 0 });
      expect(seen.map((f) => hex(f.frame))).toEqual([hex(HHT_PSDU)]);
      expect(sniffer.fault).toBeUndefined();
      expect(log.entries.filter((e) => e.message === 'spinel input unreadable')).toHaveLength(3);
    });

    test(`${LOST_FRAME_LIMIT} lost frames in a row make sniffer-garbled`, async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      await sniffer.start(15);
      fw.garble();
      for (let i = 0; i < LOST_FRAME_LIMIT; i++) fw.deliver(HHT_PSDU, at(BigInt(i * 1000)));
      await settle().catch(() => {});
      expect(sniffer.fault).toMatchObject({ kind: 'sniffer-garbled', where: 'sniffer "han"' });
      expect(sniffer.session.stats.defects['bad-fcs']).toBe(LOST_FRAME_LIMIT);
    });
  });
}

test.describe('ot-rcp setup', () => {
  test('firmware without MAC_RAW (an NCP or CLI build) is refused with the firmware named and what to flash', async ({
    defer,
  }, testInfo) => {
    const { line, fw } = await bench('mock', testInfo, defer, {
      caps: [SPINEL_CAP.COUNTERS, 33],
      ncpVersion: 'OPENTHREAD/1.3.0; NRF52840; ncp',
    });
    const error = await OtRcpRadio.open({ path: line.hostPath }, { binding: line.binding, where: 'rig radio' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'radio-unavailable', where: 'rig radio' });
    expect((error as RigFault).message).toContain('firmware "OPENTHREAD/1.3.0; NRF52840; ncp" lacks CONFIG_RADIO and MAC_RAW');
    expect((error as RigFault).fix).toContain('ot-rcp');
    // Refused before the radio was touched.
    expect(commandNames(fw)).toEqual(['RESET', 'GET PROTOCOL_VERSION', 'GET NCP_VERSION', 'GET CAPS']);
    const sniffing = await OtRcpSniffer.open({ path: line.hostPath }, { binding: line.binding, where: 'sniffer "han"' }).catch(
      (e: unknown) => e,
    );
    expect(sniffing).toMatchObject({ kind: 'sniffer-unavailable' });
  });

  test('a silent device (not an RCP at all) is refused at open: no reset announcement', async ({ defer }, testInfo) => {
    const { line, fw } = await bench('mock', testInfo, defer);
    fw.mute();
    const error = await OtRcpSniffer.open(
      { path: line.hostPath },
      { binding: line.binding, where: 'sniffer "han"', replyTimeoutMs: 200 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'sniffer-stopped' });
    expect((error as RigFault).message).toContain('no reset announcement');
  });

  test('more commands than transaction ids wait for a free one: 40 pipelined reads all get their own answer', async ({
    defer,
  }, testInfo) => {
    const { fw, radio } = await benchRadio('mock', testInfo, defer);
    await radio.setChannel(22);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => radio.session.get(i % 2 ? SPINEL_PROP.PHY_CHAN : SPINEL_PROP.MAC_15_4_PANID)),
    );
    expect(answers.map((a, i) => (i % 2 ? a[0] : a[0] | (a[1] << 8)))).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 ? 22 : 0xffff)));
    const tids = fw.commands.slice(1).map((c) => c.tid);
    expect(Math.min(...tids)).toBe(1);
    expect(Math.max(...tids)).toBe(15);
  });

  test('the liveness probe reads PHY_CHAN: an RCP that stops answering becomes a fault without any transmission', async ({
    defer,
  }, testInfo) => {
    const { fw, radio } = await benchRadio('mock', testInfo, defer, 200);
    await radio.setChannel(19);
    radio.startProbe(20);
    await expect.poll(() => commandNames(fw).filter((c) => c === 'GET PHY_CHAN').length).toBeGreaterThanOrEqual(2);
    expect(radio.fault).toBeUndefined();
    fw.mute();
    await expect.poll(() => radio.fault?.kind).toBe('radio-unavailable');
    expect(radio.fault!.message).toContain('PROP_VALUE_GET PHY_CHAN');
  });

  test('the sniffer probe: a PHY_CHAN answer on another channel is an RCP that restarted', async ({ defer }, testInfo) => {
    const { fw, sniffer } = await benchSniffer('mock', testInfo, defer);
    await sniffer.start(15);
    // A reset whose announcement was lost (a USB re-enumeration swallowed it): only the probe can tell.
    fw.resetSpontaneously('RESET_POWER_ON', { announced: false });
    sniffer.startProbe({ everyMs: 20, answerWithinMs: 1_000 });
    await expect.poll(() => sniffer.fault?.kind).toBe('sniffer-stopped');
    expect(sniffer.fault!.message).toContain('PHY_CHAN');
  });

  test('frames that are HDLC-sound but not usable Spinel are defects, never a crash; the session carries on', async ({
    defer,
  }, testInfo) => {
    const { fw, sniffer, settle } = await benchSniffer('mock', testInfo, defer);
    const unread: UnreadInput[] = [];
    sniffer.onUnread((u) => unread.push(u));
    await sniffer.start(15);
    fw.emitGarbage(hdlcEncode(Uint8Array.of(0x40, 0x06, 0x00)));
    fw.emitGarbage(
      hdlcEncode(encodeSpinel({ iid: 0, tid: 0, command: SPINEL_CMD.PROP_VALUE_IS, payload: propertyPayload(SPINEL_PROP.LAST_STATUS) })),
    );
    fw.emitGarbage(
      hdlcEncode(
        encodeSpinel({
          iid: 0,
          tid: 0,
          command: SPINEL_CMD.PROP_VALUE_IS,
          payload: propertyPayload(SPINEL_PROP.STREAM_RAW, Uint8Array.of(9)),
        }),
      ),
    );
    fw.deliver(HHT_PSDU, at(1_000n));
    await settle();
    expect(unread.map((u) => u.reason.split(':')[0])).toEqual([
      'not a Spinel frame',
      'unsolicited LAST_STATUS without a status',
      'STREAM_RAW unreadable',
    ]);
    expect(sniffer.fault).toBeUndefined();
    await sniffer.start(16);
    expect(fw.channel).toBe(16);
  });

  test('a sniffer whose port vanishes is sniffer-stopped, as every sniffer kind', async ({ defer }, testInfo) => {
    const { fw, sniffer } = await benchSniffer('mock', testInfo, defer);
    await sniffer.start(15);
    const frames = sniffer.frames();
    await fw.stop('unplug');
    await expect(frames.next()).rejects.toMatchObject({ kind: 'sniffer-stopped' });
    expect(sniffer.fault!.fix).toContain('re-plug');
  });

  test('a property the RCP does not have is a refusal with the status name', async ({ defer }, testInfo) => {
    const { radio } = await benchRadio('mock', testInfo, defer);
    const error = await radio.session.get(0x1234).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'radio-refused' });
    expect((error as RigFault).message).toContain('PROP_NOT_FOUND');
    expect(radio.fault).toBeUndefined();
  });
});
