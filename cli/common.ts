// What every gbcs-rig command shares: its `--help`, the package version, and a stdout that a
// reader may close (`gbcs-rig decode … | head`) without a stack trace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ROOT } from '../paths.ts';

export { ROOT };

/** The version in package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Thrown by an output line once the reader of stdout has gone: the command stops, and that is not an error. */
export class OutputClosed extends Error {
  override name = 'OutputClosed';
}

/**
 * Lines out, one per call. `many`, where the output has it, takes a block of whole lines (each
 * ending in '\n') as one write, and resolves once the reader can take more: a command that prints
 * a line per frame writes in large blocks, and its memory stays flat behind a slow reader.
 */
export interface LineOutput {
  (line: string): void;
  many?: (block: string) => Promise<void>;
}

/**
 * Lines to stdout. When the reader closes the pipe (EPIPE), the next line throws OutputClosed,
 * which main() turns into a quiet exit 0: the rest of the output has nobody to read it.
 */
export function stdoutLines(stream: NodeJS.WriteStream = process.stdout): LineOutput {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    // Writes after the close fail too (ERR_STREAM_DESTROYED): the same closed reader, not a new fault.
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw e;
  });
  const check = () => {
    if (closed || stream.destroyed) throw new OutputClosed('stdout was closed by its reader');
  };
  const out: LineOutput = (line) => {
    check();
    stream.write(line + '\n');
  };
  out.many = async (block) => {
    check();
    if (stream.write(block)) return;
    // The reader lags: wait for it (or for its going, which the next block then reports).
    await new Promise<void>((resolve) => {
      // Closed already (its 'close' gone by): nothing to wait for; the next block says so.
      if (stream.destroyed) return resolve();
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  };
  return out;
}

/**
 * `out` for a command whose work is more than its output (a campaign, its evidence and signed
 * report): once the reader of stdout has gone, its lines are dropped and the work goes on.
 */
export function linesWhileRead(out: LineOutput): (line: string) => void {
  let gone = false;
  return (line) => {
    if (gone) return;
    try {
      out(line);
    } catch (e) {
      if (!(e instanceof OutputClosed)) throw e;
      gone = true;
    }
  };
}

/** `--help` or `-h` among a command's options (before a `--` that ends them). */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}
