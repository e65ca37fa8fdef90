// TI SmartRF Packet Sniffer 2 firmware (sniffer_fw) on a CC26x2/CC1352 LaunchPad's UART: binary
// packets (protocol/ti-sniffer.ts), synchronous commands answered in order, and a data packet per
// frame heard. One kind in drivers/sniffer/registry.ts; its twin is sim/ti-sniffer.ts.
import { z } from 'zod';
import { hex } from '../../protocol/bytes.ts';
import {
  TI_BAUD,
  TI_COMMAND,
  TI_COMMAND_NAME,
  TI_DATA_INFO,
  TI_DEFAULT_PHY_802154,
  TI_ERROR_INFO,
  TI_FRAME_LAYOUTS,
  TI_RESPONSE_INFO,
  TI_STATUS,
  TiPacketDecoder,
  channelMhz,
  decodePingData,
  decodeTiData,
  decodeTiResponse,
  detectTiFrameLayout,
  encodeFrequency,
  encodeTiCommand,
  tiCorrelation,
  tiFcsOk,
  tiPsdu,
  tiStatusName,
  type TiDataPacket,
  type TiDecoderStats,
  type TiDefect,
  type TiFrameLayout,
  type TiPacket,
  type TiPingInfo,
  type TiResponse,
} from '../../protocol/ti-sniffer.ts';
import { RigFault } from '../faults.ts';
import { openSerialLink, silentLog, type DriverLog, type SerialBinding, type SerialLink, type SerialLocation } from '../serial.ts';
import { FrameFeed } from './frame-feed.ts';
import {
  linkLostFault,
  snifferKind,
  type SniffedFrame,
  type Sniffer,
  type SnifferProbe,
  type SnifferTimeAnchor,
  type UnreadInput,
} from './sniffer.ts';

export interface TiPs2Options {
  where?: string;
  log?: DriverLog;
  /** Bench time in ms; the anchor reads it once, on the first frame. */
  now?: () => number;
  binding?: SerialBinding;
  /** Default 3 Mbaud, what sniffer_fw 1.9+ runs at (UNCONFIRMED: the guide says 921600). */
  baudRate?: number;
  /** CFG_PHY index of IEEE 802.15.4 2.4 GHz O-QPSK on this chip and firmware (UNCONFIRMED default: TI_DEFAULT_PHY_802154). */
  phy?: number;
  /** How the firmware lays out a frame; `auto` learns it from the first frame with a good FCS. */
  frameLayout?: TiFrameLayout | 'auto';
  /** How long each command's response may take (wall time). */
  answerWithinMs?: number;
}

export type TiPs2State = 'idle' | 'receiving' | 'stopped' | 'closed';

/** Consecutive defective packets, while receiving, before the sniffer counts as garbled (wrong baud rate, a corrupted link). */
export const TI_GARBAGE_LIMIT = 16;
const DEFAULT_ANSWER_MS = 1_000;

export interface TiPs2Stats extends TiDecoderStats {
  bytesReceived: number;
  frames: number;
  /** Frames the radio reported with a bad FCS: dropped, as the nRF sniffer's radio drops them. */
  badFcsFrames: number;
  /** Data packets that arrived while not started (left streaming by an earlier host). */
  framesWhileStopped: number;
  errorPackets: number;
}

type Pending = { name: string; resolve: (r: TiResponse) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout };

/** The Packet Sniffer 2 firmware on one serial line. */
export class TiPs2Sniffer implements Sniffer {
  readonly where: string;
  #state: TiPs2State = 'idle';
  #channel: number | undefined;
  #fault: RigFault | undefined;
  #identity: TiPingInfo | undefined;
  #layout: TiFrameLayout | undefined;
  #units = 0;
  #garbageRun = 0;
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #probe: NodeJS.Timeout | undefined;
  #faultListeners = new Set<(fault: RigFault) => void>();
  #unreadListeners = new Set<(input: UnreadInput) => void>();
  readonly #decoder: TiPacketDecoder;
  readonly #feed: FrameFeed;
  readonly #log: DriverLog;
  readonly #stats = { bytesReceived: 0, frames: 0, badFcsFrames: 0, framesWhileStopped: 0, errorPackets: 0 };

  /** Opens the port, stops any capture an earlier host left running and asks the firmware who it is (PING). */
  static async open(location: SerialLocation, options: TiPs2Options = {}): Promise<TiPs2Sniffer> {
    const baudRate = options.baudRate ?? TI_BAUD.firmware;
    const link = await openSerialLink(location, {
      role: 'sniffer',
      where: options.where,
      binding: options.binding,
      baudRate,
      log: options.log,
    });
    const sniffer = new TiPs2Sniffer(link, options);
    try {
      await sniffer.#initialise(baudRate);
    } catch (error) {
      await sniffer.close();
      throw error;
    }
    return sniffer;
  }

