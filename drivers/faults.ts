// A rig fault: the bench could not establish the facts (a relay did not confirm, the broker
// went away, a sniffer stopped). It ends a test INCONCLUSIVE, never FAIL: the device is not at fault.

export type RigFaultKind =
  | 'relay-unconfirmed'
  | 'relay-offline'
  /** A relay reported a state no command of the rig's asked for (its button, a timer, another controller): the bench's power is unknown. */
  | 'relay-changed'
  | 'broker-unreachable'
  | 'sniffer-stopped'
  | 'sniffer-unavailable'
  | 'sniffer-garbled'
  | 'radio-unavailable'
  | 'radio-refused'
  | 'serial-port-lost'
  | 'observation-unavailable'
  | 'observation-refused'
  | 'operator-no-answer'
  | 'tenancy-not-delivered'
  /** A device whose silence or refusal a verdict would rest on was not heard alive in the same power period. */
  | 'dut-not-heard'
  /** A case ran past its planned duration and margin: stopped, its evidence kept. */
  | 'case-overran'
  /** What a case needs before it can judge (data held, a window open) could not be established on the bench. */
  | 'precondition-unmet'
  /** The rig file does not give the bench what a case needs (e.g. no tenancy trigger): fixed in the rig file, not at the device. */
  | 'rig-misconfigured'
  /** A device answered, but after the lab's captureWithinSeconds: too late to judge by, too early to call silence. */
  | 'answer-late'
  | 'evidence-unwritable'
  // The HAN heard is not the one the rig file pins, or the rig could not learn it at all.
  | 'han-mismatch'
  | 'han-unknown'
  // The rig lacks the HAN's network key, or has another one: it cannot read (nor speak on) the secured HAN.
  | 'cannot-decrypt';

export class RigFault extends Error {
  override name = 'RigFault';

  constructor(
    readonly kind: RigFaultKind,
    /** Which part of the bench: a relay topic and channel, a sniffer path, … */
    readonly where: string,
    message: string,
    /** What a person at the bench should check or do. */
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${message}`, options);
  }
}
