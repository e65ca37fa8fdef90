// A conformance test case: stable id, the requirement in words, its sources, steps with bench
// times, measurements with limits, and one verdict computed from what happened — written to
// the case's evidence folder as result.json before Playwright hears of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RigFault, type RigFaultKind } from '../drivers/faults.ts';
import { DeviceFailure, NotApplicable, verdictOf, type VerdictRecord } from './verdicts.ts';
import { benchIso, type EvidenceLog } from './evidence.ts';
import type { Measurement } from './measurements.ts';
import type { DeviceRole } from '../firmware-images/manifest.ts';
import * as allure from 'allure-js-commons';

export interface CaseDefinition {
  /** Stable id, e.g. CH-IPAN-002. */
  id: string;
  title: string;
  /** DOMAIN.md requirement ids, e.g. ['IPAN-2']. */
  requirements: string[];
  /** Clauses and modifications, e.g. ['GBCS 10.5', 'SECMP0037']. */
  references: string[];
  /** The requirement in the rig's own words. */
  requirement: string;
  /** The device role the case examines. */
  role: DeviceRole;
  /** The requirement area (DOMAIN.md section), e.g. 'CH inter-PAN join window'. */
  area: string;
}

/** The "requirement" of a measurement of the rig's own timing (CaseRecorder.measured): never the device's to fail. */
export const RIG_TIMING = 'rig';

/** The device a case examined, with its firmware image as the rig verified it. */
export interface CaseDevice {
  id: string;
  /** When it is not the case's role: the GPF, which lives in the CH (a GPF case's role is the CH's). */
  role?: string;
  ieee: string;
  firmware: string;
  claims: string[];
  manufacturer?: string;
  model?: string;
  /** The unit's serial number and hardware revision, from the rig file. */
  serialNumber?: string;
  hardwareRevision?: string;
  version?: string;
  gbcsVersion?: string;
  smetsVersion?: string;
  /** The image's sha256, verified before the run. */
  sha256?: string;
}

export interface CaseStep {
  name: string;
  at: string;
}

export interface CaseResult extends CaseDefinition, VerdictRecord {
  bench: string;
  /** The bench time the case planned for under the lab settings (ms); its deadline adds a margin. */
  plannedMs?: number;
  device?: CaseDevice;
  /** The cases that ran side by side with it on its bench (the campaign plan's group), if any. */
  alongside?: string[];
  startedAt: string;
  endedAt: string;
  steps: CaseStep[];
  measurements: Measurement[];
  evidence: { file: string; sha256: string }[];
}

/** What a suite's test body uses to say what it did and found. */
export class CaseRecorder {
  readonly steps: CaseStep[] = [];
  readonly measurements: Measurement[] = [];
  private readonly startedAt: number;

  constructor(
    readonly definition: CaseDefinition,
    private readonly evidence: EvidenceLog,
    private readonly now: () => number,
    /** Told of each step as it starts (the run's progress shows it). */
    private readonly onStep?: (name: string) => void,
  ) {
    this.startedAt = now();
    evidence.event('case-start', { id: definition.id, title: definition.title });
  }

  step(name: string): void {
    const at = benchIso(this.now());
    this.steps.push({ name, at });
    this.evidence.event('step', { name });
    this.onStep?.(name);
    // Allure's steps mirror the case's, with their bench time.
    void allure.logStep(`${at} ${name}`);
  }

  /** A moment the requirement defines (a window's end, a deadline), for the timeline: recorded now, pointing at `atMs`. */
  mark(label: string, atMs: number): void {
    this.evidence.event('mark', { label, at: benchIso(atMs) });
  }

  /**
   * Records a measurement; one outside its limit is the device's failure of `requirement`. `RIG_TIMING` names the rig's
   * own timing (a probe sent when the case meant it): outside, or too close to tell, the case cannot judge — INCONCLUSIVE,
   * never the device's FAIL, and no later check of the case rests on it.
   */
  measured(m: Measurement, requirement = this.definition.requirements[0]): Measurement {
    this.measurements.push(m);
    this.evidence.event('measurement', { ...m });
    if (requirement === RIG_TIMING && (m.outcome === 'fail' || m.outcome === 'indeterminate'))
      this.inconclusive(
        'precondition-unmet',
        `${m.name} = ${m.value} ${m.unit} (±${m.uncertainty}) is ${m.outcome === 'fail' ? 'outside' : 'too close to tell against'} ` +
          `${m.limit?.text}: the rig did not act when the case needs it to, so what followed cannot be judged`,
        "check the lab settings (the boundary margin against the relay's confirmation time, the window against the case's probes) and the rig radio's transmit delay",
      );
    if (m.outcome === 'fail') {
      throw new DeviceFailure(requirement, `${m.name} = ${m.value} ${m.unit} (±${m.uncertainty}) is outside ${m.limit?.text}`);
    }
    return m;
  }

  /** The device broke `requirement`: what was (or was not) seen. */
  fail(requirement: string, message: string): never {
    throw new DeviceFailure(requirement, message);
  }

  /** What the case needs before it can judge (data held, a window open) is not there: INCONCLUSIVE, never a verdict on the device. */
  unmet(what: string, fix: string): never {
    this.inconclusive('precondition-unmet', what, fix);
  }

  /**
   * The rig could not establish the facts (the bench lacks what the case needs, a device was not heard,
   * a change never reached the meter): INCONCLUSIVE with `kind`, never a verdict on the device.
   * `where` names the part of the bench (default: the case).
   */
  inconclusive(kind: RigFaultKind, why: string, fix: string, where = `case ${this.definition.id}`): never {
    throw new RigFault(kind, where, why, fix);
  }

  notApplicable(reason: string): never {
    throw new NotApplicable(reason);
  }

  /** Ends the case: the verdict from the outcome, written with the evidence hashes. */
  finish(
    outcome: unknown,
    context: { bench: string; plannedMs?: number; device?: CaseResult['device']; alongside?: string[] },
  ): CaseResult {
    let v = verdictOf(outcome);
    // A measurement too close to its limit to judge cannot support a PASS.
    const undecided = this.measurements.find((m) => m.outcome === 'indeterminate');
    if (v.verdict === 'PASS' && undecided) {
      v = {
        verdict: 'INCONCLUSIVE',
        reason: `${undecided.name} = ${undecided.value} ${undecided.unit} ±${undecided.uncertainty} is within its uncertainty of ${undecided.limit?.text}`,
        fix: 'reduce the measurement uncertainty (sniffer anchoring, relay confirmation latency) or widen the boundary margin',
      };
    }
    // A PASS says what it did not judge: a value whose limit the lab left unset was measured only.
    const unjudged = this.measurements.filter((m) => m.unsetLimit !== undefined);
    if (v.verdict === 'PASS' && unjudged.length > 0) {
      const shown = unjudged.map((m) => `${m.name} = ${m.value} ${m.unit} (no ${m.unsetLimit} set)`);
      v = { ...v, reason: `every judged check held; measured, not judged: ${shown.join('; ')}` };
    }
    this.evidence.event('verdict', { ...v });
    const result: CaseResult = {
      ...this.definition,
      ...v,
      ...context,
      startedAt: benchIso(this.startedAt),
      endedAt: benchIso(this.now()),
      steps: this.steps,
      measurements: this.measurements,
      evidence: [],
    };
    return result;
  }
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Evidence files by name with their hashes, once every writer is closed. */
export function hashEvidence(files: string[]): { file: string; sha256: string }[] {
  return files.map((f) => ({ file: basename(f), sha256: sha256File(f) }));
}
