// Every relay vendor the rig knows, by its rig-file `vendor` name: the rig schema, the rig loader
// and the bench find a vendor's fields, channel rule and driver here, and nowhere else.
import type { z } from 'zod';
import { shellyGen2 } from './shelly-gen2.ts';
import { tasmota } from './tasmota.ts';
import type { RelayVendor } from './vendor.ts';

/** One row per vendor. */
const VENDORS = new Map<string, RelayVendor>([tasmota, shellyGen2].map((v) => [v.vendor, v as unknown as RelayVendor]));

export function relayVendors(): readonly RelayVendor[] {
  return [...VENDORS.values()];
}

export function relayVendorNamed(vendor: string): RelayVendor | undefined {
  return VENDORS.get(vendor);
}

/** Adds a vendor that is not a row above (a lab's own, or a test's; see GBCS_RIG_REGISTER in rigs/register.ts). */
export function registerRelayVendor<Fields extends z.ZodRawShape>(vendor: RelayVendor<Fields>): void {
  if (VENDORS.has(vendor.vendor)) throw new Error(`relay vendor "${vendor.vendor}" is registered already`);
  VENDORS.set(vendor.vendor, vendor as unknown as RelayVendor);
}
