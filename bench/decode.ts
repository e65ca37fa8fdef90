// Decode speed as a user meets it: whole commands, spawned, on the same file in the same run —
// shared/captures/whsniff_zigbee.pcapng repeated 20× (a multi-section pcapng, 253,820 frames) with its keys:
//   gbcs-rig decode --format text   against  tshark (its default one-line output)   goal ≥ 3×
//   gbcs-rig decode --format jsonl  against  tshark -T ek                           goal ≥ 10×
// Each command's output goes to a pipe this process drains (counting its lines); each figure is
// the best of RUNS spawns, the commands taking turns (the machine is shared and noisy). Peak RSS
// of our command (/usr/bin/time) on 1× and 20× the capture shows whether memory stays flat.
// Then, as extra lines, the in-process decoder (no start-up, no output) against `tshark -T fields`
// (`--commands` skips them): three tshark runs; three child processes of ours, each with six
// passes after the first.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../protocol/bytes.ts';
import { HanDecoder, decodeBatches } from '../protocol/decoder.ts';
import { readCaptureBatches } from '../io/capture-files.ts';
import { KeyTable } from '../protocol/security.ts';

const REPEAT = 20;
const NETWORK_KEY = '01030507090B0D0F00020406080A0C0D';
const TC_LINK_KEY = '5A6967426565416C6C69616E63653039';
const source = fileURLToPath(new URL('../../shared/captures/whsniff_zigbee.pcapng', import.meta.url));
const outDir = fileURLToPath(new URL('./out/', import.meta.url));
const file = `${outDir}whsniff-x${REPEAT}.pcapng`;
const BIN = fileURLToPath(new URL('../bin/gbcs-rig.js', import.meta.url));
const RUNS = 5;

/** Run as `decode.ts --ours`: our passes in this fresh process, printed as JSON for the parent. */
const OURS = process.argv.includes('--ours');
if (!OURS) {
  mkdirSync(outDir, { recursive: true });
  const one = readFileSync(source);
  // Concatenated pcapng files are one valid pcapng with several sections.
  writeFileSync(file, Buffer.concat(Array.from({ length: REPEAT }, () => one)));
}

