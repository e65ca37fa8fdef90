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

/** A number without float noise (0.30000000000000004 → 0.3). */
export function num(n: number | undefined): string {
  if (n === undefined || n === null) return '';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12)));
}

/** An ISO time shown as `YYYY-MM-DD HH:MM:SS.ffffff UTC`, or the text as given when it is not ISO. */
export function utc(iso: string | undefined): string {
  if (!iso) return '';
  return /T.*Z$/.test(iso) ? `${iso.replace('T', ' ').replace(/Z$/, '')} UTC` : iso;
}
