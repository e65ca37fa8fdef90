// `gbcs-rig decode <capture>`: one decoded frame per line (JSON lines or summaries), and
// optionally the same frames written to a pcapng (TAP link type) with the summaries as comments.
// Captures of remote sniffers (ZEP over Ethernet, IP, Linux SLL) are read down to the 802.15.4
// frames inside (protocol/link-layers.ts); what carries none is counted, never silently dropped.
import { parseArgs } from 'node:util';
import { access } from 'node:fs/promises';
import type { DecodedRadio } from '../protocol/decoded.ts';
import { decodeBatches, HanDecoder } from '../protocol/decoder.ts';
import { frameJson } from '../protocol/frame-json.ts';
import { FCS_FORMATS, ieee802154Of, type FcsFormat, type Ieee802154Capture } from '../protocol/link-layers.ts';
import { CaptureError, linkTypeName } from '../protocol/pcapng.ts';
import { openPcapngFile, readCaptureBatches } from '../io/capture-files.ts';
import type { LineOutput } from './common.ts';
import { UsageError } from './errors.ts';
import { keyTableFrom } from './keys.ts';
import { DECODE_USAGE } from './usage.ts';

/** `ch 15, RSSI -40 dBm, LQI 200, …`: the text format's fourth column. */
export function radioText(r: DecodedRadio): string {
  const parts: string[] = [];
  if (r.channel !== undefined) parts.push(`ch ${r.channel}`);
  if (r.rssi !== undefined) parts.push(`RSSI ${r.rssi} dBm`);
  if (r.lqi !== undefined) parts.push(`LQI ${r.lqi}`);
  if (r.correlation !== undefined) parts.push(`correlation ${r.correlation}`);
  if (r.zepDevice !== undefined) parts.push(`ZEP device ${r.zepDevice}${r.zepSeq === undefined ? '' : ` seq ${r.zepSeq}`}`);
  return parts.join(', ');
}

/**
 * Characters of output written at once: small enough that a block (flattened, two bytes a
 * character with a `→` in it) stays a young object the scavenger frees, not a large object that
 * waits for a full GC (blocks of a whole batch let the RSS grow by 50 MB over 250,000 frames).
 */
const BLOCK_CHARS = 1 << 15;

export async function decodeCommand(argv: string[], out: LineOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string', multiple: true, default: [] },
      'key-file': { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'jsonl' },
      fcs: { type: 'string', default: 'crc16' },
      pcapng: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`decode takes one capture file, got ${positionals.length}\n${DECODE_USAGE}`);
  const format = values.format;
  if (format !== 'jsonl' && format !== 'text') throw new UsageError(`--format must be jsonl or text, got "${format}"`);
  const fcs = values.fcs as FcsFormat;
  if (!FCS_FORMATS.includes(fcs)) throw new UsageError(`--fcs must be one of ${FCS_FORMATS.join(', ')}, got "${values.fcs}"`);
  const file = positionals[0];
  try {
    await access(file);
  } catch {
    throw new UsageError(`${file}: no such capture file`);
  }
  const decoder = new HanDecoder(keyTableFrom(values.key, values['key-file']));
  const writer = values.pcapng ? openPcapngFile(values.pcapng) : undefined;
  const captures = new Map<number, Ieee802154Capture>();
  /** Packets that carry no 802.15.4 frame, by why; the link type of the last one. */
  const none = new Map<string, number>();
  let linkType: number | undefined;
  let frames = 0;
  let unreadable = 0;
  // Each packet down to its 802.15.4 frame; kept until its decoded frame comes out (decodeBatches may hold some back for a key).
  async function* ieee802154(): AsyncGenerator<Ieee802154Capture[]> {
    for await (const batch of readCaptureBatches(file, undefined, { linkLayers: true })) {
      const inside: Ieee802154Capture[] = [];
      for (const p of batch) {
        const reading = ieee802154Of(p, fcs);
        if (reading.kind === 'frame') {
          inside.push(reading.capture);
          if (writer) captures.set(p.n, reading.capture);
          continue;
        }
        linkType = p.linkType;
        if (reading.kind === 'none') none.set(reading.why, (none.get(reading.why) ?? 0) + 1);
        else {
          unreadable++;
          process.stderr.write(`gbcs-rig decode: ${file}: packet ${p.n}: ${reading.why}\n`);
        }
      }
      frames += inside.length;
      if (inside.length > 0) yield inside;
    }
  }
  let iface: number | undefined;
  const many = out.many;
  try {
    // Batches: the decoder opens a batch's NWK frames in a few AES calls (HanDecoder.decodeBatch).
    for await (const decoded of decodeBatches(ieee802154(), decoder)) {
      // Lines go out in blocks where the output takes blocks: a write per line costs more than the decoding.
      let block = '';
      for (const f of decoded) {
        const line = format === 'jsonl' ? frameJson(f) : `${f.n}\t${f.time}\t${f.summary}${f.radio ? `\t${radioText(f.radio)}` : ''}`;
        if (!many) out(line);
        else if ((block += `${line}\n`).length >= BLOCK_CHARS) {
          await many(block);
          block = '';
        }
        if (writer) {
          const c = captures.get(f.n)!;
          captures.delete(f.n);
          iface ??= writer.addInterface({ name: c.interfaceName ?? 'capture', description: `decoded from ${file}` });
          writer.writePacket({
            interfaceId: iface,
            timestampUs: c.timestampUs,
            frame: c.frame,
            fcsIncluded: c.fcsIncluded,
            rssi: c.rssi,
            lqi: c.lqi,
            channel: c.channel,
            comment: f.summary,
          });
        }
      }
      if (block) await many!(block);
      await writer?.drain();
    }
  } finally {
    await writer?.close();
  }
  const skipped = [...none.values()].reduce((a, b) => a + b, 0);
  const counts = [...none].map(([why, count]) => `${count} ${why}`).join(', ');
  if (frames === 0 && skipped > 0) {
    throw new CaptureError(
      file,
      undefined,
      `link type ${linkType} (${linkTypeName(linkType!)}): none of its ${skipped + unreadable} packets carries an 802.15.4 frame (${counts})`,
      0,
      linkType,
    );
  }
  if (skipped > 0) process.stderr.write(`gbcs-rig decode: ${file}: ${skipped} packets carry no 802.15.4 frame (${counts})\n`);
  if (unreadable > 0) {
    process.stderr.write(`gbcs-rig decode: ${file}: ${unreadable} packets could not be read (listed above); the others are decoded\n`);
    return 1;
  }
  return 0;
}
