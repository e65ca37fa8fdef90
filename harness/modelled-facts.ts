// Facts a verdict rests on that no public text confirmed: the rig models them, and every case
// that uses one records it in its evidence, so the report can say which verdicts rest on what.
import type { EvidenceLog } from './evidence.ts';

export interface ModelledFact {
  /** A stable key, one per fact. */
  id: string;
  fact: string;
  /** Where the assumption is held and can be changed or read about. */
  heldBy: string;
}

export const MODELLED_FACTS = {
  ccs01Carrier: {
    id: 'ccs01-inter-pan-carrier',
    fact: 'CCS01 over inter-PAN is carried as Tunneling Transfer Data (cluster 0x0704, PUT header), without key establishment, with the register_device action only (unconfirmed: docs/protocol.md, CCS01 over inter-PAN)',
    heldBy: 'protocol/hht-messages.ts CCS01_INTER_PAN_CARRIER; docs/protocol.md › CCS01 over inter-PAN',
  },
  tenancyControl: {
    id: 'tenancy-control-bitmap',
    fact: 'the Change of Tenancy sent to the meter asks to clear prepayment data, IHD data and the historical load profile (proposed tenancy change control 0x4700; docs/protocol.md, Tenancy change control bits)',
    heldBy: 'harness/tenancy.ts DEFAULT_TENANCY_CONTROL; docs/protocol.md › Tenancy change control bits',
  },
  tenancyRadioDelivery: {
    id: 'tenancy-radio-delivery',
    fact: 'a prepared ECS12/GCS09 reaches the meter from the rig radio as Tunneling Transfer Data in APS fragments (modelled: docs/protocol.md, ECS12 and GCS09 delivered by the rig radio)',
    heldBy: "the bench's tenancyTrigger (a lab hook avoids it); docs/protocol.md › ECS12 and GCS09 delivered by the rig radio",
  },
} as const satisfies Record<string, ModelledFact>;

/** The facts each case's evidence already names (one evidence log per case). */
const noted = new WeakMap<EvidenceLog, Set<string>>();

/** Records that the case rests on `fact`: once per case, as an evidence event the report lists. */
export function restsOn(evidence: EvidenceLog, fact: ModelledFact): void {
  const ids = noted.get(evidence) ?? new Set<string>();
  noted.set(evidence, ids);
  if (ids.has(fact.id)) return;
  ids.add(fact.id);
  evidence.event('modelled-fact', { ...fact });
}
