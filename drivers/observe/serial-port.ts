// The device observation port: asks an IHD or PPMID over its vendor debug port what it holds
// (line-protocol.ts), because a cleared display is not on the air (DOMAIN.md §B, COT-4).
import { DelimiterParser } from '@serialport/parser-delimiter';
import { CommandQueue, type Outstanding } from '../command-queue.ts';
import { RigFault } from '../faults.ts';
import { openSerialLink, silentLog, type DriverLog, type SerialBinding, type SerialLink, type SerialLocation } from '../serial.ts';
import {
  HELD_KINDS,
  OBSERVE_PROTOCOL_NAME,
  OBSERVE_PROTOCOL_VERSION,
  formatObservationCommand,
  parseObservationAnswer,
  type HeldKind,
  type Holding,
  type Holdings,
  type ObservationAnswer,
  type ObservationCommand,
} from './line-protocol.ts';

export interface ObservationPortOptions {
  /** Names the port in faults and logs, e.g. `observation port of IHD "ihd-1"`. */
  where?: string;
  log?: DriverLog;
  /** How long a command may go unanswered before the port counts as unavailable (default 2000 ms). */
  answerTimeoutMs?: number;
}

export interface ObservationPortStats {
  lines: number;
  answers: number;
  /** Lines that are not answers (boot banner, log output): counted and logged, never fatal. */
  strayLines: number;
  /** Lines that start like an answer but break the protocol: the command they answer yields no facts. */
  malformedLines: number;
  /** Answers with no command outstanding. */
  unsolicitedLines: number;
}

type Expecting = 'hello' | HeldKind | 'all';

type CommandState = {
  expecting: Expecting;
  /** `hold all` collects its `held` lines, and the reasons of any malformed ones, until `end`. */
  collected: Holding[];
  malformed: string[];
};

type PendingCommand = Outstanding<ObservationAnswer | Holding[], CommandState>;

const MALFORMED_FIX =
  "The device's debug port does not speak gbcs-observe 1 as documented (drivers/observe/line-protocol.ts): ask the vendor for firmware that does, or observe through the operator prompt.";

export class ObservationPort {
  readonly where: string;
  readonly stats: ObservationPortStats = { lines: 0, answers: 0, strayLines: 0, malformedLines: 0, unsolicitedLines: 0 };
  readonly #commands: CommandQueue<ObservationAnswer | Holding[], CommandState>;
  readonly #log: DriverLog;
  readonly #answerTimeoutMs: number;

  /** Opens the port by path or USB serial number (binding: MockBinding or a pty on the virtual bench). */
  static async open(
    location: SerialLocation,
    options: ObservationPortOptions & { binding?: SerialBinding; baudRate?: number } = {},
  ): Promise<ObservationPort> {
    const where =
      options.where ??
      ('path' in location ? `observation port ${location.path}` : `observation port with USB serial number "${location.serialNumber}"`);
    let link: SerialLink;
    try {
      // serial.ts knows the roles sniffer and radio only; its unavailable fault is renamed below.
      link = await openSerialLink(location, {
        role: 'radio',
        where,
        binding: options.binding,
        baudRate: options.baudRate,
        log: options.log,
      });
    } catch (error) {
      if (!(error instanceof RigFault) || error.kind !== 'radio-unavailable') throw error;
      throw new RigFault('observation-unavailable', error.where, error.message.slice(error.where.length + 2), error.fix, {
        cause: error.cause,
      });
    }
    return new ObservationPort(link, { ...options, where });
  }

  constructor(
    readonly link: SerialLink,
    options: ObservationPortOptions = {},
  ) {
    this.where = options.where ?? link.where;
    this.#log = options.log ?? silentLog;
    this.#answerTimeoutMs = options.answerTimeoutMs ?? 2000;
    const lines = link.port.pipe(new DelimiterParser({ delimiter: '\n' }));
    // latin1 keeps one char per byte, so garbage never throws and previews stay faithful.
    lines.on('data', (line: Buffer) => this.#onLine(line.toString('latin1').replace(/\r+$/, '')));
    this.#commands = new CommandQueue({
      where: this.where,
      what: 'observation port',
      timeoutMs: this.#answerTimeoutMs,
      write: (line) => link.write(line),
      noAnswer: (line) =>
        new RigFault(
          'observation-unavailable',
          this.where,
          `no answer to "${line}" within ${this.#answerTimeoutMs} ms`,
          'Check the device is powered, its debug port is wired to the path in the rig file and speaks gbcs-observe 1; reopen the port (its answers are now out of step).',
        ),
      cannotWrite: (line, error) =>
        new RigFault(
          'observation-unavailable',
          this.where,
          `cannot write "${line}": ${error.message}`,
          'Check the debug port connection.',
          { cause: error },
        ),
    });
    link.onLost((lost) => this.#commands.fail(lost));
  }

  get fault(): RigFault | undefined {
    return this.#commands.fault;
  }

