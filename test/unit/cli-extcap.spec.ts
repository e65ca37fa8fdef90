// gbcs-rig as a Wireshark extcap, run as Wireshark runs it: bin/gbcs-rig-extcap linked into an
// extcap folder, beside its config file naming the rig file. Its verbs' output is checked against
// the extcap grammar (extcap(4)); a capture into the FIFO is read by tshark as Wireshark reads it.
import { expect, test } from '@playwright/test';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RigProcess, dataFrame, deliverWhenListening, plugVirtualSniffer, reception, snifferRigFile } from '../support/sniff-bench.ts';

const WRAPPER = fileURLToPath(new URL('../../bin/gbcs-rig-extcap', import.meta.url));

/** One extcap sentence: a keyword, then `{name=value}` fields (no braces inside a value). */
const SENTENCE = /^(extcap|interface|dlt|arg|value) ((?:\{[a-z]+=[^{}]*\})+)$/;

function parseSentences(stdout: string): Array<{ kind: string; fields: Record<string, string> }> {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const m = SENTENCE.exec(line);
      if (!m) throw new Error(`not an extcap sentence: ${line}`);
      const fields = Object.fromEntries([...m[2].matchAll(/\{([a-z]+)=([^{}]*)\}/g)].map((f) => [f[1], f[2]]));
      return { kind: m[1], fields };
    });
}

/** An extcap folder as Wireshark's: the wrapper linked in, and its config file naming the rig file (relative to the folder). */
function extcapFolder(root: string, rigFile: string, relative = true): string {
  const dir = join(root, 'extcap');
  mkdirSync(dir, { recursive: true });
  symlinkSync(WRAPPER, join(dir, 'gbcs-rig-extcap'));
  writeFileSync(join(dir, 'gbcs-rig-extcap.yaml'), `rig: ${relative ? `../${rigFile.split('/').slice(-2).join('/')}` : rigFile}\n`);
  return join(dir, 'gbcs-rig-extcap');
}

