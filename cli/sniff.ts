// `gbcs-rig sniff`: one sniffer of a bench (or one named by kind and path) streamed as pcapng with
// the 802.15.4 TAP link type, packet by packet, to a file or to stdout for Wireshark or tshark. The
// sniffer is opened through its kind's row (drivers/sniffer/registry.ts), whatever its wire format,
// and reopened when it comes back after a re-plug. The extcap (cli/extcap.ts) runs the same session.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { RigFault } from '../drivers/faults.ts';
import type { SerialLocation } from '../drivers/serial.ts';
import { snifferKindNamed, snifferKinds } from '../drivers/sniffer/registry.ts';
import type { SniffedFrame, Sniffer, SnifferKind } from '../drivers/sniffer/sniffer.ts';
import { PcapngFileWriter } from '../io/capture-files.ts';
import { HanDecoder } from '../protocol/decoder.ts';
import type { PcapngWriter } from '../protocol/pcapng.ts';
import { loadRig, RigFileError, type LoadedRig, type RigBench, type RigSniffer } from '../rigs/load.ts';
import { UsageError } from './errors.ts';
import { keyTableFrom } from './keys.ts';
import { pickBench } from './power.ts';
import { SNIFF_USAGE } from './usage.ts';
import { counted } from '../protocol/words.ts';

const SNIFF_HELP = `${SNIFF_USAGE}
  streams what the sniffer hears as pcapng (IEEE 802.15.4 TAP: RSSI, LQI and channel per frame), packet by packet;
  --out - writes to stdout:  gbcs-rig sniff --rig lab.yaml --sniffer han --out - | wireshark -k -i -
  --comments      adds each frame's decoded one-line summary as a packet comment (keys from --key / --key-file)
  --count N       stops after N frames;  --seconds S  stops after S seconds;  otherwise until Ctrl-C (SIGINT) or SIGTERM
  a sniffer that goes away (unplugged) is reopened when it comes back; the gap is said on stderr
  at the end stderr says how many frames, unread or malformed input units, clock wraps and reopenings there were
  kinds: ${snifferKinds()
    .map((k) => `${k.kind} (${k.title})`)
    .join(', ')}`;

/** Exit codes: 0 the sniffing ended as asked; 1 the output could not be written; 2 a usage error; 3 the sniffer could not be opened (a rig fault, with the fix). */
export const SNIFF_EXIT = { ok: 0, failed: 1, usage: 2, rigFault: 3 } as const;

const CHANNELS = { min: 11, max: 26 };
/** The liveness probe a run uses by default (lab setting partProbeSeconds): a hung firmware is a fault, so reopened. */
const PROBE = { everyMs: 10_000, answerWithinMs: 2_000 };

/** One sniffer to open: its kind's row, where it is, its own rig-file fields and the channel to tune to. */
export interface SniffTarget {
  /** Names it in logs and as the capture's interface, e.g. `sniffer han`. */
  where: string;
  kind: SnifferKind;
  location: SerialLocation;
  /** Its rig-file entry (or its kind's defaults): the kind's own fields. */
  fields: Record<string, unknown>;
  channel: number;
}

export interface SniffCounts {
  frames: number;
  /** Input units (lines, binary packets) that were neither frames nor answers: each may be a lost frame. */
  unread: number;
  /** Of those, the ones that looked like frames: a frame was certainly lost. */
  malformed: number;
  clockWraps: number;
  /** Times the sniffer was opened again after it went away. */
  reopenings: number;
}

export interface SniffSession {
  /** Stops after this many frames. */
  count?: number;
  /** Stops after this many seconds. */
  seconds?: number;
  /** Given: each frame's decoded one-line summary goes into its packet comment. */
  decoder?: HanDecoder;
  /** One line of progress for the person at the terminal (stderr). */
  log: (line: string) => void;
  /** Ends the session (SIGINT, SIGTERM, the reader of the output went away). */
  stop: AbortSignal;
  /** Between tries to reopen a sniffer that went away. */
  retryMs?: number;
}

