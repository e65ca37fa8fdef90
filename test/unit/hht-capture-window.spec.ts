// The HHT waits for its own transmission on the sniffers as long as the lab's captureWithinSeconds,
// the rule the report names for every expected frame (not a fixed 2 s of its own).
import { test, expect } from '@playwright/test';
import { RigFault } from '../../drivers/faults.ts';
import { HandHeldTerminal } from '../../harness/hht.ts';

type Parts = ConstructorParameters<typeof HandHeldTerminal>;

/** An HHT whose sniffers never hear anything: records how long each wait was allowed. */
function deafHht(captureWithinMs: number) {
  const waits: number[] = [];
  const radio = { transmit: async () => {} } as unknown as Parts[0];
  const capture = {
    waitFor: async (_match: unknown, withinMs: number) => {
      waits.push(withinMs);
      return undefined;
    },
  } as unknown as Parts[1];
  const evidence = { event: () => {} } as unknown as Parts[2];
  const clock = { now: () => Date.UTC(2026, 11, 7) } as unknown as Parts[3];
  const identity = { ieee: '00:db:12:34:56:78:90:f0', entityId: '00:db:12:34:56:78:90:f0' } as Parts[4];
  const hht = new HandHeldTerminal(
    radio,
    capture,
    evidence,
    clock,
    identity,
    { ieee: '00:db:12:34:56:78:90:a2' } as Parts[5],
    captureWithinMs,
  );
  return { hht, waits };
}

for (const seconds of [5, 12]) {
  test(`with captureWithinSeconds ${seconds}, an own transmission unheard for ${seconds} s is a rig fault that names the setting`, async () => {
    const { hht, waits } = deafHht(seconds * 1000);
    const e = await hht.requestBeacons().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RigFault);
    expect(e).toMatchObject({ kind: 'radio-unavailable', where: 'rig radio' });
    expect((e as RigFault).message).toContain(`within the lab's captureWithinSeconds (${seconds} s)`);
    expect(waits).toEqual([seconds * 1000]);
  });
}
