// Change of Tenancy as data (DOMAIN.md §B, PROTOCOL.md §7): the Publish Change of Tenancy fields in
// bench time, and which proposed-tenancy-change-control bits clear which kind of HAN client data.
import { TENANCY_DATA_KINDS, type TenancyDataKind } from '../firmware-images/profiles.ts';
import { type DEVICE_MANAGEMENT, TENANCY_CHANGE_CONTROL, flagMask, type CommandPayload } from '../protocol/zcl/index.ts';
import { fromZclUtc, toZclUtc } from './han-frames.ts';

/** The control bits (SE 1.4 Table D-184) that bear on what a HAN client holds. */
export const TENANCY_CONTROL = {
  clearHistoricalLoadProfile: flagMask(TENANCY_CHANGE_CONTROL, 'clear historical load profile'),
  clearIhdDataConsumer: flagMask(TENANCY_CHANGE_CONTROL, 'clear IHD data (consumer)'),
  clearIhdDataSupplier: flagMask(TENANCY_CHANGE_CONTROL, 'clear IHD data (supplier)'),
  clearPrepaymentData: flagMask(TENANCY_CHANGE_CONTROL, 'clear prepayment data'),
} as const;

/**
 * Which bits clear which data (any one of them suffices). No public text maps them; this reading:
 * consumption is the historical load profile and the consumer's data; top-ups are the consumer's
 * payments and prepayment data; debt recovery is set by the supplier and is prepayment data;
 * supplier messages are the supplier's data. A lab that reads the bits otherwise changes this table.
 */
export const CLEARED_BY: Readonly<Record<TenancyDataKind, number>> = {
  consumptionHistory: TENANCY_CONTROL.clearHistoricalLoadProfile | TENANCY_CONTROL.clearIhdDataConsumer,
  topUpHistory: TENANCY_CONTROL.clearIhdDataConsumer | TENANCY_CONTROL.clearPrepaymentData,
  debtRecovery: TENANCY_CONTROL.clearIhdDataSupplier | TENANCY_CONTROL.clearPrepaymentData,
  supplierMessages: TENANCY_CONTROL.clearIhdDataSupplier,
};

/** A change of tenancy that clears everything COT-4 names: 0x4700. */
export const CLEAR_ALL_TENANCY_DATA = Object.values(TENANCY_CONTROL).reduce((a, b) => a | b, 0);

/** The kinds of data a publication with `control` asks a HAN client to clear. */
export function kindsClearedBy(control: number): TenancyDataKind[] {
  return TENANCY_DATA_KINDS.filter((k) => (control & CLEARED_BY[k]) !== 0);
}

/** A Change of Tenancy as the meter holds it (Device Management's provider and tenancy attributes) and publishes it. */
export interface ChangeOfTenancy {
  providerId: number;
  issuerEventId: number;
  tariffType: number;
  /** Bench time (ms since the Unix epoch), whole seconds: ZCL UTC has no finer grain. */
  implementationAt: number;
  /** Proposed tenancy change control (bitmap32). */
  control: number;
}

/** The fields of a Publish Change of Tenancy (Device Management, server→client), as its table row has them. */
type PublishChangeOfTenancy = CommandPayload<typeof DEVICE_MANAGEMENT.commands, 'Publish Change of Tenancy'>;

/** A Change of Tenancy as the meter publishes it. */
export function publishChangeOfTenancyFields(c: ChangeOfTenancy): PublishChangeOfTenancy {
  return {
    providerId: c.providerId,
    issuerEventId: c.issuerEventId,
    tariffType: c.tariffType,
    implementationDateTime: toZclUtc(c.implementationAt),
    control: c.control,
  };
}

/** A decoded Publish Change of Tenancy back in bench time. */
export function changeOfTenancyOf(fields: PublishChangeOfTenancy): ChangeOfTenancy {
  return {
    providerId: fields.providerId,
    issuerEventId: fields.issuerEventId,
    tariffType: fields.tariffType,
    implementationAt: fromZclUtc(fields.implementationDateTime),
    control: fields.control,
  };
}
