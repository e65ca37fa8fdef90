// What the reconnect suite makes happen on a bench (DOMAIN.md §D), the way the bench allows: a meter
// out of reach for a while (RCN-1, RCN-2), the CH's WAN cut (RCN-3), a top-up code keyed in on a PPMID
// (RCN-3). On a virtual bench the sim does each; on a real one the meter's relay, the rig file's WAN relay
// or lab hook, and the operator. Which way, and when, goes into the evidence.
import { spawn } from 'node:child_process';
import { RigFault } from '../drivers/faults.ts';
import { OperatorPrompt } from '../drivers/observe/operator-prompt.ts';
import type { PowerSwitch } from '../drivers/power/types.ts';
import type { RigBench, RigDevice } from '../rigs/load.ts';
import type { VirtualBench } from '../sim/bench.ts';
import type { BenchClock } from './clock.ts';
import type { EvidenceLog } from './evidence.ts';
import type { BenchPower, PowerEdge } from './power.ts';

/** When a change took effect on the bench: its bench time and how uncertain it is (a relay's confirmation span). */
export type Switched = Pick<PowerEdge, 'atMs' | 'uncertaintyMs'>;

/** What a bench change needs of the case. */
export interface BenchHands {
  power: BenchPower;
  evidence: EvidenceLog;
  clock: BenchClock;
}

/** A meter (ESME, GPF) out of reach and back (RCN-1). */
export interface MeterOutage {
  readonly how: string;
  begin(meter: RigDevice, hands: BenchHands): Promise<Switched>;
  end(meter: RigDevice, hands: BenchHands): Promise<Switched>;
}

/** The CH's WAN cut and restored (RCN-3). */
export interface WanSwitch {
  readonly how: string;
  set(up: boolean, hands: BenchHands): Promise<Switched>;
}

/** A top-up code keyed in on a PPMID (RCN-3); `code` when the rig knows it (it chose it, or the operator typed it). */
export interface TopUpKeypad {
  readonly how: string;
  enter(ppmid: RigDevice, meter: RigDevice, hands: BenchHands, operatorTimeoutMs: number): Promise<{ atMs: number; code?: string }>;
}

export interface BenchReconnect {
  /** How the meter goes out of reach on this bench; undefined when it cannot alone (a real GPF shares the CH's relay). */
  outage(meter: RigDevice): MeterOutage | undefined;
  /** How the CH's WAN is cut; undefined when the rig file names no way on a real bench. */
  readonly wan?: WanSwitch;
  readonly topUp: TopUpKeypad;
}

const now = (hands: BenchHands): Switched => ({ atMs: hands.clock.now(), uncertaintyMs: 0 });

/** The reconnect means of a bench: the sim's on a virtual bench, else the meters' relays, the rig file's `wan` and the operator. */
export function reconnectFor(spec: RigBench, relays: ReadonlyMap<string, PowerSwitch>, virtual?: VirtualBench): BenchReconnect {
  if (virtual) return simulated(virtual);
  const relayOutage = new RelayOutage();
  const wan = spec.wan;
  return {
    // A GPF lives in the CH: its relay is the CH's, and switching it off would take the whole HAN away.
    outage: (meter) => (meter.role === 'ESME' ? relayOutage : undefined),
    wan: wan && (wan.kind === 'relay' ? new WanRelay(wan.relay, relays) : new WanHook(wan.command)),
    topUp: new OperatorKeypad(),
  };
}

function simulated(v: VirtualBench): BenchReconnect {
  const outage: MeterOutage = {
    how: "virtual bench: the meter's radio goes silent (powered, on the HAN, unheard)",
    async begin(meter, hands) {
      v.silence(meter.id, true);
      hands.evidence.event('meter-outage', { device: meter.id, state: 'silent', how: this.how });
      return now(hands);
    },
    async end(meter, hands) {
      v.silence(meter.id, false);
      hands.evidence.event('meter-outage', { device: meter.id, state: 'back', how: this.how });
      return now(hands);
    },
  };
  return {
    outage: () => outage,
    wan: {
      how: "virtual bench: the simulated DCC side of the CH's WAN is cut",
      async set(up, hands) {
        v.setWan(up);
        hands.evidence.event('wan', { state: up ? 'up' : 'down', how: this.how });
        return now(hands);
      },
    },
    topUp: {
      how: 'virtual bench: the code is keyed in on the PPMID (an injected keypress)',
      async enter(ppmid, meter, hands) {
        // A 20-digit code (UTRN) the meter has not seen: from the bench time, so each entry is new.
        const code = String(70_000_000_000_000_000_000n + BigInt(Math.floor(hands.clock.now() / 1000)));
        hands.evidence.event('top-up-entered', { device: ppmid.id, meter: meter.id, code, how: this.how });
        v.enterTopUp(ppmid.id, code, meter.id);
        return { atMs: hands.clock.now(), code };
      },
    },
  };
}

