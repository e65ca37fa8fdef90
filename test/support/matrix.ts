// The mutation matrix, in one place for the matrix tests (test/campaign/*-matrix.spec.ts) and the
// verdict-stability benchmark (bench/verdict-stability.ts): what every case gives on the
// conformant devices, and which case must catch each non-conformant profile, with which requirement.
import type { Campaign } from './campaign.ts';

export const IPAN_CASES = ['CH-IPAN-001', 'CH-IPAN-002', 'CH-IPAN-003', 'CH-IPAN-004', 'CH-IPAN-005', 'CH-IPAN-006', 'CH-IPAN-007'];

/** The IPAN verdicts on the conformant CH: CH-IPAN-007 is not applicable without SECMP0037. */
export const IPAN_CONFORMANT_VERDICTS: Record<string, string> = {
  'CH-IPAN-001': 'PASS',
  'CH-IPAN-002': 'PASS',
  'CH-IPAN-003': 'PASS',
  'CH-IPAN-004': 'PASS',
  'CH-IPAN-005': 'PASS',
  'CH-IPAN-006': 'PASS',
  'CH-IPAN-007': 'NOT APPLICABLE',
};

/** On SECMP0037 firmware IPAN-2 is not applicable and IPAN-6 is checked. */
export const IPAN_SECMP0037_VERDICTS: Record<string, string> = {
  ...IPAN_CONFORMANT_VERDICTS,
  'CH-IPAN-002': 'NOT APPLICABLE',
  'CH-IPAN-007': 'PASS',
};

/** Which case must catch each non-conformant CH, and with which requirement id. */
export const IPAN_CAUGHT_BY: Record<string, [caseId: string, requirement: string]> = {
  'ch-window-45min': ['CH-IPAN-001', 'IPAN-1'],
  'ch-window-never-closes': ['CH-IPAN-002', 'IPAN-2'],
  'ch-no-reopen-on-power-cycle': ['CH-IPAN-003', 'IPAN-3'],
  'ch-hht-stays-24h': ['CH-IPAN-004', 'IPAN-4'],
  'ch-hht-survives-power-on': ['CH-IPAN-005', 'IPAN-4'],
  'ch-accepts-malformed-ccs01': ['CH-IPAN-006', 'IPAN-5'],
  // Side effects: a refusal that still adds the device it names, or removes the HHT it names from the log.
  'ch-refusal-adds-sender': ['CH-IPAN-006', 'IPAN-5'],
  'ch-refusal-removes-sender': ['CH-IPAN-006', 'IPAN-5'],
  'ch-secmp0037-window-closes': ['CH-IPAN-007', 'IPAN-6'],
  // Just outside each limit (the boundary margin is the lab's 60 s).
  'ch-window-58min': ['CH-IPAN-001', 'IPAN-1'],
  'ch-window-62min': ['CH-IPAN-002', 'IPAN-2'],
  'ch-hht-stays-18h05m': ['CH-IPAN-004', 'IPAN-4'],
  // Misbehaving only sometimes: CH-IPAN-003 watches three power cycles.
  'ch-misses-every-second-reopen': ['CH-IPAN-003', 'IPAN-3'],
};

/**
 * Slow CHs, which answer a CCS01 after the lab's captureWithinSeconds: [case that must catch the fault, fault kind, requirement].
 * Every case that asks it is INCONCLUSIVE with the fault kind — never a FAIL or PASS on a refusal it did not make; given the time, the case FAILs the requirement.
 */
export const IPAN_SLOW: Record<string, [caseId: string, fault: string, requirement: string]> = {
  'ch-slow-window-never-closes': ['CH-IPAN-002', 'answer-late', 'IPAN-2'],
};

/** The Change of Tenancy suite's conformant devices. */
export const COT_CONFORMANT = { esme: 'esme-conformant', ihd: 'ihd-conformant', ppmid: 'ppmid-conformant', gpf: 'gpf-conformant' };
export type CotDevice = keyof typeof COT_CONFORMANT;

