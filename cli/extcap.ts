// gbcs-rig as a Wireshark extcap (Wireshark's extcap interface, extcap(4)): each sniffer of the
// lab's rig file is an interface in Wireshark's capture list, as the nRF Sniffer for 802.15.4's
// extcap lists its dongles; capturing on one runs the `gbcs-rig sniff` session into the FIFO
// Wireshark reads. bin/gbcs-rig-extcap is the program Wireshark runs from its extcap folder.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { snifferKindNamed } from '../drivers/sniffer/registry.ts';
import { PcapngFileWriter } from '../io/capture-files.ts';
import { HanDecoder } from '../protocol/decoder.ts';
import { LINKTYPE_IEEE802_15_4_TAP } from '../protocol/pcapng/link-types.ts';
import type { LoadedRig, RigBench, RigSniffer } from '../rigs/load.ts';
import { UsageError } from './errors.ts';
import { keyTableFrom } from './keys.ts';
import { benchSnifferTarget, loadRigForSniffing, parseChannel, runSniffSession } from './sniff.ts';
import { ROOT } from '../paths.ts';
import { EXTCAP_USAGE } from './usage.ts';

/** The rig file, named by the environment (it wins over the config file). */
export const EXTCAP_RIG_ENV = 'GBCS_RIG_EXTCAP_RIG';
/** Set by bin/gbcs-rig-extcap: the folder it was run from, where its config file lies. */
export const EXTCAP_DIR_ENV = 'GBCS_RIG_EXTCAP_DIR';
/** The config file beside the extcap: `rig: /path/to/lab.yaml` (a relative path is from the config file's folder). */
export const EXTCAP_CONFIG = 'gbcs-rig-extcap.yaml';

const EXTCAP_HELP = `${EXTCAP_USAGE}
  Wireshark's extcap verbs: Wireshark runs bin/gbcs-rig-extcap (installed in its extcap folder) with them, not a person.
  The interfaces are the sniffers of the real benches of the rig file named by $${EXTCAP_RIG_ENV}, or else by
  \`rig:\` in ${EXTCAP_CONFIG} beside the installed bin/gbcs-rig-extcap.`;

const VERSION = '0.1.0';
/** Wireshark's help button opens it: installing the extcap and what it lists. */
const HELP = `${pathToFileURL(join(ROOT, 'docs', 'cli.md')).href}#wireshark-extcap`;
const CHANNELS = Array.from({ length: 16 }, (_, i) => 11 + i);

/** One interface: a sniffer of a real bench. */
interface ExtcapInterface {
  value: string;
  display: string;
  bench: RigBench;
  sniffer: RigSniffer;
}

/** Braces end a field in the extcap grammar, so they may not appear inside one. */
function field(text: string | number): string {
  return String(text).replace(/[{}]/g, (c) => (c === '{' ? '(' : ')'));
}

function sentence(kind: string, fields: Record<string, string | number | boolean>): string {
  return `${kind} ${Object.entries(fields)
    .map(([k, v]) => `{${k}=${field(String(v))}}`)
    .join('')}`;
}

/** The rig file the extcap lists: from the environment, else from the config file beside the extcap; undefined: none configured. */
export function extcapRigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[EXTCAP_RIG_ENV]) return env[EXTCAP_RIG_ENV];
  const dir = env[EXTCAP_DIR_ENV];
  if (!dir) return undefined;
  const config = join(dir, EXTCAP_CONFIG);
  let text: string;
  try {
    text = readFileSync(config, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`${config}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const parsed = parseYaml(text) as { rig?: unknown } | null;
  if (typeof parsed?.rig !== 'string' || !parsed.rig)
    throw new UsageError(`${config}: needs \`rig: /path/to/your-lab.yaml\` (the rig file whose sniffers Wireshark lists)`);
  return resolve(dirname(config), parsed.rig);
}

/** Every sniffer of a real bench of the rig file (a virtual bench's sniffers exist only inside a run). */
function interfacesOf(rig: LoadedRig): ExtcapInterface[] {
  return rig.benches
    .filter((bench) => !bench.virtual)
    .flatMap((bench) =>
      bench.sniffers.map((sniffer) => ({
        value: `gbcs-rig.${bench.id}.${sniffer.id}`,
        display: `gbcs-rig ${bench.id} ${sniffer.id}: ${snifferKindNamed(sniffer.kind)?.title ?? sniffer.kind}, channel ${sniffer.channel}`,
        bench,
        sniffer,
      })),
    );
}

async function configuredInterfaces(): Promise<{ file: string | undefined; interfaces: ExtcapInterface[] }> {
  const file = extcapRigFile();
  if (!file) return { file, interfaces: [] };
  return { file, interfaces: interfacesOf(await loadRigForSniffing(file)) };
}

