// The `ti-ps2` sniffer driver against the virtual Packet Sniffer 2 firmware (sim/ti-sniffer.ts),
// over MockBinding and over a socat pty with the real serialport bindings.
import { expect, type TestInfo } from '@playwright/test';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { RigFileError, loadRig } from '../../rigs/load.ts';
import { INSTALL_CODE_ENV, TEST_INSTALL_CODE, virtualRig } from '../support/campaign.ts';
import { fromHex, hex } from '../../protocol/bytes.ts';
import { encodeTiData, encodeTiResponse, tiBody } from '../../protocol/ti-sniffer.ts';
import { RigFault } from '../../drivers/faults.ts';
import type { SniffedFrame, UnreadInput } from '../../drivers/sniffer/sniffer.ts';
import { TI_GARBAGE_LIMIT, TiPs2Sniffer, type TiPs2Options } from '../../drivers/sniffer/ti-ps2.ts';
import { VIRTUAL_TI_PING, VirtualTiSnifferFirmware, type VirtualTiSnifferOptions } from '../../sim/ti-sniffer.ts';
import { RecordingLog, TRANSPORTS, openBenchLine, test, type Defer, type Transport } from '../support/serial-bench.ts';

// PROTOCOL.md §3 test frame without its FCS.
const PSDU = fromHex('4188a31e48ffff00000912fcff000001cc0885dafeffd76b0828f6ea32000885dafeffd76b0800295e19cad6ebd84ca2');
const START_SEQUENCE = ['STOP', 'PING', 'STOP', 'CFG_PHY 18', 'CFG_FREQUENCY 2425', 'START'];

async function benchSniffer(
  transport: Transport,
  testInfo: TestInfo,
  defer: Defer,
  firmware: VirtualTiSnifferOptions = {},
  options: TiPs2Options = {},
) {
  const line = await openBenchLine(transport, testInfo, defer);
  const fw = new VirtualTiSnifferFirmware(line.device, firmware);
  const log = new RecordingLog();
  const sniffer = await TiPs2Sniffer.open(
    { path: line.hostPath },
    { binding: line.binding, log, now: () => 5_000, where: 'sniffer "han-ti"', ...options },
  );
  defer(() => sniffer.close());
  const settle = () => sniffer.drain({ receivedBytes: fw.bytesWritten });
  return { line, fw, log, sniffer, settle };
}

const air = (channel: number, atUs: bigint, rssi = -61, lqi = 100) => ({ rssi, lqi, channel, atUs });

