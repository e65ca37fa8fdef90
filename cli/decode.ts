// `gbcs-rig decode <capture>`: one decoded frame per line (JSON lines or summaries), and
// optionally the same frames written to a pcapng (TAP link type) with the summaries as comments.
import { parseArgs } from 'node:util';
import { access } from 'node:fs/promises';
import { decodeBatches, HanDecoder } from '../protocol/decoder.ts';
import { openPcapngFile, readCaptureBatches } from '../io/capture-files.ts';
import type { CapturedPacket } from '../protocol/pcapng.ts';
import { UsageError } from './errors.ts';
import { keyTableFrom } from './keys.ts';

export const DECODE_USAGE = `usage: gbcs-rig decode <capture.pcap|pcapng> [--key HEX]... [--key-file FILE] [--format jsonl|text] [--pcapng OUT]`;

export async function decodeCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string', multiple: true, default: [] },
      'key-file': { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'jsonl' },
      pcapng: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`decode takes one capture file, got ${positionals.length}\n${DECODE_USAGE}`);
  const format = values.format;
  if (format !== 'jsonl' && format !== 'text') throw new UsageError(`--format must be jsonl or text, got "${format}"`);
  const file = positionals[0];
  try {
    await access(file);
  } catch {
    throw new UsageError(`${file}: no such capture file`);
  }
  const decoder = new HanDecoder(keyTableFrom(values.key, values['key-file']));
  const writer = values.pcapng ? openPcapngFile(values.pcapng) : undefined;
  const packets = new Map<number, CapturedPacket>();
  // Keeps each packet until its decoded frame comes out (decodeBatches may hold some back for a key).
  async function* remembered(): AsyncGenerator<CapturedPacket[]> {
    for await (const batch of readCaptureBatches(file)) {
      if (writer) for (const p of batch) packets.set(p.n, p);
      yield batch;
    }
  }
  let iface: number | undefined;
  try {
    // Batches: the decoder opens a batch's NWK frames in a few AES calls (HanDecoder.decodeBatch).
    for await (const frames of decodeBatches(remembered(), decoder)) {
      for (const f of frames) {
        out(format === 'jsonl' ? JSON.stringify(f) : `${f.n}\t${f.time}\t${f.summary}`);
        if (writer) {
          const p = packets.get(f.n)!;
          packets.delete(f.n);
          iface ??= writer.addInterface({ name: p.interfaceName ?? 'capture', description: `decoded from ${file}` });
          writer.writePacket({
            interfaceId: iface,
            timestampUs: p.timestampUs,
            frame: p.frame,
            fcsIncluded: p.fcsIncluded,
            rssi: p.rssi,
            lqi: p.lqi,
            channel: p.channel,
            comment: f.summary,
          });
        }
      }
      await writer?.drain();
    }
  } finally {
    await writer?.close();
  }
  return 0;
}
