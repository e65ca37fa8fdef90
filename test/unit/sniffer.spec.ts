// The nRF Sniffer for 802.15.4 driver against the virtual sniffer firmware, over MockBinding and
// over a socat pty with the real serialport bindings (PROTOCOL.md §1).
import { expect } from '@playwright/test';
import { fromHex, hex } from '../../protocol/bytes.ts';
import { RigFault } from '../../drivers/faults.ts';
import { SnifferClock, parseReceivedLine } from '../../drivers/received-lines.ts';
import { GARBAGE_LINE_LIMIT, Nrf802154Sniffer } from '../../drivers/sniffer/nrf802154.ts';
import type { SniffedFrame, UnreadInput } from '../../drivers/sniffer/sniffer.ts';
import { VirtualNrfSnifferFirmware, VirtualUsbHub, type VirtualNrfSnifferOptions } from '../../sim/serial-devices.ts';
import { RecordingLog, TRANSPORTS, openBenchLine, test, type Defer, type Transport } from '../support/serial-bench.ts';
import type { TestInfo } from '@playwright/test';

// PROTOCOL.md §3 test frame without its FCS (e2ae).
const SECTION3_PSDU = fromHex('4188a31e48ffff00000912fcff000001cc0885dafeffd76b0828f6ea32000885dafeffd76b0800295e19cad6ebd84ca2');
const TWO_32 = 1n << 32n;

async function benchSniffer(
  transport: Transport,
  testInfo: TestInfo,
  defer: Defer,
  firmware: VirtualNrfSnifferOptions = {},
  now = () => 1_000,
) {
  const line = await openBenchLine(transport, testInfo, defer);
  const fw = new VirtualNrfSnifferFirmware(line.device, firmware);
  const log = new RecordingLog();
  const sniffer = await Nrf802154Sniffer.open({ path: line.hostPath }, { binding: line.binding, log, now, where: 'sniffer "han-a"' });
  defer(() => sniffer.close());
  const settle = () => sniffer.drain({ receivedBytes: fw.bytesWritten });
  return { line, fw, log, sniffer, settle };
}