export function parseChannel(text: string, option: string): number {
  const channel = Number(text);
  if (!Number.isInteger(channel) || channel < CHANNELS.min || channel > CHANNELS.max)
    throw new UsageError(`${option} ${text}: a 2.4 GHz 802.15.4 channel is a whole number from ${CHANNELS.min} to ${CHANNELS.max}`);
  return channel;
}

function describeLocation(location: SerialLocation): string {
  return 'path' in location ? location.path : `USB serial number ${location.serialNumber}`;
}

function snifferKindOf(kind: string, where: string): SnifferKind {
  const row = snifferKindNamed(kind);
  if (!row)
    throw new UsageError(
      `${where}: no sniffer kind "${kind}"; kinds: ${snifferKinds()
        .map((k) => k.kind)
        .join(', ')}`,
    );
  return row;
}

/** The target for a sniffer entry of a real bench; `channel` overrides the rig file's. */
export function benchSnifferTarget(bench: RigBench, sniffer: RigSniffer, channel?: number): SniffTarget {
  if (bench.virtual || !sniffer.location)
    throw new UsageError(`bench ${bench.id} is virtual: its sniffers exist only inside a run (gbcs-rig run)`);
  return {
    where: `sniffer ${sniffer.id}`,
    kind: snifferKindOf(sniffer.kind, `sniffer ${sniffer.id}`),
    location: sniffer.location,
    fields: sniffer,
    channel: channel ?? sniffer.channel,
  };
}

/** The rig file, or a usage error that says why it was refused. */
export async function loadRigForSniffing(file: string): Promise<LoadedRig> {
  try {
    // Sniffing needs the sniffers' locations: not the firmware images' files, nor the broker's credentials
    // (Wireshark starts the extcap without the lab's environment).
    return await loadRig(file, { verifyImages: false, requireSecrets: false });
  } catch (e) {
    if (e instanceof RigFileError) throw new UsageError(`the rig file is refused:\n${e.message}`);
    throw e;
  }
}

/** A sniffer named by kind and path alone: its kind's own fields take their defaults. */
function bareTarget(kindName: string, path: string, channel: number): SniffTarget {
  const kind = snifferKindOf(kindName, '--kind');
  const fields = z.object(kind.fields).safeParse({});
  if (!fields.success)
    throw new UsageError(
      `--kind ${kindName} needs fields a command line cannot give (${fields.error.issues.map((i) => i.path.join('.')).join(', ')}): use --rig`,
    );
  return { where: 'sniffer', kind, location: { path }, fields: fields.data, channel };
}