/**
 * A real ESME out of reach: its relay off, then on (it boots and rejoins as after any power cut) — whoever else holds it,
 * as the outage is one the cases side by side share (or the case's alone).
 */
class RelayOutage implements MeterOutage {
  readonly how = "the meter's relay off for the outage";
  async begin(meter: RigDevice, hands: BenchHands): Promise<Switched> {
    return hands.power.setForAll(meter, false);
  }
  async end(meter: RigDevice, hands: BenchHands): Promise<Switched> {
    return hands.power.setForAll(meter, true);
  }
}

/** The CH's WAN antenna through a relay of the bench: off cuts the WAN. */
class WanRelay implements WanSwitch {
  readonly how: string;
  constructor(
    private readonly relayId: string,
    private readonly relays: ReadonlyMap<string, PowerSwitch>,
  ) {
    this.how = `relay ${relayId} switches the CH's WAN antenna`;
  }

  async set(up: boolean, hands: BenchHands): Promise<Switched> {
    const relay = this.relays.get(this.relayId);
    if (!relay) throw new Error(`no relay driver for the WAN relay ${this.relayId}`);
    hands.evidence.event('wan', { state: up ? 'up' : 'down', how: this.how });
    const c = await relay.switch(up);
    hands.evidence.event('power-confirmed', { relay: relay.where, state: c.on ? 'ON' : 'OFF', confirmedBy: c.confirmedBy }, c.confirmedAt);
    return { atMs: c.confirmedAt, uncertaintyMs: c.confirmedAt - c.publishedAt };
  }
}

/** A lab's own way to cut the WAN (a shielded box, the DCC test access): a command run with GBCS_RIG_WAN=down or up. */
class WanHook implements WanSwitch {
  readonly how: string;
  constructor(private readonly command: readonly string[]) {
    this.how = `lab hook: ${command.join(' ')}`;
  }

  async set(up: boolean, hands: BenchHands): Promise<Switched> {
    const state = up ? 'up' : 'down';
    hands.evidence.event('wan', { state, how: this.how });
    const [cmd, ...args] = this.command;
    const code = await new Promise<number>((done) => {
      const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, GBCS_RIG_WAN: state } });
      child.on('error', () => done(-1));
      child.on('exit', (c) => done(c ?? -1));
    });
    if (code !== 0)
      throw new RigFault(
        'rig-misconfigured',
        this.how,
        `the WAN lab hook failed to bring the WAN ${state} (exit code ${code})`,
        'check the command under wan: in the rig file, run by hand with GBCS_RIG_WAN=down and up',
      );
    return now(hands);
  }
}

/** No keypad the rig can press: the operator keys a valid code in and says when it is done. */
class OperatorKeypad implements TopUpKeypad {
  readonly how = 'the operator keys a valid top-up code into the PPMID';
  async enter(ppmid: RigDevice, meter: RigDevice, hands: BenchHands, operatorTimeoutMs: number): Promise<{ atMs: number }> {
    await OperatorPrompt.ask({
      device: `${ppmid.role} "${ppmid.id}" (${ppmid.ieee})`,
      question: `Key a valid top-up code (UTRN) for the ${meter.role} "${meter.id}" into the PPMID now. Has it been entered?`,
      expected: 'yes',
      instructions: "Use a code the supplier's test system issued for this meter and not used before; note it in the photo.",
      timeoutMs: operatorTimeoutMs,
      evidence: hands.evidence,
    });
    return { atMs: hands.clock.now() };
  }
}
