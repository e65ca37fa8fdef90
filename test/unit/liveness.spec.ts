// Heard before judged (harness/liveness.ts): which frames count as a device heard. The HAN coordinator's short
// address is the CH's, never that of the GPF inside it — a CH's beacon must not make a silent GPF "alive".
import { expect, test } from '@playwright/test';
import type { Capture } from '../../harness/capture.ts';
import type { EvidenceLog } from '../../harness/evidence.ts';
import type { HandHeldTerminal } from '../../harness/hht.ts';
import { Liveness } from '../../harness/liveness.ts';
import type { BenchPower } from '../../harness/power.ts';
import type { DecodedFrame } from '../../protocol/decoded.ts';
import type { RigDevice } from '../../rigs/load.ts';

const CH = { id: 'ch', role: 'CH', ieee: '00:db:12:34:56:78:90:a2' } as RigDevice;
const GPF = { id: 'ch-gpf', role: 'CH', inside: 'ch', ieee: '00:db:12:34:56:78:90:a3' } as RigDevice;
/** The GPF's short address on the HAN, as the capture learned it. */
const GPF_SHORT = 0x5a17;

const liveness = () => {
  const capture = {
    isFrom: (f: DecodedFrame, ieee: string) => f.nwk?.src64 === ieee,
    shortOf: (ieee: string) => (ieee === GPF.ieee ? GPF_SHORT : undefined),
  } as unknown as Capture;
  return new Liveness(capture, {} as HandHeldTerminal, {} as BenchPower, {} as EvidenceLog, 0, 11);
};
const frame = (src: string, src64?: string) => ({ mac: { src }, ...(src64 && { nwk: { src64 } }) }) as unknown as DecodedFrame;

test("the coordinator's frames are the CH's, not its GPF's; the GPF is heard by its own addresses", () => {
  const live = liveness();
  const beacon = frame('0x0000');
  expect(live.isFrom(beacon, CH)).toBe(true);
  expect(live.isFrom(beacon, GPF)).toBe(false);
  expect(live.isFrom(frame('0x5a17'), GPF)).toBe(true);
  expect(live.isFrom(frame('0x0000', GPF.ieee), GPF)).toBe(true);
  expect(live.isFrom(frame('0x5a17'), CH)).toBe(false);
});
