// The virtual twin of TI's SmartRF Packet Sniffer 2 firmware (protocol/ti-sniffer.ts) on a serial
// line: it answers the host's commands packet for packet and, while started on an 802.15.4 channel,
// streams a data packet for each frame on air there. Written apart from the `ti-ps2` driver (sim
// never imports drivers): two implementations of one protocol that must agree.
import {
  TI_COMMAND,
  TI_COMMAND_NAME,
  TI_DEFAULT_PHY_802154,
  TI_STATUS,
  TI_STATUS_FCS_OK,
  TiPacketDecoder,
  decodeFrequency,
  decodePhy,
  encodePingData,
  encodeTiData,
  encodeTiResponse,
  mhzChannel,
  tiBody,
  tiCategory,
  type TiFrameLayout,
  type TiPingInfo,
} from '../protocol/ti-sniffer.ts';
import type { AirReception, DeviceLine } from './serial-devices.ts';
import type { VirtualSnifferFirmware } from './sniffer-registry.ts';

export interface VirtualTiSnifferOptions {
  /** What PING answers; default a CC1352P LaunchPad with sniffer_fw 1.10. */
  ping?: TiPingInfo;
  /** Its PHY index of IEEE 802.15.4 2.4 GHz O-QPSK; another PHY hears nothing. */
  phy802154?: number;
  /** How it lays the frame out in a data packet. */
  layout?: TiFrameLayout;
  /** How many PHYs its table has (default 22, as sniffer_fw 1.10 on a CC1352P): a higher CFG_PHY index is refused. */
  phyCount?: number;
  /** STOP while not started: answered OK (default) or refused as invalid state. */
  stopWhenStopped?: 'ok' | 'invalid-state';
}

type State = 'init' | 'stopped' | 'started';

export const VIRTUAL_TI_PING: TiPingInfo = { chipId: 0x1352, chipRevision: 0x21, firmwareId: 0x50, firmwareRevision: 0x0110 };

/** The Packet Sniffer 2 firmware as seen from its UART. */
export class VirtualTiSnifferFirmware implements VirtualSnifferFirmware {
  #state: State = 'init';
  #phy: number | undefined;
  #mhz: number | undefined;
  #silent = false;
  #garbled = 0;
  readonly #commands: string[] = [];
  #waiters: Array<{ name: string; nth: number; resolve: () => void }> = [];
  readonly #decoder: TiPacketDecoder;

  constructor(
    readonly line: DeviceLine,
    private readonly options: VirtualTiSnifferOptions = {},
  ) {
    this.#decoder = new TiPacketDecoder(
      (p) => this.#execute(p.info, p.payload),
      // A command whose FCS failed is answered so; other defects are line noise the firmware skips.
      (defect) => defect === 'bad-fcs' && this.#answer(TI_STATUS.FCS_FAILED),
    );
    line.onReceive((bytes) => this.#decoder.push(bytes));
  }

  /** The 802.15.4 channel it listens on while started; undefined: not started, or tuned elsewhere. */
  get channel(): number | undefined {
    if (this.#state !== 'started' || this.#phy !== (this.options.phy802154 ?? TI_DEFAULT_PHY_802154) || this.#mhz === undefined)
      return undefined;
    return mhzChannel(this.#mhz);
  }

  get state(): State {
    return this.#state;
  }

  get phy(): number | undefined {
    return this.#phy;
  }

  get frequencyMhz(): number | undefined {
    return this.#mhz;
  }

  /** Every command handled, by name (`PING`, `CFG_PHY 18`, `CFG_FREQUENCY 2405`, …). */
  get commands(): readonly string[] {
    return this.#commands;
  }

  get bytesWritten(): number {
    return this.line.bytesWritten;
  }

  /** Resolves once the command named so (its first word) has been handled `nth` times. */
  whenCommand(name: string, nth = 1): Promise<void> {
    if (this.#count(name) >= nth) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ name, nth, resolve }));
  }

  deliver(frame: Uint8Array, reception: AirReception): boolean {
    if (this.#silent || reception.channel !== this.channel) return false;
    const body = tiBody(frame, this.options.layout ?? 'psdu+fcs');
    const status = TI_STATUS_FCS_OK | Math.min(reception.lqi, 0x7f);
    this.#write(encodeTiData({ timestampUs: reception.atUs & 0xffff_ffff_ffffn, body, rssi: reception.rssi, status }));
    return true;
  }

  /** Fault injector: raw bytes on the line. */
  emitGarbage(bytes: Uint8Array): void {
    this.#write(bytes);
  }

  /** Fault injector: from now on every packet arrives mangled (its EOF lost; by turns its SOF too), as from a corrupted UART link. */
  garble(): void {
    this.#garbled = 1;
  }

  /** Fault injector: 'unplug' makes the host's port vanish; 'silent' hangs the firmware. */
  async stop(mode: 'unplug' | 'silent' = 'unplug'): Promise<void> {
    this.#silent = true;
    if (mode === 'unplug') await this.line.unplug();
  }

  #count(name: string): number {
    return this.#commands.filter((c) => c.split(' ')[0] === name).length;
  }

  #write(bytes: Uint8Array): void {
    if (this.#silent) return;
    if (!this.#garbled) return this.line.write(bytes);
    const mangled = Uint8Array.from(bytes);
    mangled[mangled.length - 1] ^= 0xff;
    if (this.#garbled++ % 2 === 0) mangled[1] ^= 0xff;
    this.line.write(mangled);
  }

  #answer(status: number, data: Uint8Array = new Uint8Array(0)): void {
    this.#write(encodeTiResponse({ status, data }));
  }

  #execute(info: number, payload: Uint8Array): void {
    if (this.#silent || tiCategory(info) !== 1) return;
    const name = TI_COMMAND_NAME[info] ?? `0x${info.toString(16)}`;
    let logged = name;
    let status: number = TI_STATUS.OK;
    let data: Uint8Array = new Uint8Array(0);
    const configurable = this.#state !== 'started';
    try {
      switch (info) {
        case TI_COMMAND.PING:
          data = encodePingData(this.options.ping ?? VIRTUAL_TI_PING);
          break;
        case TI_COMMAND.STOP:
          if (this.#state !== 'started' && this.options.stopWhenStopped === 'invalid-state') status = TI_STATUS.INVALID_STATE;
          else this.#state = 'stopped';
          break;
        case TI_COMMAND.START:
          if (this.#state === 'started' || this.#phy === undefined || this.#mhz === undefined) status = TI_STATUS.INVALID_STATE;
          else this.#state = 'started';
          break;
        case TI_COMMAND.CFG_PHY:
          logged = `${name} ${decodePhy(payload)}`;
          if (!configurable) status = TI_STATUS.INVALID_STATE;
          else if (decodePhy(payload) >= (this.options.phyCount ?? 22)) status = TI_STATUS.INVALID_COMMAND;
          else this.#phy = decodePhy(payload);
          break;
        case TI_COMMAND.CFG_FREQUENCY:
          logged = `${name} ${decodeFrequency(payload)}`;
          if (configurable) this.#mhz = decodeFrequency(payload);
          else status = TI_STATUS.INVALID_STATE;
          break;
        default:
          // PAUSE and RESUME are in the guide but not in sniffer_fw's source (tuxniffer): refused, as any unknown command.
          status = TI_STATUS.INVALID_COMMAND;
      }
    } catch {
      status = TI_STATUS.INVALID_COMMAND;
    }
    this.#answer(status, data);
    this.#commands.push(logged);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#count(w.name) < w.nth) return true;
      w.resolve();
      return false;
    });
  }
}