for (const transport of TRANSPORTS) {
  test.describe(`TI Packet Sniffer 2 over ${transport}`, () => {
    test('opens with STOP and PING (recording chip and firmware), then tunes with CFG_PHY and CFG_FREQUENCY and STARTs', async ({
      defer,
    }, testInfo) => {
      const { fw, sniffer, log } = await benchSniffer(transport, testInfo, defer);
      expect(fw.commands).toEqual(['STOP', 'PING']);
      expect(sniffer.identity).toEqual(VIRTUAL_TI_PING);
      expect(log.entries.find((e) => e.message === 'TI Packet Sniffer 2 firmware')?.detail).toMatchObject({
        chipId: '0x1352',
        firmwareRevision: '0x110',
      });
      await sniffer.start(15);
      expect(fw.commands).toEqual(START_SEQUENCE);
      expect({ state: fw.state, channel: fw.channel, phy: fw.phy, mhz: fw.frequencyMhz }).toEqual({
        state: 'started',
        channel: 15,
        phy: 18,
        mhz: 2425,
      });
      expect(sniffer.state).toBe('receiving');
      // Retuning stops first: the firmware refuses configuration while started.
      await sniffer.start(26);
      expect(fw.commands.slice(6)).toEqual(['STOP', 'CFG_PHY 18', 'CFG_FREQUENCY 2480', 'START']);
      expect(fw.channel).toBe(26);
    });

    test('data packets become frames without their FCS, with RSSI, correlation as LQI and the sniffer clock anchored to bench time', async ({
      defer,
    }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      const frames = sniffer.frames();
      await sniffer.start(20);
      expect(fw.deliver(PSDU, air(11, 1_000n))).toBe(false);
      expect(fw.deliver(PSDU, air(20, 1_234_567n))).toBe(true);
      const first = (await frames.next()).value as SniffedFrame;
      expect(hex(first.frame)).toBe(hex(PSDU));
      expect(first).toMatchObject({ rssi: -61, lqi: 100, channel: 20, snifferUs: 1_234_567n });
      await settle();
      expect(sniffer.frameLayout).toBe('psdu+fcs');
      expect(sniffer.anchor).toEqual({ snifferUs: 1_234_567n, benchMs: 5_000, line: first.line });
      expect(sniffer.toBenchTime(1_234_567n + 2_500_000n)).toBe(7_500);
      await frames.return!();
    });

    test('a port lost while receiving ends capture with a sniffer-stopped rig fault', async ({ defer }, testInfo) => {
      const { fw, sniffer, settle } = await benchSniffer(transport, testInfo, defer);
      const frames = sniffer.frames();
      await sniffer.start(11);
      fw.deliver(Uint8Array.of(0x02, 0x00, 0x42), air(11, 1n));
      await settle();
      const faulted = new Promise<RigFault>((resolve) => sniffer.onFault(resolve));
      await fw.stop('unplug');
      expect(hex(((await frames.next()).value as SniffedFrame).frame)).toBe('020042');
      const error = await frames.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RigFault);
      expect((error as RigFault).kind).toBe('sniffer-stopped');
      expect(((error as RigFault).cause as RigFault).kind).toBe('serial-port-lost');
      expect((await faulted).kind).toBe('sniffer-stopped');
      await expect(sniffer.start(11)).rejects.toMatchObject({ kind: 'sniffer-stopped' });
    });

    test('drain() resolves once every byte written so far is parsed', async ({ defer }, testInfo) => {
      const { fw, sniffer } = await benchSniffer(transport, testInfo, defer);
      await sniffer.start(26);
      for (let i = 0; i < 300; i++) fw.deliver(PSDU, air(26, BigInt(i) * 1_000n, -70, 80));
      await sniffer.drain({ receivedBytes: fw.bytesWritten });
      expect(sniffer.stats.frames).toBe(300);
      expect(sniffer.stats.bytesReceived).toBe(fw.bytesWritten);
    });
  });
}

