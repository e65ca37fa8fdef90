// tshark as the oracle: runs Debian's tshark on a capture and returns chosen fields per frame.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPcapngFile } from '../../io/capture-files.ts';

export interface OracleKey {
  hex: string;
  label: string;
}

/** `-o uat:zigbee_pc_keys:…` arguments, one row per key (Wireshark 4.0 "Normal" byte order). */
export function keyArgs(keys: OracleKey[]): string[] {
  return keys.flatMap((k) => ['-o', `uat:zigbee_pc_keys:"${k.hex}","Normal","${k.label}"`]);
}

let fieldCatalogue: string[] | undefined;

/** Every field name tshark knows (from `tshark -G fields`), cached per test worker. */
export function tsharkFieldNames(): string[] {
  fieldCatalogue ??= execFileSync('tshark', ['-G', 'fields'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .split('\n')
    .map((line) => line.split('\t')[2])
    .filter((f): f is string => !!f);
  return fieldCatalogue;
}

/** Runs tshark -T fields; each row maps field → every occurrence (tshark's `,`-joined list split). */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): Record<string, string[]>[] {
  const args = ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|'];
  for (const f of fields) args.push('-e', f);
  const text = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const rows = text.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  return rows.map((line) => {
    const cells = line.split('\t');
    const row: Record<string, string[]> = {};
    fields.forEach((f, i) => {
      const v = cells[i] ?? '';
      row[f] = v === '' ? [] : v.split('|');
    });
    return row;
  });
}

/** Frames (PSDUs without FCS) written to a fresh pcapng, one microsecond apart, for tshark to read: its path. */
export async function framesToPcapng(frames: readonly Uint8Array[], name: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), `gbcs-rig-${name}-`)), `${name}.pcapng`);
  const writer = openPcapngFile(file);
  const iface = writer.addInterface({ name });
  frames.forEach((frame, i) =>
    writer.writePacket({ interfaceId: iface, timestampUs: 1_700_000_000_000_000n + BigInt(i), frame, fcsIncluded: false }),
  );
  await writer.close();
  return file;
}
