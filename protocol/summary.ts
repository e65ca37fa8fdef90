// The one-line human summary of a decoded frame, from its outermost meaningful layer inwards.
import type { DecodedFrame } from './decoded.ts';
import { gbcsTitle } from './gbcs.ts';
import { MAC_COMMANDS, MAC_FRAME_TYPES } from './mac.ts';
import { summariseZcl } from './zcl/frame.ts';

/** `MAC <command or frame type>`, the head of a MAC-only line, made once. */
const MAC_HEADS = new Map<string, string>(
  [...Object.values(MAC_COMMANDS), ...MAC_FRAME_TYPES, 'reserved'].map((name) => [name, `MAC ${name}`]),
);

/** Every plain ack's line, made once: acks are about half the frames of a busy HAN. */
const ACK_SUMMARIES: readonly string[] = Array.from({ length: 256 }, (_, seq) => `MAC Ack seq ${seq}`);

const arrow = (src?: string, dst?: string) => `${src ?? '?'} → ${dst ?? '?'}`;

type LinesByRoute = Map<string | undefined, Map<string | undefined, string>>;
/** MAC-only lines (a quarter to half of a HAN's frames) by head, source, destination: made once each. */
const MAC_LINES = new Map<string, LinesByRoute>();
const MAC_LINES_LIMIT = 4096;

/** `${head} ${src} → ${dst}`, from the cache when this route was seen before (strings are interned, so lookups are cheap). */
function macLine(head: string, src: string | undefined, dst: string | undefined): string {
  let bySrc = MAC_LINES.get(head);
  if (bySrc === undefined) MAC_LINES.set(head, (bySrc = new Map()));
  let byDst = bySrc.get(src);
  if (byDst === undefined) {
    byDst = new Map();
    if (bySrc.size < MAC_LINES_LIMIT) bySrc.set(src, byDst);
  }
  let line = byDst.get(dst);
  if (line === undefined) {
    line = `${head} ${arrow(src, dst)}`;
    if (byDst.size < MAC_LINES_LIMIT) byDst.set(dst, line);
  }
  return line;
}

export function summarise(f: DecodedFrame): string {
  const { mac, nwk, aps, zcl, gbcs } = f;
  if (!mac) return `undecodable frame: ${f.error?.message ?? 'no MAC header'}`;
  const tail = f.error ? ` [${f.error.message}]` : '';
  if (mac.fcsOk === false) return `MAC ${mac.type} seq ${mac.seq}, bad FCS`;
  if (gbcs) return `${gbcsTitle(gbcs)}${tail}`;
  if (zcl && aps) {
    const dst = nwk?.type === 'inter-pan' ? mac.dst : nwk?.dst;
    return `${summariseZcl(parseInt(aps.cluster ?? '0', 16), zcl, dst)}${tail}`;
  }
  if (aps) {
    const route = arrow(nwk?.src ?? mac.src, nwk?.dst ?? mac.dst);
    if (aps.secured && aps.decrypted === false) return `APS ${aps.type} ${route} (encrypted, no key)${tail}`;
    if (aps.command) return `APS ${aps.command} ${route}${tail}`;
    if (aps.zdp) return `ZDP ${aps.zdp} ${route}${tail}`;
    if (aps.fragment) return `APS ${aps.type} fragment ${aps.fragment.block} cluster ${aps.cluster} ${route}${tail}`;
    return `APS ${aps.type} cluster ${aps.cluster ?? '?'} profile ${aps.profile ?? '?'} ${route}${tail}`;
  }
  if (nwk) {
    const route = arrow(nwk.src ?? mac.src, nwk.dst ?? mac.dst);
    if (nwk.secured && nwk.decrypted === false) return `NWK ${nwk.type} ${route} (encrypted, no key)${tail}`;
    const fields = nwk.commandFields
      ? ` (${Object.entries(nwk.commandFields)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '';
    if (nwk.command) return `NWK ${nwk.command} ${route}${fields}${tail}`;
    return `NWK ${nwk.type} ${route}${tail}`;
  }
  if (mac.type === 'ack')
    return (tail === '' && mac.seq !== undefined ? ACK_SUMMARIES[mac.seq] : undefined) ?? `MAC Ack seq ${mac.seq}${tail}`;
  if (mac.type === 'beacon') {
    const epid = mac.beacon?.extendedPanId;
    return `MAC Beacon ${mac.src ?? '?'} PAN ${mac.srcPan ?? '?'}${epid ? ` EPID ${epid}` : ''}${tail}`;
  }
  const name = mac.command ?? mac.type;
  const line = macLine(MAC_HEADS.get(name) ?? `MAC ${name}`, mac.src, mac.dst);
  // Adding '' gives back the cached line itself: no new string for a plain frame.
  return `${line}${!mac.command && mac.security ? ' (MAC-secured)' : ''}${tail}`;
}
