// OpenThread's ot-rcp firmware as its host sees it over the serial line, byte for byte: Spinel
// in HDLC-lite frames (protocol/spinel.ts), the properties a radio host uses, STREAM_RAW
// transmit with its transmit-done status, and received frames as unsolicited STREAM_RAW — what an
// nRF52840 dongle flashed with ot-rcp says. Written from OpenThread's NcpBase (ncp_base.cpp,
// ncp_base_radio.cpp) and spinel.h, apart from drivers/ on purpose (sim never imports drivers):
// the virtual twin of the `ot-rcp` rig radio and sniffer kinds (sim/radio-registry.ts, sim/sniffer-registry.ts).
import { Reader, Writer } from '../protocol/bytes.ts';
import { crc16kermit } from '../protocol/crc.ts';
import { decodeMac } from '../protocol/mac.ts';
import {
  HdlcDecoder,
  PROMISCUOUS,
  SPINEL_CAP,
  SPINEL_CMD,
  SPINEL_PROP,
  SPINEL_PROTOCOL_VERSION,
  SPINEL_STATUS,
  STATUS_OK,
  decodeRawTransmit,
  decodeSpinel,
  encodeRawReceived,
  encodeSpinel,
  encodeTransmitDone,
  hdlcEncode,
  propertyPayload,
  readPacked,
  readProperty,
  utf8Value,
  writePacked,
  type SpinelFrame,
} from '../protocol/spinel.ts';
import type { AirReception, DeviceLine } from './serial-devices.ts';

const status = (name: string): number => Number(Object.entries(SPINEL_STATUS).find(([, n]) => n === name)![0]);
const RESET_POWER_ON = status('RESET_POWER_ON');
/** OpenThread's `SPINEL_PROTOCOL_TYPE_THREAD`: what every OpenThread build reports as INTERFACE_TYPE. */
const INTERFACE_THREAD = 3;

export interface VirtualOtRcpOptions {
  /** NCP_VERSION, as `otGetVersionString()` prints it. */
  ncpVersion?: string;
  /** CAPS as the firmware lists them (a test leaves out MAC_RAW to play an NCP build). */
  caps?: number[];
  /** HWADDR, the factory EUI-64, most significant byte first. */
  hwaddr?: Uint8Array;
}

/** What a nRF52840 dongle with ot-rcp answers (OpenThread's nrf528xx platform, RCP build). */
export const NRF52840_OT_RCP = {
  ncpVersion: 'OPENTHREAD/thread-reference-20230706; NRF52840; Jul 10 2024 10:00:00',
  caps: [SPINEL_CAP.COUNTERS, SPINEL_CAP.OQPSK_2450MHZ, SPINEL_CAP.CONFIG_RADIO, SPINEL_CAP.MAC_RAW, SPINEL_CAP.RCP_API_VERSION],
  hwaddr: Uint8Array.of(0xf4, 0xce, 0x36, 0x00, 0x00, 0x15, 0x4b, 0x01),
  /** SPINEL_RCP_API_VERSION and SPINEL_MIN_HOST_SUPPORTED_RCP_API_VERSION of that release. */
  rcpApiVersion: 10,
  minHostApiVersion: 4,
};

/** The firmware's radio state, as `otLinkRaw*` keeps it. */
interface LinkRaw {
  enabled: boolean;
  rawStream: boolean;
  promiscuous: number;
  channel: number;
  pan: number;
  short: number;
  /** LADDR as the host set it: EUI-64, most significant byte first. */
  ext: Uint8Array;
}

const fresh = (): LinkRaw => ({
  enabled: false,
  rawStream: false,
  promiscuous: PROMISCUOUS.OFF,
  channel: 11,
  pan: 0xffff,
  short: 0xfffe,
  ext: new Uint8Array(8),
});

