// Ids looked up by name in the tables, so code outside protocol/zcl never spells a global
// command, a status code, an attribute's ZCL type or a control bit as a number of its own.
// A name the tables lack is a defect of the caller: it throws at once, saying which table.

import { hex16 } from '../bytes.ts';
import { getCluster } from './clusters/index.ts';
import { GLOBAL_COMMANDS, ZCL_STATUS } from './global.ts';
import type { CommandName } from './payloads.ts';
import type { FlagDef } from './schema.ts';
import { zclType } from './types.ts';

/** The id of a ZCL global command, e.g. `globalCommandId('Read Attributes')` → 0x00. */
export function globalCommandId(name: CommandName<typeof GLOBAL_COMMANDS>): number {
  return GLOBAL_COMMANDS.find((c) => c.name === name)!.id;
}

/** The code of a ZCL status by its name in ZCL_STATUS, e.g. `zclStatusCode('Not Found')` → 0x8b. */
export function zclStatusCode(name: string): number {
  for (const [code, n] of Object.entries(ZCL_STATUS)) if (n === name) return Number(code);
  throw new Error(`no ZCL status "${name}" in ZCL_STATUS (protocol/zcl/global.ts)`);
}

/** The ZCL type id (e.g. 0xe2 for utc) the cluster table gives attribute `attributeId` of cluster `clusterId`. */
export function attributeTypeId(clusterId: number, attributeId: number): number {
  const cluster = getCluster(clusterId);
  if (!cluster) throw new Error(`no cluster ${hex16(clusterId)} in the cluster tables (protocol/zcl/clusters)`);
  const row = cluster.attributes.find((a) => a.id === attributeId);
  if (!row) throw new Error(`no attribute ${hex16(attributeId)} in the ${cluster.name} table (${hex16(clusterId)})`);
  return zclType(row.type).id;
}

/** The mask of the bit (or sub-field) named `name` in a table's flag list, e.g. a tenancy change control bit. */
export function flagMask(flags: readonly FlagDef[], name: string): number {
  const flag = flags.find((f) => f.name === name);
  if (!flag) throw new Error(`no flag "${name}" in [${flags.map((f) => f.name).join(', ')}]`);
  return flag.mask;
}
