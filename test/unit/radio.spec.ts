// The rig radio driver against the virtual radio firmware, over MockBinding and over a socat pty
// with the real serialport bindings (protocol: drivers/radio/line-protocol.ts).
import { expect, type TestInfo } from '@playwright/test';
import { fromHex, hex } from '../../protocol/bytes.ts';
import type { RigFault } from '../../drivers/faults.ts';
import { RigRadio, type RigRadioOptions } from '../../drivers/radio/rig-radio.ts';
import { parseRadioAnswer } from '../../drivers/radio/line-protocol.ts';
import type { SniffedFrame } from '../../drivers/sniffer/sniffer.ts';
import { VirtualRigRadioFirmware, VirtualUsbHub } from '../../sim/serial-devices.ts';
import { RecordingLog, TRANSPORTS, openBenchLine, test, type Defer, type Transport } from '../support/serial-bench.ts';

// A MAC data frame (no FCS) to broadcast on PAN 0xFFFF from an extended source, then NWK inter-PAN 0x000b.
const HHT_PSDU = fromHex('01c8a3ffffffff2b1a3d2c1b0a006f0d000b00');

async function benchRadio(transport: Transport, testInfo: TestInfo, defer: Defer, options: RigRadioOptions = {}) {
  const line = await openBenchLine(transport, testInfo, defer);
  const fw = new VirtualRigRadioFirmware(line.device);
  const log = new RecordingLog();
  const radio = await RigRadio.open({ path: line.hostPath }, { binding: line.binding, log, where: 'radio "hht"', ...options });
  defer(() => radio.close());
  return { line, fw, log, radio, settle: () => radio.drain({ receivedBytes: fw.bytesWritten }) };
}

for (const transport of TRANSPORTS) {
  test.describe(`rig radio over ${transport}`, () => {
    test('identifies itself, takes settings and transmits: the firmware sees the PSDU on the channel', async ({ defer }, testInfo) => {
      const { line, fw, radio } = await benchRadio(transport, testInfo, defer);
      if (transport === 'mock') expect(line.mock!.dtr).toBe(true);
      const sent: Array<{ psdu: string; channel: number }> = [];
      fw.onTransmit((psdu, channel) => sent.push({ psdu: hex(psdu), channel }));

      // Asked once at open, so the report can name the firmware.
      expect(radio.firmware).toBe('gbcs-rig-radio protocol 1, virtual');
      expect(await radio.version()).toEqual({ protocol: 1, description: 'virtual' });
      // Pipelined: answers come back in order and each settles its own command.
      await Promise.all([radio.setChannel(25), radio.setIeee('00:0d:6f:00:0a:1b:2c:3d'), radio.setPan(0x1a2b)]);
      expect({ channel: fw.channel, ieee: fw.ieee, pan: fw.pan }).toEqual({ channel: 25, ieee: '000d6f000a1b2c3d', pan: 0x1a2b });
      await radio.transmit(HHT_PSDU);
      expect(sent).toEqual([{ psdu: hex(HHT_PSDU), channel: 25 }]);
      expect(fw.commands).toEqual(['version', 'version', 'channel 25', 'ieee 000d6f000a1b2c3d', 'pan 1a2b', `tx ${hex(HHT_PSDU)}`]);
    });

    test('an err answer is a radio-refused fault with the reason, and the radio stays usable', async ({ defer }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer);
      await radio.setChannel(11);
      fw.refuseNext('channel busy', (command) => command.startsWith('tx '));
      const error = await radio.transmit(HHT_PSDU).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'radio-refused', where: 'radio "hht"' });
      expect((error as RigFault).message).toContain('channel busy');
      await radio.transmit(HHT_PSDU);
      expect(radio.fault).toBeUndefined();
    });

    test('a command with no answer is a radio-unavailable fault; later commands fail the same way', async ({ defer }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer, { answerTimeoutMs: 200 });
      await radio.setChannel(11);
      fw.mute();
      const error = await radio.transmit(HHT_PSDU).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'radio-unavailable' });
      expect((error as RigFault).message).toContain('no answer to "tx 01c8a3');
      await expect(radio.setChannel(12)).rejects.toBe(error);
    });

    test('reports received frames between answers, FCS position stripped and labelled with its channel', async ({ defer }, testInfo) => {
      const { fw, radio, log, settle } = await benchRadio(transport, testInfo, defer, { now: () => 42 });
      await radio.setChannel(15);
      await radio.receive(true);
      const frames = radio.frames();
      const seen: SniffedFrame[] = [];
      radio.onFrame((f) => seen.push(f));
      fw.deliver(HHT_PSDU, { rssi: -48, lqi: 230, channel: 15, atUs: 10_000_000n });
      fw.emitGarbage('booting gbcs-rig-radio\r\nok\r\n');
      // Parsed before the next command is sent: a stray `ok` with no command outstanding.
      await settle();
      await radio.transmit(Uint8Array.of(0x02, 0x00, 0x07));
      expect(fw.deliver(HHT_PSDU, { rssi: -48, lqi: 230, channel: 16, atUs: 10_000_100n })).toBe(false);
      const first = (await frames.next()).value as SniffedFrame;
      expect(hex(first.frame)).toBe(hex(HHT_PSDU));
      expect(first).toMatchObject({ rssi: -48, lqi: 230, channel: 15, snifferUs: 10_000_000n });
      expect(radio.anchor).toMatchObject({ snifferUs: 10_000_000n, benchMs: 42 });
      await settle();
      expect(seen).toHaveLength(1);
      // The banner and the unsolicited `ok` are lines, not answers: they must not steal the tx answer.
      expect(radio.stats.nonFrameLines).toBe(2);
      expect(log.entries.some((e) => e.message.includes('no command outstanding'))).toBe(true);
      await radio.receive(false);
      expect(fw.receiving).toBe(false);
      await frames.return!();
    });

    test('a radio unplugged while a command is outstanding fails it with serial-port-lost', async ({ defer }, testInfo) => {
      const { fw, radio } = await benchRadio(transport, testInfo, defer, { answerTimeoutMs: 10_000 });
      await radio.setChannel(11);
      fw.mute();
      const pending = radio.transmit(HHT_PSDU).catch((e: unknown) => e);
      await fw.whenCommand(`tx ${hex(HHT_PSDU)}`);
      await fw.unplug();
      expect(await pending).toMatchObject({ kind: 'serial-port-lost' });
    });
  });
}

