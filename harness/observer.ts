// What a device shows, asked the way the bench allows: its observation (debug) port, else an
// operator at the bench (question, photo, yes/no). Either way the answer is evidence; no answer
// is a rig fault (INCONCLUSIVE), never a device failure.
import { HELD_KIND_TITLES, type HeldKind, type Holdings } from '../drivers/observe/line-protocol.ts';
import { OperatorPrompt } from '../drivers/observe/operator-prompt.ts';
import type { ObservationPort } from '../drivers/observe/serial-port.ts';
import type { RigDevice } from '../rigs/load.ts';
import { benchIso, type EvidenceLog } from './evidence.ts';

export interface Retained {
  /** True when the device holds no data of these kinds recorded before `beforeMs`. */
  cleared: boolean;
  /** The kinds still holding such data. */
  kept: HeldKind[];
  /** The kinds holding anything at all. */
  holding: HeldKind[];
}

export interface DeviceObserver {
  readonly how: string;
  /** How often a span can be watched through it (a debug port can be asked every few minutes; an operator cannot). */
  readonly watchEveryMs?: number;
  /** Which of `kinds` still hold data recorded before `beforeMs`, and which hold anything. */
  retained(kinds: readonly HeldKind[], beforeMs: number, evidence: EvidenceLog): Promise<Retained>;
  /** True when the device still holds data of `kind` recorded no later than `untilMs` (and, once older data is cleared, after `fromMs`). */
  keeps(kind: HeldKind, fromMs: number, untilMs: number, evidence: EvidenceLog): Promise<boolean>;
}

/** The device's debug port answers counts and the earliest/latest recording times per kind. */
export class PortObserver implements DeviceObserver {
  readonly how: string;
  /** A debug port answers in milliseconds: a span is watched every ten minutes. */
  readonly watchEveryMs = 10 * 60_000;
  constructor(
    private readonly port: ObservationPort,
    device: RigDevice,
  ) {
    this.how = `observation port of ${device.role} ${device.id}`;
  }

  async retained(kinds: readonly HeldKind[], beforeMs: number, evidence: EvidenceLog): Promise<Retained> {
    const all: Holdings = await this.port.heldAll();
    evidence.event('observation', { how: this.how, holdings: all });
    const kept = kinds.filter((k) => all[k].count > 0 && all[k].earliestRecordedAt !== null && all[k].earliestRecordedAt < beforeMs);
    return { cleared: kept.length === 0, kept, holding: kinds.filter((k) => all[k].count > 0) };
  }

  async keeps(kind: HeldKind, _fromMs: number, untilMs: number, evidence: EvidenceLog): Promise<boolean> {
    const h = await this.port.held(kind);
    evidence.event('observation', { how: this.how, holdings: { [kind]: h } });
    return h.count > 0 && h.earliestRecordedAt !== null && h.earliestRecordedAt <= untilMs;
  }
}

/** No debug port: the operator looks at the display and answers, with a photo. */
export class OperatorObserver implements DeviceObserver {
  readonly how: string;
  constructor(
    private readonly device: RigDevice,
    private readonly timeoutMs: number,
  ) {
    this.how = `operator looking at ${device.role} ${device.id}`;
  }

  async retained(kinds: readonly HeldKind[], beforeMs: number, evidence: EvidenceLog): Promise<Retained> {
    const what = kinds.map((k) => HELD_KIND_TITLES[k]).join(', ');
    const answer = await OperatorPrompt.ask({
      device: `${this.device.role} "${this.device.id}" (${this.device.ieee})`,
      question: `Does the ${this.device.role} show any of: ${what}, from before ${benchIso(beforeMs)}?`,
      expected: 'no',
      instructions: 'Look through every screen that lists history, top-ups, debt and messages; photograph the screen you judge by.',
      timeoutMs: this.timeoutMs,
      evidence,
    });
    // The operator answers for all kinds at once: a yes keeps them all.
    const kept = answer.answer === 'yes' ? [...kinds] : [];
    return { cleared: kept.length === 0, kept, holding: kept };
  }

  async keeps(kind: HeldKind, fromMs: number, untilMs: number, evidence: EvidenceLog): Promise<boolean> {
    const answer = await OperatorPrompt.ask({
      device: `${this.device.role} "${this.device.id}" (${this.device.ieee})`,
      question: `Does the ${this.device.role} show ${HELD_KIND_TITLES[kind]} recorded between ${benchIso(fromMs)} and ${benchIso(untilMs)}?`,
      expected: 'yes',
      timeoutMs: this.timeoutMs,
      evidence,
    });
    return answer.answer === 'yes';
  }
}
