// Shorthands for cluster tables, so a command row reads like the spec's payload figure.

import type { AttributeDef, FieldDef, ScalarField } from '../schema.ts';
import type { ZclTypeName } from '../types.ts';
import { utcToIso } from '../types.ts';

/** A typed field: `f('providerId', 'uint32')`; its name and type stay literal, for the typed payloads (payloads.ts). */
// biome-ignore lint/complexity/noBannedTypes: {} is the empty mapping, the identity of the & that builds a field's type
export function f<const N extends string, const T extends ZclTypeName, const M extends object = {}>(
  name: N,
  type: T,
  more?: M & Omit<Partial<ScalarField>, 'name' | 'type'>,
): { name: N; type: T } & NoInfer<M> {
  return { name, type, ...more } as { name: N; type: T } & M;
}

/** The rest of the payload as hex: for commands known by name whose layout is not tabled yet. */
export const OPAQUE: readonly FieldDef[] = [{ name: 'payload', type: 'bytes' }];

/** Common to all SE clusters (SE 1.4 §D.1.3). */
export const ATTRIBUTE_REPORTING_STATUS: AttributeDef = { id: 0xfffe, name: 'Attribute Reporting Status', type: 'enum8' };

/** Attribute rows from `[id, name, type]` triples. */
export function attrs(rows: readonly (readonly [number, string, ZclTypeName])[]): AttributeDef[] {
  return rows.map(([id, name, type]) => ({ id, name, type }));
}

/** UTC seconds for a summary line. */
export function iso(v: unknown): string {
  return typeof v === 'number' ? utcToIso(v) : String(v);
}