test.describe('rig radio setup', () => {
  test('an unknown USB serial number is a radio-unavailable fault that lists what was found', async () => {
    const hub = new VirtualUsbHub();
    hub.plug('/dev/ttyACM-radio-0', { serialNumber: 'RADIO0001', vendorId: '1915', productId: '520f' });
    const error = await RigRadio.open({ serialNumber: 'RADIO9999' }, { binding: hub.binding }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'radio-unavailable' });
    expect((error as RigFault).message).toContain('/dev/ttyACM-radio-0 (serial "RADIO0001" 1915:520f)');
  });

  test('host-side checks refuse what the protocol cannot carry before anything is sent', async ({ defer }, testInfo) => {
    const { fw, radio } = await benchRadio('mock', testInfo, defer);
    await expect(radio.transmit(HHT_PSDU)).rejects.toThrow('set a channel');
    await radio.setChannel(11);
    await expect(radio.transmit(new Uint8Array(126))).rejects.toThrow('1..125 bytes');
    await expect(radio.setChannel(27)).rejects.toThrow('11–26');
    await expect(radio.setIeee('00:0d:6f')).rejects.toThrow('not an IEEE address');
    expect(fw.commands).toEqual(['version', 'channel 11']);
  });

  test('answer lines parse; other lines are not answers', () => {
    expect(parseRadioAnswer('ok\r')).toEqual({ kind: 'ok' });
    expect(parseRadioAnswer('err channel busy')).toEqual({ kind: 'err', reason: 'channel busy' });
    expect(parseRadioAnswer('gbcs-rig-radio 1 nrf52840 build 7')).toEqual({
      kind: 'version',
      protocol: 1,
      description: 'nrf52840 build 7',
    });
    expect(parseRadioAnswer('okay')).toBeUndefined();
    expect(parseRadioAnswer('received: 0200 power: -1 lqi: 1 time: 1')).toBeUndefined();
  });
});
