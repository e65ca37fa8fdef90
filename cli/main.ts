// The gbcs-rig command line: sub-commands, one-line errors, documented exit codes.
import { DecodeError } from '../protocol/bytes.ts';
import { CaptureError } from '../protocol/pcapng.ts';
import { CHECK_USAGE, checkCommand } from './check.ts';
import { DECODE_USAGE, decodeCommand } from './decode.ts';
import { REPORT_USAGE, reportCommand } from './report.ts';
import { POWER_USAGE, powerCommand } from './power.ts';
import { RUN_USAGE, runCommand } from './run.ts';
import { VERIFY_USAGE, verifyCommand } from './verify.ts';
import { UsageError } from './errors.ts';

/** Exit codes: 0 the command did its work; 1 it could not (bad input file, I/O); 2 usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const USAGE = `gbcs-rig — conformance test rig for GB smart metering HAN devices

commands:
  ${DECODE_USAGE.replace('usage: ', '')}
  ${RUN_USAGE.replace('usage: ', '')}
      runs the conformance suites on the rig's benches (default: the embedded virtual rig)
  ${REPORT_USAGE.replace('usage: ', '')}
      rebuilds report.html, junit.xml and results.json from a run folder, and signs it
  ${VERIFY_USAGE.replace('usage: ', '')}
      checks a run folder's signature and hashes; names every changed, missing or added file
  ${POWER_USAGE.replace('usage: ', '')}
      switches or queries one relay of a real bench; exit 0 confirmed by the relay, 3 a rig fault (with the fix)
  ${CHECK_USAGE.replace('usage: ', '')}
      checks each part of a bench (broker, relays, sniffers, radio, devices, images); exit 0 all ✓, 3 a ✗ (with the fix)
  gbcs-rig help`;

type Command = (argv: string[], out: (line: string) => void) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  decode: decodeCommand,
  run: runCommand,
  report: reportCommand,
  verify: verifyCommand,
  power: powerCommand,
  check: checkCommand,
};

export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    out(USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`gbcs-rig: unknown command "${name}"\n${USAGE}\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest, out);
  } catch (e) {
    if (
      e instanceof UsageError ||
      (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
    ) {
      process.stderr.write(`gbcs-rig ${name}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CaptureError || e instanceof DecodeError || (e as NodeJS.ErrnoException).code) {
      process.stderr.write(`gbcs-rig ${name}: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
}
