// The gbcs-rig radio: transmits as a hand held terminal and reports what it hears, over the
// project's own line protocol (line-protocol.ts), whose frame lines are the `received:` lines
// (drivers/received-lines.ts). One kind in drivers/radio/registry.ts.
import { CommandQueue } from '../command-queue.ts';
import { RigFault } from '../faults.ts';
import { ReceivedLineReader, type ReceivedLineStats } from '../received-lines.ts';
import { openSerialLink, silentLog, type DriverLog, type SerialBinding, type SerialLink, type SerialLocation } from '../serial.ts';
import type { SniffedFrame, SnifferTimeAnchor } from '../sniffer/sniffer.ts';
import {
  MAX_TX_PSDU,
  RADIO_PROTOCOL_NAME,
  RADIO_PROTOCOL_VERSION,
  formatRadioCommand,
  ieeeForRadio,
  parseRadioAnswer,
  type RadioAnswer,
  type RadioCommand,
} from './line-protocol.ts';
import { radioKind, type Radio } from './radio.ts';

export interface RigRadioOptions {
  /** Names the radio in faults and logs; defaults to `radio <path>`. */
  where?: string;
  log?: DriverLog;
  /** Bench time in ms, for the time anchor of received frames. */
  now?: () => number;
  /** How long a command may go unanswered before the radio counts as unavailable (default 2000 ms). */
  answerTimeoutMs?: number;
}

export class RigRadio implements Radio {
  readonly where: string;
  #reader: ReceivedLineReader;
  readonly #commands: CommandQueue<RadioAnswer>;
  #channel: number | undefined;
  #receiving = false;
  readonly #log: DriverLog;
  readonly #answerTimeoutMs: number;
  #probe: NodeJS.Timeout | undefined;
  #firmware: string | undefined;

  /** Opens the radio by path or USB serial number (binding: MockBinding or a pty on the virtual bench). */
  static async open(
    location: SerialLocation,
    options: RigRadioOptions & { binding?: SerialBinding; baudRate?: number } = {},
  ): Promise<RigRadio> {
    const link = await openSerialLink(location, {
      role: 'radio',
      where: options.where,
      binding: options.binding,
      baudRate: options.baudRate,
      log: options.log,
    });
    const radio = new RigRadio(link, options);
    // Asked once at open: a radio that speaks another protocol is refused before any case, and the report names its firmware.
    try {
      await radio.version();
    } catch (e) {
      await radio.close().catch(() => {});
      throw e;
    }
    return radio;
  }