for (const transport of TRANSPORTS) {
  test.describe(`nRF sniffer over ${transport}`, () => {
    test('sends the vendor start sequence in order, with DTR asserted', async ({ defer }, testInfo) => {
      const { line, fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      if (transport === 'mock') {
        expect(line.mock!.dtr).toBe(true);
        expect(sniffer.link.dtr).toBe('asserted');
      } else {
        // A pty has no modem lines: the driver notes it instead of failing.
        expect(sniffer.link.dtr).toBe('not-applicable');
      }
      await sniffer.start(15);
      await fw.whenCommand('receive');
      expect(fw.commands).toEqual(['sleep', 'shell echo off', 'channel 15', 'receive']);
      expect({ receiving: fw.receiving, channel: fw.channel, echo: fw.echo }).toEqual({ receiving: true, channel: 15, echo: false });
      expect(sniffer.state).toBe('receiving');
      // The echoes before `shell echo off` took effect are lines, not frames.
      await settle();
      expect(sniffer.stats.nonFrameLines).toBe(2);

      await sniffer.stop();
      await fw.whenCommand('sleep', 2);
      expect(fw.commands.slice(4)).toEqual(['', 'sleep']);
      expect(fw.receiving).toBe(false);
    });

    test('parses frames, strips the two trailing bytes and anchors sniffer time to bench time', async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer, {}, () => 5_000);
      const frames = sniffer.frames();
      const seen: SniffedFrame[] = [];
      sniffer.onFrame((f) => seen.push(f));
      await sniffer.start(20);
      await fw.whenCommand('receive');

      expect(fw.deliver(SECTION3_PSDU, { rssi: -61, lqi: 212, channel: 11, atUs: 1_000n })).toBe(false);
      expect(fw.deliver(SECTION3_PSDU, { rssi: -61, lqi: 212, channel: 20, atUs: 1_234_567n })).toBe(true);
      const first = (await frames.next()).value as SniffedFrame;
      expect(hex(first.frame)).toBe(hex(SECTION3_PSDU));
      expect(first).toMatchObject({ rssi: -61, lqi: 212, channel: 20, snifferUs: 1_234_567n });
      expect(first.line).toBeGreaterThan(0);
      await settle();
      expect(seen).toHaveLength(1);
      expect(sniffer.anchor).toEqual({ snifferUs: 1_234_567n, benchMs: 5_000, line: first.line });
      expect(sniffer.toBenchTime(1_234_567n + 2_500_000n)).toBe(7_500);
      await frames.return!();
    });

    test('unwraps a 32-bit sniffer counter', async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer, { counter: '32-bit' });
      await sniffer.start(11);
      await fw.whenCommand('receive');
      // Consecutive frames less than 2^31 µs apart, crossing two wraps.
      const times = [TWO_32 - 1_000n, TWO_32 + 500n, TWO_32 + 3n * (1n << 30n), 2n * TWO_32 + 10n];
      const seen: bigint[] = [];
      sniffer.onFrame((f) => seen.push(f.snifferUs));
      for (const atUs of times) fw.deliver(Uint8Array.of(0x02, 0x00, 0x11), { rssi: -40, lqi: 255, channel: 11, atUs });
      await settle();
      expect(seen).toEqual(times);
      expect(sniffer.stats.timeWraps).toBe(2);
    });

    test('keeps a 64-bit sniffer counter as printed', async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer, { counter: '64-bit' });
      await sniffer.start(11);
      await fw.whenCommand('receive');
      const times = [5n * TWO_32 + 7n, 5n * TWO_32 + 3_000_000_000n, (1n << 40n) + 123n];
      const seen: bigint[] = [];
      sniffer.onFrame((f) => seen.push(f.snifferUs));
      for (const atUs of times) fw.deliver(Uint8Array.of(0x02, 0x00, 0x11), { rssi: -40, lqi: 255, channel: 11, atUs });
      await settle();
      expect(seen).toEqual(times);
      expect(sniffer.stats.timeWraps).toBe(0);
    });

    test('counts and logs prompts, errors, garbage and malformed frame lines without crashing', async ({ defer }, testInfo) => {
      const { fw, sniffer, log, settle } = await benchSniffer(transport, testInfo, defer);
      await sniffer.start(11);
      await fw.whenCommand('receive');
      await settle();
      const before = { ...sniffer.stats };
      const frames: SniffedFrame[] = [];
      sniffer.onFrame((f) => frames.push(f));

      fw.emitGarbage('uart:~$ \r\n');
      fw.emitGarbage('foo: command not found\r\n');
      fw.emitGarbage(Uint8Array.of(0xff, 0x00, 0xfe, 0x1b, 0x5b, 0x0d, 0x0a));
      fw.emitGarbage('received: 41zz power: -40 lqi: 9 time: 5\r\n');
      fw.emitGarbage('received: 418 power: -40 lqi: 9 time: 5\r\n');
      fw.emitGarbage('received: 4188 power: -40 lqi: 9 time: 5\r\n');
      fw.emitGarbage('received: 41880102 power: -40 lqi: 999 time: 5\r\n');
      // The vendor regex is unanchored: a prompt before and text after still make a frame.
      fw.emitGarbage('uart:~$ received: 4188010203 power: -40 lqi: 9 time: 77 crc ok\r\n');
      fw.deliver(Uint8Array.of(0x03, 0x08, 0x01), { rssi: -50, lqi: 100, channel: 11, atUs: 99n });
      fw.emitGarbage('a half line with no newline yet');
      // Drain does not wait for the half line: it cannot be parsed until its newline arrives.
      await settle();

      expect(frames.map((f) => hex(f.frame))).toEqual(['418801', '030801']);
      expect(sniffer.stats.frames - before.frames).toBe(2);
      expect(sniffer.stats.malformedLines - before.malformedLines).toBe(4);
      expect(sniffer.stats.nonFrameLines - before.nonFrameLines).toBe(7);
      const malformed = log.entries.filter((e) => e.message.startsWith('malformed'));
      expect(malformed).toHaveLength(4);
      expect(malformed[0].detail).toMatchObject({ where: 'sniffer "han-a"', preview: '"received: 41zz power: -40 lqi: 9 time: 5"' });
      expect(typeof malformed[0].detail!.line).toBe('number');
      expect(log.entries.some((e) => e.detail?.preview === '"foo: command not found"')).toBe(true);
      expect(sniffer.state).toBe('receiving');
    });

    test('a sniffer that sends only garbage is a sniffer-garbled rig fault; a frame in between resets the count', async ({
      defer,
    }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      const unread: UnreadInput[] = [];
      sniffer.onUnread((l) => unread.push(l));
      await sniffer.start(11);
      await fw.whenCommand('receive');
      // A frame first: the start's echoes are not part of the run.
      fw.deliver(Uint8Array.of(0x03, 0x08, 0x00), { rssi: -50, lqi: 100, channel: 11, atUs: 0n });
      await settle();
      unread.length = 0;
      for (let i = 0; i < GARBAGE_LINE_LIMIT - 1; i++) fw.emitGarbage(`\x9b\xe1 noise ${i}\r\n`);
      fw.deliver(Uint8Array.of(0x03, 0x08, 0x01), { rssi: -50, lqi: 100, channel: 11, atUs: 1n });
      for (let i = 0; i < GARBAGE_LINE_LIMIT - 1; i++) fw.emitGarbage(`received: 41${i} power\r\n`);
      await settle();
      expect(sniffer.fault).toBeUndefined();
      expect(unread).toHaveLength(2 * (GARBAGE_LINE_LIMIT - 1));
      expect(unread.filter((l) => l.malformed)).toHaveLength(GARBAGE_LINE_LIMIT - 1);

      fw.garble();
      fw.deliver(Uint8Array.of(0x03, 0x08, 0x02), { rssi: -50, lqi: 100, channel: 11, atUs: 2n });
      await settle().catch(() => {});
      expect(sniffer.fault?.kind).toBe('sniffer-garbled');
      expect(sniffer.fault?.message).toMatch(/sent 16 lines in a row that are neither frames nor answers/);
      expect(sniffer.state).toBe('stopped');
    });

    test('the liveness probe: a live sniffer answers a bare "channel" with its channel; a hung one is a sniffer-stopped fault', async ({
      defer,
    }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      await sniffer.start(15);
      await fw.whenCommand('receive');
      await settle();
      const before = sniffer.stats.nonFrameLines;
      sniffer.startProbe({ everyMs: 10, answerWithinMs: 300 });
      await fw.whenCommand('channel', 3);
      await settle();
      // The answers are the probe's, not stray lines.
      expect(sniffer.stats.nonFrameLines).toBe(before);
      expect(sniffer.fault).toBeUndefined();

      const faulted = new Promise<RigFault>((resolve) => sniffer.onFault(resolve));
      await fw.stop('silent');
      const fault = await faulted;
      expect(fault.kind).toBe('sniffer-stopped');
      expect(fault.message).toMatch(/did not answer a "channel" probe within 300 ms/);
    });

    test('a port lost while receiving ends capture with a sniffer-stopped rig fault', async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      const frames = sniffer.frames();
      await sniffer.start(11);
      await fw.whenCommand('receive');
      fw.deliver(Uint8Array.of(0x02, 0x00, 0x42), { rssi: -40, lqi: 255, channel: 11, atUs: 1n });
      await settle();
      const faulted = new Promise<RigFault>((resolve) => sniffer.onFault(resolve));
      await fw.stop('unplug');

      // The frame heard before the loss is still delivered, then the fault.
      expect(hex(((await frames.next()).value as SniffedFrame).frame)).toBe('020042');
      const error = await frames.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RigFault);
      expect((error as RigFault).kind).toBe('sniffer-stopped');
      expect(((error as RigFault).cause as RigFault).kind).toBe('serial-port-lost');
      expect((await faulted).kind).toBe('sniffer-stopped');
      expect(sniffer.state).toBe('stopped');
      await expect(sniffer.start(11)).rejects.toMatchObject({ kind: 'sniffer-stopped' });
      await expect(sniffer.drain()).rejects.toMatchObject({ kind: 'sniffer-stopped' });
    });

    test('drain() resolves once every byte written so far is parsed', async ({ defer }, testInfo) => {
      const { fw, sniffer } = await benchSniffer(transport, testInfo, defer);
      await sniffer.start(26);
      await fw.whenCommand('receive');
      for (let i = 0; i < 300; i++) fw.deliver(SECTION3_PSDU, { rssi: -70, lqi: 80, channel: 26, atUs: BigInt(i) * 1_000n });
      await sniffer.drain({ receivedBytes: fw.bytesWritten });
      expect(sniffer.stats.frames).toBe(300);
      expect(sniffer.stats.bytesReceived).toBe(fw.bytesWritten);
    });
  });
}

