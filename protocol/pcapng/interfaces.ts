// A capture interface as the reader keeps it: its link type, name and time base (ticks → µs).

export interface Interface {
  /** An 802.15.4 link type, or an IP one when the parser reads link layers. */
  linkType: number;
  name: string | undefined;
  /** Ticks → µs: either multiply/divide by a power of ten or shift for power-of-2 resolutions. */
  resol: { pow10: number } | { pow2: number };
  offsetUs: bigint;
  /**
   * The same conversion in Number arithmetic, exact while every value stays a safe integer:
   * µs = floor(ticks × mul / div) + offsetNum. `fast` is false when it cannot be (huge
   * resolutions or offsets); then the bigint path runs.
   */
  fast: boolean;
  mul: number;
  div: number;
  offsetNum: number;
}

export function makeInterface(linkType: number, name: string | undefined, resol: Interface['resol'], offsetUs: bigint): Interface {
  let mul = 1;
  let div = 1;
  let fast = true;
  if ('pow2' in resol) {
    mul = 1e6;
    div = 2 ** resol.pow2; // exact for every 7-bit exponent
  } else if (resol.pow10 >= 6) {
    if (resol.pow10 - 6 > 15) fast = false;
    else div = 10 ** (resol.pow10 - 6);
  } else {
    mul = 10 ** (6 - resol.pow10);
  }
  const offsetNum = Number(offsetUs);
  if (!Number.isSafeInteger(offsetNum)) fast = false;
  return { linkType, name, resol, offsetUs, fast, mul, div, offsetNum };
}

/** The exact conversion, in bigint: for the timestamps the Number path cannot hold. */
export function ticksToMicros(ticks: bigint, iface: Interface): bigint {
  let us: bigint;
  if ('pow2' in iface.resol) us = (ticks * 1_000_000n) >> BigInt(iface.resol.pow2);
  else if (iface.resol.pow10 >= 6) us = ticks / 10n ** BigInt(iface.resol.pow10 - 6);
  else us = ticks * 10n ** BigInt(6 - iface.resol.pow10);
  return us + iface.offsetUs;
}
