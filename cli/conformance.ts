// `gbcs-rig conformance`: the conformance campaign on the virtual bench. Until the suites land,
// it builds the HAN exchanges the first suites check, writes them as a pcapng, decodes that
// capture back (and the reference captures beside the checkout, when present) and says so.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../protocol/bytes.ts';
import { HanDecoder, decodeFrames } from '../protocol/decoder.ts';
import { encodeFrame } from '../protocol/encoder.ts';
import { buildGbcs } from '../protocol/gbcs.ts';
import { openPcapngFile, readCapture } from '../protocol/pcapng.ts';
import { KeyTable } from '../protocol/security.ts';
import { encodeZcl, isoToUtc } from '../protocol/zcl/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HHT = '00:db:12:34:56:78:90:f0';
const CHF = '00:db:12:34:56:78:90:a2';
const ESME = '00:db:12:34:56:78:90:a0';
const ACB = '90:b3:d5:1f:30:00:00:02';
// A demonstration network key for the generated capture: not a secret of any real HAN.
const DEMO_NETWORK_KEY = fromHex('000102030405060708090a0b0c0d0e0f');

/** The frames of an HHT joining over inter-PAN and of a tenancy change, as the first suites will see them. */
function demonstrationFrames(): { us: bigint; frame: Uint8Array }[] {
  const t0 = BigInt(Date.UTC(2026, 10, 21)) * 1000n;
  const interPan = (seq: number, src: string, dst: string, dir: 'client-to-server' | 'server-to-client', cra: 'command' | 'response', payload: Uint8Array) =>
    encodeFrame({
      mac: { type: 'data', seq, dstPan: '0xffff', dst, srcPan: '0x1a62', src, panIdCompression: false },
      nwk: { type: 'inter-pan' },
      aps: { type: 'inter-pan', cluster: 0x0704, profile: 0x0109 },
      payload: encodeZcl(0x0704, {
        name: 'Transfer Data', dir, seq,
        fields: {
          tunnelId: 0,
          data: Buffer.from(buildGbcs({ envelope: 'general-signing', cra, counter: 0x516n, originator: cra === 'command' ? ACB : CHF, recipient: cra === 'command' ? CHF : ACB, messageCode: 0x0001, payload })).toString('hex'),
        },
      }),
    });
  const ccs01 = interPan(1, HHT, '0xffff', 'client-to-server', 'command', fromHex('d92000051600'));
  const ccs01Response = interPan(2, '0x0000', HHT, 'server-to-client', 'response', fromHex('da200005160000'));
  const publish = encodeFrame({
    mac: { type: 'data', seq: 3, dstPan: '0x1a62', srcPan: '0x1a62', dst: '0x1234', src: '0x0001' },
    nwk: { type: 'data', dst: '0x1234', src: '0x0001', seq: 9, src64: ESME, security: { key: DEMO_NETWORK_KEY, frameCounter: 1, source: ESME } },
    aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: 0x0708, profile: 0x0109, counter: 4 },
    payload: encodeZcl(0x0708, {
      name: 'Publish Change of Tenancy', dir: 'server-to-client', seq: 7,
      fields: { providerId: 1, issuerEventId: 2, tariffType: 0, implementationDateTime: isoToUtc('2026-11-21T00:00:00Z'), control: 0x0600 },
    }),
  });
  return [ccs01, ccs01Response, publish].map((frame, i) => ({ us: t0 + BigInt(i) * 20_000n, frame }));
}

export async function conformanceCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } } });
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = values.out ?? join(ROOT, 'reports', 'out', runId);
  mkdirSync(dir, { recursive: true });
  const capture = join(dir, 'demonstration.pcapng');
  const writer = openPcapngFile(capture);
  const iface = writer.addInterface({ name: 'virtual-air', description: 'gbcs-rig virtual bench, channel 11' });
  for (const f of demonstrationFrames()) writer.writePacket({ interfaceId: iface, timestampUs: f.us, frame: f.frame, fcsIncluded: true, rssi: -40, lqi: 255, channel: 11 });
  await writer.close();

  out(`gbcs-rig conformance — run ${runId}`);
  out(`HAN exchanges built by the protocol core, written to ${capture} and decoded back:`);
  const keys = new KeyTable();
  keys.addNetworkKey(DEMO_NETWORK_KEY);
  for await (const f of decodeFrames(readCapture(capture), new HanDecoder(keys))) out(`  ${f.n}  ${f.summary}`);

  const shared = join(ROOT, '..', 'shared', 'captures');
  if (existsSync(shared)) {
    out(`Reference captures in ${shared}:`);
    for (const file of ['whsniff_zigbee.pcapng', 'killerbee_control4-sample.pcap']) {
      const path = join(shared, file);
      if (!existsSync(path)) continue;
      let frames = 0, zigbee = 0, errors = 0;
      for await (const f of decodeFrames(readCapture(path), new HanDecoder())) {
        frames++;
        if (f.nwk) zigbee++;
        if (f.error) errors++;
      }
      out(`  ${file}: ${frames} frames, ${zigbee} ZigBee NWK, ${errors} not fully decodable (no keys given)`);
    }
  }
  out('Conformance suites (inter-PAN join window IPAN-1…6, Change of Tenancy COT-1…9) are coming with the virtual bench; no verdicts yet.');
  out(`run folder: ${dir}`);
  return 0;
}
