// nRF Sniffer for 802.15.4 (PROTOCOL.md §1): a text shell on a USB CDC serial line, printing
// `received:` frame lines (drivers/received-lines.ts). One kind in drivers/sniffer/registry.ts.
import { RigFault } from '../faults.ts';
import { ReceivedLineReader, type ReceivedLineStats } from '../received-lines.ts';
import { openSerialLink, silentLog, type DriverLog, type SerialBinding, type SerialLink, type SerialLocation } from '../serial.ts';
import {
  linkLostFault,
  snifferKind,
  type SniffedFrame,
  type Sniffer,
  type SnifferProbe,
  type SnifferTimeAnchor,
  type UnreadInput,
} from './sniffer.ts';

export interface Nrf802154SnifferOptions {
  /** Names the sniffer in faults and logs; defaults to `sniffer <path>`. */
  where?: string;
  log?: DriverLog;
  /** Bench time in ms; the anchor reads it once, on the first frame. */
  now?: () => number;
}

export type SnifferState = 'idle' | 'receiving' | 'stopped' | 'closed';

const CHANNELS = { min: 11, max: 26 };

/**
 * Consecutive lines, while receiving, that are neither frames nor answers before the sniffer counts
 * as sending garbage (wrong firmware, a corrupted USB link): a live sniffer on a quiet channel
 * prints nothing at all, and even its boot banner and prompts are a handful of lines.
 */
export const GARBAGE_LINE_LIMIT = 16;

/** The nRF Sniffer for 802.15.4 on one serial line. */
export class Nrf802154Sniffer implements Sniffer {
  readonly where: string;
  #reader: ReceivedLineReader;
  #state: SnifferState = 'idle';
  #channel: number | undefined;
  #fault: RigFault | undefined;
  #faultListeners = new Set<(fault: RigFault) => void>();
  #unreadListeners = new Set<(line: UnreadInput) => void>();
  /** Lines in a row, while receiving, that were neither frames nor answers. */
  #garbageRun = 0;
  #probe: { timer: NodeJS.Timeout; sentAt?: number } | undefined;

  /** Opens the sniffer by path or USB serial number (binding: MockBinding or a pty on the virtual bench). */
  static async open(
    location: SerialLocation,
    options: Nrf802154SnifferOptions & { binding?: SerialBinding; baudRate?: number } = {},
  ): Promise<Nrf802154Sniffer> {
    const link = await openSerialLink(location, {
      role: 'sniffer',
      where: options.where,
      binding: options.binding,
      baudRate: options.baudRate,
      log: options.log,
    });
    return new Nrf802154Sniffer(link, options);
  }