/** Every on-air COT case passes on the conformant devices. */
export const COT_ALL_PASS: Record<string, string> = {
  'GPF-COT-001': 'PASS',
  'GPF-COT-010': 'PASS',
  'ESME-COT-001': 'PASS',
  'ESME-COT-006': 'PASS',
  'ESME-COT-010': 'PASS',
  'IHD-COT-008': 'PASS',
  'PPMID-COT-008': 'PASS',
  'IHD-COT-002': 'PASS',
  'IHD-COT-003': 'PASS',
  'IHD-COT-004': 'PASS',
  'IHD-COT-005': 'PASS',
  'IHD-COT-009': 'PASS',
  'PPMID-COT-002': 'PASS',
  'PPMID-COT-003': 'PASS',
  'PPMID-COT-004': 'PASS',
  'PPMID-COT-005': 'PASS',
  'PPMID-COT-009': 'PASS',
};

/** Conformant IHDs that poll otherwise than every 24 h from power-up: every IHD case passes on them. */
export const COT_CONFORMANT_POLLERS = ['ihd-polls-3h', 'ihd-polls-midnight'];

/** The IHD that polls once a minute (inside COT-3 and COT-9): with conformant meters every COT case passes. */
export const COT_MINUTE_POLLER = 'ihd-polls-every-minute';

/** [device, profile, case, requirement, other devices]: the ESME that keeps its last message lets an IHD's own keeping of messages show. */
export const COT_CAUGHT_BY: [
  device: CotDevice,
  profile: string,
  caseId: string,
  requirement: string,
  others?: Partial<typeof COT_CONFORMANT>,
][] = [
  ['esme', 'esme-never-publishes', 'ESME-COT-001', 'COT-1'],
  ['ihd', 'ihd-no-poll-at-power-up', 'IHD-COT-002', 'COT-2'],
  ['ihd', 'ihd-no-poll-at-rejoin', 'IHD-COT-003', 'PWR-3'],
  ['ihd', 'ihd-polls-48h', 'IHD-COT-004', 'COT-3'],
  ['ihd', 'ihd-polls-24h10m', 'IHD-COT-004', 'COT-3'],
  ['ihd', 'ihd-polls-every-second', 'IHD-COT-009', 'COT-9'],
  ['ppmid', 'ppmid-keeps-top-up-history', 'PPMID-COT-005', 'COT-4'],
  ['ppmid', 'ppmid-keeps-debt-recovery', 'PPMID-COT-005', 'COT-4'],
  ['ihd', 'ihd-keeps-supplier-messages', 'IHD-COT-005', 'COT-4', { esme: 'esme-keeps-last-message' }],
  ['ihd', 'ihd-clears-on-receipt', 'IHD-COT-005', 'COT-5'],
  ['ihd', 'ihd-clears-30min-early', 'IHD-COT-005', 'COT-5'],
  ['ihd', 'ihd-ignores-implementation-time', 'IHD-COT-005', 'COT-4'],
  ['ihd', 'ihd-clears-new-occupier-data', 'IHD-COT-005', 'COT-7'],
  ['esme', 'esme-keeps-last-message', 'ESME-COT-006', 'COT-6'],
  ['gpf', 'gpf-never-publishes', 'GPF-COT-001', 'COT-1'],
  ['esme', 'esme-keeps-top-up-log', 'ESME-COT-010', 'COT-4'],
  ['gpf', 'gpf-keeps-debt-log', 'GPF-COT-010', 'COT-4'],
  ['ihd', 'ihd-no-poll-at-power-up', 'IHD-COT-008', 'COT-8'],
  // Misbehaving only sometimes: COT-004 watches three poll periods, COT-002 two power-ups.
  ['ihd', 'ihd-skips-every-second-poll', 'IHD-COT-004', 'COT-3'],
  ['ppmid', 'ppmid-skips-every-third-poll', 'PPMID-COT-004', 'COT-3'],
  ['ihd', 'ihd-skips-every-second-power-up-poll', 'IHD-COT-002', 'COT-2'],
  // Side effects of clearing for a Change of Tenancy.
  ['ppmid', 'ppmid-stops-polling-after-tenancy', 'PPMID-COT-005', 'COT-3'],
  ['ihd', 'ihd-stops-recording-after-tenancy', 'IHD-COT-005', 'COT-7'],
];