test.describe('finding the sniffer', () => {
  test('by USB serial number among several dongles', async ({ defer }) => {
    const hub = new VirtualUsbHub();
    hub.plug('/dev/ttyACM-find-0', { serialNumber: 'E1A2B3C4D5E6F708', vendorId: '1915', productId: '154b', manufacturer: 'ZEPHYR' });
    const wanted = hub.plug('/dev/ttyACM-find-1', {
      serialNumber: 'F4CE36A1B2C3D4E5',
      vendorId: '1915',
      productId: '154b',
      manufacturer: 'ZEPHYR',
    });
    const fw = new VirtualNrfSnifferFirmware(wanted);
    const sniffer = await Nrf802154Sniffer.open({ serialNumber: 'F4CE36A1B2C3D4E5' }, { binding: hub.binding });
    defer(() => sniffer.close());
    expect(sniffer.link.path).toBe('/dev/ttyACM-find-1');
    await sniffer.start(11);
    await fw.whenCommand('receive');
  });

  test('an unknown USB serial number is a sniffer-unavailable fault that lists what was found', async () => {
    const hub = new VirtualUsbHub();
    hub.plug('/dev/ttyACM-find-2', { serialNumber: 'E1A2B3C4D5E6F708', vendorId: '1915', productId: '154b' });
    const error = await Nrf802154Sniffer.open({ serialNumber: '0000DEADBEEF' }, { binding: hub.binding }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'sniffer-unavailable' });
    expect((error as RigFault).message).toContain('"0000DEADBEEF"');
    expect((error as RigFault).message).toContain('/dev/ttyACM-find-2 (serial "E1A2B3C4D5E6F708" 1915:154b)');
  });

  test('a host without udevadm cannot list ports: the fault says so and how to name the port instead', async () => {
    const binding = {
      list: () => Promise.reject(Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' })),
      open: () => Promise.reject(new Error('not reached')),
    };
    const error = await Nrf802154Sniffer.open({ serialNumber: 'F4CE36A1B2C3D4E5' }, { binding }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'sniffer-unavailable' });
    expect((error as RigFault).message).toContain('udevadm is not installed');
    expect((error as RigFault).fix).toContain('by path');
  });

  test('a missing device path is a sniffer-unavailable fault', async () => {
    const error = await Nrf802154Sniffer.open({ path: '/nonexistent/ttyACM9' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'sniffer-unavailable' });
    expect((error as RigFault).message).toContain('/nonexistent/ttyACM9');
  });
});

