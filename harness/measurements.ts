// Measurements, OpenHTF style: a name, a value with its unit and uncertainty, a limit, and
// whether the value meets it. A value too close to the limit to tell is INCONCLUSIVE, not FAIL.

export interface Limit {
  /** The value must be at least this (inclusive). */
  low?: number;
  /** The value must be at most this (inclusive). */
  high?: number;
  /** The limit in words, with its source (DOMAIN.md id, lab setting). */
  text: string;
}

export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** Half-width of the interval the true value lies in (same unit). */
  uncertainty: number;
  limit?: Limit;
  /** How far inside (+) or outside (−) the nearest limit bound the value is. */
  margin?: number;
  outcome: 'pass' | 'fail' | 'indeterminate' | 'info';
  /** The lab setting that would bound it, not set: the requirement's value measured, not judged (its PASS says so). */
  unsetLimit?: string;
}

/** A value a requirement bounds by a lab setting the lab did not set (`setting`): measured and shown, never judged. */
export function measureOnly(name: string, value: number, unit: string, uncertainty: number, setting: string): Measurement {
  return { ...measure(name, value, unit, uncertainty), unsetLimit: setting };
}

/** Judges a value against its limit, taking the uncertainty into account both ways. */
export function measure(name: string, value: number, unit: string, uncertainty: number, limit?: Limit): Measurement {
  if (!limit) return { name, value, unit, uncertainty, outcome: 'info' };
  const margins: number[] = [];
  if (limit.low !== undefined) margins.push(value - limit.low);
  if (limit.high !== undefined) margins.push(limit.high - value);
  const margin = Math.min(...margins);
  const outcome = margin - uncertainty >= 0 ? 'pass' : margin + uncertainty < 0 ? 'fail' : 'indeterminate';
  return { name, value, unit, uncertainty, limit, margin, outcome };
}
