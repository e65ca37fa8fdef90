// CRC-16/KERMIT (poly 0x1021 reflected, init 0): the IEEE 802.15.4 FCS, sent low byte first.

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** Slicing-by-8 tables: T_k[i] is the CRC of byte i followed by k zero bytes. */
const [T0, T1, T2, T3, T4, T5, T6, T7] = (() => {
  const tables = [TABLE];
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1];
    tables.push(Uint16Array.from(prev, (c) => (c >>> 8) ^ TABLE[c & 0xff]));
  }
  return tables;
})();

export function crc16kermit(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  let i = start;
  // Eight bytes a step (every frame is checked, so this is on the decoder's hot path).
  for (const last = end - 7; i < last; i += 8) {
    const x = crc ^ (bytes[i] | (bytes[i + 1] << 8));
    crc =
      T7[x & 0xff] ^
      T6[x >>> 8] ^
      T5[bytes[i + 2]] ^
      T4[bytes[i + 3]] ^
      T3[bytes[i + 4]] ^
      T2[bytes[i + 5]] ^
      T1[bytes[i + 6]] ^
      T0[bytes[i + 7]];
  }
  for (; i < end; i++) crc = (crc >>> 8) ^ T0[(crc ^ bytes[i]) & 0xff];
  return crc;
}

/** Appends the FCS to a MAC frame. */
export function withFcs(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 2);
  out.set(frame);
  const crc = crc16kermit(frame);
  out[frame.length] = crc & 0xff;
  out[frame.length + 1] = crc >>> 8;
  return out;
}

/** True when the last two bytes are the frame's valid FCS (the CRC over the whole frame is then 0). */
export function fcsValid(frameWithFcs: Uint8Array): boolean {
  return frameWithFcs.length >= 2 && crc16kermit(frameWithFcs) === 0;
}
