// Triggering a Change of Tenancy at a meter (GBCS ECS12 on the ESME, GCS09 on the GPF), the
// way the bench says: the rig radio delivers a prepared command as an HHT would, or a lab hook
// asks the lab's DCC test access to send it; on the virtual bench the sim's supplier side does.
// Which way, and when, goes into the evidence.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RigFault } from '../drivers/faults.ts';
import type { RigRadio } from '../drivers/radio/rig-radio.ts';
import { fromHex } from '../protocol/bytes.ts';
import { encodeFragmentedFrames } from '../protocol/encoder.ts';
import { recogniseGbcs } from '../protocol/gbcs.ts';
import { encodeZcl } from '../protocol/zcl/index.ts';
import type { RigBench, RigDevice } from '../rigs/load.ts';
import type { VirtualBench } from '../sim/bench.ts';
import type { EvidenceLog } from './evidence.ts';

export interface TenancyChange {
  /** The Implementation Date/Time, bench ms. */
  implementationUtc: number;
  /** Proposed tenancy change control bitmap (PROTOCOL.md §7); default 0x4700. */
  control?: number;
}

export const DEFAULT_TENANCY_CONTROL = 0x4700;

export interface TenancyTrigger {
  readonly how: string;
  trigger(meter: RigDevice, change: TenancyChange, evidence: EvidenceLog): Promise<void>;
}

/** The trigger a bench has: the sim's supplier on a virtual bench, else the rig file's choice. */
export function tenancyTriggerFor(spec: RigBench, radio: () => RigRadio, virtual?: VirtualBench): TenancyTrigger | undefined {
  if (virtual) return new SimulatedSupplier(virtual);
  const t = spec.tenancyTrigger;
  if (!t) return undefined;
  return t.kind === 'radio' ? new RadioDelivery(radio, t.commandFile) : new LabHook(t.command, t.url);
}

class SimulatedSupplier implements TenancyTrigger {
  readonly how = 'virtual bench: the simulated supplier sends the Change of Tenancy to the meter';
  constructor(private readonly bench: VirtualBench) {}

  async trigger(meter: RigDevice, change: TenancyChange, evidence: EvidenceLog): Promise<void> {
    const m = this.bench.meters.get(meter.id);
    if (!m) throw new Error(`virtual bench has no meter ${meter.id}`);
    evidence.event('tenancy-trigger', { device: meter.id, how: this.how, implementationUtc: new Date(change.implementationUtc).toISOString(), control: change.control ?? DEFAULT_TENANCY_CONTROL });
    // As a lab's DCC test access can: the request goes out and nothing arrives.
    if (this.bench.tenancyLost) return;
    m.changeOfTenancy({ implementationUtc: change.implementationUtc, control: change.control ?? DEFAULT_TENANCY_CONTROL });
  }
}

/**
 * The rig radio sends a prepared ECS12/GCS09 (as a DUIS local-delivery command variant returns
 * it) to the meter as Tunneling Transfer Data, PUT header, in APS fragments — modelled, like the
 * HHT's CCS01 (PROTOCOL.md §8); the implementation time is the one inside the prepared command.
 */
class RadioDelivery implements TenancyTrigger {
  readonly how: string;
  private seq = 0;
  /** The radio is asked for each time: the bench reopens it after a fault. */
  constructor(private readonly radio: () => RigRadio, private readonly file: string) {
    this.how = `rig radio delivers the prepared command ${file}`;
  }

  async trigger(meter: RigDevice, _change: TenancyChange, evidence: EvidenceLog): Promise<void> {
    const message = fromHex(readFileSync(this.file, 'utf8').trim());
    const g = recogniseGbcs(message);
    if (!g || (g.messageCode !== 0x0022 && g.messageCode !== 0x0072)) {
      throw new RigFault('radio-refused', this.file, 'the prepared command is not a GBCS ECS12 or GCS09', 'prepare the Change of Tenancy command for this meter again (DUIS local delivery)');
    }
    evidence.event('tenancy-trigger', { device: meter.id, how: this.how, useCase: g.useCase, counter: g.originatorCounter });
    const zcl = encodeZcl(0x0704, { name: 'Transfer Data', dir: 'client-to-server', seq: this.seq, fields: { tunnelId: 0, data: '03' + Buffer.from(message).toString('hex') } });
    const frames = encodeFragmentedFrames({
      mac: { type: 'data', seq: this.seq, dstPan: '0x1a62', srcPan: '0x1a62', dst: '0xffff', src: '0x7ff0' },
      nwk: { type: 'data', dst: '0xfffd', src: '0x7ff0', seq: this.seq, dst64: meter.ieee },
      aps: { type: 'data', dstEp: 1, srcEp: 1, cluster: 0x0704, profile: 0x0109, counter: this.seq },
      payload: zcl,
    }, 61, false);
    this.seq = (this.seq + frames.length) & 0xff;
    for (const f of frames) await this.radio().transmit(f);
  }
}

/** A command line or an HTTP call the rig file names, given the meter and the change as environment / JSON. */
class LabHook implements TenancyTrigger {
  readonly how: string;
  constructor(private readonly command?: readonly string[], private readonly url?: string) {
    this.how = command ? `lab hook: ${command.join(' ')}` : `lab hook: POST ${url}`;
  }

  async trigger(meter: RigDevice, change: TenancyChange, evidence: EvidenceLog): Promise<void> {
    const request = { device: meter.id, role: meter.role, ieee: meter.ieee, implementationUtc: new Date(change.implementationUtc).toISOString(), control: change.control ?? DEFAULT_TENANCY_CONTROL };
    evidence.event('tenancy-trigger', { ...request, how: this.how });
    const fault = (why: string) => new RigFault('radio-refused', this.how, `the lab hook failed: ${why}`, 'check the lab hook and the DCC test access it calls');
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
    const res = await fetch(this.url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }).catch((e: Error) => {
      throw fault(e.message);
    });
    if (!res.ok) throw fault(`HTTP ${res.status}`);
  }
}
