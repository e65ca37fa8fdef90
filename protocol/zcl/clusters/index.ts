// The cluster registry: every cluster the rig can name, by id. Adding one is one import here.

import type { ClusterDef } from '../schema.ts';
import { CALENDAR } from './calendar.ts';
import { DEVICE_MANAGEMENT } from './device-management.ts';
import { DRLC } from './drlc.ts';
import { EVENTS } from './events.ts';
import { BASIC, OTA_UPGRADE, TIME } from './general.ts';
import { KEY_ESTABLISHMENT } from './key-establishment.ts';
import { MESSAGING } from './messaging.ts';
import { METERING } from './metering.ts';
import { PREPAYMENT } from './prepayment.ts';
import { PRICE } from './price.ts';
import { TUNNELING } from './tunneling.ts';

export const CLUSTERS: readonly ClusterDef[] = [
  BASIC,
  TIME,
  OTA_UPGRADE,
  PRICE,
  DRLC,
  METERING,
  MESSAGING,
  TUNNELING,
  PREPAYMENT,
  CALENDAR,
  DEVICE_MANAGEMENT,
  EVENTS,
  KEY_ESTABLISHMENT,
];

const byId = new Map(CLUSTERS.map((c) => [c.id, c]));

export function getCluster(id: number): ClusterDef | undefined {
  return byId.get(id);
}

export {
  BASIC,
  CALENDAR,
  DEVICE_MANAGEMENT,
  DRLC,
  EVENTS,
  KEY_ESTABLISHMENT,
  MESSAGING,
  METERING,
  OTA_UPGRADE,
  PREPAYMENT,
  PRICE,
  TIME,
  TUNNELING,
};