export function noCounts(): SniffCounts {
  return { frames: 0, unread: 0, malformed: 0, clockWraps: 0, reopenings: 0 };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/**
 * Streams what `target` hears into `writer` (one TAP interface) until the session stops: each frame
 * is written as it arrives. A sniffer that faults (unplugged, garbled) is closed and opened again
 * until it answers; only the first opening's failure is thrown (a RigFault with the fix).
 */
export async function sniffInto(
  target: SniffTarget,
  writer: PcapngWriter,
  session: SniffSession,
  /** Filled as it goes, so a caller still has them when the session throws. */
  counts: SniffCounts = noCounts(),
): Promise<SniffCounts> {
  const where = target.where;
  const iface = writer.addInterface({
    name: where,
    description: `${target.kind.title} (${target.kind.kind}) at ${describeLocation(target.location)}, channel ${target.channel}`,
  });
  const stop = new AbortController();
  const stopNow = () => stop.abort();
  session.stop.addEventListener('abort', stopNow);
  if (session.stop.aborted) stop.abort();
  const timer = session.seconds === undefined ? undefined : setTimeout(stopNow, session.seconds * 1000);
  let opened = false;
  let lostAt = 0;
  try {
    while (!stop.signal.aborted) {
      let sniffer: Sniffer;
      let frames: AsyncIterableIterator<SniffedFrame>;
      try {
        sniffer = await target.kind.open(target.location, target.fields, { where, now: Date.now });
        frames = sniffer.frames();
        try {
          await sniffer.start(target.channel);
          sniffer.startProbe(PROBE);
        } catch (e) {
          await frames.return?.();
          await sniffer.close().catch(() => {});
          throw e;
        }
      } catch (e) {
        // Stopped while opening (Ctrl-C during a slow open): that is the end asked for, not a fault.
        if (stop.signal.aborted) break;
        if (!opened) throw e;
        await abortableSleep(session.retryMs ?? 500, stop.signal);
        continue;
      }
      if (!opened) session.log(`${where}: listening on channel ${target.channel} at ${sniffer.location} (${target.kind.kind})`);
      else {
        counts.reopenings++;
        const gap = ((performance.now() - lostAt) / 1000).toFixed(1);
        session.log(`${where}: back at ${sniffer.location} after a gap of ${gap} s; frames on air in the gap were not captured`);
      }
      opened = true;
      const offUnread = sniffer.onUnread?.((input) => {
        counts.unread++;
        if (input.malformed) counts.malformed++;
      });
      // Closing the sniffer ends its frame iterator without a fault: that is how a stop reaches the loop below.
      const closeOnStop = () => void sniffer.close().catch(() => {});
      stop.signal.addEventListener('abort', closeOnStop);
      if (stop.signal.aborted) closeOnStop();
      try {
        for await (const f of frames) {
          const timestampUs = BigInt(Math.max(0, Math.round(sniffer.toBenchTime(f.snifferUs) * 1000)));
          const n = ++counts.frames;
          const comment = session.decoder?.decode({ n, timestampUs, frame: f.frame, fcsIncluded: false }).summary;
          writer.writePacket({
            interfaceId: iface,
            timestampUs,
            frame: f.frame,
            fcsIncluded: false,
            rssi: f.rssi,
            lqi: f.lqi,
            channel: f.channel,
            comment,
          });
          if (session.count !== undefined && n >= session.count) {
            stop.abort();
            break;
          }
        }
      } catch (fault) {
        if (!(fault instanceof RigFault)) throw fault;
        // Lost before it ever gave a frame: no sniffer that worked went away — most likely not this kind of sniffer at all.
        if (counts.frames === 0 && counts.reopenings === 0)
          throw new RigFault(
            fault.kind,
            where,
            `${fault.message}, before it gave a single frame${counts.unread ? ` (${counts.unread} unread input units)` : ''}`,
            `Check that ${describeLocation(target.location)} is a ${target.kind.title} (--kind ${target.kind.kind}) and that it runs that firmware. ${fault.fix}`,
            { cause: fault },
          );
        session.log(`${where}: lost (${fault.kind}: ${fault.message}); reopening it when it comes back`);
      } finally {
        stop.signal.removeEventListener('abort', closeOnStop);
        offUnread?.();
        counts.clockWraps += sniffer.clockWraps ?? 0;
        await sniffer.close().catch(() => {});
      }
      lostAt = performance.now();
    }
  } finally {
    clearTimeout(timer);
    session.stop.removeEventListener('abort', stopNow);
  }
  return counts;
}

export function countsLine(where: string, c: SniffCounts): string {
  return (
    `${where}: ${counted(c.frames, 'frame')}, ${counted(c.unread, 'unread input unit')} (${c.malformed} malformed), ` +
    `${counted(c.clockWraps, 'clock wrap')}, ${counted(c.reopenings, 'reopening')}`
  );
}

/** Stops the session on SIGINT and SIGTERM; returns the undo. */
export function stopOnSignals(stop: AbortController): () => void {
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Runs one session into `writer` and settles the output: a reader that went away (EPIPE) ends it
 * quietly; another write error is said and exit 1; a sniffer that cannot be opened is a rig fault, exit 3.
 */
export async function runSniffSession(
  target: SniffTarget,
  writer: PcapngFileWriter,
  session: Omit<SniffSession, 'stop'>,
  command: string,
): Promise<number> {
  const stop = new AbortController();
  let outputError: Error | undefined;
  writer.onError((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') outputError ??= e;
    stop.abort();
  });
  const undoSignals = stopOnSignals(stop);
  const counts = noCounts();
  try {
    await sniffInto(target, writer, { ...session, stop: stop.signal }, counts);
  } catch (e) {
    await writer.close().catch(() => {});
    if (e instanceof RigFault) {
      process.stderr.write(`gbcs-rig ${command}: rig fault ${e.kind}: ${e.message}\n  fix: ${e.fix}\n`);
      return SNIFF_EXIT.rigFault;
    }
    // A write after the reader went away throws the stream's error: the same quiet end.
    if (!stop.signal.aborted) throw e;
  } finally {
    undoSignals();
  }
  await writer.close().catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') outputError ??= e;
  });
  session.log(countsLine(target.where, counts));
  if (outputError) {
    process.stderr.write(`gbcs-rig ${command}: cannot write the capture: ${outputError.message}\n`);
    return SNIFF_EXIT.failed;
  }
  return SNIFF_EXIT.ok;
}

