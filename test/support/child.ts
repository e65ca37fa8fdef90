// A child process read as `| head -1` reads it: its first line, then the pipe closed while it may still write.
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** The child's first stdout line and everything on its stderr, once it exits after its reader closed stdout. */
export async function firstLineThenClose(
  child: ChildProcessByStdio<null, Readable, Readable>,
): Promise<{ first: string; stderr: string; code: number | null }> {
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  const first = await new Promise<string>((resolve) => {
    let got = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      got += d;
      if (got.includes('\n')) resolve(got.split('\n')[0]);
    });
  });
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { first, stderr, code };
}
