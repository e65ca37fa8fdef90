// The rig radio as an OpenThread radio co-processor (ot-rcp on an nRF52840 dongle, a TI CC2652/
// CC1352 or a Silicon Labs EFR32 stick) over Spinel (drivers/spinel-session.ts): it transmits as
// the HHT with STREAM_RAW and acknowledges frames to the HHT's addresses. One kind in
// drivers/radio/registry.ts; its virtual twin is sim/ot-rcp-firmware.ts.
import { z } from 'zod';
import { PROMISCUOUS, SPINEL_PROP, STATUS_OK, encodeRawTransmit, statusName } from '../../protocol/spinel.ts';
import { RigFault } from '../faults.ts';
import { RcpReceiver, identifyRcp, openRcp, type RcpIdentity } from '../ot-rcp.ts';
import { silentLog, type DriverLog, type SerialBinding, type SerialLocation } from '../serial.ts';
import type { SniffedFrame, SnifferTimeAnchor } from '../sniffer/sniffer.ts';
import type { SpinelSession } from '../spinel-session.ts';
import { MAX_TX_PSDU, ieeeForRadio } from './line-protocol.ts';
import { radioKind, type Radio } from './radio.ts';

/** `SPINEL_STATUS_NO_ACK`: the frame went out, no acknowledgement came back. */
const STATUS_NO_ACK = 17;

export interface OtRcpRadioOptions {
  where?: string;
  log?: DriverLog;
  now?: () => number;
  binding?: SerialBinding;
  baudRate?: number;
  replyTimeoutMs?: number;
}

const u8 = (v: number) => Uint8Array.of(v);
const bool = (on: boolean) => Uint8Array.of(on ? 1 : 0);
const u16 = (v: number) => Uint8Array.of(v & 0xff, v >> 8);

export class OtRcpRadio implements Radio {
  readonly where: string;
  readonly #receiver: RcpReceiver;
  readonly #log: DriverLog;
  #channel: number | undefined;
  #receiving = false;
  #probe: NodeJS.Timeout | undefined;
  /** Transmissions one at a time: an RCP holds one transmit buffer. */
  #transmitting: Promise<unknown> = Promise.resolve();

  /** Opens, resets and checks the RCP, then enables its raw link and receiver (it must listen to acknowledge frames to the HHT). */
  static async open(location: SerialLocation, options: OtRcpRadioOptions = {}): Promise<OtRcpRadio> {
    const where = options.where ?? ('path' in location ? `radio ${location.path}` : `radio ${location.serialNumber}`);
    const { session, identity } = await openRcp(location, { ...options, where, role: 'radio' });
    const radio = new OtRcpRadio(session, identity, { ...options, where });
    try {
      await session.set(SPINEL_PROP.PHY_ENABLED, bool(true));
      // Address filtering on: the RCP passes up (and acknowledges) only frames to its addresses or broadcast.
      await session.set(SPINEL_PROP.MAC_PROMISCUOUS_MODE, u8(PROMISCUOUS.OFF));
      await session.set(SPINEL_PROP.MAC_RAW_STREAM_ENABLED, bool(true));
      session.armResetWatch();
    } catch (error) {
      await radio.close();
      throw error;
    }
    return radio;
  }

