// The virtual bench runs an ESME, an IHD and a PPMID beside the CH, behind the same drivers:
// relays switched over MQTT power them, they join the HAN through the CH, and their Change of
// Tenancy traffic reaches the sniffer.
import { test, expect } from '@playwright/test';
import { hours } from '../../harness/clock.ts';
import { openCotBench } from '../support/cot-bench.ts';

test('ESME, IHD and PPMID on the virtual bench: powered through their relays, the clients poll Change of Tenancy and the meter publishes', async () => {
  const topic = `cot-${process.pid}`;
  const { bench, capture, evidence } = await openCotBench('cot-1', topic);
  try {
    // The CH first: the others join the HAN through it.
    for (const id of ['ch-power', 'esme-power', 'ihd-power', 'ppmid-power']) await bench.relays.get(id)!.switch(true);
    await bench.clock.sleep(hours(7));
    const polls = (src: string) => capture.all((f) => f.zcl?.name === 'Get Change of Tenancy' && f.nwk?.src === src);
    const ihd = bench.virtual!.hanAddresses.get('ihd')!,
      ppmid = bench.virtual!.hanAddresses.get('ppmid')!;
    const hex = (n: number) => '0x' + n.toString(16).padStart(4, '0');
    // The 3-hour IHD polls at power-up and then every 3 hours; the PPMID at power-up.
    expect(polls(hex(ihd.short)).length).toBeGreaterThanOrEqual(3);
    expect(polls(hex(ppmid.short)).length).toBeGreaterThanOrEqual(1);
    // Each was admitted by the CH (Rejoin Response, status 0) before its first poll.
    for (const a of [ihd, ppmid]) {
      const admitted = capture.find(
        (f) => f.nwk?.command === 'Rejoin Response' && f.nwk.dst === hex(a.short) && f.nwk.commandFields?.status === 0,
      );
      expect(admitted!.atMs).toBeLessThanOrEqual(polls(hex(a.short))[0].atMs);
    }
    // What ECS12 does on a real bench; here the sim's supplier side asks the ESME directly.
    bench.virtual!.meters.get('esme')!.changeOfTenancy({ implementationUtc: bench.clock.now() + hours(1) });
    await bench.clock.sleep(hours(2));
    const published = capture.all((f) => f.zcl?.name === 'Publish Change of Tenancy');
    expect(published.map((f) => f.decoded.nwk?.dst).sort()).toEqual([hex(ihd.short), hex(ppmid.short)].sort());
    expect(bench.virtual!.hanClients.get('ihd')!.observe()).toMatchObject({ tenancy: expect.anything() });
    expect(bench.virtual!.hanClients.size).toBe(2);
    expect(bench.virtual!.meters.size).toBe(1);
    // Every HAN frame on air was NWK-secured, and the key opened each one.
    const han = capture.frames.filter((h) => h.decoded.nwk && h.decoded.nwk.type !== 'inter-pan');
    expect(han.length).toBeGreaterThan(10);
    expect(han.filter((h) => !h.decoded.nwk!.secured || !h.decoded.nwk!.decrypted)).toEqual([]);
    expect(capture.cannotDecrypt()).toBeUndefined();
    capture.stop();
    await evidence.close();
  } finally {
    await bench.close();
  }
});
