// Every rig radio kind the rig knows, by its rig-file `kind` (default `gbcs-rig-radio`): the rig
// schema, the rig loader and the bench find a kind's fields and driver here, and nowhere else.
import type { z } from 'zod';
import type { RadioKind } from './radio.ts';
import { otRcpRadio } from './ot-rcp.ts';
import { gbcsRigRadio } from './rig-radio.ts';

/** The kind of a rig file's radio that names none. */
export const DEFAULT_RADIO_KIND = gbcsRigRadio.kind;

/** One row per kind. */
const KINDS = new Map<string, RadioKind>([gbcsRigRadio, otRcpRadio].map((k) => [k.kind, k as RadioKind]));

export function radioKinds(): readonly RadioKind[] {
  return [...KINDS.values()];
}

export function radioKindNamed(kind: string): RadioKind | undefined {
  return KINDS.get(kind);
}

/** Adds a kind that is not a row above (a lab's own, or a test's; see GBCS_RIG_REGISTER in rigs/register.ts). */
export function registerRadioKind<Fields extends z.ZodRawShape>(kind: RadioKind<Fields>): void {
  if (KINDS.has(kind.kind)) throw new Error(`radio kind "${kind.kind}" is registered already`);
  KINDS.set(kind.kind, kind as RadioKind);
}
