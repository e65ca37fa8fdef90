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

export function crc16kermit(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]) & 0xff];
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
