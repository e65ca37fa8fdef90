// Decoder throughput against tshark, measured in the same run on the same file:
// shared/captures/whsniff_zigbee.pcapng repeated 20× (a multi-section pcapng), with its keys.
// Prints frames/s of both and the ratio (target ≥ 10× tshark), and heap samples while streaming.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../protocol/bytes.ts';
import { HanDecoder, decodeBatches } from '../protocol/decoder.ts';
import { readCaptureBatches } from '../protocol/pcapng.ts';
import { KeyTable } from '../protocol/security.ts';

const REPEAT = 20;
const NETWORK_KEY = '01030507090B0D0F00020406080A0C0D';
const TC_LINK_KEY = '5A6967426565416C6C69616E63653039';
const source = fileURLToPath(new URL('../../shared/captures/whsniff_zigbee.pcapng', import.meta.url));
const outDir = fileURLToPath(new URL('./out/', import.meta.url));
const file = `${outDir}whsniff-x${REPEAT}.pcapng`;

mkdirSync(outDir, { recursive: true });
const one = readFileSync(source);
// Concatenated pcapng files are one valid pcapng with several sections.
writeFileSync(file, Buffer.concat(Array.from({ length: REPEAT }, () => one)));

async function ours(serialise: boolean): Promise<{ frames: number; seconds: number; decrypted: number; heapMB: number[] }> {
  const keys = new KeyTable();
  keys.addNetworkKey(fromHex(NETWORK_KEY));
  keys.addLinkKey(fromHex(TC_LINK_KEY));
  const heapMB: number[] = [];
  let frames = 0, decrypted = 0, bytes = 0;
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

function tshark(): { frames: number; seconds: number; decrypted: number } {
  const t0 = process.hrtime.bigint();
  const text = execFileSync('tshark', [
    '-r', file,
    '-o', `uat:zigbee_pc_keys:"${NETWORK_KEY}","Normal","nwk"`,
    '-o', `uat:zigbee_pc_keys:"${TC_LINK_KEY}","Normal","tclk"`,
    '-T', 'fields', '-e', 'frame.number', '-e', 'wpan.seq_no', '-e', 'wpan.src16', '-e', 'wpan.dst16',
    '-e', 'zbee_nwk.src', '-e', 'zbee_nwk.dst', '-e', 'zbee.sec.key', '-e', 'zbee_aps.cluster', '-e', 'zbee_zcl.cmd.tsn',
  ], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = text.split('\n').filter(Boolean);
  return { frames: lines.length, seconds, decrypted: lines.filter((l) => l.split('\t')[6] !== '').length };
}

const t = tshark();
const d = await ours(false);
const j = await ours(true);
const rate = (r: { frames: number; seconds: number }) => Math.round(r.frames / r.seconds);
console.log(`file: ${file} (${REPEAT}× whsniff_zigbee.pcapng)`);
console.log(`tshark -T fields     ${t.frames} frames in ${t.seconds.toFixed(2)} s  ${rate(t).toLocaleString('en')} frames/s  (decrypted ${t.decrypted})`);
console.log(`gbcs-rig decode      ${d.frames} frames in ${d.seconds.toFixed(2)} s  ${rate(d).toLocaleString('en')} frames/s  (NWK decrypted ${d.decrypted})`);
console.log(`gbcs-rig decode+json ${j.frames} frames in ${j.seconds.toFixed(2)} s  ${rate(j).toLocaleString('en')} frames/s`);
console.log(`ratio decode/tshark ${(rate(d) / rate(t)).toFixed(1)}×, decode+json/tshark ${(rate(j) / rate(t)).toFixed(1)}× (target ≥ 10×)`);
console.log(`heap MB every 50k frames while streaming: ${d.heapMB.join(' ')}`);
