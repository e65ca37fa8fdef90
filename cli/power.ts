// `gbcs-rig power`: switches or queries one relay of a real bench, as a run would — through the
// rig file's broker, credentials and relay vendor — and says what the relay itself confirmed.
// For bringing a bench up and for a person at the bench; never while a run holds the bench.
import { parseArgs } from 'node:util';
import { RigFault } from '../drivers/faults.ts';
import { attachRelay } from '../harness/bench.ts';
import { loadRig, RigFileError, type RigBench } from '../rigs/load.ts';
import { UsageError } from './errors.ts';

export const POWER_USAGE = 'usage: gbcs-rig power --rig FILE [--bench ID] --relay ID on|off|cycle|query [--off-seconds N]';

/** Exit codes: 0 the relay confirmed; 2 a usage error or a refused rig file; 3 a rig fault (the relay or broker did not answer as asked). */
export const POWER_EXIT = { confirmed: 0, usage: 2, rigFault: 3 } as const;

const ACTIONS = ['on', 'off', 'cycle', 'query'] as const;
type Action = (typeof ACTIONS)[number];

export function pickBench(benches: readonly RigBench[], id: string | undefined, file: string): RigBench {
  const ids = benches.map((b) => b.id).join(', ');
  if (id === undefined) {
    if (benches.length === 1) return benches[0];
    throw new UsageError(`${file} has several benches (${ids}): name one with --bench`);
  }
  const bench = benches.find((b) => b.id === id);
  if (!bench) throw new UsageError(`--bench ${id}: no such bench in ${file}; its benches: ${ids}`);
  return bench;
}

export async function powerCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rig: { type: 'string' },
      bench: { type: 'string' },
      relay: { type: 'string' },
      'off-seconds': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    out(`${POWER_USAGE}\n  switches (on, off, cycle) or queries one relay of a real bench and waits for the relay's own confirmation`);
    return POWER_EXIT.confirmed;
  }
  if (!values.rig) throw new UsageError(`--rig is needed: the rig file names the broker and the relay\n${POWER_USAGE}`);
  if (!values.relay) throw new UsageError(`--relay is needed\n${POWER_USAGE}`);
  const action = positionals[0] as Action | undefined;
  if (positionals.length !== 1 || !ACTIONS.includes(action!)) {
    throw new UsageError(
      `say one of ${ACTIONS.join(', ')}${positionals.length ? ` (not "${positionals.join(' ')}")` : ''}\n${POWER_USAGE}`,
    );
  }
  const offSeconds = values['off-seconds'] === undefined ? 5 : Number(values['off-seconds']);
  if (!Number.isFinite(offSeconds) || offSeconds < 0)
    throw new UsageError(`--off-seconds ${values['off-seconds']}: needs a number of seconds ≥ 0`);
  let rig: Awaited<ReturnType<typeof loadRig>>;
  try {
    // Switching a relay needs the broker and the relay, not the firmware images' files.
    rig = await loadRig(values.rig, { verifyImages: false });
  } catch (e) {
    if (e instanceof RigFileError) throw new UsageError(`the rig file is refused; nothing was switched:\n${e.message}`);
    throw e;
  }
  const file = rig.file ?? values.rig;
  const bench = pickBench(rig.benches, values.bench, file);
  if (bench.virtual) throw new UsageError(`bench ${bench.id} is virtual: its relays exist only inside a run (gbcs-rig run)`);
  const entry = bench.relays.find((r) => r.id === values.relay);
  if (!entry)
    throw new UsageError(
      `--relay ${values.relay}: bench ${bench.id} has no such relay; its relays: ${bench.relays.map((r) => r.id).join(', ')}`,
    );
  const powers = bench.devices.filter((d) => d.relay.id === entry.id).map((d) => d.id);
  const label = `${entry.id}${powers.length ? ` (powers ${powers.join(', ')})` : ''}`;
  let attached: Awaited<ReturnType<typeof attachRelay>> | undefined;
  try {
    attached = await attachRelay(rig, bench, entry.id);
    const { relay } = attached;
    if (action === 'query') {
      out(`${label}: ${(await relay.query()) ? 'ON' : 'OFF'} (${relay.where} reported it)`);
      return POWER_EXIT.confirmed;
    }
    const edges: boolean[] = action === 'cycle' ? [false, true] : [action === 'on'];
    for (const [i, on] of edges.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, offSeconds * 1000));
      const c = await relay.switch(on);
      out(`${label}: ${on ? 'ON' : 'OFF'} confirmed by ${c.where} in ${Math.round(c.confirmedAt - c.publishedAt)} ms (${c.confirmedBy})`);
    }
    return POWER_EXIT.confirmed;
  } catch (e) {
    if (!(e instanceof RigFault)) throw e;
    process.stderr.write(`gbcs-rig power: rig fault ${e.kind}: ${e.message}\n  fix: ${e.fix}\n`);
    return POWER_EXIT.rigFault;
  } finally {
    await attached?.close();
  }
}
