// The virtual IHD's or PPMID's debug port: answers the gbcs-observe line protocol (documented in
// drivers/observe/line-protocol.ts) from what the virtual device holds. Written apart from
// drivers/ on purpose (sim never imports drivers): two implementations that must agree.
import type { TenancyDataKind } from '../firmware-images/profiles.ts';
import { isoFromMsShort } from '../protocol/iso-time.ts';
import type { HeldSummary } from './han-client.ts';
import type { DeviceLine } from './serial-devices.ts';

/** What the device holds, per kind: VirtualHanClient.observe() is one. */
export type ObservedHoldings = Record<TenancyDataKind, HeldSummary>;

/** The protocol's name for each kind, in the order `hold all` answers. */
const WIRE_KINDS: ReadonlyArray<readonly [string, TenancyDataKind]> = [
  ['consumption-history', 'consumptionHistory'],
  ['top-ups', 'topUpHistory'],
  ['debt', 'debtRecovery'],
  ['messages', 'supplierMessages'],
];

export interface VirtualObservationOptions {
  /** The free text after "gbcs-observe 1" in the hello answer. */
  description?: string;
}

function heldLine(kind: string, s: HeldSummary): string {
  const earliest = s.count > 0 && s.earliestRecordedAt !== null ? ` earliest=${isoFromMsShort(s.earliestRecordedAt)}` : '';
  const latest = s.count > 0 && s.latestRecordedAt !== null ? ` latest=${isoFromMsShort(s.latestRecordedAt)}` : '';
  return `held ${kind} count=${s.count}${earliest}${latest}`;
}

type Waiter = { command: string; nth: number; resolve: () => void };

/** The gbcs-observe debug port firmware, as seen from its serial line. */
export class VirtualObservationFirmware {
  readonly #commands: string[] = [];
  #waiters: Waiter[] = [];
  #buffer = '';
  #afterCr = false;
  #refusals: Array<{ reason: string; matches: (command: string) => boolean }> = [];
  #replacements: Array<{ lines: string[]; matches: (command: string) => boolean }> = [];
  #mute = false;

  constructor(
    readonly line: DeviceLine,
    private readonly source: () => ObservedHoldings,
    private readonly options: VirtualObservationOptions = {},
  ) {
    line.onReceive((bytes) => this.#push(bytes));
  }

  /** Every non-empty command line received, in order. */
  get commands(): readonly string[] {
    return this.#commands;
  }

  get bytesWritten(): number {
    return this.line.bytesWritten;
  }

  /** Resolves once this exact command line has been handled `nth` times. */
  whenCommand(command: string, nth = 1): Promise<void> {
    if (this.#count(command) >= nth) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ command, nth, resolve }));
  }

  /** Fault injector: answer `err <reason>` to the next command that matches (all commands by default). */
  refuseNext(reason: string, matches: (command: string) => boolean = () => true): void {
    this.#refusals.push({ reason, matches });
  }

  /** Fault injector: send these raw lines instead of the answer to the next command that matches. */
  answerNextWith(lines: string[], matches: (command: string) => boolean = () => true): void {
    this.#replacements.push({ lines, matches });
  }

  /** Fault injector: stop answering commands (a hung debug port). */
  mute(): void {
    this.#mute = true;
  }

  /** Fault injector: raw bytes on the line (a log line, noise, a half line). */
  emitGarbage(text: string | Uint8Array): void {
    this.line.write(text);
  }

  async unplug(): Promise<void> {
    await this.line.unplug();
  }

  /** Assembles command lines as a shell does: "\r", "\n" or "\r\n" ends one. */
  #push(bytes: Buffer): void {
    for (const ch of bytes.toString('latin1')) {
      if (ch === '\n' && this.#afterCr) {
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = ch === '\r';
      if (ch !== '\r' && ch !== '\n') {
        this.#buffer += ch;
        continue;
      }
      const command = this.#buffer.trim();
      this.#buffer = '';
      if (command) this.#execute(command);
    }
  }

  #execute(command: string): void {
    this.#commands.push(command);
    this.#waiters = this.#waiters.filter((w) => (this.#count(w.command) >= w.nth ? (w.resolve(), false) : true));
    if (this.#mute) return;
    const refusal = this.#refusals.findIndex((r) => r.matches(command));
    if (refusal >= 0) return this.#write([`err ${this.#refusals.splice(refusal, 1)[0].reason}`]);
    const replacement = this.#replacements.findIndex((r) => r.matches(command));
    if (replacement >= 0) return this.#write(this.#replacements.splice(replacement, 1)[0].lines);
    this.#write(this.#answer(command));
  }

  #answer(command: string): string[] {
    const [name, arg, extra] = command.split(/\s+/);
    if (name === 'hello' && arg === undefined) return [`gbcs-observe 1 ${this.options.description ?? 'virtual'}`];
    if (name !== 'hold') return [`err unknown command ${name}`];
    if (arg === undefined || extra !== undefined) return ['err hold <kind> | hold all'];
    // Read once: `hold all` reports one instant, as a device answering from its own memory does.
    const held = this.source();
    if (arg === 'all') return [...WIRE_KINDS.map(([wire, kind]) => heldLine(wire, held[kind])), 'end'];
    const kind = WIRE_KINDS.find(([wire]) => wire === arg);
    return kind ? [heldLine(arg, held[kind[1]])] : [`err unknown kind ${arg}`];
  }

  #write(lines: string[]): void {
    this.line.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  #count(command: string): number {
    return this.#commands.filter((c) => c === command).length;
  }
}
