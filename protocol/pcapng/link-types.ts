// The link types a capture may carry, and the names of the others for refusals that say what a file holds.

export const LINKTYPE_IEEE802_15_4_WITHFCS = 195;
export const LINKTYPE_IEEE802_15_4_NOFCS = 230;
export const LINKTYPE_IEEE802_15_4_TAP = 283;

/** The link types the reader and writer accept: every one carries a bare 802.15.4 frame. */
export type Ieee802154LinkType = 195 | 230 | 283;

export const ACCEPTED_LINK_TYPES: readonly Ieee802154LinkType[] = [195, 230, 283];

/** LINKTYPE_* names from tcpdump.org, for refusals that say what the file actually holds. */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'BSD loopback',
  1: 'Ethernet',
  6: 'IEEE 802.5 Token Ring',
  9: 'PPP',
  101: 'raw IP',
  105: 'IEEE 802.11',
  108: 'OpenBSD loopback',
  113: 'Linux SLL cooked capture',
  119: 'Prism 802.11',
  127: 'IEEE 802.11 radiotap',
  187: 'Bluetooth HCI H4',
  189: 'Linux USB',
  191: 'IEEE 802.15.4 Linux',
  195: 'IEEE 802.15.4 with FCS',
  201: 'Bluetooth HCI H4 with pseudo-header',
  215: 'IEEE 802.15.4 non-ASK PHY',
  220: 'Linux USB mmapped',
  228: 'raw IPv4',
  229: 'raw IPv6',
  230: 'IEEE 802.15.4 without FCS',
  249: 'Netlink',
  256: 'Bluetooth LE link layer',
  276: 'Linux SLL2 cooked capture',
  283: 'IEEE 802.15.4 TAP',
};

export function linkTypeName(linkType: number): string {
  if (linkType >= 147 && linkType <= 162) return `user-defined DLT_USER${linkType - 147}`;
  return LINK_TYPE_NAMES[linkType] ?? 'unknown';
}

/** "195 (IEEE 802.15.4 with FCS), …", for messages. */
export const ACCEPTED_LINK_TYPES_TEXT = ACCEPTED_LINK_TYPES.map((t) => `${t} (${linkTypeName(t)})`).join(', ');

export function isAcceptedLinkType(linkType: number): linkType is Ieee802154LinkType {
  return (ACCEPTED_LINK_TYPES as readonly number[]).includes(linkType);
}
