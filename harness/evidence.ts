// Evidence written as it happens: a JSON-lines event log (appended synchronously, so a crash
// loses nothing already seen) and one pcapng per sniffer per test. Verdicts are computed from it.
// A write that fails (a full disk) never crashes the case: what was written stays, the failure
// is kept as a RigFault, and the case ends INCONCLUSIVE — a verdict cannot rest on lost evidence.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RigFault } from '../drivers/faults.ts';
import { openPcapngFile, type PcapngFileWriter } from '../io/capture-files.ts';
import { isoFromMs } from '../protocol/iso-time.ts';

export interface EvidenceEvent {
  /** Bench time, ISO 8601 UTC with µs. */
  t: string;
  kind: string;
  [field: string]: unknown;
}

export function benchIso(ms: number): string {
  return isoFromMs(ms);
}

const jsonSafe = (_key: string, v: unknown) =>
  typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;

export class EvidenceLog {
  readonly eventsFile: string;
  private readonly captures = new Map<string, PcapngFileWriter>();
  private readonly files = new Set<string>();
  /** Files a write to failed: kept as far as they were written, but no longer evidence to hash. */
  private readonly lost = new Map<string, RigFault>();

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
    if (this.lost.has(this.eventsFile)) return e;
    try {
      appendFileSync(this.eventsFile, JSON.stringify(e, jsonSafe) + '\n');
    } catch (error) {
      this.writeFailed(this.eventsFile, error);
    }
    return e;
  }

  /**
   * The first evidence write that failed, as a RigFault (INCONCLUSIVE): the case's watchdog asks
   * for it during every wait, and the case's verdict gives way to it.
   */
  get fault(): RigFault | undefined {
    for (const [sniffer, w] of this.captures) if (w.error) this.writeFailed(this.captureFile(sniffer), w.error);
    return this.lost.values().next().value;
  }

  /** Records a failed write to one evidence file (the first failure per file counts). */
  writeFailed(file: string, error: unknown): void {
    if (this.lost.has(file)) return;
    const cause = error as NodeJS.ErrnoException;
    const full = cause?.code === 'ENOSPC';
    this.lost.set(
      file,
      new RigFault(
        'evidence-unwritable',
        `evidence ${basename(this.dir)}/${basename(file)}`,
        `cannot write ${basename(file)}: ${cause?.message ?? String(error)}; what was written before is kept, but a verdict cannot rest on incomplete evidence`,
        full
          ? 'The evidence disk is full: free space on it (or run with --out on a disk with room), then re-run the case.'
          : 'Check the evidence folder is writable (permissions, disk health), then re-run the case.',
        { cause: error },
      ),
    );
  }

  /** The pcapng file of one sniffer in this case. */
  captureFile(sniffer: string): string {
    return join(this.dir, `${sniffer}.pcapng`);
  }

  /** The pcapng for one sniffer in this test (created on first use). */
  capture(sniffer: string, description: string): PcapngFileWriter {
    let w = this.captures.get(sniffer);
    if (!w) {
      const file = this.captureFile(sniffer);
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

  /** Evidence files intact as far as the rig knows: a file a write to failed is not among them. */
  get evidenceFiles(): string[] {
    return [...this.files].filter((f) => !this.lost.has(f));
  }

  /** Closes every capture; a capture that cannot be finished (a full disk) is recorded, never thrown. */
  async close(): Promise<void> {
    for (const [sniffer, w] of this.captures) {
      try {
        await w.close();
      } catch (error) {
        this.writeFailed(this.captureFile(sniffer), error);
      }
    }
    this.captures.clear();
  }
}