async function ours(serialise: boolean): Promise<{ frames: number; seconds: number; decrypted: number; heapMB: number[] }> {
  const keys = new KeyTable();
  keys.addNetworkKey(fromHex(NETWORK_KEY));
  keys.addLinkKey(fromHex(TC_LINK_KEY));
  const heapMB: number[] = [];
  let frames = 0,
    decrypted = 0,
    bytes = 0;
  const t0 = process.hrtime.bigint();
  for await (const batch of decodeBatches(readCaptureBatches(file), new HanDecoder(keys))) {
    for (const f of batch) {
      frames++;
      if (f.nwk?.decrypted) decrypted++;
      if (serialise) bytes += JSON.stringify(f).length;
      if (frames % 50_000 === 0) heapMB.push(Math.round(process.memoryUsage().heapUsed / 1e5) / 10);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes < 0) console.log(bytes);
  return { frames, seconds, decrypted, heapMB };
}

/** tshark on `path` (all of it, or its first `count` frames, to time tshark's start-up). */
function tshark(path: string, count?: number): { frames: number; seconds: number; decrypted: number } {
  const t0 = process.hrtime.bigint();
  const text = execFileSync(
    'tshark',
    [
      '-r',
      path,
      ...(count === undefined ? [] : ['-c', String(count)]),
      '-o',
      `uat:zigbee_pc_keys:"${NETWORK_KEY}","Normal","nwk"`,
      '-o',
      `uat:zigbee_pc_keys:"${TC_LINK_KEY}","Normal","tclk"`,
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      'wpan.seq_no',
      '-e',
      'wpan.src16',
      '-e',
      'wpan.dst16',
      '-e',
      'zbee_nwk.src',
      '-e',
      'zbee_nwk.dst',
      '-e',
      'zbee.sec.key',
      '-e',
      'zbee_aps.cluster',
      '-e',
      'zbee_zcl.cmd.tsn',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = text.split('\n').filter(Boolean);
  return { frames: lines.length, seconds, decrypted: lines.filter((l) => l.split('\t')[6] !== '').length };
}

const rate = (frames: number, seconds: number) => Math.round(frames / seconds);
const fmt = (n: number) => n.toLocaleString('en');
const fastest = <T extends { seconds: number }>(runs: T[]): T => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

type Pass = Awaited<ReturnType<typeof ours>>;

if (OURS) {
  // The first pass is what a one-off `gbcs-rig decode` sees (the JIT cold); the steady state, the
  // best of six passes after it, is what the rig's decoder sees during a campaign of hours (V8
  // goes on optimising for a few passes: the later ones are the faster).
  const first = await ours(false);
  const later: Pass[] = [];
  for (let i = 0; i < 6; i++) later.push(await ours(false));
  const steady = fastest(later);
  const json = await ours(true);
  console.log(JSON.stringify({ first, steady, json }));
  process.exit(0);
}

/** Our passes in a fresh Node process (nothing of tshark's output in its heap). */
function oursInChild(): { first: Pass; steady: Pass; json: Pass } {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--ours'], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** One whole command: its wall time, its output's lines (drained from a pipe) and its peak RSS. */
interface CommandRun {
  seconds: number;
  lines: number;
  peakMB?: number;
}

const TIME = '/usr/bin/time';
const rssFile = `${outDir}rss.txt`;

/** Spawns `command args` (under /usr/bin/time for its peak RSS, where there is one), its stdout drained by this process. */
function spawnCommand(command: string, args: string[]): Promise<CommandRun> {
  const timed = existsSync(TIME);
  if (timed) rmSync(rssFile, { force: true });
  const [exe, argv] = timed ? [TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(exe, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')}: exit ${code}`));
      const peakMB = timed ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : undefined;
      resolve({ seconds, lines, peakMB });
    });
  });
}

const ourKeys = ['--key', NETWORK_KEY, '--key', TC_LINK_KEY];
const tsharkKeys = [
  '-o',
  `uat:zigbee_pc_keys:"${NETWORK_KEY}","Normal","nwk"`,
  '-o',
  `uat:zigbee_pc_keys:"${TC_LINK_KEY}","Normal","tclk"`,
];
const COMMANDS = {
  text: [process.execPath, [BIN, 'decode', file, '--format', 'text', ...ourKeys]],
  tshark: ['tshark', ['-r', file, ...tsharkKeys]],
  jsonl: [process.execPath, [BIN, 'decode', file, '--format', 'jsonl', ...ourKeys]],
  ek: ['tshark', ['-r', file, ...tsharkKeys, '-T', 'ek']],
} as const satisfies Record<string, readonly [string, readonly string[]]>;
type CommandName = keyof typeof COMMANDS;
const LABEL: Record<CommandName, string> = {
  text: 'gbcs-rig decode --format text',
  tshark: 'tshark (one line a frame)',
  jsonl: 'gbcs-rig decode --format jsonl',
  ek: 'tshark -T ek',
};

/** Every command RUNS times, taking turns; the best run of each. */
async function wholeCommands(): Promise<Record<CommandName, CommandRun>> {
  const best = {} as Record<CommandName, CommandRun>;
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [command, args]] of Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]) {
      const r = await spawnCommand(command, [...args]);
      const b = best[name];
      best[name] = {
        seconds: Math.min(b?.seconds ?? r.seconds, r.seconds),
        lines: r.lines,
        peakMB: Math.max(b?.peakMB ?? 0, r.peakMB ?? 0),
      };
    }
  }
  return best;
}

