// The simulated 2.4 GHz air of the virtual bench: PSDUs (no FCS) go from one transmitter to every
// receiver tuned to the same channel, stamped with the discrete-event clock's time. No airtime,
// no loss, no collisions: the virtual bench tests the rig and the device logic, not the radio.
import type { VirtualRadioFirmware } from './radio-registry.ts';
import type { VirtualSnifferFirmware } from './sniffer-registry.ts';

/** What a receiver learns about a frame besides its bytes. */
export interface AirMeta {
  channel: number;
  /** Bench time of the transmission, µs since the Unix epoch (clock.nowUs()). */
  atUs: bigint;
  rssi: number;
  lqi: number;
  /** Who transmitted it (a label: an IEEE address for radios and devices). */
  from: string;
}

export interface AirListener {
  /** Read at every transmission, so a listener may retune by changing it. */
  readonly channel: number;
  /** Frames transmitted with `from` equal to this id are not delivered back to it. */
  readonly id?: string;
  receive(frame: Uint8Array, meta: AirMeta): void;
}

export interface Transmission {
  channel: number;
  from: string;
  rssi?: number;
  lqi?: number;
}

/** Link quality of a bench where every device sits next to every other. */
export const DEFAULT_RSSI = -45;
export const DEFAULT_LQI = 255;

export class Air {
  #listeners: AirListener[] = [];
  readonly #queue: Array<{ frame: Uint8Array; meta: AirMeta }> = [];
  #delivering = false;

  constructor(private readonly clock: { nowUs(): bigint }) {}

  /** Starts hearing the air; returns the detach function. */
  attach(listener: AirListener): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Puts a frame on the air now: every listener on the channel but the sender hears it, in attach
   * order. A frame sent while another is being delivered (an immediate answer) goes out after it,
   * so every listener hears frames in the order they were sent.
   */
  transmit(frame: Uint8Array, tx: Transmission): void {
    const meta: AirMeta = {
      channel: tx.channel,
      atUs: this.clock.nowUs(),
      rssi: tx.rssi ?? DEFAULT_RSSI,
      lqi: tx.lqi ?? DEFAULT_LQI,
      from: tx.from,
    };
    this.#queue.push({ frame: frame.slice(), meta });
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) this.#deliver(next.frame, next.meta);
    } finally {
      this.#delivering = false;
      this.#queue.length = 0;
    }
  }

  #deliver(frame: Uint8Array, meta: AirMeta): void {
    // A snapshot: attaching or detaching while a frame is in the air affects the next frame.
    for (const l of [...this.#listeners]) {
      if (l.channel !== meta.channel || (l.id !== undefined && l.id === meta.from)) continue;
      l.receive(frame.slice(), { ...meta });
    }
  }
}

/** What a virtual device needs of the air: to hear it and to transmit on it. */
export type AirAccess = Pick<Air, 'attach' | 'transmit'>;

/** The air as a device whose radio never transmits hears it: a dead device (firmware profile `transmits: false`). */
export function silenced(air: Air): AirAccess {
  return { attach: (listener) => air.attach(listener), transmit: () => undefined };
}

/** A virtual sniffer hears the air on whatever channel its host tuned it to. */
export function attachSniffer(air: Air, firmware: VirtualSnifferFirmware): () => void {
  return air.attach({
    get channel() {
      // Untuned (no channel yet): hears nothing.
      return firmware.channel ?? -1;
    },
    receive(frame, meta) {
      firmware.deliver(frame, { rssi: meta.rssi, lqi: meta.lqi, channel: meta.channel, atUs: meta.atUs });
    },
  });
}

/** The rig radio: what its host transmits goes on the air as `ieee`; what others send reaches it. */
export function attachRadio(air: Air, firmware: VirtualRadioFirmware, ieee: string): () => void {
  const detach = air.attach({
    id: ieee,
    get channel() {
      // Untuned (no channel yet): hears nothing.
      return firmware.channel ?? -1;
    },
    receive(frame, meta) {
      firmware.deliver(frame, { rssi: meta.rssi, lqi: meta.lqi, channel: meta.channel, atUs: meta.atUs });
    },
  });
  const stop = firmware.onTransmit((psdu, channel) => air.transmit(psdu, { channel, from: ieee }));
  return () => {
    stop();
    detach();
  };
}