  constructor(
    readonly link: SerialLink,
    options: RigRadioOptions = {},
  ) {
    this.where = options.where ?? link.where;
    this.#log = options.log ?? silentLog;
    this.#answerTimeoutMs = options.answerTimeoutMs ?? 2000;
    this.#reader = new ReceivedLineReader(link, {
      where: this.where,
      log: this.#log,
      now: options.now ?? Date.now,
      channel: () => this.#channel ?? 0,
      claimLine: (text, line) => this.#onAnswerLine(text, line),
    });
    this.#commands = new CommandQueue<RadioAnswer>({
      where: this.where,
      what: 'radio',
      timeoutMs: this.#answerTimeoutMs,
      write: (line) => link.write(line),
      noAnswer: (line) =>
        new RigFault(
          'radio-unavailable',
          this.where,
          `no answer to "${abbreviate(line)}" within ${this.#answerTimeoutMs} ms`,
          'Check the rig radio is powered and runs the gbcs-rig radio firmware; reopen it (its answers are now out of step).',
        ),
      cannotWrite: (line, error) =>
        new RigFault(
          'radio-unavailable',
          this.where,
          `cannot write "${abbreviate(line)}": ${error.message}`,
          'Check the rig radio connection.',
          { cause: error },
        ),
    });
    // A lost port also ends the stream of received frames.
    this.#commands.onFault((fault) => {
      if (fault.kind === 'serial-port-lost') this.#reader.end(fault);
    });
    link.onLost((lost) => this.#commands.fail(lost));
  }

  get location(): string {
    return this.link.path;
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get receiving(): boolean {
    return this.#receiving;
  }

  get stats(): Readonly<ReceivedLineStats> {
    return this.#reader.stats;
  }

  get anchor(): SnifferTimeAnchor | undefined {
    return this.#reader.anchor;
  }

  get fault(): RigFault | undefined {
    return this.#commands.fault;
  }

  /** Asks the firmware who it is; refuses a radio that speaks another protocol version. */
  async version(): Promise<{ protocol: number; description: string }> {
    const answer = await this.#send({ kind: 'version' });
    if (answer.kind !== 'version') throw this.#outOfStep('version', answer);
    if (answer.protocol !== RADIO_PROTOCOL_VERSION) {
      throw new RigFault(
        'radio-unavailable',
        this.where,
        `radio speaks ${RADIO_PROTOCOL_NAME} protocol ${answer.protocol}, the rig speaks ${RADIO_PROTOCOL_VERSION}`,
        'Flash the rig radio firmware that matches this gbcs-rig version.',
      );
    }
    this.#firmware = `${RADIO_PROTOCOL_NAME} protocol ${answer.protocol}${answer.description ? `, ${answer.description}` : ''}`;
    return { protocol: answer.protocol, description: answer.description };
  }

  /** The firmware as its last `version` answer described it. */
  get firmware(): string | undefined {
    return this.#firmware;
  }

  async identify(): Promise<string> {
    await this.version();
    return this.#firmware ?? '';
  }

  /**
   * Asks the radio `version` every `everyMs` (wall time, so on hardware only): a radio that stops
   * answering is then a fault within seconds, not at the next transmission hours later.
   */
  startProbe(everyMs: number): void {
    this.stopProbe();
    this.#probe = setInterval(() => {
      if (this.fault || this.#commands.closed) return this.stopProbe();
      // A refusal or silence is recorded as the queue's fault; the bench watchdog reads it.
      this.version().catch(() => {});
    }, everyMs);
    // A watchdog must not keep the process alive on its own.
    this.#probe.unref();
  }

  stopProbe(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
  }

  async setChannel(channel: number): Promise<void> {
    if (!Number.isInteger(channel) || channel < 11 || channel > 26) {
      throw new Error(`${this.where}: channel ${channel} is not a 2.4 GHz 802.15.4 channel (11–26)`);
    }
    await this.#expectOk({ kind: 'channel', channel });
    // Answers arrive in order, so frame lines parsed after this `ok` were heard on the new channel.
    this.#channel = channel;
  }

  /** The radio's own IEEE address (`00:0d:6f:…` or 16 hex digits, most significant first). */
  async setIeee(ieee: string): Promise<void> {
    await this.#expectOk({ kind: 'ieee', ieee: ieeeForRadio(ieee) });
  }

  async setPan(pan: number): Promise<void> {
    if (!Number.isInteger(pan) || pan < 0 || pan > 0xffff) throw new Error(`${this.where}: PAN id ${pan} is not 16-bit`);
    await this.#expectOk({ kind: 'pan', pan });
  }

  /** Starts or stops reporting received frames (see onFrame / frames). */
  async receive(on: boolean): Promise<void> {
    if (on && this.#channel === undefined) throw new Error(`${this.where}: set a channel before receiving`);
    await this.#expectOk({ kind: 'receive', on });
    this.#receiving = on;
  }

  /** Puts one PSDU (without FCS: the radio appends it) on air; resolves once the radio says it went out. */
  async transmit(psdu: Uint8Array): Promise<void> {
    if (psdu.length < 1 || psdu.length > MAX_TX_PSDU) {
      throw new Error(`${this.where}: a PSDU without FCS has 1..${MAX_TX_PSDU} bytes, this one has ${psdu.length}`);
    }
    if (this.#channel === undefined) throw new Error(`${this.where}: set a channel before transmitting`);
    await this.#expectOk({ kind: 'tx', psdu });
  }

  onFrame(listener: (frame: SniffedFrame) => void): () => void {
    return this.#reader.onFrame(listener);
  }

  frames(): AsyncIterableIterator<SniffedFrame> {
    return this.#reader.frames();
  }

  toBenchTime(snifferUs: bigint): number {
    return this.#reader.toBenchTime(snifferUs);
  }

  /** The virtual clock's drain barrier (Drainable). */
  drain(options?: { receivedBytes?: number }): Promise<void> {
    return this.#reader.drain(options);
  }

  async close(): Promise<void> {
    this.stopProbe();
    if (this.#commands.closed) return;
    this.#commands.close();
    await this.link.close();
    this.#reader.end(this.#commands.fault);
  }

  async #expectOk(command: RadioCommand): Promise<void> {
    const answer = await this.#send(command);
    if (answer.kind !== 'ok') throw this.#outOfStep(formatRadioCommand(command), answer);
  }

  #send(command: RadioCommand): Promise<RadioAnswer> {
    return this.#commands.send(formatRadioCommand(command), {});
  }

  #onAnswerLine(text: string, line: number): boolean {
    const answer = parseRadioAnswer(text);
    if (!answer) return false;
    const pending = this.#commands.shift();
    if (!pending) {
      this.#log.warn('radio answered with no command outstanding', { where: this.where, line, text });
      return false;
    }
    if (answer.kind === 'err') {
      pending.reject(
        new RigFault(
          'radio-refused',
          this.where,
          `radio refused "${abbreviate(pending.line)}": ${answer.reason}`,
          'Read the reason: a busy channel or missing ACK may clear on retry; anything else is a rig setup problem.',
        ),
      );
    } else {
      pending.resolve(answer);
    }
    return true;
  }

  #outOfStep(command: string, answer: RadioAnswer): RigFault {
    const fault = new RigFault(
      'radio-unavailable',
      this.where,
      `unexpected answer to "${abbreviate(command)}": ${JSON.stringify(answer)}`,
      'The radio firmware does not speak the gbcs-rig radio protocol as documented: reflash it.',
    );
    this.#commands.fail(fault);
    return fault;
  }
}

const abbreviate = (line: string): string => (line.length > 40 ? `${line.slice(0, 40)}…` : line);

/** Its row in drivers/radio/registry.ts; its virtual twin is sim/serial-devices.ts's VirtualRigRadioFirmware. */
export const gbcsRigRadio = radioKind({
  kind: 'gbcs-rig-radio',
  title: 'an 802.15.4 dongle running firmware that speaks the gbcs-rig radio line protocol',
  fields: {},
  open: (location, _radio, how) => RigRadio.open(location, how),
  virtualTwin: 'gbcs-rig-radio',
});