test('--extcap-interfaces lists each sniffer of the rig file in the config file beside the extcap; $GBCS_RIG_EXTCAP_RIG wins', async ({}, testInfo) => {
  const rig = snifferRigFile(testInfo.outputPath('lab'), [
    { id: 'han', kind: 'nrf802154', path: '/dev/ttyACM0', channel: 15 },
    { id: 'han-ti', kind: 'ti-ps2', path: '/dev/ttyACM1', channel: 20 },
  ]);
  const extcap = extcapFolder(testInfo.outputPath(), rig);
  const listed = await RigProcess.run(['--extcap-interfaces', '--extcap-version=4.0'], extcap);
  expect(listed.code, listed.stderr).toBe(0);
  const sentences = parseSentences(listed.stdout);
  expect(sentences[0].kind).toBe('extcap');
  expect(sentences[0].fields.version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(sentences.slice(1)).toEqual([
    {
      kind: 'interface',
      fields: {
        value: 'gbcs-rig.bench-1.han',
        display: 'gbcs-rig bench-1 han: nRF52840 dongle with the 802.15.4 sniffer firmware, channel 15',
      },
    },
    {
      kind: 'interface',
      fields: { value: 'gbcs-rig.bench-1.han-ti', display: expect.stringMatching(/^gbcs-rig bench-1 han-ti: .*, channel 20$/) },
    },
  ]);
  const other = snifferRigFile(testInfo.outputPath('other'), [{ id: 'bench-top', kind: 'ot-rcp', path: '/dev/ttyACM2', channel: 11 }]);
  const byEnv = await RigProcess.run(['--extcap-interfaces'], extcap, { GBCS_RIG_EXTCAP_RIG: other });
  expect(
    parseSentences(byEnv.stdout)
      .slice(1)
      .map((s) => s.fields.value),
  ).toEqual(['gbcs-rig.bench-1.bench-top']);
  // No rig file configured: the extcap lists no interface and stays out of Wireshark's way.
  const none = await RigProcess.run(['--extcap-interfaces']);
  expect(none.code).toBe(0);
  expect(parseSentences(none.stdout).map((s) => s.kind)).toEqual(['extcap']);
});

test("--extcap-dlts gives the TAP link type; --extcap-config the channel (the rig file's by default), comments and key file", async ({}, testInfo) => {
  const rig = snifferRigFile(testInfo.outputPath('lab'), [{ id: 'han', kind: 'ti-ps2', path: '/dev/ttyACM1', channel: 20 }]);
  const extcap = extcapFolder(testInfo.outputPath(), rig);
  const [dlts, config, unknown] = await Promise.all([
    RigProcess.run(['--extcap-interface', 'gbcs-rig.bench-1.han', '--extcap-dlts'], extcap),
    RigProcess.run(['--extcap-interface', 'gbcs-rig.bench-1.han', '--extcap-config'], extcap),
    RigProcess.run(['--extcap-interface', 'gbcs-rig.bench-1.nope', '--extcap-dlts'], extcap),
  ]);
  expect(parseSentences(dlts.stdout)).toEqual([
    { kind: 'dlt', fields: { number: '283', name: 'IEEE802_15_4_TAP', display: 'IEEE 802.15.4 TAP (ti-ps2)' } },
  ]);
  const sentences = parseSentences(config.stdout);
  const args = sentences.filter((s) => s.kind === 'arg').map((s) => [s.fields.number, s.fields.call, s.fields.type]);
  expect(args).toEqual([
    ['0', '--channel', 'selector'],
    ['1', '--comments', 'boolflag'],
    ['2', '--key-file', 'fileselect'],
  ]);
  const channels = sentences.filter((s) => s.kind === 'value' && s.fields.arg === '0');
  expect(channels.map((s) => Number(s.fields.value))).toEqual(Array.from({ length: 16 }, (_, i) => 11 + i));
  expect(channels.filter((s) => s.fields.default === 'true').map((s) => s.fields.value)).toEqual(['20']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(
    /--extcap-interface gbcs-rig\.bench-1\.nope: no such sniffer in .*rig\.yaml; its interfaces: gbcs-rig\.bench-1\.han/,
  );
});

test('--capture --fifo streams the sniffer into the FIFO Wireshark reads, on the channel chosen, until SIGTERM', async ({}, testInfo) => {
  test.setTimeout(90_000);
  const { pair, fw } = await plugVirtualSniffer('nrf802154', testInfo.outputPath('pty'));
  try {
    const rig = snifferRigFile(testInfo.outputPath('lab'), [{ id: 'han', kind: 'nrf802154', path: pair.hostPath, channel: 15 }]);
    const extcap = extcapFolder(testInfo.outputPath(), rig);
    const fifo = testInfo.outputPath('wireshark_extcap_fifo');
    execFileSync('mkfifo', [fifo]);
    // Wireshark reads the FIFO as a pipe capture (dumpcap -i FIFO): so does tshark here.
    const tshark = spawn(
      'tshark',
      ['-i', fifo, '-l', '-T', 'fields', '-e', 'wpan.seq_no', '-e', 'wpan-tap.ch_num', '-e', 'wpan-tap.rss', '-e', 'frame.comment'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let rows = '';
    tshark.stdout.on('data', (d) => (rows += d));
    const tsharkDone = new Promise((resolve) => tshark.on('exit', resolve));
    const capture = RigProcess.program(
      extcap,
      ['--capture', '--extcap-interface', 'gbcs-rig.bench-1.han', '--fifo', fifo, '--channel', '16', '--comments'],
      'ignore',
    );
    await capture.stderrMatches(/sniffer han: listening on channel 16/);
    await deliverWhenListening(fw, dataFrame(1), reception(1, 16, 1_000n));
    fw.deliver(dataFrame(2), reception(2, 16, 2_000n));
    await expect.poll(() => rows.trim().split('\n').filter(Boolean).length, { timeout: 30_000 }).toBe(2);
    // Wireshark's stop button.
    capture.child.kill('SIGTERM');
    expect(await capture.exited, capture.stderr).toBe(0);
    await tsharkDone;
    expect(
      rows
        .trim()
        .split('\n')
        .map((r) => r.split('\t').slice(0, 3)),
    ).toEqual([
      ['1', '16', '-41'],
      ['2', '16', '-42'],
    ]);
    expect(rows.split('\n')[0].split('\t')[3]).toMatch(/\S/);
    expect(capture.stderr).toMatch(/sniffer han: 2 frames, 0 unread input units/);
  } finally {
    await pair.close();
  }
});

/** Wireshark's own extcap folder (tshark -G folders), where it looks for extcaps. */
function wiresharkExtcapFolder(): string {
  const folders = execFileSync('tshark', ['-G', 'folders'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return /^Extcap path:\s*(.+)$/m.exec(folders)![1].trim();
}

// Installed as a lab installs it, but in a private mount namespace: the folder with the link is
// mounted over Wireshark's extcap folder for tshark alone, and the machine's is left untouched.
const privateMounts = spawnSync('unshare', ['-m', 'true']).status === 0;

test("tshark finds the installed extcap, lists the rig file's sniffers and captures from one (its -c stops it)", async ({}, testInfo) => {
  test.skip(!privateMounts, 'needs `unshare -m` (root with CAP_SYS_ADMIN) to install the extcap for tshark alone');
  test.setTimeout(120_000);
  const { pair, fw } = await plugVirtualSniffer('ti-ps2', testInfo.outputPath('pty'));
  try {
    const rig = snifferRigFile(testInfo.outputPath('lab'), [{ id: 'han', kind: 'ti-ps2', path: pair.hostPath, channel: 17 }]);
    // Absolute: the folder is seen at Wireshark's path, not at its own.
    const extcap = extcapFolder(testInfo.outputPath(), rig, false);
    const inWireshark = (tsharkArgs: string[]) =>
      spawn(
        'unshare',
        [
          '-m',
          'sh',
          '-c',
          'mount --bind "$1" "$2" && shift 2 && exec tshark "$@"',
          'sh',
          dirname(extcap),
          wiresharkExtcapFolder(),
          ...tsharkArgs,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    const listing = await finished(inWireshark(['-D']));
    expect(listing.stdout).toMatch(/^\d+\. gbcs-rig\.bench-1\.han \(gbcs-rig bench-1 han: .*, channel 17\)$/m);
    const capture = inWireshark([
      '-i',
      'gbcs-rig.bench-1.han',
      '-c',
      '2',
      '-l',
      '-T',
      'fields',
      '-e',
      'wpan.seq_no',
      '-e',
      'wpan-tap.ch_num',
      '-e',
      'wpan-tap.lqi',
    ]);
    const done = finished(capture);
    await deliverWhenListening(fw, dataFrame(1), reception(1, 17, 100n));
    fw.deliver(dataFrame(2), reception(2, 17, 200n));
    const { code, stdout, stderr } = await done;
    expect(code, stderr).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')),
    ).toEqual([
      ['1', '17', '101'],
      ['2', '17', '102'],
    ]);
  } finally {
    await pair.close();
  }
});

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
