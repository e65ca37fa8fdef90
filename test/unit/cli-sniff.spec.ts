// `gbcs-rig sniff` over socat ptys with each sniffer kind's virtual firmware: the pcapng it streams
// is read by tshark (through a pipe, as `| tshark -r -`, or from a file), frame for frame with
// the RSSI, LQI and channel the air gave; a re-plug goes on; the end counts are said on stderr.
import { expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HanDecoder } from '../../protocol/decoder.ts';
import { createPtyPair } from '../../sim/pty.ts';
import { VirtualNrfSnifferFirmware, openPtyDeviceLine } from '../../sim/serial-devices.ts';
import { tsharkFields } from '../support/tshark.ts';
import {
  RigProcess,
  TsharkPipeline,
  snifferRigFile,
  dataFrame,
  deliverWhenListening,
  plugVirtualSniffer,
  reception,
} from '../support/sniff-bench.ts';

const TAP_FIELDS = ['wpan.seq_no', 'wpan-tap.rss', 'wpan-tap.lqi', 'wpan-tap.ch_num', 'frame.comment'];

for (const kind of ['nrf802154', 'ti-ps2', 'ot-rcp']) {
  test(`${kind}: sniff --out - piped into tshark -r - gives every frame heard, with its RSSI, LQI and channel, live`, async ({}, testInfo) => {
    test.setTimeout(90_000);
    const { pair, fw } = await plugVirtualSniffer(kind, testInfo.outputPath('pty'));
    try {
      const sniff = new TsharkPipeline(
        ['sniff', '--kind', kind, '--path', pair.hostPath, '--channel', '20', '--out', '-', '--count', '3', '--comments'],
        TAP_FIELDS,
      );
      await sniff.stderrMatches(/listening on channel 20/);
      await deliverWhenListening(fw, dataFrame(1), reception(1, 20, 1_000_000n));
      // Another channel's frame is not heard, so not written.
      expect(fw.deliver(dataFrame(9), reception(9, 21, 1_500_000n))).toBe(false);
      fw.deliver(dataFrame(2), reception(2, 20, 2_000_000n));
      fw.deliver(dataFrame(3), reception(3, 20, 3_000_000n));
      const { code, rows } = await sniff.done;
      expect(code, sniff.stderr).toBe(0);
      expect(rows.map((r) => r.slice(0, 4))).toEqual([
        ['1', '-41', '101', '20'],
        ['2', '-42', '102', '20'],
        ['3', '-43', '103', '20'],
      ]);
      // --comments: the decoded one-line summary of each frame, as `gbcs-rig decode` prints it.
      const decoder = new HanDecoder();
      expect(rows.map((r) => r[4])).toEqual(
        [1, 2, 3].map((seq) => decoder.decode({ n: seq, timestampUs: 0n, frame: dataFrame(seq), fcsIncluded: false }).summary),
      );
      expect(sniff.stderr).toMatch(/3 frames, 0 unread input units \(0 malformed\), 0 clock wraps, 0 reopenings/);
    } finally {
      await pair.close();
    }
  });
}

test('ti-ps2: --out FILE is a pcapng tshark reads, one microsecond-stamped TAP packet per frame; --seconds ends it', async ({}, testInfo) => {
  test.setTimeout(90_000);
  const { pair, fw } = await plugVirtualSniffer('ti-ps2', testInfo.outputPath('pty'));
  try {
    const file = testInfo.outputPath('han.pcapng');
    const sniff = RigProcess.start(
      ['sniff', '--kind', 'ti-ps2', '--path', pair.hostPath, '--channel', '15', '--out', file, '--seconds', '8'],
      'ignore',
    );
    await sniff.stderrMatches(/listening on channel 15/);
    await deliverWhenListening(fw, dataFrame(7), reception(7, 15, 5_000_000n));
    fw.deliver(dataFrame(8), reception(8, 15, 5_250_000n));
    expect(await sniff.exited, sniff.stderr).toBe(0);
    const rows = tsharkFields(file, ['wpan.seq_no', 'wpan-tap.rss', 'wpan-tap.ch_num', 'frame.time_delta', 'frame.comment']);
    expect(rows.map((r) => [r['wpan.seq_no'][0], r['wpan-tap.rss'][0], r['wpan-tap.ch_num'][0]])).toEqual([
      ['7', '-47', '15'],
      ['8', '-48', '15'],
    ]);
    // The sniffer's own clock spaces them: 250 ms apart, to the microsecond.
    expect(rows[1]['frame.time_delta'][0]).toBe('0.250000000');
    // No --comments, no comments.
    expect(rows.flatMap((r) => r['frame.comment'])).toEqual([]);
    expect(sniff.stderr).toMatch(/2 frames, 0 unread/);
  } finally {
    await pair.close();
  }
});

