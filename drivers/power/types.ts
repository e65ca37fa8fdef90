// What every mains relay driver offers, whatever the vendor. Adding a vendor: its driver file here with
// its descriptor (vendor.ts), its virtual twin in sim/ (sim/power-registry.ts), and a row in registry.ts.
import type { RigFault } from '../faults.ts';

/** Milliseconds on the bench clock; the harness injects its clock, drivers never read wall time themselves. */
export type Now = () => number;

/** Wall time in ms, monotonic within the process (used when no bench clock is injected). */
export const wallClock: Now = () => performance.timeOrigin + performance.now();

/** The relay's own word that it is now in `on`, with the two instants the evidence log needs. */
export interface PowerConfirmation {
  /** The relay channel, e.g. `tasmota bench1-mains POWER2`. */
  readonly where: string;
  readonly on: boolean;
  /** When the command was handed to the MQTT client (bench clock, ms). */
  readonly publishedAt: number;
  /** When the relay's confirmation arrived (bench clock, ms). */
  readonly confirmedAt: number;
  /** The topic whose message confirmed it (evidence: which message to look for in a broker log). */
  readonly confirmedBy: string;
}

export type AvailabilityListener = (online: boolean) => void;

/** One switchable mains channel. Faults are RigFault ('relay-unconfirmed', 'relay-offline', 'broker-unreachable'). */
export interface PowerSwitch {
  readonly where: string;
  /** Resolves only once the relay itself reports the new state. */
  switch(on: boolean): Promise<PowerConfirmation>;
  /** Asks the relay for its current state. */
  query(): Promise<boolean>;
  /**
   * Switches the relay back to the state the rig last commanded when something else switched it since (a relay-changed
   * fault), confirmed as any switch; undefined, and nothing sent, when nothing had.
   */
  restore(): Promise<PowerConfirmation | undefined>;
  /** The relay's last reported availability; undefined until it has said anything. */
  readonly online: boolean | undefined;
  /** Why the relay cannot be trusted right now (broker connection down, relay offline), else undefined: the bench watchdog asks. */
  readonly fault: RigFault | undefined;
  /** Called on every availability report; returns the unsubscribe function. */
  onAvailability(cb: AvailabilityListener): () => void;
  /** Drops this channel's subscriptions (and its MQTT client, if the driver made it). */
  close(): Promise<void>;
}

/** Options every MQTT relay driver takes. */
export interface PowerSwitchOptions {
  /** How long a relay may take to confirm a command before it is a rig fault. Default 5000 ms. */
  readonly confirmWithinMs?: number;
  readonly now?: Now;
}

export const DEFAULT_CONFIRM_WITHIN_MS = 5_000;