/**
 * [device, profile, case, fault kind, requirement]: slow devices, which answer after the lab's
 * captureWithinSeconds. Their case is INCONCLUSIVE with the fault kind — never NOT APPLICABLE or PASS;
 * given the time (captureWithinSeconds 10), it FAILs the requirement they break.
 */
export const COT_SLOW: [device: CotDevice, profile: string, caseId: string, fault: string, requirement: string][] = [
  ['esme', 'esme-slow-keeps-top-up-log', 'ESME-COT-010', 'answer-late', 'COT-4'],
  ['gpf', 'gpf-slow-keeps-debt-log', 'GPF-COT-010', 'answer-late', 'COT-4'],
];

/** The case verdicts of a campaign as the matrix states them: `FAIL <requirement>`, `INCONCLUSIVE <fault kind>`, or the verdict alone. */
export function judgements(c: Campaign, idPrefix = '', bench = 'virtual-1'): Record<string, string> {
  const cases = (c.results?.cases ?? []).filter((r) => r.bench === bench && r.id.startsWith(idPrefix));
  return Object.fromEntries(
    cases.map((r) => [
      r.id,
      r.verdict + (r.failedRequirement ? ` ${r.failedRequirement}` : r.verdict === 'INCONCLUSIVE' && r.fault ? ` ${r.fault}` : ''),
    ]),
  );
}

/** Only the cases of one device role among `verdicts` (e.g. `IHD`). */
export const casesOf = (verdicts: Record<string, string>, prefix: string): Record<string, string> =>
  Object.fromEntries(Object.entries(verdicts).filter(([id]) => id.startsWith(prefix)));

/** The power-cycle suite's cases (suites/power-cycle.spec.ts): PWR-1 per HAN device, PWR-2 on the CH. */
export const PWR_CASES = ['ESME-PWR-001', 'IHD-PWR-001', 'PPMID-PWR-001', 'CH-PWR-002'];
/** `--grep` for the power-cycle cases only (PWR-3 runs in the COT suite). */
export const PWR_GREP = 'PWR-00';

/** Every power-cycle case passes on the conformant CH, ESME, IHD and PPMID. */
export const PWR_ALL_PASS: Record<string, string> = Object.fromEntries(PWR_CASES.map((id) => [id, 'PASS']));

/** On a bench with the CH alone (the default test rig) there is no HAN device to come back. */
export const PWR_CH_ONLY_VERDICTS: Record<string, string> = Object.fromEntries(PWR_CASES.map((id) => [id, 'NOT APPLICABLE']));

/**
 * [device ('ch' for the CH's firmware), profile, the verdicts of the power-cycle cases it runs with]: the case built
 * to catch it FAILs its requirement; a case whose premise the mutant breaks (another device's return) is INCONCLUSIVE.
 */
export const PWR_CAUGHT_BY: [device: CotDevice | 'ch', profile: string, verdicts: Record<string, string>][] = [
  ['ihd', 'ihd-rejoins-after-30min', { 'IHD-PWR-001': 'FAIL PWR-1' }],
  // Just over the limit: back about 16.5 min after the power-on, measured against 15.
  ['ppmid', 'ppmid-rejoins-after-16min', { 'PPMID-PWR-001': 'FAIL PWR-1' }],
  // CH-PWR-002 cannot blame the CH for a device that never asked: it points at ESME-PWR-001.
  ['esme', 'esme-never-rejoins', { 'ESME-PWR-001': 'FAIL PWR-1', 'CH-PWR-002': 'INCONCLUSIVE precondition-unmet' }],
  // The devices asked and were not admitted: their PWR-1 cases point at CH-PWR-002, which FAILs the CH.
  [
    'ch',
    'ch-loses-device-log',
    {
      'ESME-PWR-001': 'INCONCLUSIVE precondition-unmet',
      'IHD-PWR-001': 'INCONCLUSIVE precondition-unmet',
      'PPMID-PWR-001': 'INCONCLUSIVE precondition-unmet',
      'CH-PWR-002': 'FAIL PWR-2',
    },
  ],
];

