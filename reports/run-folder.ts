// What the report reads from a run folder, and nothing else: each case's result, event log and
// captures, with every evidence file checked against the hash recorded when the case ended.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseResult } from '../harness/case.ts';
import type { EvidenceEvent } from '../harness/evidence.ts';

export interface EvidenceFileCheck {
  /** Path relative to the run folder. */
  path: string;
  /** The hash result.json recorded when the case ended. */
  recorded?: string;
  /** The hash of the file as it is now; absent when the file is gone. */
  actual?: string;
  status: 'matches' | 'changed' | 'missing' | 'not recorded';
}

export interface CaseEvidence {
  result: CaseResult;
  /** `evidence/<case>--<bench>`, relative to the run folder. */
  dir: string;
  events: EvidenceEvent[];
  /** Lines of events.jsonl that are not JSON (a crash mid-line): counted, never fatal. */
  unreadableEvents: number;
  /** Captures (`*.pcapng`), relative to the run folder. */
  captures: string[];
  files: EvidenceFileCheck[];
}

export function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  // Streamed: a capture of a day on a busy HAN does not fit comfortably in memory.
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(file)
      .on('data', (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), size }));
  });
}

export function caseFolder(c: Pick<CaseResult, 'id' | 'bench'>): string {
  return `evidence/${c.id}--${c.bench}`;
}

export function readEvents(file: string): { events: EvidenceEvent[]; unreadable: number } {
  if (!existsSync(file)) return { events: [], unreadable: 0 };
  const events: EvidenceEvent[] = [];
  let unreadable = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as EvidenceEvent;
      if (typeof e?.t === 'string' && typeof e.kind === 'string') events.push(e);
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { events, unreadable };
}

export async function readCaseEvidence(runDir: string, result: CaseResult): Promise<CaseEvidence> {
  const dir = caseFolder(result);
  const abs = join(runDir, dir);
  const present = existsSync(abs)
    ? readdirSync(abs, { withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => d.name)
        .sort()
    : [];
  const { events, unreadable } = readEvents(join(abs, 'events.jsonl'));
  const files: EvidenceFileCheck[] = [];
  for (const { file, sha256 } of result.evidence ?? []) {
    const path = `${dir}/${file}`;
    if (!present.includes(file)) {
      files.push({ path, recorded: sha256, status: 'missing' });
      continue;
    }
    const actual = (await sha256OfFile(join(abs, file))).sha256;
    files.push({ path, recorded: sha256, actual, status: actual === sha256 ? 'matches' : 'changed' });
  }
  // Files the case did not list (result.json itself, later attachments) are shown, not judged.
  for (const file of present) {
    if (file === 'result.json' || files.some((f) => f.path === `${dir}/${file}`)) continue;
    files.push({ path: `${dir}/${file}`, actual: (await sha256OfFile(join(abs, file))).sha256, status: 'not recorded' });
  }
  const captures = present.filter((f) => f.endsWith('.pcapng')).map((f) => `${dir}/${f}`);
  return { result, dir, events, unreadableEvents: unreadable, captures, files };
}
