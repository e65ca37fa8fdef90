// One serial line for driver tests, over either transport of the virtual bench: a MockBinding
// port (in-process) or a socat pty pair opened with the real serialport bindings.
import { test as base, type TestInfo } from '@playwright/test';
import type { DriverLog, SerialBinding } from '../../drivers/serial.ts';
import { createPtyPair } from '../../sim/pty.ts';
import { VirtualUsbHub, openPtyDeviceLine, type DeviceLine, type MockDeviceLine, type UsbIdentity } from '../../sim/serial-devices.ts';

export type Transport = 'mock' | 'pty';
export const TRANSPORTS: Transport[] = ['mock', 'pty'];

export interface BenchLine {
  transport: Transport;
  /** What the driver opens. */
  hostPath: string;
  /** Undefined on a pty: the driver uses its default, the real bindings. */
  binding: SerialBinding | undefined;
  /** The far side, for the virtual firmware. */
  device: DeviceLine;
  /** Set on the mock transport only: DTR is visible there. */
  mock: MockDeviceLine | undefined;
}

let mockPorts = 0;

export async function openBenchLine(
  transport: Transport,
  testInfo: TestInfo,
  defer: Defer,
  identity: UsbIdentity = {},
): Promise<BenchLine> {
  if (transport === 'mock') {
    const hub = new VirtualUsbHub();
    // MockBinding keeps one table per process: paths must not repeat across tests in a worker.
    const hostPath = `/dev/ttyACM-mock-${testInfo.testId}-${++mockPorts}`;
    const mock = hub.plug(hostPath, identity);
    return { transport, hostPath, binding: hub.binding, device: mock, mock };
  }
  const pair = await createPtyPair(testInfo.outputPath(`pty-${++mockPorts}`));
  defer(() => pair.close());
  const device = await openPtyDeviceLine(pair.devicePath, () => pair.close());
  return { transport, hostPath: pair.hostPath, binding: undefined, device, mock: undefined };
}

/** A driver log that keeps what it was told, for assertions. */
export class RecordingLog implements DriverLog {
  readonly entries: Array<{ level: 'info' | 'warn'; message: string; detail?: Record<string, unknown> }> = [];
  info(message: string, detail?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, detail });
  }
  warn(message: string, detail?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, detail });
  }
}

export type Defer = (cleanup: () => Promise<unknown> | unknown) => void;

/** `defer(fn)` runs fn after the test, last registered first, even when the test failed. */
export const test = base.extend<{ defer: Defer }>({
  defer: async ({}, use) => {
    const cleanups: Array<() => Promise<unknown> | unknown> = [];
    await use((fn) => cleanups.push(fn));
    for (const fn of cleanups.reverse()) await fn();
  },
});