async function interfaceNamed(value: string | undefined): Promise<ExtcapInterface> {
  if (!value) throw new UsageError(`--extcap-interface is needed\n${EXTCAP_USAGE}`);
  const { file, interfaces } = await configuredInterfaces();
  if (!file)
    throw new UsageError(`no rig file: set ${EXTCAP_RIG_ENV}, or put \`rig: /path/to/lab.yaml\` in ${EXTCAP_CONFIG} beside the extcap`);
  const found = interfaces.find((i) => i.value === value);
  if (!found)
    throw new UsageError(
      `--extcap-interface ${value}: no such sniffer in ${file}; its interfaces: ${interfaces.map((i) => i.value).join(', ')}`,
    );
  return found;
}

function extcapSentence(): string {
  return sentence('extcap', {
    version: VERSION,
    display: 'gbcs-rig: the sniffers of the rig file',
    help: HELP,
  });
}

function configSentences(iface: ExtcapInterface): string[] {
  const lines = [
    sentence('arg', {
      number: 0,
      call: '--channel',
      display: 'Channel',
      type: 'selector',
      tooltip: `The 2.4 GHz 802.15.4 channel to listen on (the rig file says ${iface.sniffer.channel})`,
    }),
    ...CHANNELS.map((c) =>
      sentence('value', { arg: 0, value: c, display: `${c} (${2405 + 5 * (c - 11)} MHz)`, default: c === iface.sniffer.channel }),
    ),
    sentence('arg', {
      number: 1,
      call: '--comments',
      display: 'Decoded summaries as packet comments',
      type: 'boolflag',
      default: false,
      tooltip: "Each frame's one-line decode (MAC, NWK, APS, ZCL, GBCS) as its packet comment",
    }),
    sentence('arg', {
      number: 2,
      call: '--key-file',
      display: 'Key file for the comments',
      type: 'fileselect',
      mustexist: true,
      tooltip: 'Network and link keys, one 32-hex-digit key a line, to decode secured frames in the comments',
    }),
  ];
  return lines;
}

export async function extcapCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'extcap-interfaces': { type: 'boolean' },
      'extcap-version': { type: 'string' },
      'extcap-interface': { type: 'string' },
      'extcap-dlts': { type: 'boolean' },
      'extcap-config': { type: 'boolean' },
      capture: { type: 'boolean' },
      fifo: { type: 'string' },
      channel: { type: 'string' },
      comments: { type: 'boolean' },
      'key-file': { type: 'string', multiple: true, default: [] },
      // What Wireshark may pass beside; this extcap has no capture filter, controls or reloadable options.
      'extcap-capture-filter': { type: 'string' },
      'extcap-control-in': { type: 'string' },
      'extcap-control-out': { type: 'string' },
      'extcap-reload-option': { type: 'string' },
      debug: { type: 'boolean' },
      'debug-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(EXTCAP_HELP);
    return 0;
  }
  if (values['extcap-interfaces']) {
    out(extcapSentence());
    for (const i of (await configuredInterfaces()).interfaces) out(sentence('interface', { value: i.value, display: i.display }));
    return 0;
  }
  if (values['extcap-version'] !== undefined && !values['extcap-interface']) {
    out(extcapSentence());
    return 0;
  }
  if (values['extcap-dlts']) {
    const iface = await interfaceNamed(values['extcap-interface']);
    out(
      sentence('dlt', {
        number: LINKTYPE_IEEE802_15_4_TAP,
        name: 'IEEE802_15_4_TAP',
        display: `IEEE 802.15.4 TAP (${iface.sniffer.kind})`,
      }),
    );
    return 0;
  }
  if (values['extcap-config']) {
    for (const line of configSentences(await interfaceNamed(values['extcap-interface']))) out(line);
    return 0;
  }
  if (values.capture) {
    if (!values.fifo) throw new UsageError(`--capture needs --fifo PATH (Wireshark gives it)\n${EXTCAP_USAGE}`);
    const iface = await interfaceNamed(values['extcap-interface']);
    const channel = values.channel === undefined ? undefined : parseChannel(values.channel, '--channel');
    const target = benchSnifferTarget(iface.bench, iface.sniffer, channel);
    const decoder = values.comments ? new HanDecoder(keyTableFrom([], values['key-file'])) : undefined;
    const log = (line: string) => process.stderr.write(`${line}\n`);
    // Wireshark ends a capture with SIGTERM, or by closing the FIFO (EPIPE): both are a quiet end.
    return runSniffSession(target, PcapngFileWriter.open(values.fifo), { decoder, log }, 'extcap');
  }
  throw new UsageError(`say what Wireshark asks: --extcap-interfaces, --extcap-dlts, --extcap-config or --capture\n${EXTCAP_USAGE}`);
}
