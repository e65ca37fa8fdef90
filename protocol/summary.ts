// The one-line human summary of a decoded frame, from its outermost meaningful layer inwards.
import type { DecodedFrame } from './decoded.ts';
import { gbcsTitle } from './gbcs.ts';
import { summariseZcl } from './zcl/frame.ts';

/** Every plain ack's line, made once: acks are about half the frames of a busy HAN. */
const ACK_SUMMARIES: readonly string[] = Array.from({ length: 256 }, (_, seq) => `MAC Ack seq ${seq}`);

const arrow = (src?: string, dst?: string) => `${src ?? '?'} → ${dst ?? '?'}`;

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
    const fields = nwk.commandFields ? ` (${Object.entries(nwk.commandFields).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
    if (nwk.command) return `NWK ${nwk.command} ${route}${fields}${tail}`;
    return `NWK ${nwk.type} ${route}${tail}`;
  }
  if (mac.type === 'ack') return (tail === '' && mac.seq !== undefined ? ACK_SUMMARIES[mac.seq] : undefined) ?? `MAC Ack seq ${mac.seq}${tail}`;
  if (mac.type === 'beacon') {
    const epid = mac.beacon?.extendedPanId;
    return `MAC Beacon ${mac.src ?? '?'} PAN ${mac.srcPan ?? '?'}${epid ? ` EPID ${epid}` : ''}${tail}`;
  }
  if (mac.command) return `MAC ${mac.command} ${arrow(mac.src, mac.dst)}${tail}`;
  return `MAC ${mac.type} ${arrow(mac.src, mac.dst)}${mac.security ? ' (MAC-secured)' : ''}${tail}`;
}
