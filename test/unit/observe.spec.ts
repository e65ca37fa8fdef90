// The device observation port (drivers/observe/) against the virtual debug port firmware
// (sim/observation-port.ts), over MockBinding and over a socat pty with the real serialport bindings.
import { expect, type TestInfo } from '@playwright/test';
import path from 'node:path';
import fc from '../support/fast-check.ts';
import { BUILT_IN_MANIFEST } from '../../firmware-images/manifest.ts';
import { loadProfile, type HanClientProfile } from '../../firmware-images/profiles.ts';
import type { RigFault } from '../../drivers/faults.ts';
import {
  HELD_KINDS,
  formatHeldLine,
  formatHeldTime,
  parseHeldTime,
  parseObservationAnswer,
  type Holding,
} from '../../drivers/observe/line-protocol.ts';
import { ObservationPort, type ObservationPortOptions } from '../../drivers/observe/serial-port.ts';
import { Air } from '../../sim/air.ts';
import { DiscreteEventClock } from '../../sim/clock.ts';
import { VirtualHanClient } from '../../sim/han-client.ts';
import { VirtualObservationFirmware, type ObservedHoldings } from '../../sim/observation-port.ts';
import { VirtualUsbHub } from '../../sim/serial-devices.ts';
import { RecordingLog, TRANSPORTS, openBenchLine, test, type Defer, type Transport } from '../support/serial-bench.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');

/** A PPMID after the previous occupier: top-ups and debt held, no messages. */
const holdings = (): ObservedHoldings => ({
  consumptionHistory: { count: 48, earliestRecordedAt: T0 - 86_400_000, latestRecordedAt: T0 },
  topUpHistory: { count: 3, earliestRecordedAt: T0 - 3_600_000, latestRecordedAt: T0 - 60_000.5 },
  debtRecovery: { count: 1, earliestRecordedAt: T0, latestRecordedAt: T0 },
  supplierMessages: { count: 0, earliestRecordedAt: null, latestRecordedAt: null },
});

async function benchPort(transport: Transport, testInfo: TestInfo, defer: Defer, options: ObservationPortOptions = {}, source = holdings) {
  const line = await openBenchLine(transport, testInfo, defer);
  const fw = new VirtualObservationFirmware(line.device, source, { description: 'virtual ppmid fw 1.0' });
  const log = new RecordingLog();
  const port = await ObservationPort.open(
    { path: line.hostPath },
    { binding: line.binding, log, where: 'observation port of PPMID "ppmid-1"', ...options },
  );
  defer(() => port.close());
  return { line, fw, log, port };
}

