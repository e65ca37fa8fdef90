// Keys given on the command line or in a key file: 128-bit, 32 hex digits, never echoed back.
import { readFileSync } from 'node:fs';
import { KeyTable } from '../protocol/security.ts';
import { UsageError } from './errors.ts';

/** Parses one key; the error names where it came from but never prints the key itself. */
export function parseKey(text: string, where: string): Uint8Array {
  const clean = text.trim().replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) {
    throw new UsageError(
      `${where}: a key is 32 hex digits (128 bits), got ${clean.length} characters${/[^0-9a-fA-F]/.test(clean) ? ' with non-hex characters' : ''}`,
    );
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** The keys of `--key HEX` values and key files (one key a line, `#` comments), checked and in order. */
export function readKeys(keys: string[], keyFiles: string[]): Uint8Array[] {
  const out = keys.map((k, i) => parseKey(k, `--key #${i + 1}`));
  for (const file of keyFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--key-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    text.split('\n').forEach((line, i) => {
      const content = line.replace(/#.*/, '').trim();
      if (content) out.push(parseKey(content, `${file}:${i + 1}`));
    });
  }
  return out;
}

/** Like Wireshark's key list: each key is tried as a network key and as a link key. */
export function keyTableOf(keys: readonly Uint8Array[]): KeyTable {
  const table = new KeyTable();
  for (const k of keys) {
    table.addNetworkKey(k);
    table.addLinkKey(k);
  }
  return table;
}

export function keyTableFrom(keys: string[], keyFiles: string[]): KeyTable {
  return keyTableOf(readKeys(keys, keyFiles));
}
