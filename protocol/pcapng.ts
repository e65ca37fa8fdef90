// Capture files: a streaming pcapng writer (IEEE 802.15.4 TAP, link type 283) and a streaming
// reader of pcapng and classic pcap carrying 802.15.4 (link types 195, 230, 283). Pure codec
// over Uint8Array chunks, one concept per file in protocol/pcapng/; the file adapters are in
// io/capture-files.ts.

export { CaptureError } from './pcapng/capture-error.ts';
export {
  ACCEPTED_LINK_TYPES,
  LINKTYPE_IEEE802_15_4_NOFCS,
  LINKTYPE_IEEE802_15_4_TAP,
  LINKTYPE_IEEE802_15_4_WITHFCS,
  linkTypeName,
  type Ieee802154LinkType,
} from './pcapng/link-types.ts';
export { CaptureParser, readCaptureSync, type CaptureParserOptions, type CapturedPacket } from './pcapng/reader.ts';
export {
  PcapngWriter,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  encodeTapHeader,
  type InterfaceOptions,
  type PacketToWrite,
  type PcapngWriterOptions,
} from './pcapng/writer.ts';