test.describe('frame line and clock rules', () => {
  test('parseReceivedLine: frames, malformed lines and other lines', () => {
    expect(parseReceivedLine('received: 41880102 power: -40 lqi: 9 time: 5')).toMatchObject({
      kind: 'frame',
      rssi: -40,
      lqi: 9,
      printedTime: 5n,
    });
    expect(parseReceivedLine('uart:~$ ')).toEqual({ kind: 'other' });
    expect(parseReceivedLine('received: power: -40')).toMatchObject({ kind: 'malformed' });
    expect(parseReceivedLine(`received: ${'00'.repeat(128)} power: -40 lqi: 9 time: 5`)).toMatchObject({ kind: 'malformed' });
  });

  test('SnifferClock: signed 32-bit times, small backwards steps, and 64-bit counters', () => {
    const clock = new SnifferClock();
    expect(clock.unwrap(2_147_483_000n).us).toBe(2_147_483_000n);
    // Older firmware printing signed: negative after 2^31 µs is the same counter, not a wrap.
    expect(clock.unwrap(-2_147_483_000n).us).toBe(TWO_32 - 2_147_483_000n);
    expect(clock.unwrap(-1n).us).toBe(TWO_32 - 1n);
    expect(clock.unwrap(10n).us).toBe(TWO_32 + 10n);
    expect(clock.unwrap(5n)).toEqual({ us: TWO_32 + 5n, backwards: true });
    const wide = new SnifferClock();
    expect(wide.unwrap(3n * TWO_32).us).toBe(3n * TWO_32);
    expect(wide.unwrap(7n)).toEqual({ us: 7n, backwards: true });
    expect(wide.counter).toBe('64-bit');
  });
});
