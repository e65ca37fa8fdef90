// Evidence written as it happens: a JSON-lines event log (appended synchronously, so a crash
// loses nothing already seen) and one pcapng per sniffer per test. Verdicts are computed from it.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoMicros, openPcapngFile, type PcapngFileWriter } from '../protocol/pcapng.ts';

export interface EvidenceEvent {
  /** Bench time, ISO 8601 UTC with µs. */
  t: string;
  kind: string;
  [field: string]: unknown;
}

export function benchIso(ms: number): string {
  return isoMicros(BigInt(Math.round(ms * 1000)));
}

const jsonSafe = (_key: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v);

export class EvidenceLog {
  readonly eventsFile: string;
  private readonly captures = new Map<string, PcapngFileWriter>();
  private readonly files = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly now: () => number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.eventsFile = join(dir, 'events.jsonl');
    writeFileSync(this.eventsFile, '');
    this.files.add(this.eventsFile);
  }

  event(kind: string, fields: Record<string, unknown> = {}, atMs = this.now()): EvidenceEvent {
    const e: EvidenceEvent = { t: benchIso(atMs), kind, ...fields };
    appendFileSync(this.eventsFile, JSON.stringify(e, jsonSafe) + '\n');
    return e;
  }

  /** The pcapng for one sniffer in this test (created on first use). */
  capture(sniffer: string, description: string): PcapngFileWriter {
    let w = this.captures.get(sniffer);
    if (!w) {
      const file = join(this.dir, `${sniffer}.pcapng`);
      // No application name with a version: evidence bytes must not change between identical runs.
      w = openPcapngFile(file, { userAppl: 'gbcs-rig' });
      w.addInterface({ name: sniffer, description });
      this.captures.set(sniffer, w);
      this.files.add(file);
    }
    return w;
  }

  /** Writes a further evidence file (an operator photo, a measurement table). */
  attach(name: string, content: string | Uint8Array): string {
    const file = join(this.dir, name);
    writeFileSync(file, content);
    this.files.add(file);
    return file;
  }

  get evidenceFiles(): string[] {
    return [...this.files];
  }

  async close(): Promise<void> {
    for (const w of this.captures.values()) await w.close();
    this.captures.clear();
  }
}
