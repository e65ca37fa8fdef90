// The bench check (`gbcs-rig check`, and `run` before a bench's first case): one line per part of
// the bench — broker, relays, sniffers, rig radio, devices, firmware images — each ✓ or ✗ with the
// fix. It only asks and listens: no relay is switched unless the caller asks for the power-on check.
import { RigFault, type RigFaultKind } from '../drivers/faults.ts';
import { redactedBrokerUrl } from '../drivers/power/mqtt.ts';
import { verifyImage } from '../firmware-images/manifest.ts';
import { buildBeaconRequest } from '../protocol/beacons.ts';
import { HanDecoder } from '../protocol/decoder.ts';
import type { LoadedRig, RigBench, RigDevice } from '../rigs/load.ts';
import { openBench, type OpenBench, openRelaysAlone } from './bench.ts';
import { counted } from '../protocol/words.ts';
import type { UnreadInput } from '../drivers/sniffer/sniffer.ts';

/** ✓ established; ✗ a rig fault, with its fix; ⚠ not established, but not a fault either (see each line). */
export type CheckMark = 'ok' | 'warn' | 'fault';

export interface CheckLine {
  readonly mark: CheckMark;
  /** The part, e.g. `relay ch-power`, `sniffer han`. */
  readonly item: string;
  readonly detail: string;
  readonly fault?: RigFault;
  /** What to do about a warning. */
  readonly advice?: string;
}

export interface BenchCheckOptions {
  /** Switch every device's relay on and wait to hear each device: the one check that moves anything. */
  readonly powerOn?: boolean;
  /** How long (bench time) a sniffer has to hear a frame. Default 10 s. */
  readonly hearWithinMs?: number;
  /** How long (bench time) a device has to be heard after its power-on. Default 60 s. */
  readonly deviceHeardWithinMs?: number;
}

const HEAR_WITHIN_MS = 10_000;
/** How often the radio repeats its beacon request while no sniffer has heard it. */
const BEACON_AGAIN_MS = 1_000;
const DEVICE_HEARD_WITHIN_MS = 60_000;

const ok = (item: string, detail: string): CheckLine => ({ mark: 'ok', item, detail });
const faulted = (item: string, fault: RigFault): CheckLine => ({ mark: 'fault', item, detail: fault.message, fault });

/** Anything a part threw, as the rig fault it stands for (a driver's own RigFault, else `kind` with the error's message). */
function asFault(error: unknown, kind: RigFaultKind, where: string, fix: string): RigFault {
  return error instanceof RigFault ? error : new RigFault(kind, where, (error as Error)?.message ?? String(error), fix, { cause: error });
}

const notChecked = (item: string, why: string): CheckLine => ({ mark: 'warn', item, detail: `not checked: ${why}` });

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The firmware images the bench's devices run, each hashed against its manifest. */
export async function checkImages(spec: RigBench): Promise<CheckLine[]> {
  const images = new Map(spec.devices.flatMap((d) => [d.firmware, ...(d.gpf ? [d.gpf.firmware] : [])]).map((f) => [f.id, f]));
  const lines: CheckLine[] = [];
  for (const image of images.values()) {
    const item = `firmware image ${image.id}`;
    try {
      await verifyImage(image);
      lines.push(ok(item, `sha256 ${image.image.sha256.slice(0, 12)}… matches its manifest`));
    } catch (e) {
      const fix = 'Put the image its manifest pins at image.file, or correct the manifest (id, file, sha256).';
      lines.push(faulted(item, new RigFault('rig-misconfigured', item, (e as Error).message, fix, { cause: e })));
    }
  }
  return lines;
}

