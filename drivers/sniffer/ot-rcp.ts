// An OpenThread radio co-processor (ot-rcp) as a sniffer: the same Spinel session as the rig radio
// (drivers/spinel-session.ts, drivers/ot-rcp.ts), in full promiscuous mode with its raw stream on,
// so every frame it decodes on the channel comes up as STREAM_RAW with RSSI, LQI and a µs
// timestamp. One kind in drivers/sniffer/registry.ts; its virtual twin is sim/ot-rcp-firmware.ts.
import { z } from 'zod';
import { PROMISCUOUS, SPINEL_PROP } from '../../protocol/spinel.ts';
import { RigFault } from '../faults.ts';
import { RcpReceiver, openRcp, type RcpIdentity } from '../ot-rcp.ts';
import { silentLog, type DriverLog, type SerialBinding, type SerialLocation } from '../serial.ts';
import type { SpinelSession } from '../spinel-session.ts';
import { snifferKind, type SniffedFrame, type Sniffer, type SnifferProbe, type SnifferTimeAnchor, type UnreadInput } from './sniffer.ts';

export interface OtRcpSnifferOptions {
  where?: string;
  log?: DriverLog;
  now?: () => number;
  binding?: SerialBinding;
  baudRate?: number;
  replyTimeoutMs?: number;
}

export class OtRcpSniffer implements Sniffer {
  readonly where: string;
  readonly #receiver: RcpReceiver;
  #channel: number | undefined;
  #probe: NodeJS.Timeout | undefined;

  /** Opens, resets and checks the RCP; start() tunes it and turns promiscuous receiving on. */
  static async open(location: SerialLocation, options: OtRcpSnifferOptions = {}): Promise<OtRcpSniffer> {
    const where = options.where ?? ('path' in location ? `sniffer ${location.path}` : `sniffer ${location.serialNumber}`);
    const { session, identity } = await openRcp(location, { ...options, where, role: 'sniffer' });
    return new OtRcpSniffer(session, identity, { ...options, where });
  }

  private constructor(
    readonly session: SpinelSession,
    readonly identity: RcpIdentity,
    options: OtRcpSnifferOptions & { where: string },
  ) {
    this.where = options.where;
    this.#receiver = new RcpReceiver(session, {
      where: this.where,
      log: options.log ?? silentLog,
      now: options.now ?? Date.now,
      channel: () => this.#channel,
      garbled: (fault) => session.fail(fault),
    });
  }

  get location(): string {
    return this.session.link.path;
  }

  /** The RCP's own firmware version (NCP_VERSION), for the report's test equipment. */
  get firmware(): string {
    return this.identity.ncpVersion;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get fault(): RigFault | undefined {
    return this.session.fault;
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#receiver.feed.anchor;
  }

  /** PHY_ENABLED, PHY_CHAN, MAC_PROMISCUOUS_MODE FULL, then MAC_RAW_STREAM_ENABLED: receiving from the answer on. */
  async start(channel: number): Promise<void> {
    if (!Number.isInteger(channel) || channel < 11 || channel > 26) {
      throw new Error(`${this.where}: channel ${channel} is not a 2.4 GHz 802.15.4 channel (11–26)`);
    }
    if (this.fault) throw this.fault;
    await this.session.set(SPINEL_PROP.PHY_ENABLED, Uint8Array.of(1));
    // Labelled before the change: frames still in flight from another channel carry their own channel in the PHY data.
    this.#channel = channel;
    await this.session.set(SPINEL_PROP.PHY_CHAN, Uint8Array.of(channel));
    await this.session.set(SPINEL_PROP.MAC_PROMISCUOUS_MODE, Uint8Array.of(PROMISCUOUS.FULL));
    await this.session.set(SPINEL_PROP.MAC_RAW_STREAM_ENABLED, Uint8Array.of(1));
    this.session.armResetWatch();
  }

  /** Asks PHY_CHAN every `everyMs` (wall time, hardware only): no answer within `answerWithinMs` is a hung RCP, another channel one that restarted. */
  startProbe(probe: SnifferProbe): void {
    this.stopProbe();
    let asking = false;
    this.#probe = setInterval(
      () => {
        if (this.fault || this.session.closed) return this.stopProbe();
        if (asking) return;
        asking = true;
        const hung = setTimeout(
          () =>
            this.session.fail(
              new RigFault(
                'sniffer-stopped',
                this.where,
                `did not answer a PHY_CHAN probe within ${probe.answerWithinMs} ms: its firmware hangs`,
                'Re-plug the sniffer (its firmware stopped answering); frames may have been missed, so re-run the test.',
              ),
            ),
          probe.answerWithinMs,
        );
        this.session
          .get(SPINEL_PROP.PHY_CHAN)
          .then(
            (value) => {
              if (this.#channel !== undefined && value[0] !== this.#channel) {
                this.session.fail(
                  new RigFault(
                    'sniffer-stopped',
                    this.where,
                    `answered the PHY_CHAN probe with channel ${value[0]} while tuned to ${this.#channel}: it restarted and lost its settings`,
                    "Check the sniffer's USB power and cable (it rebooted); frames may have been missed, so re-run the test.",
                  ),
                );
              }
            },
            () => {},
          )
          .finally(() => {
            clearTimeout(hung);
            asking = false;
          });
      },
      Math.max(probe.everyMs, probe.answerWithinMs / 2),
    );
    // A watchdog must not keep the process alive on its own.
    this.#probe.unref();
  }

  stopProbe(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
  }

  /** Frames lost: a bad FCS or receive error the RCP reported, or bytes that were not a frame. */
  onUnread(listener: (input: UnreadInput) => void): () => void {
    return this.#receiver.onUnread(listener);
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#receiver.feed.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#receiver.feed.frames();
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#receiver.feed.toBenchTime(snifferUs);
  }

  drain(options?: { receivedBytes?: number }): Promise<void> {
    return this.#receiver.feed.drain(options);
  }

  /** Stops the raw stream if the RCP still answers, then closes; iterators finish (with the fault, if it failed). */
  async close(): Promise<void> {
    this.stopProbe();
    if (!this.fault && !this.session.closed) await this.session.set(SPINEL_PROP.MAC_RAW_STREAM_ENABLED, Uint8Array.of(0)).catch(() => {});
    await this.session.close();
    this.#receiver.feed.end(this.session.fault);
  }
}

/** Its row in drivers/sniffer/registry.ts; its virtual twin is sim/ot-rcp-firmware.ts's VirtualOtRcpFirmware. */
export const otRcpSniffer = snifferKind({
  kind: 'ot-rcp',
  title: "an nRF52840, CC2652/CC1352 or EFR32 stick running OpenThread's ot-rcp, in promiscuous mode",
  fields: { baudRate: z.int().positive().optional() },
  open: (location, sniffer, how) =>
    OtRcpSniffer.open(location, { where: how.where, now: how.now, binding: how.binding, baudRate: sniffer.baudRate }),
  virtualTwin: 'ot-rcp',
});