test.describe('TI Packet Sniffer 2 driver rules (MockBinding)', () => {
  test("learns each frame layout from the first intact frame, or takes the rig file's", async ({ defer }, testInfo) => {
    for (const layout of ['psdu', 'phr+psdu+fcs'] as const) {
      const { fw, sniffer, settle } = await benchSniffer('mock', testInfo, defer, { layout });
      const seen: string[] = [];
      sniffer.onFrame((f) => seen.push(hex(f.frame)));
      await sniffer.start(11);
      fw.deliver(PSDU, air(11, 1n));
      fw.deliver(Uint8Array.of(0x02, 0x00, 0x07), air(11, 2n));
      await settle();
      expect(sniffer.frameLayout).toBe(layout);
      expect(seen).toEqual([hex(PSDU), '020007']);
    }
    const { fw, sniffer, settle } = await benchSniffer('mock', testInfo, defer, { layout: 'psdu' }, { frameLayout: 'psdu' });
    const seen: string[] = [];
    sniffer.onFrame((f) => seen.push(hex(f.frame)));
    await sniffer.start(11);
    // Configured, not learned: a frame that happens to end in its own CRC stays whole.
    fw.deliver(tiBody(Uint8Array.of(0x02, 0x00, 0x07), 'psdu+fcs'), air(11, 1n));
    await settle();
    expect(seen).toEqual([hex(tiBody(Uint8Array.of(0x02, 0x00, 0x07), 'psdu+fcs'))]);
  });

  test('STOP refused as "invalid state" (not started) is what STOP wants', async ({ defer }, testInfo) => {
    const { fw, sniffer } = await benchSniffer('mock', testInfo, defer, { stopWhenStopped: 'invalid-state' });
    await sniffer.start(11);
    expect(fw.commands).toEqual(['STOP', 'PING', 'STOP', 'CFG_PHY 18', 'CFG_FREQUENCY 2405', 'START']);
    expect(fw.state).toBe('started');
  });

  test('a refused CFG_PHY is a sniffer-unavailable fault that says to set `phy`', async ({ defer }, testInfo) => {
    const { sniffer } = await benchSniffer('mock', testInfo, defer, { phyCount: 10 });
    const error = await sniffer.start(11).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'sniffer-unavailable' });
    expect((error as RigFault).message).toBe('sniffer "han-ti": refused CFG_PHY: invalid command');
    expect((error as RigFault).fix).toContain('Set `phy` on this sniffer in the rig file');
    expect((error as RigFault).fix).toContain('(tried 18)');
    // The rig file's index is what is sent.
    const second = await benchSniffer('mock', testInfo, defer, { phyCount: 10, phy802154: 9 }, { phy: 9 });
    await second.sniffer.start(11);
    expect(second.fw.channel).toBe(11);
  });

  test('a LaunchPad that does not answer is a sniffer-unavailable fault naming the firmware and the baud rate', async ({
    defer,
  }, testInfo) => {
    const line = await openBenchLine('mock', testInfo, defer);
    // No firmware on the far side: nothing answers.
    const error = await TiPs2Sniffer.open(
      { path: line.hostPath },
      { binding: line.binding, answerWithinMs: 100, where: 'sniffer "han-ti"' },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'sniffer-unavailable' });
    expect((error as RigFault).message).toBe('sniffer "han-ti": did not answer STOP within 100 ms');
    expect((error as RigFault).fix).toContain('3000000 baud');
    expect((error as RigFault).fix).toContain('`baudRate`');
  });

  test('defective packets are unread input with their bytes; a run of them is a sniffer-garbled fault, a frame in between resets it', async ({
    defer,
  }, testInfo) => {
    const { fw, sniffer, settle, log } = await benchSniffer('mock', testInfo, defer);
    const unread: UnreadInput[] = [];
    sniffer.onUnread((u) => unread.push(u));
    await sniffer.start(11);
    fw.emitGarbage(fromHex('0011223344'));
    fw.emitGarbage(fromHex('4053400000414045'));
    fw.deliver(Uint8Array.of(0x02, 0x00, 0x01), air(11, 1n));
    await settle();
    expect(unread.map((u) => [u.reason, u.preview, u.malformed])).toEqual([
      ['bad-sof: bytes before a start of frame (40 53)', '0011223344', false],
      ['bad-fcs: FCS 0x41, expected 0x40', '4053400000414045', true],
    ]);
    expect(log.entries.filter((e) => e.level === 'warn')).toHaveLength(2);
    for (let i = 0; i < TI_GARBAGE_LIMIT - 1; i++) fw.emitGarbage(fromHex('4053400000414045'));
    fw.deliver(Uint8Array.of(0x02, 0x00, 0x02), air(11, 2n));
    await settle();
    expect(sniffer.fault).toBeUndefined();

    fw.garble();
    for (let i = 0; i < 2 * TI_GARBAGE_LIMIT; i++) fw.deliver(Uint8Array.of(0x02, 0x00, i), air(11, BigInt(3 + i)));
    await settle().catch(() => {});
    expect(sniffer.fault?.kind).toBe('sniffer-garbled');
    expect(sniffer.fault?.message).toMatch(/sent 16 defective packets in a row/);
    expect(sniffer.state).toBe('stopped');
  });

  test('frames the radio heard with a bad FCS are dropped and counted; error packets are unread input; data before START is ignored', async ({
    defer,
  }, testInfo) => {
    const { fw, sniffer, settle } = await benchSniffer('mock', testInfo, defer);
    const unread: UnreadInput[] = [];
    sniffer.onUnread((u) => unread.push(u));
    const seen: SniffedFrame[] = [];
    sniffer.onFrame((f) => seen.push(f));
    fw.emitGarbage(encodeTiData({ timestampUs: 1n, body: tiBody(PSDU, 'psdu+fcs'), rssi: -50, status: 0x80 }));
    await settle();
    await sniffer.start(11);
    fw.emitGarbage(encodeTiData({ timestampUs: 2n, body: tiBody(PSDU, 'psdu+fcs'), rssi: -50, status: 0x12 }));
    fw.emitGarbage(Uint8Array.of(0x40, 0x53, 0xc1, 0x01, 0x00, 0x07, 0x40, 0x45));
    await settle();
    expect(seen).toEqual([]);
    expect(sniffer.stats).toMatchObject({ badFcsFrames: 1, errorPackets: 1, framesWhileStopped: 1, frames: 0 });
    expect(unread.map((u) => [u.reason, u.malformed])).toEqual([['an error packet from the firmware (07)', true]]);
  });

  test('the liveness probe: a live firmware answers PING; a hung one is a sniffer-stopped fault', async ({ defer }, testInfo) => {
    const { fw, sniffer } = await benchSniffer('mock', testInfo, defer);
    await sniffer.start(15);
    sniffer.startProbe({ everyMs: 10, answerWithinMs: 200 });
    await fw.whenCommand('PING', 3);
    expect(sniffer.fault).toBeUndefined();
    const faulted = new Promise<RigFault>((resolve) => sniffer.onFault(resolve));
    await fw.stop('silent');
    const fault = await faulted;
    expect(fault.kind).toBe('sniffer-stopped');
    expect(fault.message).toBe('sniffer "han-ti": did not answer a PING probe within 200 ms: its firmware hangs');
  });

  test('an unasked response is unread input, not an answer to the next command', async ({ defer }, testInfo) => {
    const { fw, sniffer, settle } = await benchSniffer('mock', testInfo, defer);
    const unread: UnreadInput[] = [];
    sniffer.onUnread((u) => unread.push(u));
    fw.emitGarbage(encodeTiResponse({ status: 3, data: new Uint8Array(0) }));
    await settle();
    await sniffer.start(11);
    expect(unread.map((u) => u.reason)).toEqual(['a command response nobody asked for']);
    expect(fw.state).toBe('started');
  });
});

test('the rig file: `kind: ti-ps2` takes baudRate, phy and frameLayout, and names what is wrong with each', async ({ defer }, testInfo) => {
  // The rig names the install code's variable; a lab's environment sets it.
  process.env[INSTALL_CODE_ENV] = TEST_INSTALL_CODE;
  defer(() => delete process.env[INSTALL_CODE_ENV]);
  const load = async (sniffer: Record<string, unknown>) => {
    const file = testInfo.outputPath(`rig-${Object.keys(sniffer).join('-')}.yaml`);
    await writeFile(file, stringify(virtualRig({ sniffer: { kind: 'ti-ps2', ...sniffer } })));
    return loadRig(file, { verifyImages: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
  };
  expect(await load({ baudRate: 921600, phy: 13, frameLayout: 'phr+psdu+fcs' })).toBeUndefined();
  const error = await load({ baudRate: 115200, phy: 300, frameLayout: 'fcs' });
  expect(error).toBeInstanceOf(RigFileError);
  const paths = (error as RigFileError).problems.map((p) => p.path).sort();
  expect(paths).toEqual(['benches[0].sniffers[0].baudRate', 'benches[0].sniffers[0].frameLayout', 'benches[0].sniffers[0].phy']);
});