/** Each relay online (its LWT / online topic) and its state query answered; the relays' states, for the sniffer check. */
async function checkRelays(bench: Pick<OpenBench, 'relays' | 'spec'>): Promise<{ lines: CheckLine[]; anyOn: boolean }> {
  // No wait for the retained LWTs: the broker sends them with the subscription, so they arrive before the query's answer.
  // All relays at once: a bench of silent relays costs one confirmation time, not one each.
  const checked = await Promise.all(
    [...bench.relays.entries()].map(async ([id, relay]) => {
      const powers = bench.spec.devices.filter((d) => d.relay.id === id).map((d) => d.id);
      const item = `relay ${id}${powers.length ? ` (powers ${powers.join(', ')})` : ''}`;
      try {
        if (relay.fault) throw relay.fault;
        const on = await relay.query();
        const availability = relay.online ? 'online' : 'no availability report (LWT) seen';
        return { on, line: ok(item, `${availability}, state query answered ${on ? 'ON' : 'OFF'} (${relay.where})`) };
      } catch (e) {
        const fix = 'Check the relay device is powered and on the network, and that its topic in the rig file is the one it uses.';
        return { on: false, line: faulted(item, asFault(e, 'relay-unconfirmed', relay.where, fix)) };
      }
    }),
  );
  return { lines: checked.map((c) => c.line), anyOn: checked.some((c) => c.on) };
}

