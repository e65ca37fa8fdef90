// Triggering a Change of Tenancy at a meter (GBCS ECS12 on the ESME, GCS09 on the GPF), the
// way the bench says: the rig radio delivers a prepared command as an HHT would, or a lab hook
// asks the lab's DCC test access to send it; on the virtual bench the sim's supplier side does.
// Which way, and when, goes into the evidence.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RigFault } from '../drivers/faults.ts';
import { fromHex } from '../protocol/bytes.ts';
import { recogniseGbcs } from '../protocol/gbcs.ts';
import { PROFILE_SMART_ENERGY } from '../protocol/aps.ts';
import { TUNNELING, encodeZcl } from '../protocol/zcl/index.ts';
import type { RigBench, RigDevice } from '../rigs/load.ts';
import type { VirtualBench } from '../sim/bench.ts';
import type { EvidenceLog } from './evidence.ts';
import { MODELLED_FACTS, restsOn } from './modelled-facts.ts';

export interface TenancyChange {
  /** The Implementation Date/Time, bench ms. */
  implementationUtc: number;
  /** Proposed tenancy change control bitmap (PROTOCOL.md §7); default 0x4700. */
  control?: number;
}

export const DEFAULT_TENANCY_CONTROL = 0x4700;

/** The GBCS use cases that set a Change of Tenancy date: ECS12 on the ESME, GCS09 on the GPF. */
const TENANCY_USE_CASES = ['ECS12', 'GCS09'];

/** The rig radio as a member of the HAN (harness/hht.ts): what a radio delivery sends through. */
export interface HanSender {
  deliverOnHan(
    ieee: string,
    aps: { cluster: number; profile: number },
    payload: Uint8Array,
    maxBlock: number,
    title: string,
  ): Promise<void>;
}

export interface TenancyTrigger {
  readonly how: string;
  /** `via`: the rig radio on the HAN, for a radio delivery. */
  trigger(meter: RigDevice, change: TenancyChange, evidence: EvidenceLog, via?: HanSender): Promise<void>;
}

/** The trigger a bench has: the sim's supplier on a virtual bench, else the rig file's choice. */
export function tenancyTriggerFor(spec: RigBench, virtual?: VirtualBench): TenancyTrigger | undefined {
  if (virtual) return new SimulatedSupplier(virtual);
  const t = spec.tenancyTrigger;
  if (!t) return undefined;
  return t.kind === 'radio' ? new RadioDelivery(t.commandFile) : new LabHook(t.command, t.url);
}

class SimulatedSupplier implements TenancyTrigger {
  readonly how = 'virtual bench: the simulated supplier sends the Change of Tenancy to the meter';
  constructor(private readonly bench: VirtualBench) {}

  async trigger(meter: RigDevice, change: TenancyChange, evidence: EvidenceLog): Promise<void> {
    const m = this.bench.meters.get(meter.id);
    if (!m) throw new Error(`virtual bench has no meter ${meter.id}`);
    restsOn(evidence, MODELLED_FACTS.tenancyControl);
    evidence.event('tenancy-trigger', {
      device: meter.id,
      how: this.how,
      implementationUtc: new Date(change.implementationUtc).toISOString(),
      control: change.control ?? DEFAULT_TENANCY_CONTROL,
    });
    // As a lab's DCC test access can: the request goes out and nothing arrives.
    if (this.bench.tenancyLost) return;
    m.changeOfTenancy({ implementationUtc: change.implementationUtc, control: change.control ?? DEFAULT_TENANCY_CONTROL });
  }
}

/**
 * The rig radio sends a prepared ECS12/GCS09 (as a DUIS local-delivery command variant returns
 * it) to the meter as Tunneling Transfer Data, PUT header, in APS fragments — modelled, like the
 * HHT's CCS01 (PROTOCOL.md §8); the implementation time is the one inside the prepared command.
 * It goes out on the HAN the rig learned, from the short address the rig radio joined with.
 */
class RadioDelivery implements TenancyTrigger {
  readonly how: string;
  private seq = 0;
  constructor(private readonly file: string) {
    this.how = `rig radio delivers the prepared command ${file}`;
  }

  async trigger(meter: RigDevice, _change: TenancyChange, evidence: EvidenceLog, via?: HanSender): Promise<void> {
    restsOn(evidence, MODELLED_FACTS.tenancyRadioDelivery);
    const message = fromHex(readFileSync(this.file, 'utf8').trim());
    const g = recogniseGbcs(message);
    if (!g || !TENANCY_USE_CASES.includes(g.useCase)) {
      throw new RigFault(
        'radio-refused',
        this.file,
        'the prepared command is not a GBCS ECS12 or GCS09',
        'prepare the Change of Tenancy command for this meter again (DUIS local delivery)',
      );
    }
    evidence.event('tenancy-trigger', { device: meter.id, how: this.how, useCase: g.useCase, counter: g.originatorCounter });
    const zcl = encodeZcl(TUNNELING.id, {
      name: 'Transfer Data',
      dir: 'client-to-server',
      seq: this.seq,
      fields: { tunnelId: 0, data: '03' + Buffer.from(message).toString('hex') },
    });
    this.seq = (this.seq + 1) & 0xff;
    if (!via)
      throw new RigFault(
        'radio-unavailable',
        this.file,
        'no rig radio on the HAN to deliver the prepared command',
        'run the case with the rig radio joined to the HAN',
      );
    const title = `the prepared ${g.useCase ?? 'Change of Tenancy'} (Tunneling Transfer Data)`;
    await via.deliverOnHan(meter.ieee, { cluster: TUNNELING.id, profile: PROFILE_SMART_ENERGY }, zcl, 61, title);
  }
}

/** A command line or an HTTP call the rig file names, given the meter and the change as environment / JSON. */
class LabHook implements TenancyTrigger {
  readonly how: string;
  constructor(
    private readonly command?: readonly string[],
    private readonly url?: string,
  ) {
    this.how = command ? `lab hook: ${command.join(' ')}` : `lab hook: POST ${url}`;
  }

  async trigger(meter: RigDevice, change: TenancyChange, evidence: EvidenceLog): Promise<void> {
    restsOn(evidence, MODELLED_FACTS.tenancyControl);
    const request = {
      device: meter.id,
      role: meter.role,
      ieee: meter.ieee,
      implementationUtc: new Date(change.implementationUtc).toISOString(),
      control: change.control ?? DEFAULT_TENANCY_CONTROL,
    };
    evidence.event('tenancy-trigger', { ...request, how: this.how });
    const fault = (why: string) =>
      new RigFault('radio-refused', this.how, `the lab hook failed: ${why}`, 'check the lab hook and the DCC test access it calls');
    if (this.command) {
      const [cmd, ...args] = this.command;
      const code = await new Promise<number>((done) => {
        const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, GBCS_RIG_TENANCY: JSON.stringify(request) } });
        child.on('error', () => done(-1));
        child.on('exit', (c) => done(c ?? -1));
      });
      if (code !== 0) throw fault(`exit code ${code}`);
      return;
    }
    const res = await fetch(this.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    }).catch((e: Error) => {
      throw fault(e.message);
    });
    if (!res.ok) throw fault(`HTTP ${res.status}`);
  }
}