  constructor(
    readonly link: SerialLink,
    options: Nrf802154SnifferOptions = {},
  ) {
    this.where = options.where ?? link.where;
    this.#reader = new ReceivedLineReader(link, {
      where: this.where,
      log: options.log ?? silentLog,
      now: options.now ?? Date.now,
      channel: () => this.#channel ?? 0,
      claimLine: (text) => this.#onProbeAnswer(text),
      unreadLine: (line) => this.#onUnreadLine(line),
    });
    this.#reader.onFrame(() => (this.#garbageRun = 0));
    link.onLost((lost) => this.#onLinkLost(lost));
  }

  get location(): string {
    return this.link.path;
  }

  get state(): SnifferState {
    return this.#state;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get clockWraps(): number {
    return this.#reader.stats.timeWraps;
  }

  get stats(): Readonly<ReceivedLineStats> {
    return this.#reader.stats;
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#reader.anchor;
  }

  /** The fault that stopped this sniffer, if any. */
  get fault(): RigFault | undefined {
    return this.#fault;
  }

  /** The vendor start sequence: sleep, shell echo off, channel N, receive. */
  async start(channel: number): Promise<void> {
    if (!Number.isInteger(channel) || channel < CHANNELS.min || channel > CHANNELS.max) {
      throw new Error(`${this.where}: channel ${channel} is not a 2.4 GHz 802.15.4 channel (11–26)`);
    }
    this.#assertUsable();
    await this.#command('sleep');
    await this.#command('shell echo off');
    // Relabelled once `sleep` is sent: only lines still in flight from an earlier start() could carry the wrong channel.
    this.#channel = channel;
    await this.#command(`channel ${channel}`);
    await this.#command('receive');
    this.#state = 'receiving';
    this.#garbageRun = 0;
  }

  /**
   * The liveness probe (PROTOCOL.md §1): asks the sniffer every `everyMs` (wall time, so on hardware
   * only) whether its shell is alive: a bare `channel` makes the shell print the channel it is tuned
   * to, which must come within `answerWithinMs`. No answer is
   * a hung firmware, another channel a sniffer that restarted and lost its settings: a RigFault.
   */
  startProbe(probe: SnifferProbe): void {
    this.stopProbe();
    const timer = setInterval(
      () => {
        if (this.#state !== 'receiving' || this.#fault) return;
        const p = this.#probe!;
        if (p.sentAt !== undefined && performance.now() - p.sentAt > probe.answerWithinMs) {
          return this.#failWith(
            new RigFault(
              'sniffer-stopped',
              this.where,
              `did not answer a "channel" probe within ${probe.answerWithinMs} ms: its firmware hangs`,
              'Re-plug the sniffer (its firmware stopped answering); frames may have been missed, so re-run the test.',
            ),
          );
        }
        if (p.sentAt === undefined) {
          p.sentAt = performance.now();
          this.#command('channel').catch(() => {});
        }
      },
      Math.max(probe.everyMs, probe.answerWithinMs / 2),
    );
    // A watchdog must not keep the process alive on its own.
    timer.unref();
    this.#probe = { timer };
  }

  stopProbe(): void {
    if (this.#probe) clearInterval(this.#probe.timer);
    this.#probe = undefined;
  }

  /** Called with every line that was neither a frame nor an answer (the capture logs them as evidence). */
  onUnread(listener: (line: UnreadInput) => void): () => void {
    this.#unreadListeners.add(listener);
    return () => this.#unreadListeners.delete(listener);
  }

  /** The vendor stop: an empty line (ends any half-typed command), then sleep. */
  async stop(): Promise<void> {
    this.#assertUsable();
    await this.#command('');
    await this.#command('sleep');
    this.#state = 'idle';
  }

  /** Stops the radio if it can and closes the line; iterators finish without a fault. */
  async close(): Promise<void> {
    this.stopProbe();
    if (this.#state === 'closed') return;
    if (this.#state === 'receiving') await this.stop().catch(() => {});
    this.#state = this.#fault ? 'stopped' : 'closed';
    await this.link.close();
    this.#reader.end(this.#fault);
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#reader.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#reader.frames();
  }

  onFault(listener: (fault: RigFault) => void): () => void {
    if (this.#fault) queueMicrotask(() => listener(this.#fault!));
    else this.#faultListeners.add(listener);
    return () => this.#faultListeners.delete(listener);
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#reader.toBenchTime(snifferUs);
  }

  /** The virtual clock's drain barrier (Drainable). */
  drain(options?: { receivedBytes?: number }): Promise<void> {
    return this.#reader.drain(options);
  }

  #assertUsable(): void {
    if (this.#fault) throw this.#fault;
    if (this.#state === 'closed') throw new Error(`${this.where}: sniffer is closed`);
  }

  #command(text: string): Promise<void> {
    if (this.#state !== 'receiving') this.#echoes.add(text.trim());
    return this.link.write(`${text}\r\n`);
  }

  /** Commands sent outside receiving (the start and stop sequences): their echoes are expected lines. */
  readonly #echoes = new Set<string>();

  /** The probe's answer: the bare channel number (after a prompt, if the shell prints one). */
  #onProbeAnswer(text: string): boolean {
    const p = this.#probe;
    const m = /^(?:.*[$>#]\s*)?(\d{1,2})\s*$/.exec(text);
    if (!p || p.sentAt === undefined || !m) return false;
    p.sentAt = undefined;
    this.#garbageRun = 0;
    const heard = Number(m[1]);
    if (this.#state === 'receiving' && heard !== this.#channel) {
      this.#failWith(
        new RigFault(
          'sniffer-stopped',
          this.where,
          `answered the "channel" probe with channel ${heard} while tuned to ${this.#channel}: it restarted and lost its settings`,
          "Check the sniffer's USB power and cable (it rebooted); frames may have been missed, so re-run the test.",
        ),
      );
    }
    return true;
  }

  #onUnreadLine(line: UnreadInput): void {
    // The shell echoing our own start commands (echo is on until `shell echo off` lands) loses no frame.
    if (this.#echoes.has(line.text.replace(/^.*?[$>#]\s*/, '').trim())) return;
    for (const listener of this.#unreadListeners) listener(line);
    if (this.#state !== 'receiving' || this.#fault) return;
    if (++this.#garbageRun >= GARBAGE_LINE_LIMIT) {
      this.#failWith(
        new RigFault(
          'sniffer-garbled',
          this.where,
          `sent ${this.#garbageRun} lines in a row that are neither frames nor answers (last: ${line.preview})`,
          'Check the sniffer runs the nRF Sniffer for 802.15.4 firmware and its USB link is sound (re-plug, another cable or port); frames were lost, so re-run the test.',
        ),
      );
    }
  }

  #onLinkLost(lost: RigFault): void {
    this.#failWith(linkLostFault(this.where, this.#state === 'receiving' ? this.#channel : undefined, lost));
  }

  /** The first fault stops the sniffer for good: a reopened driver is a new one. */
  #failWith(fault: RigFault): void {
    if (this.#fault) return;
    this.#fault = fault;
    this.stopProbe();
    this.#state = 'stopped';
    this.#reader.end(this.#fault);
    for (const listener of this.#faultListeners) listener(this.#fault);
    this.#faultListeners.clear();
  }
}

/** Its row in drivers/sniffer/registry.ts; its virtual twin is sim/serial-devices.ts's VirtualNrfSnifferFirmware. */
export const nrf802154 = snifferKind({
  kind: 'nrf802154',
  title: 'nRF52840 dongle with the 802.15.4 sniffer firmware',
  fields: {},
  open: (location, _sniffer, how) => Nrf802154Sniffer.open(location, how),
  virtualTwin: 'nrf802154',
});
