// Heard before judged (ARCHITECTURE.md, Verdicts): a verdict that rests on a device's silence or
// refusal needs that device heard alive on air in the same power period. Silence proves nothing
// about a device that is not there: unpowered, dead, or on another channel.
import { RigFault } from '../drivers/faults.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import type { RigDevice } from '../rigs/load.ts';
import type { Capture, HeardFrame } from './capture.ts';
import type { EvidenceLog } from './evidence.ts';
import type { HandHeldTerminal } from './hht.ts';
import type { BenchPower } from './power.ts';

/** The HAN's coordinator is the CH: its short address is 0x0000 on every ZigBee network. */
const COORDINATOR = '0x0000';

export class Liveness {
  constructor(
    private readonly capture: Capture,
    private readonly hht: HandHeldTerminal,
    private readonly power: BenchPower,
    private readonly evidence: EvidenceLog,
    /** When the case started: a device not powered during the case counts from here. */
    private readonly caseStartMs: number,
    private readonly channel: number,
  ) {}

  /** True when the frame was sent by the device: its IEEE address in any layer, or the short address it was heard with (0x0000 for the CH). */
  isFrom(f: DecodedFrame, device: RigDevice): boolean {
    if (f.mac.src === device.ieee || f.nwk?.security?.source === device.ieee || this.capture.isFrom(f, device.ieee)) return true;
    // The coordinator's short address is the CH's own, never its GPF's (which has an address of its own on the HAN).
    if (device.role === 'CH' && device.inside === undefined && f.mac.src === COORDINATOR) return true;
    const short = this.capture.shortOf(device.ieee);
    return short !== undefined && f.mac.src === '0x' + short.toString(16).padStart(4, '0');
  }

  /** The start of the device's current power period as far as this case knows: its last confirmed power-on, else the case start. */
  powerPeriodOf(device: RigDevice): number {
    return this.power.lastOn(device)?.atMs ?? this.caseStartMs;
  }

  /** The first frame heard from the device at or after `sinceMs`. */
  heard(device: RigDevice, sinceMs = this.powerPeriodOf(device)): HeardFrame | undefined {
    return this.capture.find((f) => this.isFrom(f, device), sinceMs);
  }

  /**
   * Confirms each device was heard alive since its power-on (or `sinceMs`); a coordinator not heard
   * yet is asked with a beacon request, which every ZigBee coordinator and router answers. A device
   * still unheard ends the case INCONCLUSIVE (`dut-not-heard`): its silence cannot be judged.
   */
  async confirm(devices: RigDevice | readonly RigDevice[], why: string, sinceMs?: number): Promise<void> {
    for (const device of Array.isArray(devices) ? devices : [devices as RigDevice]) {
      const since = sinceMs ?? this.powerPeriodOf(device);
      let heard = this.heard(device, since);
      if (!heard && device.role === 'CH') {
        await this.hht.requestBeacons();
        heard = this.heard(device, since);
      }
      this.capture.assertHealthy();
      if (heard) {
        this.evidence.event('liveness', { device: device.id, heard: true, frame: heard.decoded.n, summary: heard.decoded.summary, why });
        continue;
      }
      this.evidence.event('liveness', { device: device.id, heard: false, since: new Date(since).toISOString(), why });
      throw new RigFault(
        'dut-not-heard',
        `${device.role} ${device.id}`,
        `nothing was heard from the ${device.role} (${device.ieee}) since ${new Date(since).toISOString()}, so its silence proves nothing (${why})`,
        `is the ${device.role} powered, within range and on channel ${this.channel}?`,
      );
    }
  }
}
