// The one ISO 8601 UTC formatter: capture times (µs), evidence and bench times (ms with a µs
// fraction), the observation line protocol's held times. Any year, beyond Date's range too.

/** Years 0000–9999 only, where Date's string is the plain ISO form. */
const ISO_FAST_LIMIT = 253402300800000000n;
const MAX_SAFE_US = 9007199254740991n;

/** '00.' … '59.', the seconds of a time and the decimal point. */
const SECONDS_DOT: readonly string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0') + '.');

/** '000' … '999' (and with the closing Z), for the fraction without number formatting per packet. */
const DIGITS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DIGITS3Z: readonly string[] = DIGITS3.map((d) => d + 'Z');

/** Formats µs since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, beyond Date's range too. */
export function isoMicros(us: bigint): string {
  if (us >= 0n && us < ISO_FAST_LIMIT) {
    const secs = us / 1_000_000n;
    const frac = Number(us - secs * 1_000_000n);
    const ms = (frac / 1000) | 0;
    return new Date(Number(secs) * 1000).toISOString().slice(0, 20) + DIGITS3[ms] + DIGITS3Z[frac - ms * 1000];
  }
  return isoMicrosAnyYear(us);
}

/** ms since the epoch (a fraction to the µs) → `…SS.ffffffZ`, rounded to the µs. */
export function isoFromMs(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`${ms} is not a time in ms`);
  return isoMicros(BigInt(Math.round(ms * 1000)));
}

/** isoFromMs with only the ms digits when the µs ones are zero (`…SS.fffZ`), as Date prints whole ms. */
export function isoFromMsShort(ms: number): string {
  const iso = isoFromMs(ms);
  return iso.endsWith('000Z') ? iso.slice(0, -4) + 'Z' : iso;
}

/**
 * isoMicros for a stream of close timestamps (a capture): the last second's prefix is reused,
 * and a new second's is the last minute's prefix and two digits (a sparse capture changes
 * second often). The cache is this instance's: one per reader or decoder.
 */
export class IsoTimeFormatter {
  private second = NaN;
  private prefix = '';
  private minute = NaN;
  private minutePrefix = '';

  /** isoMicros(us), through the cache whenever us is a safe non-negative integer. */
  format(us: bigint): string {
    return us >= 0n && us <= MAX_SAFE_US ? this.micros(Number(us)) : isoMicros(us);
  }

  /** For a safe, non-negative integer µs count. */
  micros(n: number): string {
    // Division and floor, not %: a double modulo is a C call, and n is far above 2^31. The quotient
    // can only round up to the next whole second (never below the true one): then frac is negative.
    let secs = Math.floor(n / 1e6);
    let frac = n - secs * 1e6;
    if (frac < 0) (secs -= 1), (frac += 1e6);
    if (secs !== this.second) {
      this.second = secs;
      const minute = Math.floor(secs / 60);
      if (minute !== this.minute) {
        this.minute = minute;
        this.minutePrefix = new Date(minute * 60_000).toISOString().slice(0, 17);
      }
      this.prefix = this.minutePrefix + SECONDS_DOT[secs - minute * 60];
    }
    const ms = (frac / 1000) | 0;
    return this.prefix + DIGITS3[ms] + DIGITS3Z[frac - ms * 1000];
  }
}

function isoMicrosAnyYear(us: bigint): string {
  let secs = us / 1_000_000n;
  let frac = us % 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000n;
    secs -= 1n;
  }
  let days = secs / 86400n;
  let sod = secs % 86400n;
  if (sod < 0n) {
    sod += 86400n;
    days -= 1n;
  }
  // Days → civil date (H. Hinnant's algorithm), in Number: |days| stays far below 2^53.
  const z = Number(days) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const s = Number(sod);
  const p2 = (v: number) => String(v).padStart(2, '0');
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0');
  return `${year}-${p2(m)}-${p2(d)}T${p2(Math.floor(s / 3600))}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}.${String(frac).padStart(6, '0')}Z`;
}