for (const transport of TRANSPORTS) {
  test.describe(`observation port over ${transport}`, () => {
    test('says hello, and reports each kind and all kinds from what the device holds', async ({ defer }, testInfo) => {
      const { port, fw } = await benchPort(transport, testInfo, defer);
      expect(await port.hello()).toEqual({ protocol: 1, description: 'virtual ppmid fw 1.0' });
      // Pipelined: answers come back in order and each settles its own command.
      const [topUps, messages, all] = await Promise.all([port.held('top-ups'), port.held('messages'), port.heldAll()]);
      expect(topUps).toEqual({ kind: 'top-ups', count: 3, earliestRecordedAt: T0 - 3_600_000, latestRecordedAt: T0 - 60_000.5 });
      expect(messages).toEqual({ kind: 'messages', count: 0, earliestRecordedAt: null, latestRecordedAt: null });
      expect(all).toEqual({
        'consumption-history': { kind: 'consumption-history', count: 48, earliestRecordedAt: T0 - 86_400_000, latestRecordedAt: T0 },
        'top-ups': topUps,
        debt: { kind: 'debt', count: 1, earliestRecordedAt: T0, latestRecordedAt: T0 },
        messages,
      });
      expect(fw.commands).toEqual(['hello', 'hold top-ups', 'hold messages', 'hold all']);
      expect(port.stats).toMatchObject({ strayLines: 0, malformedLines: 0, unsolicitedLines: 0 });
    });

    test('stray lines are counted and logged, never taken for answers', async ({ defer }, testInfo) => {
      const { port, fw, log } = await benchPort(transport, testInfo, defer);
      fw.emitGarbage('[00:00:01.000] <inf> boot: acme ppmid\r\nheld debt count=9\r\n');
      // Both lines parsed before the command goes out: otherwise the stray `held` would be its answer.
      await expect.poll(() => port.stats.lines).toBe(2);
      expect(await port.hello()).toMatchObject({ protocol: 1 });
      expect((await port.held('debt')).count).toBe(1);
      expect(port.stats).toMatchObject({ strayLines: 1, unsolicitedLines: 1 });
      expect(log.entries.map((e) => e.message)).toEqual(
        expect.arrayContaining(['line is not an answer', 'device answered with no command outstanding']),
      );
    });

    test('a malformed answer is counted, logged and a RigFault for that command only; the port stays usable', async ({
      defer,
    }, testInfo) => {
      const { port, fw, log } = await benchPort(transport, testInfo, defer);
      fw.answerNextWith(['held debt count=-1'], (c) => c === 'hold debt');
      const error = await port.held('debt').catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'observation-unavailable', where: 'observation port of PPMID "ppmid-1"' });
      expect((error as RigFault).message).toContain('malformed answer to "hold debt"');
      expect((error as RigFault).fix).toContain('gbcs-observe 1');

      fw.answerNextWith([
        'held consumption-history count=2 earliest=2026-02-30T00:00:00Z latest=2026-03-01T00:00:00Z',
        'held top-ups count=0',
        'held debt count=0',
        'held messages count=0',
        'held messages count=0',
        'end',
      ]);
      const all = await port.heldAll().catch((e: unknown) => e);
      expect(all).toMatchObject({ kind: 'observation-unavailable' });
      expect((all as RigFault).message).toContain('is not an ISO 8601 UTC time');
      expect((all as RigFault).message).toContain('2 "held messages" lines');

      expect(port.stats.malformedLines).toBe(2);
      expect(log.entries.filter((e) => e.message === 'malformed answer')).toHaveLength(2);
      expect(port.fault).toBeUndefined();
      expect((await port.held('debt')).count).toBe(1);
    });

    test('an err answer is an observation-refused fault with the reason', async ({ defer }, testInfo) => {
      const { port, fw } = await benchPort(transport, testInfo, defer);
      fw.refuseNext('debug port locked', (c) => c === 'hold all');
      const error = await port.heldAll().catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'observation-refused' });
      expect((error as RigFault).message).toContain('debug port locked');
      expect((await port.held('messages')).count).toBe(0);
    });

    test('no answer is an observation-unavailable fault, and later commands fail the same way', async ({ defer }, testInfo) => {
      const { port, fw } = await benchPort(transport, testInfo, defer, { answerTimeoutMs: 200 });
      await port.hello();
      fw.mute();
      const error = await port.held('consumption-history').catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'observation-unavailable' });
      expect((error as RigFault).message).toContain('no answer to "hold consumption-history" within 200 ms');
      await expect(port.heldAll()).rejects.toBe(error);
    });

    test('a port unplugged while a command is outstanding fails it with serial-port-lost', async ({ defer }, testInfo) => {
      const { port, fw } = await benchPort(transport, testInfo, defer, { answerTimeoutMs: 10_000 });
      fw.mute();
      const pending = port.heldAll().catch((e: unknown) => e);
      await fw.whenCommand('hold all');
      await fw.unplug();
      expect(await pending).toMatchObject({ kind: 'serial-port-lost' });
    });
  });
}

test.describe('observation port setup', () => {
  test('answers from a VirtualHanClient: observe() is the holdings source', async ({ defer }, testInfo) => {
    const clock = new DiscreteEventClock();
    const profile = (await loadProfile(
      path.join(path.dirname(BUILT_IN_MANIFEST), 'profiles', 'ppmid-conformant.yaml'),
    )) as HanClientProfile;
    const ppmid = new VirtualHanClient({
      clock,
      air: new Air(clock),
      profile,
      pan: 0x4b1d,
      self: { short: 0x4a02, ieee: '00:0d:6f:00:00:00:4a:02' },
      servers: [{ short: 0x0001, ieee: '00:db:12:34:56:78:00:01' }],
    });
    ppmid.power(true);
    ppmid.record('topUpHistory', { code: '12345678901234567890', amount: 1000, topUpAt: clock.now() });
    await clock.advanceTo(clock.now() + 90_000);
    ppmid.record('topUpHistory', { code: '09876543210987654321', amount: 500, topUpAt: clock.now() });
    const { port } = await benchPort('mock', testInfo, defer, {}, () => ppmid.observe());
    const seen = ppmid.observe();
    expect(await port.held('top-ups')).toEqual({
      kind: 'top-ups',
      count: 2,
      earliestRecordedAt: seen.topUpHistory.earliestRecordedAt,
      latestRecordedAt: seen.topUpHistory.latestRecordedAt,
    });
    expect((await port.heldAll()).debt.count).toBe(0);
  });

  test('a device speaking another protocol version is refused', async ({ defer }, testInfo) => {
    const { port, fw } = await benchPort('mock', testInfo, defer);
    fw.answerNextWith(['gbcs-observe 2 future ihd']);
    await expect(port.hello()).rejects.toMatchObject({
      kind: 'observation-unavailable',
      message: expect.stringContaining('protocol 2, the rig speaks 1'),
    });
  });

  test('opens by USB serial number; an unknown one or a missing path is observation-unavailable', async ({ defer }) => {
    const hub = new VirtualUsbHub();
    const device = hub.plug('/dev/ttyUSB-observe-0', { serialNumber: 'IHDDBG01', vendorId: '0403', productId: '6001' });
    new VirtualObservationFirmware(device, holdings);
    const port = await ObservationPort.open({ serialNumber: 'IHDDBG01' }, { binding: hub.binding });
    defer(() => port.close());
    expect(port.where).toBe('observation port with USB serial number "IHDDBG01"');
    expect((await port.held('debt')).count).toBe(1);

    const unknown = await ObservationPort.open({ serialNumber: 'IHDDBG99' }, { binding: hub.binding }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ kind: 'observation-unavailable' });
    expect((unknown as RigFault).message).toContain('/dev/ttyUSB-observe-0 (serial "IHDDBG01" 0403:6001)');
    const missing = await ObservationPort.open({ path: '/dev/ttyUSB-observe-missing' }, { binding: hub.binding }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: 'observation-unavailable', where: 'observation port /dev/ttyUSB-observe-missing' });
  });
});

