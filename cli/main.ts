// The gbcs-rig command line: sub-commands, one-line errors, documented exit codes.
import { DecodeError } from '../protocol/bytes.ts';
import { CaptureError } from '../protocol/pcapng.ts';
import { asksForHelp, type LineOutput, OutputClosed, packageVersion, stdoutLines } from './common.ts';
import {
  CHECK_USAGE,
  DECODE_USAGE,
  EXTCAP_USAGE,
  PLAN_USAGE,
  POWER_USAGE,
  REPORT_USAGE,
  RUN_USAGE,
  SNIFF_USAGE,
  VERIFY_USAGE,
} from './usage.ts';
import { SuitesNotListed, UsageError } from './errors.ts';

/** Exit codes: 0 the command did its work; 1 it could not (bad input file, I/O); 2 usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

type Command = (argv: string[], out: LineOutput) => Promise<number>;

/** Every command with its usage line and what it does: `gbcs-rig help`, and each command's `--help`, print them. */
const COMMANDS: Record<string, { run: Command; usage: string; about: string }> = {
  decode: {
    run: async (argv, out) => (await import('./decode.ts')).decodeCommand(argv, out),
    usage: DECODE_USAGE,
    about: 'decodes a capture: one frame per line (JSON lines or text summaries)',
  },
  run: {
    run: async (argv, out) => (await import('./run.ts')).runCommand(argv, out),
    usage: RUN_USAGE,
    about:
      "runs the conformance suites on the rig's benches (default: the embedded virtual rig); --resume DIR continues a run that stopped",
  },
  plan: {
    run: async (argv, out) => (await import('./plan.ts')).planCommand(argv, out),
    usage: PLAN_USAGE,
    about: 'prints the campaign plan before anything moves: each case in bench time, the total against the longest chain, the end',
  },
  report: {
    run: async (argv, out) => (await import('./report.ts')).reportCommand(argv, out),
    usage: REPORT_USAGE,
    about: 'rebuilds report.html, junit.xml and results.json from a run folder, and signs it',
  },
  verify: {
    run: async (argv, out) => (await import('./verify.ts')).verifyCommand(argv, out),
    usage: VERIFY_USAGE,
    about: "checks a run folder's signature and hashes; names every changed, missing or added file",
  },
  power: {
    run: async (argv, out) => (await import('./power.ts')).powerCommand(argv, out),
    usage: POWER_USAGE,
    about:
      "switches (on, off, cycle) or queries one relay of a real bench; exit 0 confirmed by the relay's own report, 3 a rig fault (with the fix)",
  },
  check: {
    run: async (argv, out) => (await import('./check.ts')).checkCommand(argv, out),
    usage: CHECK_USAGE,
    about: 'checks each part of a bench (broker, relays, sniffers, radio, devices, images); exit 0 all ✓, 3 a ✗ (with the fix)',
  },
  sniff: {
    run: async (argv, out) => (await import('./sniff.ts')).sniffCommand(argv, out),
    usage: SNIFF_USAGE,
    about: 'streams one sniffer as pcapng (TAP: RSSI, LQI, channel) to a file or stdout (| wireshark -k -i -)',
  },
  extcap: {
    run: async (argv, out) => (await import('./extcap.ts')).extcapCommand(argv, out),
    usage: EXTCAP_USAGE,
    about: "Wireshark's extcap verbs (also without `extcap`): the rig file's sniffers as capture interfaces (bin/gbcs-rig-extcap)",
  },
};

const USAGE = `gbcs-rig — conformance test rig for GB smart metering HAN devices

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage.replace('usage: ', '')}\n      ${c.about}`)
  .join('\n')}
  gbcs-rig help [COMMAND]        this text, or one command's (as COMMAND --help / -h)
  gbcs-rig --version / -V        the version of gbcs-rig`;

/** Node's parseArgs complaints about the command line: usage errors. */
const PARSE_ARGS_CODES = ['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'];

export async function main(argv: string[], out: LineOutput = stdoutLines()): Promise<number> {
  // Wireshark runs an extcap with its verbs alone (`gbcs-rig --extcap-interfaces`).
  if (argv[0]?.startsWith('--extcap') || argv[0] === '--capture') argv = ['extcap', ...argv];
  const [name, ...rest] = argv;
  try {
    if (name === '--version' || name === '-V') {
      out(`gbcs-rig ${packageVersion()}`);
      return EXIT.ok;
    }
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      const asked = name === 'help' && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
      if (name === 'help' && rest[0] !== undefined && !asked) return unknownCommand(rest[0]);
      out(asked ? `${asked.usage}\n  ${asked.about}` : USAGE);
      return name ? EXIT.ok : EXIT.usage;
    }
    const command = COMMANDS[name];
    if (!command) return unknownCommand(name);
    // One --help for every command, before its own options are parsed (so a command cannot forget it).
    if (asksForHelp(rest)) {
      out(`${command.usage}\n  ${command.about}`);
      return EXIT.ok;
    }
    return await command.run(rest, out);
  } catch (e) {
    // The reader of stdout has gone (`… | head`): nothing more to say, and nobody to say it to.
    if (e instanceof OutputClosed) return EXIT.ok;
    if (e instanceof UsageError || PARSE_ARGS_CODES.includes((e as NodeJS.ErrnoException).code ?? '')) {
      process.stderr.write(`gbcs-rig ${name}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CaptureError || e instanceof DecodeError || e instanceof SuitesNotListed || (e as NodeJS.ErrnoException).code) {
      process.stderr.write(`gbcs-rig ${name}: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
}

function unknownCommand(name: string): number {
  process.stderr.write(`gbcs-rig: unknown command "${name}"\n${USAGE}\n`);
  return EXIT.usage;
}