  /** Asks the device who it is; refuses a port that speaks another protocol version. */
  async hello(): Promise<{ protocol: number; description: string }> {
    const answer = (await this.#send({ kind: 'hello' }, 'hello')) as ObservationAnswer;
    if (answer.kind !== 'hello') throw this.#outOfStep('hello', answer);
    if (answer.protocol !== OBSERVE_PROTOCOL_VERSION) {
      throw new RigFault(
        'observation-unavailable',
        this.where,
        `device speaks ${OBSERVE_PROTOCOL_NAME} protocol ${answer.protocol}, the rig speaks ${OBSERVE_PROTOCOL_VERSION}`,
        'Use device firmware whose debug port speaks the protocol of this gbcs-rig version, or observe through the operator prompt.',
      );
    }
    return { protocol: answer.protocol, description: answer.description };
  }

  /** What the device holds of one kind now. */
  async held(kind: HeldKind): Promise<Holding> {
    const answer = (await this.#send({ kind: 'hold', what: kind }, kind)) as ObservationAnswer;
    if (answer.kind !== 'held') throw this.#outOfStep(`hold ${kind}`, answer);
    return answer.holding;
  }

  /** What the device holds of every kind now, from one `hold all` (one instant, not four). */
  async heldAll(): Promise<Holdings> {
    const collected = (await this.#send({ kind: 'hold', what: 'all' }, 'all')) as Holding[];
    return Object.fromEntries(collected.map((h) => [h.kind, h])) as Holdings;
  }

  async close(): Promise<void> {
    if (this.#commands.closed) return;
    this.#commands.close();
    await this.link.close();
  }

  #send(command: ObservationCommand, expecting: Expecting): Promise<ObservationAnswer | Holding[]> {
    return this.#commands.send(formatObservationCommand(command), { expecting, collected: [], malformed: [] });
  }

  #onLine(text: string): void {
    const lineNo = ++this.stats.lines;
    const answer = parseObservationAnswer(text);
    if (!answer) {
      this.stats.strayLines++;
      this.#log.info('line is not an answer', { where: this.where, line: lineNo, preview: preview(text) });
      return;
    }
    if (answer.kind === 'malformed') {
      this.stats.malformedLines++;
      this.#log.warn('malformed answer', { where: this.where, line: lineNo, reason: answer.reason, preview: preview(text) });
    }
    const pending = this.#commands.head;
    if (!pending) {
      this.stats.unsolicitedLines++;
      this.#log.warn('device answered with no command outstanding', { where: this.where, line: lineNo, preview: preview(text) });
      return;
    }
    this.stats.answers++;
    if (pending.expecting === 'all' && (answer.kind === 'held' || answer.kind === 'malformed')) {
      // One line of a longer answer: the command stays outstanding until `end`.
      if (answer.kind === 'held') pending.collected.push(answer.holding);
      else pending.malformed.push(`${answer.reason} (${preview(text)})`);
      return;
    }
    this.#commands.shift();
    if (answer.kind === 'err') {
      pending.reject(
        new RigFault(
          'observation-refused',
          this.where,
          `device refused "${pending.line}": ${answer.reason}`,
          'Read the reason: a device that locks its debug port (e.g. while busy) may answer on retry; otherwise observe through the operator prompt.',
        ),
      );
    } else if (answer.kind === 'malformed') {
      pending.reject(
        new RigFault(
          'observation-unavailable',
          this.where,
          `malformed answer to "${pending.line}": ${answer.reason} (${preview(text)})`,
          MALFORMED_FIX,
        ),
      );
    } else if (pending.expecting === 'all' && answer.kind === 'end') {
      this.#finishAll(pending);
    } else if (answer.kind === 'held' && answer.holding.kind !== pending.expecting) {
      pending.reject(this.#outOfStep(pending.line, answer));
    } else {
      pending.resolve(answer);
    }
  }

  /** `hold all` is good only with each kind exactly once and nothing malformed. */
  #finishAll(pending: PendingCommand): void {
    const problems = [...pending.malformed];
    for (const kind of HELD_KINDS) {
      const n = pending.collected.filter((h) => h.kind === kind).length;
      if (n !== 1) problems.push(n === 0 ? `no "held ${kind}" line` : `${n} "held ${kind}" lines`);
    }
    if (!problems.length) return pending.resolve(pending.collected);
    pending.reject(
      new RigFault('observation-unavailable', this.where, `malformed answer to "hold all": ${problems.join('; ')}`, MALFORMED_FIX),
    );
  }

  #outOfStep(command: string, answer: ObservationAnswer): RigFault {
    const fault = new RigFault(
      'observation-unavailable',
      this.where,
      `unexpected answer to "${command}": ${JSON.stringify(answer)}`,
      MALFORMED_FIX,
    );
    this.#commands.fail(fault);
    return fault;
  }
}

const preview = (text: string): string => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
