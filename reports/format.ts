// Times and numbers as the report prints them. Bench times are ISO 8601 UTC with µs.

/** Milliseconds since the epoch (fractional, µs kept) of an ISO 8601 UTC time; NaN when it is not one. */
export function isoMs(iso: string | undefined): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso ?? '');
  if (!m) return Number.NaN;
  // Date.parse keeps milliseconds only: the µs are added back by hand.
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return Date.parse(`${m[1]}Z`) + fraction;
}

/** `+h:mm:ss` (with `.fff` when not whole seconds) from a start time. */
export function elapsed(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const sign = ms < 0 ? '−' : '+';
  const abs = Math.abs(ms);
  const whole = Math.floor(abs / 1000);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const frac = Math.round(abs % 1000);
  return `${sign}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${frac ? `.${String(frac).padStart(3, '0')}` : ''}`;
}

/** An ISO time shown as `YYYY-MM-DD HH:MM:SS.ffffff UTC`, or the text as given when it is not ISO. */
export function utc(iso: string | undefined): string {
  if (!iso) return '';
  return /T.*Z$/.test(iso) ? `${iso.replace('T', ' ').replace(/Z$/, '')} UTC` : iso;
}

/** A time unit's length in ms: measurements in these units are shown in the unit that reads best. */
const TIME_UNITS: Record<string, number> = { µs: 0.001, us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000 };
const READABLE_TIME: readonly [string, number][] = [
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
  ['ms', 1],
  ['µs', 0.001],
];

/** Two significant digits, as an uncertainty is stated (GUM 7.2.6). */
const twoDigits = (x: number) => Number(x.toPrecision(2));

/**
 * An uncertainty rounded to two significant digits, in the time unit that gives it a whole part
 * (`±5 s`, not `±0.0833 min`; `±1 µs`, not `±1.67e-8 min`); other units stay as they are.
 */
export function uncertaintyText(u: number, unit: string): string {
  if (!Number.isFinite(u)) return '';
  if (u === 0) return `±0 ${unit}`;
  const scale = TIME_UNITS[unit];
  if (scale === undefined) return `±${twoDigits(u)} ${unit}`;
  const ms = Math.abs(u) * scale;
  const [name, size] = READABLE_TIME.find(([, s]) => ms >= s) ?? READABLE_TIME[READABLE_TIME.length - 1];
  return `±${twoDigits(ms / size)} ${name}`;
}

/**
 * A value rounded to the last digit its uncertainty (at two significant digits) speaks for, in its
 * own unit: 59.0166… min ± 0.0833 min reads 59.017 min. Without an uncertainty, six significant digits.
 */
export function valueText(x: number | undefined, u: number | undefined, unit: string): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return '';
  if (!u || !Number.isFinite(u)) return `${Number(x.toPrecision(6))} ${unit}`;
  const decimals = Math.max(0, -Math.floor(Math.log10(twoDigits(Math.abs(u)))) + 1);
  return `${Number(x.toFixed(Math.min(decimals, 12)))} ${unit}`;
}
