// Classic pcap files for tests: one link type a file, microsecond timestamps one second apart.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A classic pcap (microsecond timestamps) of `frames` with one link type, in a fresh folder: its path. */
export function pcapFile(linkType: number, frames: Uint8Array[], name: string): string {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(linkType, 20);
  const records = frames.map((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  const file = join(mkdtempSync(join(tmpdir(), 'gbcs-rig-pcap-')), `${name}.pcap`);
  writeFileSync(file, Buffer.concat([header, ...records]));
  return file;
}
