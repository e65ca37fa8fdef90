// Joining the HAN through the CH, as a ZigBee router does after a power-up or a drop-out: an NWK
// Rejoin Request to the coordinator (the CH, 0x0000), asked again with back-off until a Rejoin
// Response admits the device. Without a powered CH that knows the device there is no HAN to join.
// A device on the HAN notices the CH going away (a power cycle) when the coordinator's NWK Link Status
// stops: its neighbour entry ages out, the device is off the HAN and asks again (PWR-1).
import type { CancelEvent, DiscreteEventClock } from './clock.ts';
import type { HanStack } from './han-frames.ts';

const SECOND_MS = 1000;
/** From power-on to the device's first Rejoin Request: its boot (nominal; a seeded bench draws 3–8 s, sim/jitter.ts). */
export const HAN_BOOT_MS = 5 * SECOND_MS;
/** An unanswered request is asked again after this, doubled each time up to the cap: a device keeps trying without flooding. */
/**
 * From the CH's power-off to a device noticing it (nominal): a ZigBee PRO router ages out a neighbour after
 * three missed Link Status periods of 15 s (a seeded bench draws 30–45 s, sim/jitter.ts). Link Status
 * frames are not put on the virtual air: only their absence matters here.
 */
export const COORDINATOR_LOSS_NOTICED_MS = 45 * SECOND_MS;
export const REJOIN_RETRY_FIRST_MS = 15 * SECOND_MS;
export const REJOIN_RETRY_MAX_MS = 5 * 60 * SECOND_MS;
const REJOIN_SUCCESS = 0x00;

/** A profile's rejoin delay after losing the CH (minutes; null: never) in ms; absent: at once. */
export const rejoinDelayMs = (minutes: number | null | undefined): number | null =>
  minutes === null ? null : (minutes ?? 0) * 60 * SECOND_MS;

export type JoinEventKind = 'rejoin-requested' | 'rejoin-refused' | 'coordinator-lost' | 'rejoin-abandoned';

export class HanJoin {
  #attempts = 0;
  #cancel: CancelEvent | undefined;
  #cancelNotice: CancelEvent | undefined;

  constructor(
    private readonly clock: DiscreteEventClock,
    private readonly han: HanStack,
    private readonly name: string,
    private readonly send: (frame: Uint8Array) => void,
    private readonly joined: () => void,
    private readonly record: (kind: JoinEventKind, detail?: string) => void,
  ) {}

  /** Still asking: powered, not yet admitted. */
  get asking(): boolean {
    return this.#cancel !== undefined;
  }

  /** Starts asking the CH after `afterMs` (the boot time at power-up, 0 after a drop-out). */
  start(afterMs: number): void {
    this.stop();
    this.#attempts = 0;
    this.#cancel = this.clock.after(afterMs, () => this.#ask(), `${this.name} asks the CH to join the HAN`);
  }

  /** Stops asking, and forgets a loss of the CH not yet noticed (the device lost power or was admitted). */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#cancelNotice?.();
    this.#cancelNotice = undefined;
  }

  /**
   * The CH went away (PWR-1): noticed `noticeMs` later, when `leave()` takes the device off the HAN (false: it was
   * not on it); then it asks again after `delayMs` (its profile's), or, with null, never until its own power cycle.
   */
  coordinatorLost(noticeMs: number, delayMs: number | null, leave: () => boolean): void {
    this.#cancelNotice?.();
    this.#cancelNotice = this.clock.after(
      noticeMs,
      () => {
        this.#cancelNotice = undefined;
        if (!leave()) return;
        this.record('coordinator-lost', delayMs === null ? 'never asks again (profile)' : `asks again in ${delayMs / 1000} s`);
        if (delayMs === null) return this.record('rejoin-abandoned', 'profile');
        this.start(delayMs);
      },
      `${this.name} notices the CH has gone`,
    );
  }

  /** A Rejoin Response addressed to this device: admitted, or refused (it goes on asking). */
  answered(status: number): void {
    if (!this.asking) return;
    if (status !== REJOIN_SUCCESS) return this.record('rejoin-refused', `status 0x${status.toString(16).padStart(2, '0')}`);
    this.stop();
    this.joined();
  }

  #ask(): void {
    this.send(this.han.rejoinRequest());
    this.record('rejoin-requested', `attempt ${this.#attempts + 1}`);
    const wait = Math.min(REJOIN_RETRY_FIRST_MS * 2 ** this.#attempts, REJOIN_RETRY_MAX_MS);
    this.#attempts++;
    this.#cancel = this.clock.after(wait, () => this.#ask(), `${this.name} asks the CH again`);
  }
}
