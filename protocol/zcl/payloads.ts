// Typed payloads, inferred from the cluster tables (as zigbee-herdsman derives its payload types
// from its cluster table): a table row's field list gives the TypeScript shape of its decoded
// fields, so a suite reads `implementationDateTime` as a number without a cast of its own.

import type { DecodedFrame, DecodedZcl } from '../decoded.ts';
import type { GLOBAL_COMMANDS } from './global.ts';
import type { ClusterDef, CommandDef, FieldDef } from './schema.ts';
import type { ZclArrayValue, ZclDate, ZclRawChars, ZclStructMember, ZclTimeOfDay, ZclTypeName, ZclValue } from './types.ts';

/** Integers wider than 48 bits decode to bigint once they pass 2^53 (types.ts). */
type Wide = `${'uint' | 'int' | 'data' | 'bitmap'}${56 | 64}`;

/** What a value of ZCL type `T` decodes to (types.ts): the invalid string (all-ones length) is null. */
export type ZclValueOf<T extends ZclTypeName> = T extends Wide
  ? number | bigint
  : T extends 'bool'
    ? boolean | number
    : T extends 'octetString' | 'longOctetString'
      ? string | null
      : T extends 'charString' | 'longCharString'
        ? string | ZclRawChars | null
        : T extends 'ieeeAddress' | 'securityKey'
          ? string
          : T extends 'array' | 'set' | 'bag'
            ? ZclArrayValue
            : T extends 'struct'
              ? ZclStructMember[] | null
              : T extends 'timeOfDay'
                ? ZclTimeOfDay
                : T extends 'date'
                  ? ZclDate
                  : T extends 'noData'
                    ? null
                    : number;

/** What one field of a table row decodes to. */
export type FieldValue<D extends FieldDef> = D extends { type: 'list'; of: infer O }
  ? O extends ZclTypeName
    ? ZclValueOf<O>[]
    : O extends readonly FieldDef[]
      ? Payload<O>[]
      : unknown[]
  : D extends { type: 'bytes' }
    ? string
    : D extends { type: 'dataType' }
      ? number
      : D extends { type: 'typed' }
        ? ZclValue
        : D extends { type: infer T extends ZclTypeName }
          ? ZclValueOf<T>
          : unknown;

/** A field the payload may lack: optional at its end, or present only when an earlier one says so. */
type MayLack<D> = D extends { optional: true } ? true : D extends { when: unknown } ? true : false;

/**
 * The decoded fields of a row's field list. Derived keys the decoder adds (…Name, …Flags) are not
 * listed; a row whose list is not a literal in its table reads as a plain record.
 */
export type Payload<Defs extends readonly FieldDef[]> = {
  [D in Defs[number] as MayLack<D> extends true ? never : D['name']]: FieldValue<D>;
} & {
  [D in Defs[number] as MayLack<D> extends true ? D['name'] : never]?: FieldValue<D>;
};

/** The names of a table's commands. */
export type CommandName<Commands extends readonly CommandDef[]> = Commands[number]['name'];

/** The payload of the command named `N` (of each row so named, when both directions share it). */
export type CommandPayload<Commands extends readonly CommandDef[], N extends string> =
  Extract<Commands[number], { name: N }> extends infer R ? (R extends CommandDef ? Payload<R['fields']> : never) : never;

type Globals = typeof GLOBAL_COMMANDS;

/**
 * The fields of `frame` when it carries the command `name` of `cluster`, typed by that table row;
 * undefined for any other frame (another cluster, command or frame type, or no payload decoded).
 */
export function fieldsOf<C extends ClusterDef, N extends CommandName<C['commands']>>(
  frame: DecodedFrame | undefined,
  cluster: C,
  name: N,
): CommandPayload<C['commands'], N> | undefined {
  return frame && Number(frame.aps?.cluster) === cluster.id ? payloadOf(frame.zcl, cluster, name) : undefined;
}

/** As fieldsOf, for a ZCL payload already known to be of `cluster` (a device's reader per cluster). */
export function payloadOf<C extends ClusterDef, N extends CommandName<C['commands']>>(
  zcl: DecodedZcl | undefined,
  _cluster: C,
  name: N,
): CommandPayload<C['commands'], N> | undefined {
  if (!zcl?.fields || zcl.type !== 'cluster' || zcl.name !== name) return undefined;
  // The decoder read these fields by this very row (frame.ts), so they have its shape.
  return zcl.fields as CommandPayload<C['commands'], N>;
}

/** The fields of a ZCL global command (Read Attributes, Read Attributes Response, …) named `name`; undefined for any other. */
export function globalFieldsOf<N extends CommandName<Globals>>(
  zcl: DecodedZcl | undefined,
  name: N,
): CommandPayload<Globals, N> | undefined {
  if (!zcl?.fields || zcl.type !== 'global' || zcl.name !== name) return undefined;
  return zcl.fields as CommandPayload<Globals, N>;
}