  private constructor(
    readonly session: SpinelSession,
    readonly identity: RcpIdentity,
    options: OtRcpRadioOptions & { where: string },
  ) {
    this.where = options.where;
    this.#log = options.log ?? silentLog;
    this.#receiver = new RcpReceiver(session, {
      where: this.where,
      log: this.#log,
      now: options.now ?? Date.now,
      channel: () => this.#channel,
      reporting: () => this.#receiving,
    });
    this.#receiver.onUnread((input) =>
      this.#log.warn('rig radio lost a frame', { where: this.where, unit: input.line, reason: input.reason }),
    );
  }

  get location(): string {
    return this.session.link.path;
  }

  /** The RCP's own firmware version (NCP_VERSION), for the report's test equipment. */
  get firmware(): string {
    return this.identity.ncpVersion;
  }

  /** Asks PROTOCOL_VERSION, NCP_VERSION and CAPS again: an RCP that still answers and still is a radio co-processor. */
  async identify(): Promise<string> {
    const id = await identifyRcp(this.session, 'radio');
    return `Spinel ${id.protocol.major}.${id.protocol.minor}, ${id.ncpVersion}, caps ${id.caps.join(' ')}`;
  }

  get fault(): RigFault | undefined {
    return this.session.fault;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get receiving(): boolean {
    return this.#receiving;
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#receiver.feed.anchor;
  }

  async setChannel(channel: number): Promise<void> {
    if (!Number.isInteger(channel) || channel < 11 || channel > 26) {
      throw new Error(`${this.where}: channel ${channel} is not a 2.4 GHz 802.15.4 channel (11–26)`);
    }
    await this.session.set(SPINEL_PROP.PHY_CHAN, u8(channel));
    this.#channel = channel;
  }

  /** MAC_15_4_LADDR: an EUI-64 (`E`), most significant byte first as written (spinel.h; OpenThread's host reverses its frame-order address to send it). */
  async setIeee(ieee: string): Promise<void> {
    await this.session.set(SPINEL_PROP.MAC_15_4_LADDR, Uint8Array.from(Buffer.from(ieeeForRadio(ieee), 'hex')));
  }

  async setPan(pan: number): Promise<void> {
    if (!Number.isInteger(pan) || pan < 0 || pan > 0xffff) throw new Error(`${this.where}: PAN id ${pan} is not 16-bit`);
    await this.session.set(SPINEL_PROP.MAC_15_4_PANID, u16(pan));
  }

  /** The HAN's PAN and the HHT's short address, once the CH gave it one: the RCP then acknowledges frames sent to it there. */
  async setHanAddress(address: { pan: number; short: number }): Promise<void> {
    if (!Number.isInteger(address.short) || address.short < 0 || address.short > 0xfffd) {
      throw new Error(`${this.where}: short address ${address.short} is not a unicast 16-bit address`);
    }
    await this.setPan(address.pan);
    await this.session.set(SPINEL_PROP.MAC_15_4_SADDR, u16(address.short));
  }

  /** Reports received frames, or stops: the RCP itself keeps listening (it acknowledges frames to the HHT either way). */
  async receive(on: boolean): Promise<void> {
    if (on && this.#channel === undefined) throw new Error(`${this.where}: set a channel before receiving`);
    if (this.fault) throw this.fault;
    this.#receiving = on;
  }

  /** STREAM_RAW with the PSDU and two FCS bytes the radio fills; resolves once the transmit-done status says it went out. */
  transmit(psdu: Uint8Array): Promise<void> {
    if (psdu.length < 1 || psdu.length > MAX_TX_PSDU) {
      return Promise.reject(new Error(`${this.where}: a PSDU without FCS has 1..${MAX_TX_PSDU} bytes, this one has ${psdu.length}`));
    }
    const channel = this.#channel;
    if (channel === undefined) return Promise.reject(new Error(`${this.where}: set a channel before transmitting`));
    const withFcs = new Uint8Array(psdu.length + 2);
    withFcs.set(psdu);
    const sent = this.#transmitting.catch(() => {}).then(() => this.session.transmitRaw(encodeRawTransmit(withFcs, { channel })));
    this.#transmitting = sent;
    return sent.then((done) => {
      // NO_ACK: on air, unacknowledged after the retries — the sniffers judge what happened next.
      if (done.status === STATUS_OK || done.status === STATUS_NO_ACK) return;
      throw new RigFault(
        'radio-refused',
        this.where,
        `the RCP did not transmit: ${statusName(done.status)}`,
        statusName(done.status) === 'CCA_FAILURE'
          ? 'The channel stayed busy (CSMA-CA gave up): check for interference on the HAN channel (Wi-Fi overlap), then re-run the case.'
          : 'Read the status: a busy radio may clear on retry; anything else is a rig setup problem (reflash a current ot-rcp).',
      );
    });
  }

  /** Asks PHY_CHAN every `everyMs` (wall time, hardware only): silence faults the session; another channel is an RCP that restarted. */
  startProbe(everyMs: number): void {
    this.stopProbe();
    this.#probe = setInterval(() => {
      if (this.fault || this.session.closed) return this.stopProbe();
      this.session.get(SPINEL_PROP.PHY_CHAN).then(
        (value) => {
          if (this.#channel !== undefined && value[0] !== this.#channel) {
            this.session.fail(
              new RigFault(
                'radio-unavailable',
                this.where,
                `answered the PHY_CHAN probe with channel ${value[0]} while tuned to ${this.#channel}: it restarted`,
                "Check the rig radio's USB power and cable (it rebooted); the rig reopens it before the next case, re-run this one.",
              ),
            );
          }
        },
        () => {},
      );
    }, everyMs);
    // A watchdog must not keep the process alive on its own.
    this.#probe.unref();
  }

  stopProbe(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
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

  async close(): Promise<void> {
    this.stopProbe();
    await this.session.close();
    this.#receiver.feed.end(this.session.fault);
  }
}

/** Its row in drivers/radio/registry.ts; its virtual twin is sim/ot-rcp-firmware.ts's VirtualOtRcpFirmware. */
export const otRcpRadio = radioKind({
  kind: 'ot-rcp',
  title: "an nRF52840, CC2652/CC1352 or EFR32 stick running OpenThread's ot-rcp (Spinel over HDLC)",
  fields: { baudRate: z.int().positive().optional() },
  open: (location, radio, how) =>
    OtRcpRadio.open(location, { where: how.where, now: how.now, binding: how.binding, baudRate: radio.baudRate }),
  virtualTwin: 'ot-rcp',
});