/** The rig radio says who it is (each kind's own identify path). */
async function checkRadioIdentity(bench: OpenBench): Promise<CheckLine> {
  const radio = bench.radio;
  const item = `rig radio (${bench.spec.radio.kind})`;
  try {
    if (radio.fault) throw radio.fault;
    const who = radio.identify ? await radio.identify() : radio.firmware;
    return ok(item, `answers at ${radio.location}${who ? `: ${who}` : ''}`);
  } catch (e) {
    const fix = 'Check the rig radio is plugged in and runs the firmware of its kind (README "Bringing up a real bench"); replug it.';
    return faulted(item, asFault(e, 'radio-unavailable', radio.where, fix));
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Waits on the bench clock until `heard()`. The clock's wait ends at any part's fault; a fault of a
 * relay or the broker has its own line, so listening goes on (in wall time) until a sniffer or the radio fails.
 */
async function listen(bench: OpenBench, heard: () => boolean, withinMs: number): Promise<void> {
  const from = performance.now();
  try {
    await bench.clock.waitFor(heard, withinMs);
    return;
  } catch (e) {
    if (!(e instanceof RigFault)) throw e;
  }
  const airFault = () => bench.radio.fault ?? bench.sniffers.find((s) => s.driver.fault)?.driver.fault;
  while (!heard() && !airFault() && performance.now() - from < withinMs) await pause(20);
}

/** The radio transmits a MAC Beacon Request (harmless: coordinators answer it with a beacon); every sniffer listens meanwhile. */
async function checkAir(bench: OpenBench, options: BenchCheckOptions, anyOn: boolean, radioOk: boolean): Promise<CheckLine[]> {
  const withinMs = options.hearWithinMs ?? HEAR_WITHIN_MS;
  const radioChannel = bench.spec.radio.channel;
  const beacon = buildBeaconRequest(0x5c);
  const heard = new Map(bench.sniffers.map((s) => [s.id, { frames: 0, beacon: false, unread: [] as UnreadInput[] }]));
  const stops = bench.sniffers.flatMap((s) => [
    s.driver.onFrame((f) => {
      const h = heard.get(s.id)!;
      h.frames++;
      h.beacon ||= sameBytes(f.frame, beacon);
    }),
    // What it printed that was no frame: a sniffer that garbles its lines must be blamed, not the radio it cannot hear.
    s.driver.onUnread?.((u) => heard.get(s.id)!.unread.push(u)) ?? (() => {}),
  ]);
  const lines: CheckLine[] = [];
  let sent: RigFault | undefined;
  try {
    const onRadioChannel = bench.sniffers.filter((s) => s.channel === radioChannel);
    const beaconHeard = () => onRadioChannel.some((s) => heard.get(s.id)!.beacon);
    const done = () => bench.sniffers.every((s) => heard.get(s.id)!.frames > 0) && (!radioOk || !!sent || beaconHeard());
    // A frame can be lost on air: the request goes out again each second until a sniffer hears it.
    for (let waited = 0; waited < withinMs && !done(); waited += BEACON_AGAIN_MS) {
      if (radioOk && !sent && !beaconHeard()) {
        try {
          await bench.radio.transmit(beacon);
        } catch (e) {
          sent = asFault(e, 'radio-refused', bench.radio.where, 'Check the rig radio (replug it) and the channel for interference.');
        }
      }
      await listen(bench, done, Math.min(BEACON_AGAIN_MS, withinMs - waited));
    }
    const garbled = onRadioChannel.filter((s) => heard.get(s.id)!.unread.length > 0).map((s) => s.id);
    if (radioOk)
      lines.push(
        radioHeardLine(
          bench,
          sent,
          onRadioChannel.filter((s) => heard.get(s.id)!.beacon).map((s) => s.id),
          garbled,
        ),
      );
    for (const s of bench.sniffers) {
      const h = heard.get(s.id)!;
      const kind = bench.spec.sniffers.find((x) => x.id === s.id)?.kind;
      const item = `sniffer ${s.id} (${kind})`;
      const quiet = `heard nothing on channel ${s.channel} within ${withinMs / 1000} s`;
      if (s.driver.fault) lines.push(faulted(item, s.driver.fault));
      else if (h.unread.length > 0 && !h.beacon)
        lines.push(
          faulted(
            item,
            new RigFault(
              'sniffer-garbled',
              s.driver.where,
              `${counted(h.unread.length, 'unit')} of its output could not be read as frames (first: ${h.unread[0].reason}, ${h.unread[0].preview})` +
                `${h.frames ? `, beside ${counted(h.frames, 'frame')} read` : ''}, and the rig radio's beacon request was not among what it read`,
              `Check the sniffer runs its ${kind} firmware and its USB link (re-plug, another cable or port).`,
            ),
          ),
        );
      else if (h.frames > 0)
        lines.push(
          ok(
            item,
            `hears channel ${s.channel} at ${s.driver.location}: ${h.frames} frame(s)${h.beacon ? ", the radio's beacon request among them" : ''}`,
          ),
        );
      else if (s.channel === radioChannel && radioOk && !sent)
        lines.push(
          faulted(
            item,
            new RigFault(
              'sniffer-stopped',
              s.driver.where,
              `${quiet}, not even the rig radio's beacon request`,
              `Check the sniffer runs its ${kind} firmware, is tuned by the rig (replug it) and sits within range of the rig radio.`,
            ),
          ),
        );
      else if (anyOn)
        lines.push(
          faulted(
            item,
            new RigFault(
              'sniffer-stopped',
              s.driver.where,
              `${quiet}, although a relay of the bench is ON`,
              `Check the sniffer's firmware and range, and that channel ${s.channel} is the HAN's.`,
            ),
          ),
        );
      else
        lines.push({
          mark: 'warn',
          item,
          detail: `${quiet}; nothing on the bench is powered and no radio transmits on its channel, so its silence proves nothing`,
          advice: 'Re-check with --power-on, or put the rig radio on its channel.',
        });
    }
  } finally {
    for (const stop of stops) stop();
  }
  return lines;
}

function radioHeardLine(bench: OpenBench, sent: RigFault | undefined, by: string[], garbled: string[]): CheckLine {
  const item = 'rig radio transmits';
  const channel = bench.spec.radio.channel;
  if (sent) return faulted(item, sent);
  if (by.length > 0) return ok(item, `its beacon request on channel ${channel} was heard by sniffer ${by.join(', ')}`);
  // The sniffers on its channel printed what could not be read: the request may be among it, so the radio is not blamed.
  if (garbled.length > 0)
    return {
      mark: 'warn',
      item,
      detail: `not established: sniffer ${garbled.join(', ')} on channel ${channel} printed lines that could not be read as frames, the request may be among them`,
      advice: 'Fix the sniffer (its line above), then check again.',
    };
  // The radio transmits on the HAN's channel: with no sniffer there no case can hear the HAN, so none could be judged.
  if (!bench.sniffers.some((s) => s.channel === channel))
    return faulted(
      item,
      new RigFault(
        'rig-misconfigured',
        `bench ${bench.id}`,
        `no sniffer listens on channel ${channel}, the rig radio's (the HAN's): nothing could hear the HAN, so no case could be judged`,
        `Put a sniffer on channel ${channel} (sniffers[].channel), or the radio on the channel the HAN uses (radio.channel).`,
      ),
    );
  return faulted(
    item,
    new RigFault(
      'radio-unavailable',
      bench.radio.where,
      `the radio said its beacon request went out on channel ${channel}, but no sniffer heard it`,
      'Check the rig radio and the sniffers are on the same channel, within range, and that the radio runs the firmware of its kind.',
    ),
  );
}

/** Heard from: its IEEE address as MAC or NWK source, or (the CH) the coordinator's short address. */
function isFrom(decoder: HanDecoder, frame: Uint8Array, device: RigDevice): boolean {
  const d = decoder.decode({ n: 0, timestampUs: 0n, frame, fcsIncluded: false });
  return d.mac?.src === device.ieee || d.nwk?.security?.source === device.ieee || (device.role === 'CH' && d.mac?.src === '0x0000');
}

/** With power-on: each device's relay switched on, and the device heard on air within the bound; without, its relay state only. */
async function checkDevices(bench: OpenBench, options: BenchCheckOptions): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  if (!options.powerOn) {
    for (const d of bench.spec.devices)
      lines.push({
        mark: 'warn',
        item: `device ${d.id} (${d.role})`,
        detail: 'not checked: hearing it needs its relay switched on',
        advice: 'Add --power-on to switch it on and listen for it.',
      });
    return lines;
  }
  const decoder = new HanDecoder();
  const withinMs = options.deviceHeardWithinMs ?? DEVICE_HEARD_WITHIN_MS;
  for (const d of bench.spec.devices) {
    const item = `device ${d.id} (${d.role})`;
    let heard = false;
    const stops = bench.sniffers.map((s) => s.driver.onFrame((f) => (heard ||= isFrom(decoder, f.frame, d))));
    try {
      const relay = bench.relays.get(d.relay.id);
      if (!relay) {
        lines.push(notChecked(item, `its relay ${d.relay.id} cannot be reached`));
        continue;
      }
      await relay.switch(true);
      // A coordinator answers a beacon request: the CH is heard even when it has nothing else to say.
      if (d.role === 'CH') await bench.radio.transmit(buildBeaconRequest(0x5d)).catch(() => {});
      await listen(bench, () => heard, withinMs);
      if (heard) lines.push(ok(item, `heard on air after its relay ${d.relay.id} switched on`));
      else
        lines.push(
          faulted(
            item,
            new RigFault(
              'dut-not-heard',
              `${d.role} ${d.id}`,
              `nothing was heard from ${d.ieee} within ${withinMs / 1000} s of its power-on`,
              `Is the ${d.role} connected to relay ${d.relay.id}, within range, and on channel ${bench.spec.radio.channel}?`,
            ),
          ),
        );
    } catch (e) {
      lines.push(faulted(item, asFault(e, 'relay-unconfirmed', d.relay.id, 'Check the relay (gbcs-rig power … query).')));
    } finally {
      for (const stop of stops) stop();
    }
  }
  return lines;
}

/** The checks of a bench that opened: relays, radio, sniffers, and (with power-on) devices. */
export async function checkOpenBench(bench: OpenBench, options: BenchCheckOptions = {}, brokerFault?: RigFault): Promise<CheckLine[]> {
  try {
    // What the bench has done by now (on the virtual bench: the faults it starts with) happens before anything is asked.
    await bench.clock.sleep(0);
  } catch {
    // A part already lost: its own line below says which.
  }
  const relays = brokerFault ? { lines: [], anyOn: false } : await checkRelays(bench);
  const broker = bench.virtual ? 'the virtual bench broker' : redactedBrokerUrl(bench.rig.station.mqtt.url);
  const lines = powerLines(broker, bench.spec, relays.lines, brokerFault);
  const radio = await checkRadioIdentity(bench);
  lines.push(radio);
  lines.push(...(await checkAir(bench, options, relays.anyOn, radio.mark === 'ok')));
  lines.push(...(await checkDevices(bench, options)));
  return lines;
}

/**
 * Opens the bench and checks it (the command). With the broker unreachable the serial parts are
 * still checked; any other part that stops the bench opening is the ✗ line, and the parts after it are not reached.
 */
export async function checkBench(rig: LoadedRig, benchId: string, options: BenchCheckOptions = {}): Promise<CheckLine[]> {
  const spec = rig.bench(benchId);
  if (!spec) throw new Error(`rig ${rig.file} has no bench ${benchId}`);
  const lines = await checkImages(spec);
  let brokerFault: RigFault | undefined;
  let bench: OpenBench;
  try {
    bench = await openBench(rig, benchId).catch((e: unknown) => {
      if (!(e instanceof RigFault) || e.kind !== 'broker-unreachable') throw e;
      brokerFault = e;
      return openBench(rig, benchId, undefined, { relays: false });
    });
  } catch (e) {
    if (!(e instanceof RigFault)) throw e;
    if (brokerFault) lines.push(faulted('MQTT broker', brokerFault));
    lines.push(faulted(openingItem(e), e));
    // A sniffer or the radio that cannot open takes nothing from the broker and the relays: they are asked all the same.
    if (!brokerFault && e.kind !== 'broker-unreachable' && !spec.virtual) lines.push(...(await powerAlone(rig, spec)));
    lines.push(notChecked('the rest of the bench', 'the bench could not be opened; fix the ✗ above and check again'));
    return lines;
  }
  try {
    return [...lines, ...(await checkOpenBench(bench, options, brokerFault))];
  } finally {
    await bench.close();
  }
}

/**
 * The broker's line, then the relays': with the broker gone (before or while they were asked) one ✗ for the broker, and
 * each relay not checked rather than a ✗ of its own.
 */
function powerLines(broker: string, spec: RigBench, relayLines: CheckLine[], brokerFault?: RigFault): CheckLine[] {
  const lost = brokerFault ?? relayLines.find((l) => l.fault?.kind === 'broker-unreachable')?.fault;
  const lines: CheckLine[] = [lost ? faulted('MQTT broker', lost) : ok('MQTT broker', `${broker} reachable, station connected`)];
  if (brokerFault) lines.push(...spec.relays.map((r) => notChecked(`relay ${r.id}`, 'the broker is unreachable')));
  else if (lost)
    lines.push(...relayLines.map((l) => (l.fault?.kind === 'broker-unreachable' ? notChecked(l.item, 'the broker is unreachable') : l)));
  else lines.push(...relayLines);
  return lines;
}

/** The broker's and the relays' lines of a bench whose serial parts did not open. */
async function powerAlone(rig: LoadedRig, spec: RigBench): Promise<CheckLine[]> {
  const broker = redactedBrokerUrl(rig.station.mqtt.url);
  let opened: Awaited<ReturnType<typeof openRelaysAlone>>;
  try {
    opened = await openRelaysAlone(rig, spec);
  } catch (e) {
    if (!(e instanceof RigFault)) throw e;
    return powerLines(broker, spec, [], e);
  }
  try {
    return powerLines(broker, spec, (await checkRelays({ relays: opened.relays, spec })).lines);
  } finally {
    await opened.close();
  }
}

/** The item a fault of opening the bench names. */
function openingItem(fault: RigFault): string {
  if (fault.kind === 'broker-unreachable') return 'MQTT broker';
  return fault.where;
}

/** The bench's fault for `run`: every ✗ line's kind, what it says, and its fix, as one rig fault; undefined when there is none. */
export function benchCheckFault(benchId: string, lines: readonly CheckLine[]): RigFault | undefined {
  const faults = lines.filter((l) => l.mark === 'fault');
  if (faults.length === 0) return undefined;
  const first = faults[0].fault!;
  return new RigFault(
    first.kind,
    `bench ${benchId} pre-check`,
    faults.map((l) => `${l.item}: ${l.fault!.kind}: ${l.detail}`).join('; '),
    [...new Set(faults.map((l) => l.fault!.fix))].join(' '),
    { cause: first },
  );
}

/** One line as the operator reads it: `✓ item: detail`, `✗ item: kind: detail` and its fix, `⚠ item: detail` and what to do. */
export function formatCheckLine(line: CheckLine): string[] {
  if (line.mark === 'ok') return [`✓ ${line.item}: ${line.detail}`];
  if (line.mark === 'warn') return [`⚠ ${line.item}: ${line.detail}`, ...(line.advice ? [`    ${line.advice}`] : [])];
  return [`✗ ${line.item}: ${line.fault!.kind}: ${line.detail}`, `    fix: ${line.fault!.fix}`];
}