/** The campaign options of one PWR_CAUGHT_BY row: the mutant among the conformant devices, only the cases it names. */
export function pwrCampaign(device: CotDevice | 'ch', profile: string, verdicts: Record<string, string>) {
  const grep = Object.keys(verdicts).join('|');
  return device === 'ch'
    ? { firmware: profile, tenancy: COT_CONFORMANT, grep }
    : { tenancy: { ...COT_CONFORMANT, [device]: profile }, grep };
}

/** The reconnect suite's RCN-1…3 cases (suites/reconnect.spec.ts): per client, the ESME's (0x) and the GPF's (1x) outage, and the WAN cut. */
export const RCN_CASES = ['IHD', 'PPMID'].flatMap((c) => ['001', '011', '002', '012', '003'].map((n) => `${c}-RCN-${n}`));
/** `--grep` for RCN-1…3 (RCN-4, the OTA update, has cases of its own). */
export const RCN_GREP = 'RCN-0[01][123]';
/** The lab limits the matrix judges RCN-1 by; the seeds give none (unset, RCN-1 is measure-only). */
export const RCN_LIMITS = { reconnectRequestRateLimitPerMinute: 6, reconnectRecoveryMinutes: 15 };

/** Every RCN-1…3 case passes on the conformant CH, GPF, ESME, IHD and PPMID. */
export const RCN_ALL_PASS: Record<string, string> = Object.fromEntries(RCN_CASES.map((id) => [id, 'PASS']));

/** [device, profile, the verdicts its cases give under RCN_LIMITS]: each breaks one requirement, for the ESME's and the GPF's outage alike. */
export const RCN_CAUGHT_BY: [device: CotDevice, profile: string, verdicts: Record<string, string>][] = [
  // A storm: 60 probes a minute while the meter is out of reach.
  ['ihd', 'ihd-retries-every-second', { 'IHD-RCN-001': 'FAIL RCN-1', 'IHD-RCN-011': 'FAIL RCN-1' }],
  // Probes every 30 min: back about 30 min after the return, against 15.
  ['ppmid', 'ppmid-recovers-after-30min', { 'PPMID-RCN-001': 'FAIL RCN-1', 'PPMID-RCN-011': 'FAIL RCN-1' }],
  ['ihd', 'ihd-no-refresh-after-reconnect', { 'IHD-RCN-002': 'FAIL RCN-2', 'IHD-RCN-012': 'FAIL RCN-2' }],
  ['ppmid', 'ppmid-refuses-top-up-without-wan', { 'PPMID-RCN-003': 'FAIL RCN-3' }],
];
/** The OTA reconnect cases (suites/reconnect.spec.ts, RCN-4): one per HAN client. */
export const OTA_CASES = ['IHD-RCN-004', 'PPMID-RCN-004'];
/** `--grep` for the OTA reconnect cases only. */
export const OTA_GREP = 'RCN-004';

/** Both pass on the conformant devices (which claim the OTA Upgrade cluster). */
export const OTA_ALL_PASS: Record<string, string> = Object.fromEntries(OTA_CASES.map((id) => [id, 'PASS']));

/** [device, profile, the verdict of its RCN-4 case]: each mutant FAILs RCN-4 on its own case. */
export const OTA_CAUGHT_BY: [device: CotDevice, profile: string, verdicts: Record<string, string>][] = [
  ['ihd', 'ihd-stays-off-after-ota', { 'IHD-RCN-004': 'FAIL RCN-4' }],
  ['ppmid', 'ppmid-polls-30min-after-ota', { 'PPMID-RCN-004': 'FAIL RCN-4' }],
];

/** Every OTA mutant on one bench (they are different devices): one campaign shows them all. */
export const OTA_MUTANTS = { ...COT_CONFORMANT, ...Object.fromEntries(OTA_CAUGHT_BY.map(([device, profile]) => [device, profile])) };