test.describe('observation line protocol', () => {
  test('answer lines parse strictly; other lines are not answers', () => {
    expect(parseObservationAnswer('gbcs-observe 1 acme ihd-3 fw 2.4.1\r')).toEqual({
      kind: 'hello',
      protocol: 1,
      description: 'acme ihd-3 fw 2.4.1',
    });
    expect(parseObservationAnswer('held debt count=0')).toEqual({
      kind: 'held',
      holding: { kind: 'debt', count: 0, earliestRecordedAt: null, latestRecordedAt: null },
    });
    expect(parseObservationAnswer('held messages  count=2 earliest=2026-11-21T10:00:00.000001Z')).toEqual({
      kind: 'held',
      holding: { kind: 'messages', count: 2, earliestRecordedAt: T0 + 0.001, latestRecordedAt: null },
    });
    expect(parseObservationAnswer('end')).toEqual({ kind: 'end' });
    expect(parseObservationAnswer('err')).toEqual({ kind: 'err', reason: 'no reason given' });
    expect(parseObservationAnswer('err locked by vendor tool')).toEqual({ kind: 'err', reason: 'locked by vendor tool' });
    for (const stray of ['', 'ok', 'booting', 'holding debt count=1', 'ended'])
      expect(parseObservationAnswer(stray), stray).toBeUndefined();
    const malformed: Record<string, string> = {
      held: 'unknown kind ""',
      'held top-up count=1': 'unknown kind "top-up"',
      'held debt': 'is not count=',
      'held debt count=01': 'is not count=',
      'held debt count=1.5': 'is not count=',
      'held debt count=1 when=2026-11-21T10:00:00Z': 'unexpected field',
      'held debt count=2 latest=2026-11-21T10:00:00Z earliest=2026-11-20T10:00:00Z': 'repeated or out of order',
      'held debt count=2 earliest=2026-11-21T10:00:00Z earliest=2026-11-21T10:00:00Z': 'repeated or out of order',
      'held debt count=2 earliest=2026-11-21T10:00:00+01:00': 'not an ISO 8601 UTC time',
      'held debt count=2 earliest=2026-11-21 10:00:00Z': 'earliest="2026-11-21" is not an ISO 8601 UTC time',
      'held debt count=2 latest=2026-11-21T24:00:00Z': 'not an ISO 8601 UTC time',
      'held debt count=0 earliest=2026-11-21T10:00:00Z': 'count=0 with a recording time',
      'held debt count=2 earliest=2026-11-22T00:00:00Z latest=2026-11-21T00:00:00Z': 'earliest is after latest',
      'held debt count=1 earliest=2026-11-20T00:00:00Z latest=2026-11-21T00:00:00Z': 'count=1 but',
      'end now': 'takes nothing after it',
      'gbcs-observe one': 'not a positive whole number',
    };
    for (const [line, reason] of Object.entries(malformed)) {
      const answer = parseObservationAnswer(line);
      expect(answer?.kind, line).toBe('malformed');
      expect(answer && 'reason' in answer ? answer.reason : '', line).toContain(reason);
    }
  });

  test("times: only real instants parse; format and parse round-trip to the µs (until 2096, a double's µs limit)", () => {
    expect(parseHeldTime('2024-02-29T23:59:59.5Z')).toBe(Date.parse('2024-02-29T23:59:59.500Z'));
    expect(parseHeldTime('2026-02-29T00:00:00Z')).toBeUndefined();
    expect(parseHeldTime('2026-11-21T10:00:00.1234567Z')).toBeUndefined();
    expect(formatHeldTime(T0)).toBe('2026-11-21T10:00:00.000Z');
    expect(formatHeldTime(T0 + 0.25)).toBe('2026-11-21T10:00:00.000250Z');
    fc.assert(
      fc.property(
        fc.constantFrom(...HELD_KINDS),
        fc.nat({ max: 1e6 }),
        fc.integer({ min: 0, max: 4e15 }),
        fc.nat({ max: 10 * 365 * 86_400_000_000 }),
        (kind, count, earliestUs, spanUs) => {
          const earliest = earliestUs / 1000;
          const latest = count === 1 ? earliest : (earliestUs + spanUs) / 1000;
          const holding: Holding =
            count === 0
              ? { kind, count, earliestRecordedAt: null, latestRecordedAt: null }
              : { kind, count, earliestRecordedAt: earliest, latestRecordedAt: latest };
          expect(parseObservationAnswer(formatHeldLine(holding))).toEqual({ kind: 'held', holding });
        },
      ),
    );
  });
});
