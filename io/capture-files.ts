// Capture files on disk: the pcapng writer over a file stream and the streaming file reader.
// The codec itself is pure (protocol/pcapng.ts); only the file access lives here.

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { open } from 'node:fs/promises';
import {
  CaptureParser,
  PcapngWriter,
  type CaptureParserOptions,
  type CapturedPacket,
  type PcapngWriterOptions,
} from '../protocol/pcapng.ts';

/** Where a file writer's stream error waits until the next write, drain or close. */
interface StreamState {
  error?: Error;
}

/**
 * A PcapngWriter over a file write stream (or a stream the caller owns, such as stdout): `close()`
 * flushes and reports any write error. Each block is handed to the stream as it is written, so a
 * reader at the far end of a pipe or FIFO sees every packet as soon as it is captured.
 */
export class PcapngFileWriter extends PcapngWriter {
  private constructor(
    private readonly stream: Writable,
    private readonly state: StreamState,
    options: PcapngWriterOptions,
    /** False for a stream the caller owns: close() flushes it but leaves it open. */
    private readonly owned = true,
  ) {
    super((chunk) => {
      if (state.error) throw state.error;
      stream.write(chunk);
    }, options);
  }

  static open(path: string, options: PcapngWriterOptions = {}): PcapngFileWriter {
    return PcapngFileWriter.over(createWriteStream(path), options, true);
  }

  /** open(), once the file is open: a path that cannot be written is refused before anything else is done. */
  static async opened(path: string, options: PcapngWriterOptions = {}): Promise<PcapngFileWriter> {
    const stream = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('ready', resolve);
      stream.once('error', reject);
    });
    return PcapngFileWriter.over(stream, options, true);
  }

  /** Over a stream already open (stdout, a FIFO); `owned` says whether close() ends it. */
  static over(stream: Writable, options: PcapngWriterOptions = {}, owned = false): PcapngFileWriter {
    const state: StreamState = {};
    // An 'error' with no listener would crash the process: keep it for the caller instead.
    stream.on('error', (e) => {
      state.error ??= e;
    });
    return new PcapngFileWriter(stream, state, options, owned);
  }

  /** Called once with the stream's first write error (EPIPE when the reader of a pipe went away). */
  onError(listener: (error: Error) => void): void {
    if (this.state.error) queueMicrotask(() => listener(this.state.error!));
    else this.stream.once('error', listener);
  }

  /** The stream's first write error (ENOSPC on a full disk), once the file system reported it. */
  get error(): Error | undefined {
    return this.state.error;
  }

  /** Resolves once the stream's buffer has drained: await it in a tight loop so memory stays flat against a slow disk. */
  drain(): Promise<void> {
    if (this.state.error) return Promise.reject(this.state.error);
    if (!this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.stream.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        this.stream.off('drain', onDrain);
        reject(e);
      };
      this.stream.once('drain', onDrain);
      this.stream.once('error', onError);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.state.error) {
        this.stream.destroy();
        reject(this.state.error);
        return;
      }
      if (!this.owned) {
        // Someone else's stream stays open: wait until what was written has been handed on.
        this.stream.write(new Uint8Array(0), (err?: Error | null) => {
          const e = this.state.error ?? err;
          if (e) reject(e);
          else resolve();
        });
        return;
      }
      // end()'s callback may run before the 'error' event that destroyed the stream (ENOSPC): report that
      // first error, not end()'s own "destroyed" complaint, once the stream has closed.
      this.stream.end((err?: Error | null) => {
        const settle = () => {
          const e = this.state.error ?? err;
          if (e) reject(e);
          else resolve();
        };
        if (err && !this.state.error && !this.stream.closed) this.stream.once('close', settle);
        else settle();
      });
    });
  }
}

export function openPcapngFile(path: string, options: PcapngWriterOptions = {}): PcapngFileWriter {
  return PcapngFileWriter.open(path, options);
}

/**
 * Streams the packets of a pcap/pcapng file in batches (one batch per read chunk), so a consumer
 * pays one await per chunk rather than per packet; memory stays at one chunk plus one block.
 */
export async function* readCaptureBatches(
  path: string,
  chunkBytes = 1 << 16,
  options: Omit<CaptureParserOptions, 'adoptChunks'> = {},
): AsyncGenerator<CapturedPacket[]> {
  // Each read gets a fresh buffer nobody writes to again, so packets can be views into it; and
  // 64 KiB batches (about a thousand packets) let decoded frames die young, which the GC likes.
  const parser = new CaptureParser(path, { ...options, adoptChunks: true });
  const file = await open(path, 'r');
  let position = 0;
  const read = () => {
    // Not zero-filled: the read overwrites it, and a short read's tail is cleared below.
    const r = file.read(Buffer.allocUnsafeSlow(chunkBytes), 0, chunkBytes, position);
    r.catch(() => {}); // Seen by whoever awaits it; never an unhandled rejection if nobody does.
    return r;
  };
  let pending = read();
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      // Read ahead: the next chunk comes off the disk while this one is parsed and consumed.
      pending = read();
      // Unfilled bytes of a short read are cleared: packets must not expose stale memory via .buffer.
      if (bytesRead < chunkBytes) buffer.fill(0, bytesRead);
      // A plain Uint8Array over it, so frames are Uint8Arrays (not Buffers) as everywhere else.
      const batch = parser.push(new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead));
      if (batch.length > 0) yield batch;
    }
  } finally {
    await pending.catch(() => undefined);
    await file.close();
  }
  parser.end();
}

/** Streams the packets of a pcap/pcapng file one by one. */
export async function* readCapture(path: string): AsyncGenerator<CapturedPacket> {
  for await (const batch of readCaptureBatches(path)) yield* batch;
}
