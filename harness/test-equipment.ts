// The test equipment a case ran with, as ISO/IEC 17025 asks a report to identify it: the broker,
// every relay, sniffer and the rig radio — kind, where it was found, and its firmware as the part
// reported itself. Recorded at each case's start, so a part replaced mid-campaign shows.
import { brokerUrlWithoutCredentials } from '../drivers/power/mqtt.ts';
import type { OpenBench } from './bench.ts';

export interface EquipmentItem {
  role: 'broker' | 'relay' | 'sniffer' | 'rig radio';
  id: string;
  kind: string;
  /** The serial port, MQTT topic or broker address (never its credentials). */
  where: string;
  /** As the part reported itself; absent where its protocol has no way to ask. */
  firmware?: string;
}

/** A broker URL without user name or password; a name that is not a URL (`embedded`) as it is. */
export const brokerAddress = (url: string): string => brokerUrlWithoutCredentials(url) ?? url;

export function testEquipment(bench: OpenBench): EquipmentItem[] {
  const { spec } = bench;
  const items: EquipmentItem[] = [{ role: 'broker', id: 'station', kind: 'MQTT', where: brokerAddress(bench.rig.station.mqtt.url) }];
  for (const r of spec.relays) {
    const driver = bench.relays.get(r.id);
    items.push({ role: 'relay', id: r.id, kind: r.vendor, where: driver?.where ?? `${r.vendor} ${String(r.topic ?? '')}` });
  }
  for (const s of bench.sniffers) {
    const kind = spec.sniffers.find((x) => x.id === s.id)?.kind ?? 'sniffer';
    items.push({ role: 'sniffer', id: s.id, kind, where: s.driver.location, ...(s.driver.firmware && { firmware: s.driver.firmware }) });
  }
  const radio = bench.radio;
  items.push({
    role: 'rig radio',
    id: 'radio',
    kind: spec.radio.kind,
    where: radio.location,
    ...(radio.firmware && { firmware: radio.firmware }),
  });
  return items;
}