function positiveNumber(text: string | undefined, option: string, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`${option} ${text}: needs ${integer ? 'a whole number' : 'a number'} greater than 0`);
  return n;
}

export async function sniffCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rig: { type: 'string' },
      bench: { type: 'string' },
      sniffer: { type: 'string' },
      kind: { type: 'string' },
      path: { type: 'string' },
      channel: { type: 'string' },
      out: { type: 'string' },
      comments: { type: 'boolean' },
      key: { type: 'string', multiple: true, default: [] },
      'key-file': { type: 'string', multiple: true, default: [] },
      count: { type: 'string' },
      seconds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(SNIFF_HELP);
    return SNIFF_EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`unexpected "${positionals.join(' ')}"\n${SNIFF_USAGE}`);
  if (!values.out) throw new UsageError(`--out is needed: a pcapng file, or - for stdout\n${SNIFF_USAGE}`);
  const count = positiveNumber(values.count, '--count', true);
  const seconds = positiveNumber(values.seconds, '--seconds', false);
  const channel = values.channel === undefined ? undefined : parseChannel(values.channel, '--channel');
  if ((values.key.length || values['key-file'].length) && !values.comments)
    throw new UsageError('--key and --key-file decode the summaries --comments adds: give --comments too');
  let target: SniffTarget;
  const keys = [...values.key];
  if (values.rig) {
    if (values.kind || values.path)
      throw new UsageError(`--kind and --path name a sniffer without a rig file: not with --rig\n${SNIFF_USAGE}`);
    if (!values.sniffer) throw new UsageError(`--sniffer is needed with --rig\n${SNIFF_USAGE}`);
    const rig = await loadRigForSniffing(values.rig);
    const bench = pickBench(rig.benches, values.bench, rig.file ?? values.rig);
    const entry = bench.sniffers.find((s) => s.id === values.sniffer);
    if (!entry)
      throw new UsageError(
        `--sniffer ${values.sniffer}: bench ${bench.id} has no such sniffer; its sniffers: ${bench.sniffers.map((s) => s.id).join(', ')}`,
      );
    target = benchSnifferTarget(bench, entry, channel);
    // The HAN's network key, when its variable is set, opens secured frames for the comments.
    if (rig.secrets.networkKey) keys.push(rig.secrets.networkKey);
  } else {
    if (values.bench || values.sniffer)
      throw new UsageError(`--bench and --sniffer name a sniffer of a rig file: give --rig\n${SNIFF_USAGE}`);
    if (!values.kind || !values.path || channel === undefined)
      throw new UsageError(`without --rig, give --kind, --path and --channel\n${SNIFF_USAGE}`);
    target = bareTarget(values.kind, values.path, channel);
  }
  const toStdout = values.out === '-';
  if (toStdout && process.stdout.isTTY)
    throw new UsageError('--out -: stdout is a terminal; pipe it (| wireshark -k -i -, | tshark -i -) or give --out FILE.pcapng');
  const decoder = values.comments ? new HanDecoder(keyTableFrom(keys, values['key-file'])) : undefined;
  // A file that cannot be written is said (exit 1) before the sniffer is touched.
  const writer = toStdout ? PcapngFileWriter.over(process.stdout) : await PcapngFileWriter.opened(values.out);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  return runSniffSession(target, writer, { count, seconds, decoder, log }, 'sniff');
}
