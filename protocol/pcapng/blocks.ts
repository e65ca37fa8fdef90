// pcapng block types and option codes (draft-ietf-opsawg-pcapng), and the 802.15.4 TAP TLV
// types (github.com/jkcko/ieee802.15.4-tap): the numbers the reader and the writer share.

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
/** The obsolete Packet Block, still found in old files. */
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_EPB = 0x00000006;
/** The byte-order magic, as written; read the other way round in a big-endian section. */
export const BOM = 0x1a2b3c4d;
export const BOM_SWAPPED = 0x4d3c2b1a;

export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_TSOFFSET = 14;

export const TAP_FCS_TYPE = 0;
export const TAP_RSS = 1;
export const TAP_CHANNEL = 3;
export const TAP_LQI = 10;

/** Sanity bound on a block: Wireshark refuses blocks over 16 MiB, and a corrupt length must not make us buffer forever. */
export const MAX_BLOCK = 16 * 1024 * 1024;
/** Same for a classic pcap record: 256 KiB is libpcap's largest snaplen. */
export const MAX_RECORD = 256 * 1024;

/** Block bodies and option values are padded to 4 bytes. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}