/** Flips one bit of an encoded frame's body, the `n`th usable byte (cycling) — never making or breaking a flag or escape: the host sees a bad FCS. */
function corrupt(bytes: Uint8Array, n: number): void {
  const usable: number[] = [];
  for (let i = 1; i < bytes.length - 1; i++) {
    const b = bytes[i];
    if (b !== 0x7e && b !== 0x7d && bytes[i - 1] !== 0x7d && (b ^ 0x01) !== 0x7e && (b ^ 0x01) !== 0x7d) usable.push(i);
  }
  if (usable.length) bytes[usable[n % usable.length]] ^= 0x01;
}

export class VirtualOtRcpFirmware {
  #link: LinkRaw = fresh();
  /** Whether the host ever tuned it: an untuned RCP hears nothing on the virtual air. */
  #tuned = false;
  #lastStatus = RESET_POWER_ON;
  #transmitListeners: Array<(psdu: Uint8Array, channel: number) => void> = [];
  #transmitRefusals: number[] = [];
  #mute = false;
  #silent = false;
  #garbled = 0;
  readonly #options: Required<VirtualOtRcpOptions>;
  /** Every Spinel command the host sent, decoded, in order (tests read it). */
  readonly commands: SpinelFrame[] = [];

  constructor(
    readonly line: DeviceLine,
    options: VirtualOtRcpOptions = {},
  ) {
    this.#options = { ncpVersion: NRF52840_OT_RCP.ncpVersion, caps: NRF52840_OT_RCP.caps, hwaddr: NRF52840_OT_RCP.hwaddr, ...options };
    const decoder = new HdlcDecoder((bytes) => this.#execute(bytes));
    line.onReceive((bytes) => decoder.push(bytes));
    // The boot announcement: lost when no host has the port open yet, as over USB CDC. A pty cannot tell
    // (no modem lines) and its host flushes input on open at random, so there the drain count would never settle.
    if (line.dtr !== undefined) this.#announceReset();
  }

  /** The channel it receives on, once its host tuned it with the raw link on; else undefined (it hears nothing). */
  get channel(): number | undefined {
    return this.#tuned && this.#link.enabled ? this.#link.channel : undefined;
  }

  get bytesWritten(): number {
    return this.line.bytesWritten;
  }

  get rawStream(): boolean {
    return this.#link.rawStream;
  }

  get promiscuous(): number {
    return this.#link.promiscuous;
  }

  get pan(): number {
    return this.#link.pan;
  }

  get short(): number {
    return this.#link.short;
  }

  /** LADDR in hex, most significant byte first. */
  get ieee(): string {
    return Buffer.from(this.#link.ext).toString('hex');
  }

  /** Called with each PSDU (no FCS) the host transmits, and the channel it goes out on. */
  onTransmit(listener: (psdu: Uint8Array, channel: number) => void): () => void {
    this.#transmitListeners.push(listener);
    return () => {
      this.#transmitListeners = this.#transmitListeners.filter((l) => l !== listener);
    };
  }

  /**
   * A frame on air (no FCS): sent up as unsolicited STREAM_RAW when the raw stream is on, the channel
   * matches and — out of promiscuous mode — the radio's address filter passes it.
   */
  deliver(frame: Uint8Array, reception: AirReception): boolean {
    const link = this.#link;
    if (this.#silent || !link.enabled || !link.rawStream || reception.channel !== this.channel) return false;
    if (link.promiscuous === PROMISCUOUS.OFF && !this.#passesFilter(frame)) return false;
    const fcs = crc16kermit(frame);
    const psdu = new Uint8Array(frame.length + 2);
    psdu.set(frame);
    psdu[frame.length] = fcs & 0xff;
    psdu[frame.length + 1] = fcs >> 8;
    const value = encodeRawReceived({
      psdu,
      rssi: reception.rssi,
      noiseFloor: -128,
      flags: 0,
      channel: reception.channel,
      lqi: reception.lqi,
      timestampUs: reception.atUs,
    });
    this.#send({ iid: 0, tid: 0, command: SPINEL_CMD.PROP_VALUE_IS, payload: propertyPayload(SPINEL_PROP.STREAM_RAW, value) });
    return true;
  }

  /** A frame the radio could not receive, reported as OpenThread does: an empty PSDU with the receive error (e.g. 17, FCS). */
  deliverReceiveError(rxError: number, reception: AirReception): void {
    const value = encodeRawReceived({
      psdu: new Uint8Array(0),
      rssi: reception.rssi,
      noiseFloor: -128,
      flags: 0,
      channel: reception.channel,
      lqi: 0,
      timestampUs: 0n,
      rxError,
    });
    this.#send({ iid: 0, tid: 0, command: SPINEL_CMD.PROP_VALUE_IS, payload: propertyPayload(SPINEL_PROP.STREAM_RAW, value) });
  }

  /** Fault injector: the next transmissions end with these statuses (e.g. CCA_FAILURE) instead of going out. */
  failTransmit(statusName: string): void {
    this.#transmitRefusals.push(status(statusName));
  }

  /** Fault injector: the firmware resets on its own (a watchdog, a brown-out) and announces it, unless the announcement is lost. */
  resetSpontaneously(reason = 'RESET_WATCHDOG', { announced = true } = {}): void {
    this.#link = fresh();
    this.#tuned = false;
    if (announced) this.#announceReset(status(reason));
    else this.#lastStatus = status(reason);
  }

  /** Fault injector: stop answering commands (received frames still flow). */
  mute(): void {
    this.#mute = true;
  }

  /** Fault injector: raw bytes on the line. */
  emitGarbage(bytes: Uint8Array | string): void {
    this.line.write(bytes);
  }

  /** Fault injector: from now on every frame it sends arrives with a bad FCS, as from a corrupted USB link. */
  garble(): void {
    this.#garbled = 1;
  }

  /** Fault injector: 'unplug' makes the host's port vanish; 'silent' hangs the firmware. */
  async stop(mode: 'unplug' | 'silent' = 'unplug'): Promise<void> {
    this.#silent = true;
    if (mode === 'unplug') await this.line.unplug();
  }

  async unplug(): Promise<void> {
    await this.line.unplug();
  }

  #send(frame: SpinelFrame): void {
    if (this.#silent) return;
    const bytes = hdlcEncode(encodeSpinel(frame));
    if (this.#garbled) corrupt(bytes, this.#garbled++);
    this.line.write(bytes);
  }

  #announceReset(reason = RESET_POWER_ON): void {
    this.#lastStatus = reason;
    const value = writePacked(new Writer(3), reason, 'status').finish();
    this.#send({ iid: 0, tid: 0, command: SPINEL_CMD.PROP_VALUE_IS, payload: propertyPayload(SPINEL_PROP.LAST_STATUS, value) });
  }

  #reply(request: SpinelFrame, prop: number, value: Uint8Array): void {
    this.#send({ iid: 0, tid: request.tid, command: SPINEL_CMD.PROP_VALUE_IS, payload: propertyPayload(prop, value) });
  }

  #replyStatus(request: SpinelFrame, code: number): void {
    this.#lastStatus = code;
    this.#reply(request, SPINEL_PROP.LAST_STATUS, writePacked(new Writer(3), code, 'status').finish());
  }

  #execute(bytes: Uint8Array): void {
    let request: SpinelFrame;
    try {
      request = decodeSpinel(bytes);
    } catch {
      return; // Not Spinel: an RCP drops it.
    }
    this.commands.push(request);
    if (this.#mute || this.#silent) return;
    switch (request.command) {
      case SPINEL_CMD.NOOP:
        return this.#replyStatus(request, STATUS_OK);
      case SPINEL_CMD.RESET:
        // A stack reset: the radio settings go back to the firmware's defaults, announced with TID 0.
        this.#link = fresh();
        this.#tuned = false;
        return this.#announceReset();
      case SPINEL_CMD.PROP_VALUE_GET:
      case SPINEL_CMD.PROP_VALUE_SET: {
        let property: { prop: number; value: Uint8Array };
        try {
          property = readProperty(request.payload);
        } catch {
          return this.#replyStatus(request, status('PARSE_ERROR'));
        }
        if (request.command === SPINEL_CMD.PROP_VALUE_GET) return this.#get(request, property.prop);
        return this.#set(request, property.prop, property.value);
      }
      default:
        return this.#replyStatus(request, status('INVALID_COMMAND'));
    }
  }

  #value(prop: number): Uint8Array | undefined {
    const link = this.#link;
    const w = () => new Writer(16);
    switch (prop) {
      case SPINEL_PROP.LAST_STATUS:
        return writePacked(w(), this.#lastStatus, 'status').finish();
      case SPINEL_PROP.PROTOCOL_VERSION:
        return writePacked(writePacked(w(), SPINEL_PROTOCOL_VERSION.major, 'major'), SPINEL_PROTOCOL_VERSION.minor, 'minor').finish();
      case SPINEL_PROP.NCP_VERSION:
        return utf8Value(this.#options.ncpVersion);
      case SPINEL_PROP.INTERFACE_TYPE:
        return writePacked(w(), INTERFACE_THREAD, 'type').finish();
      case SPINEL_PROP.CAPS: {
        const caps = w();
        for (const cap of this.#options.caps) writePacked(caps, cap, 'cap');
        return caps.finish();
      }
      case SPINEL_PROP.HWADDR:
        return this.#options.hwaddr.slice();
      case SPINEL_PROP.PHY_ENABLED:
        return Uint8Array.of(link.enabled ? 1 : 0);
      case SPINEL_PROP.PHY_CHAN:
        return Uint8Array.of(link.channel);
      case SPINEL_PROP.MAC_15_4_PANID:
        return w().u16(link.pan).finish();
      case SPINEL_PROP.MAC_15_4_SADDR:
        return w().u16(link.short).finish();
      case SPINEL_PROP.MAC_15_4_LADDR:
        return link.ext.slice();
      case SPINEL_PROP.MAC_RAW_STREAM_ENABLED:
        return Uint8Array.of(link.rawStream ? 1 : 0);
      case SPINEL_PROP.MAC_PROMISCUOUS_MODE:
        return Uint8Array.of(link.promiscuous === PROMISCUOUS.OFF ? PROMISCUOUS.OFF : PROMISCUOUS.FULL);
      case SPINEL_PROP.RCP_API_VERSION:
        return writePacked(w(), NRF52840_OT_RCP.rcpApiVersion, 'api').finish();
      case SPINEL_PROP.RCP_MIN_HOST_API_VERSION:
        return writePacked(w(), NRF52840_OT_RCP.minHostApiVersion, 'api').finish();
      default:
        return undefined;
    }
  }

  #get(request: SpinelFrame, prop: number): void {
    const value = this.#value(prop);
    if (value === undefined) return this.#replyStatus(request, status('PROP_NOT_FOUND'));
    this.#reply(request, prop, value);
  }

  #set(request: SpinelFrame, prop: number, value: Uint8Array): void {
    const link = this.#link;
    const r = new Reader(value);
    const invalid = () => this.#replyStatus(request, status('INVALID_ARGUMENT'));
    try {
      switch (prop) {
        case SPINEL_PROP.PHY_ENABLED:
          link.enabled = r.u8('enabled') !== 0;
          break;
        case SPINEL_PROP.PHY_CHAN: {
          const channel = readPacked(r, 'channel');
          if (channel < 11 || channel > 26) return invalid();
          link.channel = channel;
          this.#tuned = true;
          break;
        }
        case SPINEL_PROP.MAC_15_4_PANID:
          link.pan = r.u16('pan');
          break;
        case SPINEL_PROP.MAC_15_4_SADDR:
          link.short = r.u16('short');
          break;
        case SPINEL_PROP.MAC_15_4_LADDR:
          link.ext = r.bytesN(8, 'laddr').slice();
          break;
        case SPINEL_PROP.MAC_RAW_STREAM_ENABLED:
          link.rawStream = r.u8('enabled') !== 0;
          break;
        case SPINEL_PROP.MAC_PROMISCUOUS_MODE: {
          const mode = r.u8('mode');
          if (mode > PROMISCUOUS.FULL) return invalid();
          link.promiscuous = mode;
          break;
        }
        case SPINEL_PROP.STREAM_RAW:
          return this.#transmit(request, value);
        default:
          return this.#replyStatus(request, status('PROP_NOT_FOUND'));
      }
    } catch {
      return this.#replyStatus(request, status('PARSE_ERROR'));
    }
    this.#reply(request, prop, this.#value(prop)!);
  }

  /** HandlePropertySet_SPINEL_PROP_STREAM_RAW, then LinkRawTransmitDone with the request's TID. */
  #transmit(request: SpinelFrame, value: Uint8Array): void {
    if (!this.#link.enabled) return this.#replyStatus(request, status('INVALID_STATE'));
    let psdu: Uint8Array, channel: number;
    try {
      ({
        psdu,
        transmit: { channel },
      } = decodeRawTransmit(value));
    } catch {
      return this.#replyStatus(request, status('PARSE_ERROR'));
    }
    if (psdu.length < 3 || psdu.length > 127) return this.#replyStatus(request, status('PARSE_ERROR'));
    const refused = this.#transmitRefusals.shift();
    const done = (code: number, ack?: Uint8Array) =>
      this.#send({
        iid: 0,
        tid: request.tid,
        command: SPINEL_CMD.PROP_VALUE_IS,
        payload: propertyPayload(
          SPINEL_PROP.LAST_STATUS,
          encodeTransmitDone({
            status: code,
            framePending: false,
            headerUpdated: false,
            ...(ack && { ack: { psdu: ack, rssi: -45, noiseFloor: -128, flags: 0, channel, lqi: 255, timestampUs: 0n } }),
          }),
        ),
      });
    if (refused !== undefined) return done(refused);
    // The radio fills the two FCS bytes: the air carries the MAC frame.
    const frame = psdu.slice(0, psdu.length - 2);
    for (const listener of this.#transmitListeners) listener(frame.slice(), channel);
    // The virtual devices acknowledge as real ones do: an Imm-Ack with the frame's sequence number when it asked for one.
    const wantsAck = (frame[0] & 0x20) !== 0;
    done(STATUS_OK, wantsAck ? Uint8Array.of(0x02, 0x00, frame[2], 0, 0) : undefined);
  }

  /** The 802.15.4 address filter of a radio out of promiscuous mode (802.15.4-2006 §7.5.6.2): its PAN and addresses, or broadcast. */
  #passesFilter(frame: Uint8Array): boolean {
    const link = this.#link;
    let mac: ReturnType<typeof decodeMac>['mac'];
    try {
      mac = decodeMac(frame, false).mac;
    } catch {
      return false;
    }
    // Acknowledgements are the radio's own business, never passed up.
    if (mac.type === 'ack') return false;
    const pan = (text: string | undefined) => (text === undefined ? undefined : parseInt(text, 16));
    if (mac.dst !== undefined) {
      const dstPan = pan(mac.dstPan);
      if (dstPan !== 0xffff && dstPan !== link.pan) return false;
      if (mac.dst.startsWith('0x')) return pan(mac.dst) === 0xffff || pan(mac.dst) === link.short;
      return mac.dst.replace(/:/g, '').toLowerCase() === Buffer.from(link.ext).toString('hex');
    }
    // No destination: a beacon passes; a data or command frame only from the radio's own PAN.
    const srcPan = pan(mac.srcPan);
    return mac.type === 'beacon' ? link.pan === 0xffff || srcPan === link.pan : srcPan === link.pan;
  }
}

/** The twin of the `ot-rcp` radio and sniffer kinds, a row of sim/radio-registry.ts and of sim/sniffer-registry.ts: an nRF52840 dongle with ot-rcp. */
export const otRcpTwin = {
  twin: 'ot-rcp',
  usb: { vendorId: '1915', productId: 'cafe' },
  boot: (line: DeviceLine) => new VirtualOtRcpFirmware(line),
};