if (!OURS) {
  // Measure the build (bin/gbcs-rig.js would run the slower TypeScript sources beside a stale one): build first.
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  const best = await wholeCommands();
  // Memory flat: our peak RSS on the capture once, against 20 times.
  const once = await spawnCommand(process.execPath, [BIN, 'decode', source, '--format', 'jsonl', ...ourKeys]);
  console.log(`file: ${file} (${REPEAT}× whsniff_zigbee.pcapng); whole commands, output drained from a pipe, best of ${RUNS}`);
  const mb = (r: CommandRun) => (r.peakMB === undefined ? '' : `  peak RSS ${Math.round(r.peakMB)} MB`);
  // Frames: the lines of the text format (tshark -T ek prints two lines a frame, an index line and the frame).
  const frames = best.text.lines;
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const r = best[name];
    console.log(
      `${LABEL[name].padEnd(32)} ${r.lines} lines in ${r.seconds.toFixed(2)} s  ${fmt(rate(frames, r.seconds))} frames/s${mb(r)}`,
    );
  }
  const ratio = (ours: CommandRun, theirs: CommandRun, goal: number) => {
    const x = theirs.seconds / ours.seconds;
    return `${x.toFixed(1)}× (goal ≥ ${goal}×: ${x >= goal ? 'met' : 'not met'})`;
  };
  console.log(`text  / tshark        ${ratio(best.text, best.tshark, 3)}`);
  console.log(`jsonl / tshark -T ek  ${ratio(best.jsonl, best.ek, 10)}`);
  if (once.peakMB !== undefined) {
    console.log(
      `memory: gbcs-rig decode --format jsonl peak RSS ${Math.round(once.peakMB)} MB on 1× the capture, ${Math.round(best.jsonl.peakMB!)} MB on ${REPEAT}×`,
    );
  }
  if (process.argv.includes('--commands')) process.exit(0);
  console.log('in process (extra lines: the decoder alone, no start-up and no output):');
}

const t = fastest([tshark(file), tshark(file), tshark(file)]);
// tshark's start-up (loading its dissectors): the best of three runs that read one frame.
const startup = Math.min(...[1, 2, 3].map(() => tshark(file, 1).seconds));
const runs = [oursInChild(), oursInChild(), oursInChild()];
const first = fastest(runs.map((r) => r.first));
const steady = fastest(runs.map((r) => r.steady));
const json = fastest(runs.map((r) => r.json));

const tsharkRun = rate(t.frames, t.seconds);
const tsharkSteady = rate(t.frames, t.seconds - startup);
const firstRate = rate(first.frames, first.seconds);
const steadyRate = rate(steady.frames, steady.seconds);
const jsonRate = rate(json.frames, json.seconds);
console.log(`file: ${file} (${REPEAT}× whsniff_zigbee.pcapng)`);
console.log(
  `tshark -T fields        ${t.frames} frames in ${t.seconds.toFixed(2)} s  ${fmt(tsharkRun)} frames/s as run (best of 3); start-up ${startup.toFixed(2)} s, without it ${fmt(tsharkSteady)} frames/s  (decrypted ${t.decrypted})`,
);
console.log(
  `gbcs-rig, first pass    ${first.frames} frames in ${first.seconds.toFixed(2)} s  ${fmt(firstRate)} frames/s  (a fresh process, the JIT warming up; NWK decrypted ${first.decrypted})`,
);
console.log(
  `gbcs-rig, steady state  ${steady.frames} frames in ${steady.seconds.toFixed(2)} s  ${fmt(steadyRate)} frames/s  (the best of 6 passes after the first)`,
);
console.log(
  `gbcs-rig + JSON         ${json.frames} frames in ${json.seconds.toFixed(2)} s  ${fmt(jsonRate)} frames/s  (every frame also JSON.stringify'd)`,
);
const ratioFirst = firstRate / tsharkRun;
const ratioSteady = steadyRate / tsharkSteady;
console.log(
  `ratio first pass / tshark as run ${ratioFirst.toFixed(1)}×; steady state / tshark without start-up ${ratioSteady.toFixed(1)}×; with JSON / tshark without start-up ${(jsonRate / tsharkSteady).toFixed(1)}× (target ≥ 10×: ${ratioSteady >= 10 && ratioFirst >= 10 ? 'met' : ratioSteady >= 10 ? 'met in steady state only' : 'not met'})`,
);
console.log(`heap MB every 50k frames while streaming (first pass): ${first.heapMB.join(' ')}`);
