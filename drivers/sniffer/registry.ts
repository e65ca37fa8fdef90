// Every sniffer kind the rig knows, by its rig-file `kind`: the rig schema, the rig loader and the
// bench find a kind's fields and driver here, and nowhere else.
import type { z } from 'zod';
import { nrf802154 } from './nrf802154.ts';
import { otRcpSniffer } from './ot-rcp.ts';
import type { SnifferKind } from './sniffer.ts';
import { tiPs2 } from './ti-ps2.ts';

/** One row per kind. */
const KINDS = new Map<string, SnifferKind>([nrf802154, tiPs2, otRcpSniffer].map((k) => [k.kind, k as SnifferKind]));

export function snifferKinds(): readonly SnifferKind[] {
  return [...KINDS.values()];
}

export function snifferKindNamed(kind: string): SnifferKind | undefined {
  return KINDS.get(kind);
}

/** Adds a kind that is not a row above (a lab's own, or a test's; see GBCS_RIG_REGISTER in rigs/register.ts). */
export function registerSnifferKind<Fields extends z.ZodRawShape>(kind: SnifferKind<Fields>): void {
  if (KINDS.has(kind.kind)) throw new Error(`sniffer kind "${kind.kind}" is registered already`);
  KINDS.set(kind.kind, kind as SnifferKind);
}
