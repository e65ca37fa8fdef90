// The audit trail per device under test (DOMAIN.md §E): every command the rig sent to it and every
// frame seen on air addressed to it — time, originator, title — never payloads.
import { join } from 'node:path';
import type { CaseDevice, CaseResult } from '../harness/case.ts';
import type { DecodedFrame } from '../protocol/decoded.ts';
import { HanDecoder, decodeFrames } from '../protocol/decoder.ts';
import { readCapture } from '../io/capture-files.ts';
import { CaptureError } from '../protocol/pcapng.ts';
import { KeyTable } from '../protocol/security.ts';
import type { CaseEvidence } from './run-folder.ts';

/** A device as the report lists it: what its cases recorded of it, where, and which cases examined it. */
export interface DeviceUnderTest extends CaseDevice {
  bench: string;
  /** The case's role, or GPF for the gas proxy function inside a CH (CaseDevice.role). */
  role: string;
  /** Case ids that examined it. */
  cases: string[];
}

export interface AuditEntry {
  /** Bench time (ISO, µs): the event's time, or the capture timestamp of the frame. */
  t: string;
  case: string;
  source: 'sent by the rig' | 'seen on air';
  originator: string;
  /** The GBCS use case or ZCL command name: the decoded summary, or the rig's title for what it sent. */
  title: string;
  /** How the frame named the device: its IEEE address, short 0x0000 (the CH), broadcast; or the case for rig commands. */
  addressedAs: string;
  /** Where to find it: `han.pcapng #3` or `events.jsonl`. */
  where: string;
}

export const deviceKey = (d: { bench: string; id: string }) => `${d.bench}/${d.id}`;

const bareIeee = (s: string | undefined) => (s ?? '').replace(/[:-]/g, '').toLowerCase();
const BROADCAST = new Set(['0xffff', '0xfffd', '0xfffc', '0xfffb']);

/** The devices the cases examined, per bench, in order of first appearance. */
export function devicesUnderTest(cases: readonly CaseResult[]): DeviceUnderTest[] {
  const byKey = new Map<string, DeviceUnderTest>();
  for (const c of cases) {
    if (!c.device) continue;
    const key = deviceKey({ bench: c.bench, id: c.device.id });
    const { claims, ...firmware } = c.device;
    const d = byKey.get(key) ?? { ...firmware, bench: c.bench, role: c.device.role ?? c.role, claims: [...claims], cases: [] };
    if (!d.cases.includes(c.id)) d.cases.push(c.id);
    byKey.set(key, d);
  }
  return [...byKey.values()];
}

/**
 * How a decoded frame is addressed to a device, or undefined. The most specific destination
 * decides: a GBCS recipient, then an NWK IEEE destination, then the NWK (or, inter-PAN, MAC) short
 * or IEEE destination; short 0x0000 is the CH's (the HAN coordinator's).
 */
export function addressedTo(f: DecodedFrame, device: Pick<DeviceUnderTest, 'ieee' | 'role'>): string | undefined {
  const ieee = bareIeee(device.ieee);
  if (f.gbcs) return bareIeee(f.gbcs.recipient) === ieee ? 'IEEE (GBCS recipient)' : undefined;
  if (f.nwk?.dst64) return bareIeee(f.nwk.dst64) === ieee ? 'IEEE' : undefined;
  const dst = f.nwk && f.nwk.type !== 'inter-pan' && f.nwk.dst ? f.nwk.dst : f.mac?.dst;
  if (!dst) return undefined;
  if (dst.includes(':')) return bareIeee(dst) === ieee ? 'IEEE' : undefined;
  if (dst === '0x0000' && device.role === 'CH') return 'short 0x0000';
  if (BROADCAST.has(dst)) return `broadcast ${dst}`;
  return undefined;
}

function originatorOf(f: DecodedFrame): string {
  return f.gbcs?.originator ?? f.nwk?.src64 ?? f.nwk?.src ?? f.mac?.src ?? 'unknown';
}

/**
 * Every device's trail, in time order. Rig commands (`radio-tx` events) are attributed to the
 * case's device (or the event's `device` when it names one); frames from every capture of a bench
 * are matched against every device of that bench.
 */
export async function auditTrail(
  runDir: string,
  cases: readonly CaseEvidence[],
  devices: readonly DeviceUnderTest[],
  keys = new KeyTable(),
): Promise<{ trail: Map<string, AuditEntry[]>; problems: string[] }> {
  const problems: string[] = [];
  const trail = new Map<string, AuditEntry[]>(devices.map((d) => [deviceKey(d), []]));
  for (const c of cases) {
    const onBench = devices.filter((d) => d.bench === c.result.bench);
    for (const ev of c.events) {
      if (ev.kind !== 'radio-tx') continue;
      const target = typeof ev.device === 'string' ? ev.device : c.result.device?.id;
      const list = target ? trail.get(deviceKey({ bench: c.result.bench, id: target })) : undefined;
      list?.push({
        t: ev.t,
        case: c.result.id,
        source: 'sent by the rig',
        originator: String(ev.originator ?? 'rig'),
        title: String(ev.title ?? ''),
        addressedAs: `device under test of ${c.result.id}`,
        where: `${c.dir}/events.jsonl`,
      });
    }
    for (const capture of c.captures) {
      const name = capture.slice(capture.lastIndexOf('/') + 1);
      try {
        // One decoder per capture: address maps and APS fragments do not carry over between captures.
        for await (const f of decodeFrames(readCapture(join(runDir, capture)), new HanDecoder(keys))) {
          for (const d of onBench) {
            const how = addressedTo(f, d);
            if (how)
              trail.get(deviceKey(d))!.push({
                t: f.time,
                case: c.result.id,
                source: 'seen on air',
                originator: originatorOf(f),
                title: f.summary,
                addressedAs: how,
                where: `${name} #${f.n}`,
              });
          }
        }
      } catch (error) {
        // A capture cut by a crash still gives its frames up to the cut: the trail says where it stops.
        if (!(error instanceof CaptureError)) throw error;
        problems.push(
          `${capture}: ${error.reason}${error.offset === undefined ? '' : ` at byte offset ${error.offset}`}; frames before it are in the trail`,
        );
      }
    }
  }
  for (const list of trail.values()) list.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  return { trail, problems };
}
