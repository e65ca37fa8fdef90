// `gbcs-rig check`: before a campaign, each part of a bench asked whether it works — one line per
// part, ✓ or ✗ with the fix (harness/bench-check.ts, the same check `run` makes before a bench's first case).
import { parseArgs } from 'node:util';
import { checkBench, formatCheckLine } from '../harness/bench-check.ts';
import { loadRig, RigFileError } from '../rigs/load.ts';
import { UsageError } from './errors.ts';
import { pickBench } from './power.ts';
import { CHECK_USAGE } from './usage.ts';
import { counted } from '../protocol/words.ts';

/** Exit codes: 0 every line ✓ (or ⚠); 2 a usage error or a refused rig file; 3 a line ✗ (a rig fault, with its fix). */
export const CHECK_EXIT = { ok: 0, usage: 2, rigFault: 3 } as const;

const HELP = `${CHECK_USAGE}
  checks each part of one bench, one line per part: ✓ it works, ✗ a rig fault and its fix, ⚠ not established (and why)
  the broker (TLS and credentials as the rig file names them), each relay online and its state query answered,
  the rig radio's identity and a beacon request it sends heard by a sniffer, each sniffer hearing its channel,
  the firmware images against their manifests. Nothing is switched unless --power-on is given:
  --power-on          switches each device's relay on and waits to hear the device on air
  --listen-seconds N  how long a sniffer may take to hear a frame (default 10)`;

export async function checkCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rig: { type: 'string' },
      bench: { type: 'string' },
      'power-on': { type: 'boolean' },
      'listen-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(HELP);
    return CHECK_EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`unexpected "${positionals.join(' ')}"\n${CHECK_USAGE}`);
  if (!values.rig) throw new UsageError(`--rig is needed: the rig file names the bench's parts\n${CHECK_USAGE}`);
  const listen = values['listen-seconds'] === undefined ? 10 : Number(values['listen-seconds']);
  if (!Number.isFinite(listen) || listen <= 0)
    throw new UsageError(`--listen-seconds ${values['listen-seconds']}: needs a number of seconds > 0`);
  let rig: Awaited<ReturnType<typeof loadRig>>;
  try {
    // The images are checked as a line of their own, not as a refusal of the rig file.
    rig = await loadRig(values.rig, { verifyImages: false });
  } catch (e) {
    if (e instanceof RigFileError) throw new UsageError(`the rig file is refused; nothing was checked:\n${e.message}`);
    throw e;
  }
  const bench = pickBench(rig.benches, values.bench, rig.file ?? values.rig);
  out(
    `gbcs-rig check: bench ${bench.id} of ${rig.file ?? values.rig}${values['power-on'] ? ' (--power-on: relays will be switched on)' : ''}`,
  );
  const lines = await checkBench(rig, bench.id, { powerOn: values['power-on'], hearWithinMs: listen * 1000 });
  for (const line of lines) for (const text of formatCheckLine(line)) out(text);
  const faults = lines.filter((l) => l.mark === 'fault').length;
  const warnings = lines.filter((l) => l.mark === 'warn').length;
  out(
    faults
      ? `${counted(faults, 'rig fault')}: fix ${faults === 1 ? 'it' : 'them'} before a run (exit ${CHECK_EXIT.rigFault})`
      : `bench ${bench.id} ready${warnings ? ` (${warnings} not established: ⚠ above)` : ''}`,
  );
  return faults ? CHECK_EXIT.rigFault : CHECK_EXIT.ok;
}