for (const kind of ['nrf802154', 'ti-ps2']) {
  test(`${kind}: a re-plug (the port goes away and comes back) is reopened and the stream goes on; the gap is said`, async ({}, testInfo) => {
    test.setTimeout(90_000);
    const dir = testInfo.outputPath('pty');
    const first = await plugVirtualSniffer(kind, dir);
    let second: Awaited<ReturnType<typeof plugVirtualSniffer>> | undefined;
    try {
      // As `wireshark -k -i -` reads it: a live capture from a pipe.
      const sniff = new TsharkPipeline(
        ['sniff', '--kind', kind, '--path', first.pair.hostPath, '--channel', '25', '--out', '-', '--count', '4'],
        TAP_FIELDS,
        '-i',
      );
      await deliverWhenListening(first.fw, dataFrame(1), reception(1, 25, 10_000_000n));
      first.fw.deliver(dataFrame(2), reception(2, 25, 11_000_000n));
      // tshark at the far end of the pipe shows both while the sniffer still runs: each packet is flushed as it is heard.
      await expect.poll(() => sniff.rows().length, { timeout: 30_000 }).toBe(2);
      await first.fw.stop('unplug');
      await sniff.stderrMatches(/lost \(sniffer-stopped: /);
      await expect.poll(() => existsSync(first.pair.hostPath)).toBe(false);
      second = await plugVirtualSniffer(kind, dir);
      await sniff.stderrMatches(/back at .* after a gap of [\d.]+ s; frames on air in the gap were not captured/);
      // The replugged dongle booted afresh: its clock starts again.
      await deliverWhenListening(second.fw, dataFrame(3), reception(3, 25, 1_000n));
      second.fw.deliver(dataFrame(4), reception(4, 25, 2_000n));
      const { code, rows } = await sniff.done;
      expect(code, sniff.stderr).toBe(0);
      expect(rows.map((r) => r.slice(0, 4))).toEqual([
        ['1', '-41', '101', '25'],
        ['2', '-42', '102', '25'],
        ['3', '-43', '103', '25'],
        ['4', '-44', '104', '25'],
      ]);
      expect(sniff.stderr).toMatch(/4 frames, 0 unread input units \(0 malformed\), 0 clock wraps, 1 reopening/);
    } finally {
      await second?.pair.close();
      await first.pair.close();
    }
  });
}

test('a reader that goes away (EPIPE on stdout) ends sniff quietly at its next frame, with its counts', async ({}, testInfo) => {
  test.setTimeout(90_000);
  const { pair, fw } = await plugVirtualSniffer('nrf802154', testInfo.outputPath('pty'));
  try {
    // `head -c 1` reads the first byte of the section header and exits: the pipe's reader is gone.
    const sniff = RigProcess.shell(
      ['sniff', '--kind', 'nrf802154', '--path', pair.hostPath, '--channel', '11', '--out', '-'],
      '| head -c 1 >/dev/null',
    );
    await sniff.stderrMatches(/listening on channel 11/);
    let seq = 0;
    // Frames until sniff notices: the first write after head left fails with EPIPE.
    await expect
      .poll(
        () => {
          fw.deliver(dataFrame(++seq), reception(seq, 11, BigInt(seq) * 1000n));
          return /gbcs-rig exit \d+/.exec(sniff.stderr)?.[0];
        },
        { timeout: 30_000 },
      )
      .toBe('gbcs-rig exit 0');
    expect(sniff.stderr).toMatch(/^sniffer: \d+ frames?, 0 unread/m);
    expect(sniff.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  } finally {
    await pair.close();
  }
});

test('SIGINT ends sniff: the file holds what was heard, and the counts are said', async ({}, testInfo) => {
  test.setTimeout(90_000);
  const { pair, fw } = await plugVirtualSniffer('ot-rcp', testInfo.outputPath('pty'));
  try {
    const file = testInfo.outputPath('han.pcapng');
    const sniff = RigProcess.start(['sniff', '--kind', 'ot-rcp', '--path', pair.hostPath, '--channel', '26', '--out', file], 'ignore');
    await deliverWhenListening(fw, dataFrame(5), reception(5, 26, 7_000n));
    // The file grows as frames arrive: the frame is on disk before the stop.
    await expect.poll(() => tsharkFields(file, ['wpan.seq_no']).length, { timeout: 30_000 }).toBe(1);
    sniff.child.kill('SIGINT');
    expect(await sniff.exited, sniff.stderr).toBe(0);
    expect(tsharkFields(file, ['wpan.seq_no', 'wpan-tap.rss']).map((r) => [r['wpan.seq_no'][0], r['wpan-tap.rss'][0]])).toEqual([
      ['5', '-45'],
    ]);
    expect(sniff.stderr).toMatch(/^sniffer: 1 frame, 0 unread input units \(0 malformed\), 0 clock wraps, 0 reopenings$/m);
  } finally {
    await pair.close();
  }
});

test('usage errors say what and where; --help prints the usage', async () => {
  const [noOut, badChannel, badKind, noPath, mixed, help] = await Promise.all([
    RigProcess.run(['sniff', '--kind', 'nrf802154', '--path', '/dev/null', '--channel', '11']),
    RigProcess.run(['sniff', '--kind', 'nrf802154', '--path', '/dev/null', '--channel', '27', '--out', '-']),
    RigProcess.run(['sniff', '--kind', 'nrf9999', '--path', '/dev/null', '--channel', '11', '--out', '-']),
    RigProcess.run(['sniff', '--kind', 'ti-ps2', '--channel', '11', '--out', '-']),
    RigProcess.run(['sniff', '--rig', 'x.yaml', '--kind', 'ti-ps2', '--sniffer', 'han', '--out', '-']),
    RigProcess.run(['sniff', '--help']),
  ]);
  for (const r of [noOut, badChannel, badKind, noPath, mixed]) expect(r.code, r.stderr).toBe(2);
  expect(noOut.stderr).toMatch(/--out is needed/);
  expect(badChannel.stderr).toMatch(/--channel 27: a 2\.4 GHz 802\.15\.4 channel is a whole number from 11 to 26/);
  expect(badKind.stderr).toMatch(/no sniffer kind "nrf9999"; kinds: nrf802154, ti-ps2, ot-rcp/);
  expect(noPath.stderr).toMatch(/without --rig, give --kind, --path and --channel/);
  expect(mixed.stderr).toMatch(/not with --rig/);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^usage: gbcs-rig sniff /);
  expect(help.stdout).toMatch(/wireshark -k -i -/);
});

test('an --out file that cannot be written is said, exit 1, before the sniffer is opened', async ({}, testInfo) => {
  const out = testInfo.outputPath('no-such-dir', 'han.pcapng');
  const r = await RigProcess.run(['sniff', '--kind', 'nrf802154', '--path', '/dev/ttyACM-never', '--channel', '11', '--out', out]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^gbcs-rig sniff: ENOENT: no such file or directory, open '.*no-such-dir\/han\.pcapng'$/m);
  expect(r.stderr).not.toMatch(/listening|rig fault/);
});

test('a sniffer that cannot be opened is a rig fault (exit 3) with the fix', async ({}, testInfo) => {
  const r = await RigProcess.run([
    'sniff',
    '--kind',
    'nrf802154',
    '--path',
    testInfo.outputPath('no-such-tty'),
    '--channel',
    '11',
    '--out',
    testInfo.outputPath('x.pcapng'),
  ]);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(/rig fault \S+: .*no-such-tty/);
  expect(r.stderr).toMatch(/\n {2}fix: /);
});

test('--rig --sniffer: the rig file names the kind, the port and the channel; --bench and --sniffer are checked', async ({}, testInfo) => {
  test.setTimeout(90_000);
  const { pair, fw } = await plugVirtualSniffer('ti-ps2', testInfo.outputPath('pty'));
  try {
    const rig = snifferRigFile(testInfo.outputPath('lab'), [
      { id: 'han', kind: 'ti-ps2', path: pair.hostPath, channel: 18 },
      { id: 'spare', kind: 'nrf802154', path: '/dev/ttyACM9', channel: 11 },
    ]);
    const file = testInfo.outputPath('han.pcapng');
    const sniff = RigProcess.start(['sniff', '--rig', rig, '--sniffer', 'han', '--out', file, '--count', '1'], 'ignore');
    await sniff.stderrMatches(/^sniffer han: listening on channel 18 at .*\(ti-ps2\)$/m);
    await deliverWhenListening(fw, dataFrame(4), reception(4, 18, 9_000n));
    expect(await sniff.exited, sniff.stderr).toBe(0);
    expect(tsharkFields(file, ['wpan.seq_no', 'wpan-tap.ch_num', 'frame.interface_name']).map((r) => Object.values(r).flat())).toEqual([
      ['4', '18', 'sniffer han'],
    ]);
    const [badBench, badSniffer, noSniffer] = await Promise.all([
      RigProcess.run(['sniff', '--rig', rig, '--bench', 'bench-9', '--sniffer', 'han', '--out', '-']),
      RigProcess.run(['sniff', '--rig', rig, '--sniffer', 'hen', '--out', '-']),
      RigProcess.run(['sniff', '--rig', rig, '--out', '-']),
    ]);
    expect([badBench.code, badSniffer.code, noSniffer.code]).toEqual([2, 2, 2]);
    expect(badBench.stderr).toMatch(/--bench bench-9: no such bench in .*rig\.yaml; its benches: bench-1/);
    expect(badSniffer.stderr).toMatch(/--sniffer hen: bench bench-1 has no such sniffer; its sniffers: han, spare/);
    expect(noSniffer.stderr).toMatch(/--sniffer is needed with --rig/);
  } finally {
    await pair.close();
  }
});

test('a virtual bench has no sniffer to open outside a run: said, exit 2', async () => {
  const r = await RigProcess.run([
    'sniff',
    '--rig',
    fileURLToPath(new URL('../../rigs/virtual.yaml', import.meta.url)),
    '--sniffer',
    'han',
    '--out',
    '-',
  ]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/bench \S+ is virtual: its sniffers exist only inside a run \(gbcs-rig run\)/);
});

test("the end counts: unread and malformed lines, and a wrap of the nRF sniffer's 32-bit clock (unwrapped in the timestamps)", async ({}, testInfo) => {
  test.setTimeout(90_000);
  const pair = await createPtyPair(testInfo.outputPath('pty'));
  try {
    const fw = new VirtualNrfSnifferFirmware(await openPtyDeviceLine(pair.devicePath, () => pair.close()), { counter: '32-bit' });
    const file = testInfo.outputPath('han.pcapng');
    const sniff = RigProcess.start(
      ['sniff', '--kind', 'nrf802154', '--path', pair.hostPath, '--channel', '12', '--out', file, '--count', '2'],
      'ignore',
    );
    const beforeWrap = (1n << 32n) - 1_000n;
    await deliverWhenListening(fw, dataFrame(1), reception(1, 12, beforeWrap));
    fw.emitGarbage('boot banner from nowhere\r\n');
    fw.emitGarbage('received: 41 88 zz\r\n');
    fw.deliver(dataFrame(2), reception(2, 12, beforeWrap + 6_000n));
    expect(await sniff.exited, sniff.stderr).toBe(0);
    expect(sniff.stderr).toMatch(/^sniffer: 2 frames, 2 unread input units \(1 malformed\), 1 clock wrap, 0 reopenings$/m);
    const rows = tsharkFields(file, ['wpan.seq_no', 'frame.time_delta']);
    expect(rows.map((r) => [r['wpan.seq_no'][0], r['frame.time_delta'][0]])).toEqual([
      ['1', '0.000000000'],
      ['2', '0.006000000'],
    ]);
  } finally {
    await pair.close();
  }
});

test('a port where no sniffer of that kind answers is a rig fault before a single frame, not "lost" and "back" with 0 frames', async ({}, testInfo) => {
  test.setTimeout(90_000);
  // Nothing on the far side speaks the nRF shell: another dongle on this path, or a dongle without its sniffer firmware.
  const pair = await createPtyPair(testInfo.outputPath('pty'));
  try {
    const sniff = RigProcess.start(
      ['sniff', '--kind', 'nrf802154', '--path', pair.hostPath, '--channel', '11', '--out', '-', '--seconds', '40'],
      'ignore',
    );
    expect(await sniff.exited, sniff.stderr).toBe(3);
    expect(sniff.stderr).toMatch(/did not answer a "channel" probe .*, before it gave a single frame/);
    expect(sniff.stderr).toMatch(/Check that .* is a nRF52840 dongle with the 802\.15\.4 sniffer firmware \(--kind nrf802154\)/);
    expect(sniff.stderr).not.toMatch(/back at /);
  } finally {
    await pair.close();
  }
});
