// Joining the HAN through the CH, as a ZigBee router does after a power-up or a drop-out: an NWK
// Rejoin Request to the coordinator (the CH, 0x0000), asked again with back-off until a Rejoin
// Response admits the device. Without a powered CH that knows the device there is no HAN to join.
// A device already on the HAN does not notice the CH going away (its traffic to its peers needs
// no coordinator), so only its own power-up or drop-out makes it ask.
import type { CancelEvent, DiscreteEventClock } from './clock.ts';
import type { HanStack } from './han-frames.ts';

const SECOND_MS = 1000;
/** From power-on to the device's first Rejoin Request: its boot (nominal; a seeded bench draws 3–8 s, sim/jitter.ts). */
export const HAN_BOOT_MS = 5 * SECOND_MS;
/** An unanswered request is asked again after this, doubled each time up to the cap: a device keeps trying without flooding. */
export const REJOIN_RETRY_FIRST_MS = 15 * SECOND_MS;
export const REJOIN_RETRY_MAX_MS = 5 * 60 * SECOND_MS;
const REJOIN_SUCCESS = 0x00;

export type JoinEventKind = 'rejoin-requested' | 'rejoin-refused';

export class HanJoin {
  #attempts = 0;
  #cancel: CancelEvent | undefined;

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

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
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