  private constructor(
    readonly link: SerialLink,
    private readonly options: TiPs2Options,
  ) {
    this.where = options.where ?? link.where;
    this.#log = options.log ?? silentLog;
    this.#layout = options.frameLayout === 'auto' ? undefined : options.frameLayout;
    // Packets are cut out of each chunk as it arrives: only a trailing partial packet is left unparsed.
    const position = () => ({ received: this.#stats.bytesReceived, caughtUp: true });
    this.#feed = new FrameFeed({ where: this.where, log: this.#log, now: options.now ?? Date.now, position });
    this.#decoder = new TiPacketDecoder(
      (p, raw) => this.#onPacket(p, raw),
      (d, raw, reason) => this.#onDefect(d, raw, reason),
    );
    link.port.on('data', (chunk: Buffer) => {
      this.#stats.bytesReceived += chunk.length;
      this.#decoder.push(chunk);
      this.#feed.settleDrains();
    });
    link.onLost((lost) => this.#onLinkLost(lost));
  }

  get location(): string {
    return this.link.path;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get state(): TiPs2State {
    return this.#state;
  }

  get fault(): RigFault | undefined {
    return this.#fault;
  }

  /** What PING answered at open: the chip and firmware, for the report's test equipment. */
  get identity(): TiPingInfo | undefined {
    return this.#identity;
  }

  /** PING's answer in words: the chip and the sniffer firmware's id and revision. */
  get firmware(): string | undefined {
    const id = this.#identity;
    return (
      id &&
      `chip 0x${id.chipId.toString(16)} rev ${id.chipRevision}, sniffer_fw id ${id.firmwareId} rev 0x${id.firmwareRevision.toString(16)}`
    );
  }

  /** The frame layout in use (configured, or learned from the first intact frame). */
  get frameLayout(): TiFrameLayout | undefined {
    return this.#layout;
  }

  get stats(): Readonly<TiPs2Stats> {
    return { ...this.#decoder.stats, ...this.#stats };
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#feed.anchor;
  }

  /** Tunes to `channel` and starts: STOP, CFG_PHY, CFG_FREQUENCY, START, each answered OK. */
  async start(channel: number): Promise<void> {
    const mhz = channelMhz(channel);
    this.#assertUsable();
    await this.#stop();
    // Relabelled once stopped: only packets still in flight from an earlier start could carry the wrong channel.
    this.#channel = channel;
    const phy = this.options.phy ?? TI_DEFAULT_PHY_802154;
    await this.#command(TI_COMMAND.CFG_PHY, Uint8Array.of(phy), {
      fix:
        `Set \`phy\` on this sniffer in the rig file to the CFG_PHY index of "IEEE 802.15.4 2.4 GHz O-QPSK" in the PHY table ` +
        `of TI's Packet Sniffer 2 guide for this chip and firmware (tried ${phy}).`,
    });
    await this.#command(TI_COMMAND.CFG_FREQUENCY, encodeFrequency(mhz));
    await this.#command(TI_COMMAND.START);
    this.#state = 'receiving';
    this.#garbageRun = 0;
  }

  /**
   * The liveness probe: a PING every `everyMs` (wall time, hardware only) must be answered within
   * `answerWithinMs`. Frames heard cannot prove life (a quiet channel sends none), and PING is the
   * firmware's own liveness command, answered in any state (PAUSE, which would stop the stream
   * to ask, is not in sniffer_fw at all).
   */
  startProbe(probe: SnifferProbe): void {
    this.stopProbe();
    this.#probe = setInterval(
      () => {
        if (this.#state !== 'receiving' || this.#fault || this.#pending) return;
        this.#command(TI_COMMAND.PING, undefined, { withinMs: probe.answerWithinMs, probe: true }).catch(() => {});
      },
      Math.max(probe.everyMs, probe.answerWithinMs),
    );
    // A watchdog must not keep the process alive on its own.
    this.#probe.unref();
  }

  stopProbe(): void {
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = undefined;
  }

  onUnread(listener: (input: UnreadInput) => void): () => void {
    this.#unreadListeners.add(listener);
    return () => this.#unreadListeners.delete(listener);
  }

  onFault(listener: (fault: RigFault) => void): () => void {
    if (this.#fault) queueMicrotask(() => listener(this.#fault!));
    else this.#faultListeners.add(listener);
    return () => this.#faultListeners.delete(listener);
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#feed.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#feed.frames();
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#feed.toBenchTime(snifferUs);
  }

  /** The virtual clock's drain barrier (Drainable). */
  drain(options?: { receivedBytes?: number }): Promise<void> {
    return this.#feed.drain(options);
  }

  /** Stops the capture if it can and closes the line; iterators finish without a fault. */
  async close(): Promise<void> {
    this.stopProbe();
    if (this.#state === 'closed') return;
    if (this.#state === 'receiving' && !this.#fault) await this.#stop().catch(() => {});
    this.#state = this.#fault ? 'stopped' : 'closed';
    if (this.#pending) {
      clearTimeout(this.#pending.timer);
      this.#pending.reject(new Error(`${this.where}: closed`));
      this.#pending = undefined;
    }
    await this.link.close();
    this.#feed.end(this.#fault);
  }

  async #initialise(baudRate: number): Promise<void> {
    const notAnswering =
      `Check the LaunchPad runs TI's Packet Sniffer 2 firmware (sniffer_fw) and its UART rate is ${baudRate} baud ` +
      '(set `baudRate` on this sniffer in the rig file: 3000000 for sniffer_fw 1.9 and later, 921600 before); ' +
      "use the XDS110's UART port, not its debug port.";
    await this.#stop(notAnswering);
    const ping = await this.#command(TI_COMMAND.PING, undefined, { fix: notAnswering });
    try {
      this.#identity = decodePingData(ping.data);
    } catch (cause) {
      throw new RigFault(
        'sniffer-unavailable',
        this.where,
        `answered PING with ${hex(ping.data)}: ${(cause as Error).message}`,
        notAnswering,
        { cause },
      );
    }
    const id = this.#identity;
    this.#log.info('TI Packet Sniffer 2 firmware', {
      where: this.where,
      chipId: `0x${id.chipId.toString(16)}`,
      chipRevision: id.chipRevision,
      firmwareId: id.firmwareId,
      firmwareRevision: `0x${id.firmwareRevision.toString(16)}`,
    });
  }

  /** STOP; refused as "invalid state" means it was not started, which is what STOP wants. */
  async #stop(fix?: string): Promise<void> {
    await this.#command(TI_COMMAND.STOP, undefined, { fix, accept: [TI_STATUS.INVALID_STATE] });
    if (this.#state === 'receiving') this.#state = 'idle';
  }

  /**
   * Sends one command and awaits its response: commands are synchronous and responses carry no
   * command id, so one is in flight at a time. No answer in time or a refusal is a RigFault.
   */
  #command(
    command: number,
    payload?: Uint8Array,
    how: { fix?: string; accept?: number[]; withinMs?: number; probe?: boolean } = {},
  ): Promise<TiResponse> {
    const name = TI_COMMAND_NAME[command];
    const run = async (): Promise<TiResponse> => {
      this.#assertUsable();
      const withinMs = how.withinMs ?? this.options.answerWithinMs ?? DEFAULT_ANSWER_MS;
      const answered = new Promise<TiResponse>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#pending = undefined;
          const fault = how.probe
            ? new RigFault(
                'sniffer-stopped',
                this.where,
                `did not answer a PING probe within ${withinMs} ms: its firmware hangs`,
                'Re-plug the LaunchPad (its firmware stopped answering); frames may have been missed, so re-run the test.',
              )
            : new RigFault(
                this.#state === 'receiving' ? 'sniffer-stopped' : 'sniffer-unavailable',
                this.where,
                `did not answer ${name} within ${withinMs} ms`,
                how.fix ?? "Re-plug the LaunchPad and check it runs TI's Packet Sniffer 2 firmware.",
              );
          if (how.probe || this.#state === 'receiving') this.#failWith(fault);
          reject(fault);
        }, withinMs);
        this.#pending = { name, resolve, reject, timer };
      });
      // Settled by the timer even while the write is still pending: handled below, not an unhandled rejection.
      answered.catch(() => {});
      await this.link.write(encodeTiCommand(command, payload));
      const response = await answered;
      if (response.status !== TI_STATUS.OK && !how.accept?.includes(response.status)) {
        throw new RigFault(
          'sniffer-unavailable',
          this.where,
          `refused ${name}: ${tiStatusName(response.status)}`,
          how.fix ?? "Re-plug the LaunchPad (its firmware is in an unexpected state) and check it runs TI's Packet Sniffer 2 firmware.",
        );
      }
      return response;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }

  #assertUsable(): void {
    if (this.#fault) throw this.#fault;
    if (this.#state === 'closed') throw new Error(`${this.where}: sniffer is closed`);
  }

  #onPacket(packet: TiPacket, raw: Uint8Array): void {
    const unit = ++this.#units;
    if (packet.info === TI_RESPONSE_INFO) return this.#onResponse(packet, raw, unit);
    if (packet.info === TI_DATA_INFO) return this.#onData(packet, raw, unit);
    if (packet.info === TI_ERROR_INFO) this.#stats.errorPackets++;
    const reason =
      packet.info === TI_ERROR_INFO
        ? `an error packet from the firmware (${hex(packet.payload)})`
        : `a packet of unknown type 0x${packet.info.toString(16)}`;
    this.#unread(unit, raw, reason, true);
  }

  #onResponse(packet: TiPacket, raw: Uint8Array, unit: number): void {
    const pending = this.#pending;
    if (!pending) return this.#unread(unit, raw, 'a command response nobody asked for', false);
    this.#pending = undefined;
    clearTimeout(pending.timer);
    try {
      pending.resolve(decodeTiResponse(packet));
    } catch (error) {
      pending.reject(
        new RigFault(
          'sniffer-unavailable',
          this.where,
          `answered ${pending.name} with ${hex(raw)}: ${(error as Error).message}`,
          "Check the LaunchPad runs TI's Packet Sniffer 2 firmware.",
        ),
      );
    }
  }

  #onData(packet: TiPacket, raw: Uint8Array, unit: number): void {
    if (this.#state !== 'receiving') {
      this.#stats.framesWhileStopped++;
      return;
    }
    let frame: Uint8Array;
    let data: TiDataPacket;
    try {
      data = decodeTiData(packet);
      if (!tiFcsOk(data.status)) {
        this.#stats.badFcsFrames++;
        this.#garbageRun = 0;
        return;
      }
      this.#layout ??= this.#learnLayout(data.body);
      frame = tiPsdu(data.body, this.#layout);
    } catch (error) {
      return this.#unread(unit, raw, (error as Error).message, true);
    }
    this.#garbageRun = 0;
    this.#stats.frames++;
    this.#feed.publish({
      frame,
      rssi: data.rssi,
      lqi: tiCorrelation(data.status),
      channel: this.#channel ?? 0,
      snifferUs: data.timestampUs,
      line: unit,
    });
  }

  #learnLayout(body: Uint8Array): TiFrameLayout {
    const layout = detectTiFrameLayout(body);
    this.#log.info('TI sniffer frame layout learned from the first intact frame', { where: this.where, layout, layouts: TI_FRAME_LAYOUTS });
    return layout;
  }

  #onDefect(defect: TiDefect, raw: Uint8Array, reason: string): void {
    this.#unread(++this.#units, raw, `${defect}: ${reason}`, defect !== 'bad-sof');
  }

  #unread(unit: number, raw: Uint8Array, reason: string, malformed: boolean): void {
    const text = Buffer.from(raw).toString('latin1');
    const input: UnreadInput = {
      line: unit,
      text,
      reason,
      preview: raw.length > 40 ? `${hex(raw.subarray(0, 40))}…` : hex(raw),
      malformed,
    };
    this.#log.warn(
      malformed ? 'malformed packet from the TI sniffer: a frame may be lost' : 'bytes from the TI sniffer that are not a packet',
      {
        where: this.where,
        unit,
        reason,
        preview: input.preview,
      },
    );
    for (const listener of this.#unreadListeners) listener(input);
    if (this.#state !== 'receiving' || this.#fault) return;
    if (++this.#garbageRun >= TI_GARBAGE_LIMIT) {
      this.#failWith(
        new RigFault(
          'sniffer-garbled',
          this.where,
          `sent ${this.#garbageRun} defective packets in a row (last: ${reason})`,
          "Check the LaunchPad runs TI's Packet Sniffer 2 firmware, `baudRate` matches it, and its USB link is sound " +
            '(re-plug, another cable or port); frames were lost, so re-run the test.',
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
    if (this.#pending) {
      clearTimeout(this.#pending.timer);
      this.#pending.reject(fault);
      this.#pending = undefined;
    }
    this.#feed.end(fault);
    for (const listener of this.#faultListeners) listener(fault);
    this.#faultListeners.clear();
  }
}

/** Its row in drivers/sniffer/registry.ts; its virtual twin is sim/ti-sniffer.ts's VirtualTiSnifferFirmware. */
export const tiPs2 = snifferKind({
  kind: 'ti-ps2',
  title: "CC26x2/CC1352 LaunchPad with TI's Packet Sniffer 2 firmware",
  fields: {
    baudRate: z.union([z.literal(TI_BAUD.firmware), z.literal(TI_BAUD.guide)]).optional(),
    phy: z.int().min(0).max(255).optional(),
    frameLayout: z.enum(['auto', ...TI_FRAME_LAYOUTS] as ['auto', ...TiFrameLayout[]]).optional(),
  },
  open: (location, sniffer, how) =>
    TiPs2Sniffer.open(location, {
      where: how.where,
      now: how.now,
      binding: how.binding,
      baudRate: sniffer.baudRate,
      phy: sniffer.phy,
      frameLayout: sniffer.frameLayout ?? 'auto',
    }),
  virtualTwin: 'ti-ps2',
});
