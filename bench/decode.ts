// Decoder throughput against tshark, measured in the same run on the same file:
// shared/captures/whsniff_zigbee.pcapng repeated 20× (a multi-section pcapng), with its keys.
// Prints frames/s of both — ours on a first pass and in steady state, tshark as run and without
// its start-up — the ratios (target ≥ 10× tshark), and heap samples while streaming.
// Every figure is the best of several runs, ours and tshark's alike (the machine is shared and
// noisy): three tshark runs; three child processes of ours, each with six passes after the first.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
