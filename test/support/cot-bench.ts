// One virtual bench with a CH, an ESME, a 3-hour-polling IHD and a PPMID, opened through the real drivers
// (MQTT relays, the sniffer) with a capture reading its HAN: what the clock and COT bench tests watch.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openBench, type OpenBench } from '../../harness/bench.ts';
import { Capture } from '../../harness/capture.ts';
import { EvidenceLog } from '../../harness/evidence.ts';
import { KeyTable } from '../../protocol/security.ts';
import { loadRig } from '../../rigs/load.ts';

/** A rig file of one virtual bench with a CH, an ESME, a 3-hour-polling IHD and a PPMID, each on its own relay (three on one board). */
function cotBenchRig(benchId: string, topic: string): Record<string, unknown> {
  return {
    station: { name: benchId, lab: 'tests', mqtt: { url: 'embedded' } },
    firmwareManifests: [],
    benches: [
      {
        id: benchId,
        virtual: { seed: 1, transport: 'mock' },
        devices: [
          { id: 'ch', role: 'CH', ieee: '00:db:12:34:56:78:90:a2', firmware: 'ch-conformant', relay: 'ch-power' },
          { id: 'esme', role: 'ESME', ieee: '00:db:12:34:56:78:90:a0', firmware: 'esme-conformant', relay: 'esme-power' },
          { id: 'ihd', role: 'IHD', ieee: '00:db:12:34:56:78:90:b0', firmware: 'ihd-polls-3h', relay: 'ihd-power' },
          { id: 'ppmid', role: 'PPMID', ieee: '00:db:12:34:56:78:90:b1', firmware: 'ppmid-conformant', relay: 'ppmid-power' },
        ],
        relays: [
          { id: 'ch-power', vendor: 'tasmota', topic: `${topic}-ch`, channel: 1 },
          { id: 'esme-power', vendor: 'tasmota', topic: `${topic}-board`, channel: 1 },
          { id: 'ihd-power', vendor: 'tasmota', topic: `${topic}-board`, channel: 2 },
          { id: 'ppmid-power', vendor: 'tasmota', topic: `${topic}-board`, channel: 3 },
        ],
        sniffers: [{ id: 'han', kind: 'nrf802154', channel: 11 }],
        radio: { channel: 11, ieee: '00:db:12:34:56:78:90:f0' },
      },
    ],
  };
}

/** The bench opened from that rig (relay topics under `topic`), a started capture of its HAN with the bench's network key, and its evidence log (to close). */
export async function openCotBench(benchId: string, topic: string): Promise<{ bench: OpenBench; capture: Capture; evidence: EvidenceLog }> {
  const dir = mkdtempSync(join(tmpdir(), `gbcs-rig-${benchId}-`));
  writeFileSync(join(dir, 'rig.yaml'), stringify(cotBenchRig(benchId, topic)));
  const bench = await openBench(await loadRig(join(dir, 'rig.yaml')), benchId);
  const evidence = new EvidenceLog(join(dir, 'evidence'), () => bench.clock.now());
  // The virtual HAN is NWK-secured: the capture reads it with the bench's network key.
  const keys = new KeyTable();
  keys.addNetworkKey(bench.keys.networkKey!);
  const capture = new Capture(
    bench.sniffers.map((s) => ({ id: s.id, source: s.driver, channel: s.channel })),
    evidence,
    bench.clock,
    keys,
  );
  capture.start();
  return { bench, capture, evidence };
}
