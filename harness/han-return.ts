// "Back on the HAN", as the rig decides it on air (PWR-1, RCN-4): the CH's NWK Rejoin Response admitting the
// device (status success, to its IEEE address), or the device's ZDP Device_annce, or a data exchange with the
// CH (a frame from the device to the coordinator 0x0000 answered by one from the CH to it).
import { rejoinResponseTo } from '../protocol/hht-messages.ts';
import type { Capture, FrameMatch, HeardFrame } from './capture.ts';
import { measure, type Measurement } from './measurements.ts';

/** The HAN's coordinator, the CH, on every ZigBee network. */
const COORDINATOR = '0x0000';

/** The device is on the HAN since `sinceMs`: admitted by the CH (Rejoin Response), announced itself (Device_annce), or exchanged data with the CH. */
export function backOnHan(capture: Capture, device: { ieee: string }, sinceMs: number): FrameMatch {
  const toCh = (f: HeardFrame['decoded']) => f.nwk?.type === 'data' && f.nwk.dst === COORDINATOR && capture.isFrom(f, device.ieee);
  return (f, h) =>
    rejoinResponseTo(f, device.ieee)?.status === 0 ||
    (f.aps?.zdp === 'Device_annce' && capture.isFrom(f, device.ieee)) ||
    (f.nwk?.type === 'data' &&
      f.nwk.src === COORDINATOR &&
      capture.isTo(f, device.ieee) &&
      capture.find((g, k) => k.atMs <= h.atMs && toCh(g), sinceMs) !== undefined);
}

/** How the frame showed the device back, in words. */
export function howBack(device: { ieee: string }, h: HeardFrame): string {
  if (rejoinResponseTo(h.decoded, device.ieee)) return "the CH's Rejoin Response admitting it";
  return h.decoded.aps?.zdp === 'Device_annce' ? 'its Device_annce' : 'a data exchange with the CH';
}

/** The time from `fromMs` to `toMs` in minutes, as a measurement (4 decimals), against an upper limit in minutes when one is given. */
export function minutesBetween(
  name: string,
  fromMs: number,
  toMs: number,
  uncertaintyMs: number,
  limit?: { high: number; text: string },
): Measurement {
  return measure(name, Number(((toMs - fromMs) / 60_000).toFixed(4)), 'min', Number((uncertaintyMs / 60_000).toFixed(6)), limit);
}
