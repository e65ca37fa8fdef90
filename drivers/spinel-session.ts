// A Spinel session with an OpenThread radio co-processor (RCP) over a serial line: HDLC-lite framing
// both ways (protocol/spinel.ts), transaction ids 1–15 matching each reply to its command,
// unsolicited frames (TID 0) to listeners, the RCP's reset announcements, and every framing defect
// counted and logged, never a crash. The `ot-rcp` radio and sniffer kinds each hold one.
import { Reader, hex } from '../protocol/bytes.ts';
import {
  HdlcDecoder,
  SPINEL_CMD,
  SPINEL_PROP,
  SPINEL_RESET,
  decodeSpinel,
  decodeTransmitDone,
  encodeSpinel,
  hdlcEncode,
  isResetStatus,
  propertyPayload,
  readPacked,
  readProperty,
  statusName,
  type HdlcDefect,
  type HdlcStats,
  type SpinelFrame,
  type TransmitDone,
} from '../protocol/spinel.ts';
import { RigFault, type RigFaultKind } from './faults.ts';
import { silentLog, type DriverLog, type SerialLink } from './serial.ts';

/** The first transaction id a command may carry: TID 0 is for unsolicited frames, and an RCP never answers a STREAM_RAW sent with it. */
const FIRST_TID = 1;
const LAST_TID = 15;

/** Names a property in errors and logs: `PHY_CHAN`, else its number. */
export function propertyName(prop: number): string {
  return Object.entries(SPINEL_PROP).find(([, id]) => id === prop)?.[0] ?? `property 0x${prop.toString(16)}`;
}

export interface SpinelSessionOptions {
  /** Names the part in faults and logs, e.g. `rig radio`. */
  where: string;
  /** What it is to the bench: picks the fault kinds. */
  role: 'radio' | 'sniffer';
  log?: DriverLog;
  /** How long a command may go unanswered (default 2000 ms): then the RCP counts as gone. */
  replyTimeoutMs?: number;
}

/** A framing defect or an undecodable Spinel frame: the raw bytes and why. */
export interface SpinelDefect {
  /** The defect's number among all units (good frames and defects) on the stream. */
  unit: number;
  reason: string;
  raw: Uint8Array;
}

type Pending = {
  tid: number;
  what: string;
  resolve: (frame: SpinelFrame) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
};

export class SpinelSession {
  readonly where: string;
  readonly #decoder: HdlcDecoder;
  readonly #log: DriverLog;
  readonly #timeoutMs: number;
  readonly #role: 'radio' | 'sniffer';
  #pending = new Map<number, Pending>();
  /** Transaction ids taken, from allocation until the command settled. */
  #inUse = new Set<number>();
  /** Commands waiting for a free transaction id (15 at most are outstanding). */
  #waiting: Array<() => void> = [];
  #nextTid = FIRST_TID;
  #fault: RigFault | undefined;
  #closed = false;
  #received = 0;
  #units = 0;
  #unsolicited = new Set<(frame: SpinelFrame, unit: number) => void>();
  #defectListeners = new Set<(defect: SpinelDefect) => void>();
  #faultListeners = new Set<(fault: RigFault) => void>();
  #chunkListeners = new Set<() => void>();
  /** While opening (or while a reset is awaited) a reset announcement is expected; after that it is a fault. */
  #resetExpected = true;
  #resetWaiter: { resolve: (status: number) => void; reject: (error: unknown) => void } | undefined;
  #resets = 0;

  constructor(
    readonly link: SerialLink,
    options: SpinelSessionOptions,
  ) {
    this.where = options.where;
    this.#log = options.log ?? silentLog;
    this.#timeoutMs = options.replyTimeoutMs ?? 2000;
    this.#role = options.role;
    this.#decoder = new HdlcDecoder(
      (frame) => this.#onFrame(frame),
      (defect, raw) => this.#onDefect(defect, raw),
    );
    link.port.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      this.#decoder.push(chunk);
      for (const listener of this.#chunkListeners) listener();
    });
    // A sniffer's lost port is a stopped sniffer (frames after it were not captured), as for every sniffer kind.
    link.onLost((lost) =>
      this.fail(
        this.#role === 'radio'
          ? lost
          : new RigFault(
              'sniffer-stopped',
              this.where,
              `stopped: ${lost.message}`,
              'Frames after this point were not captured: re-plug or replace the sniffer and re-run the test.',
              { cause: lost },
            ),
      ),
    );
  }

  /** Bytes received so far: the drain barrier's position (every complete frame among them is already handled). */
  get received(): number {
    return this.#received;
  }

  get stats(): Readonly<HdlcStats> {
    return this.#decoder.stats;
  }

  /** Reset announcements seen since the session opened. */
  get resets(): number {
    return this.#resets;
  }

  get fault(): RigFault | undefined {
    return this.#fault;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Unsolicited frames (TID 0) other than reset announcements: received STREAM_RAW, logs. */
  onUnsolicited(listener: (frame: SpinelFrame, unit: number) => void): () => void {
    this.#unsolicited.add(listener);
    return () => this.#unsolicited.delete(listener);
  }

  /** Called after each chunk from the line is parsed (every complete frame in it handled): drain barriers settle here. */
  onParsed(listener: () => void): () => void {
    this.#chunkListeners.add(listener);
    return () => this.#chunkListeners.delete(listener);
  }

  /** Input that was not a usable frame: a bad FCS, a runt, a bad escape, a frame that is not Spinel. */
  onDefect(listener: (defect: SpinelDefect) => void): () => void {
    this.#defectListeners.add(listener);
    return () => this.#defectListeners.delete(listener);
  }

  /** Called once with the fault that ended the session. */
  onFault(listener: (fault: RigFault) => void): () => void {
    if (this.#fault) queueMicrotask(() => listener(this.#fault!));
    else this.#faultListeners.add(listener);
    return () => this.#faultListeners.delete(listener);
  }

  /**
   * Resets the RCP's radio stack (CMD_RESET STACK: the USB link stays up) and waits for its
   * announcement, so every setting starts from the firmware's defaults. Resolves with the status.
   */
  async reset(): Promise<number> {
    this.#assertUsable();
    this.#resetExpected = true;
    const announced = new Promise<number>((resolve, reject) => {
      // fail() rejects the waiter, the timeout's fault included.
      const timer = setTimeout(
        () => this.fail(this.#noAnswerFault('CMD_RESET', `no reset announcement (LAST_STATUS RESET_*) within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      const settle = () => {
        clearTimeout(timer);
        this.#resetWaiter = undefined;
      };
      this.#resetWaiter = {
        resolve: (status) => {
          settle();
          resolve(status);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
    });
    // An RCP ignores a reset's TID and announces with TID 0 (spinel draft, CMD_RESET).
    await this.#write({ iid: 0, tid: 0, command: SPINEL_CMD.RESET, payload: Uint8Array.of(SPINEL_RESET.STACK) }, 'CMD_RESET');
    return announced;
  }

  /** From now on a reset announcement means the RCP lost its settings: a fault (see #onReset). */
  armResetWatch(): void {
    this.#resetExpected = false;
  }

  /** PROP_VALUE_GET: the property's value from its PROP_VALUE_IS; a LAST_STATUS instead is a refusal. */
  async get(prop: number): Promise<Uint8Array> {
    const what = `PROP_VALUE_GET ${propertyName(prop)}`;
    return this.#valueOf(prop, what, await this.#request(SPINEL_CMD.PROP_VALUE_GET, propertyPayload(prop), what));
  }

  /** PROP_VALUE_SET: the value the RCP now holds (its PROP_VALUE_IS), or empty for a bare LAST_STATUS OK. */
  async set(prop: number, value: Uint8Array): Promise<Uint8Array> {
    const what = `PROP_VALUE_SET ${propertyName(prop)}`;
    return this.#valueOf(prop, what, await this.#request(SPINEL_CMD.PROP_VALUE_SET, propertyPayload(prop, value), what));
  }

  /** Sets STREAM_RAW (a frame to transmit) and resolves with the transmit-done LAST_STATUS of the same TID. */
  async transmitRaw(value: Uint8Array): Promise<TransmitDone> {
    const what = 'PROP_VALUE_SET STREAM_RAW';
    const reply = await this.#request(SPINEL_CMD.PROP_VALUE_SET, propertyPayload(SPINEL_PROP.STREAM_RAW, value), what);
    const { prop, value: status } = this.#property(reply, what);
    if (prop !== SPINEL_PROP.LAST_STATUS) throw this.#outOfStep(what, `PROP_VALUE_IS ${propertyName(prop)}`);
    try {
      return decodeTransmitDone(status);
    } catch (error) {
      throw this.#outOfStep(what, `an unreadable transmit status (${(error as Error).message})`);
    }
  }

  /** Fails every outstanding and later command with the fault (a port lost, an RCP silent or reset). */
  fail(fault: RigFault): void {
    if (this.#fault || this.#closed) return;
    this.#fault = fault;
    this.#log.warn('spinel session failed', { where: this.where, reason: fault.message });
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(fault);
    }
    this.#pending.clear();
    this.#resetWaiter?.reject(fault);
    for (const wake of this.#waiting.splice(0)) wake();
    for (const listener of this.#faultListeners) listener(fault);
    this.#faultListeners.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${this.where}: closed before the RCP answered ${p.what}`));
    }
    this.#pending.clear();
    this.#resetWaiter?.reject(new Error(`${this.where}: closed before the RCP announced its reset`));
    for (const wake of this.#waiting.splice(0)) wake();
    await this.link.close();
  }

  async #request(command: number, payload: Uint8Array, what: string): Promise<SpinelFrame> {
    const tid = await this.#allocateTid();
    return new Promise<SpinelFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        // fail() rejects this command with every other outstanding one.
        this.fail(this.#noAnswerFault(what, `no answer to ${what} (TID ${tid}) within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      // Registered before writing: a fast RCP can answer before the write callback runs.
      this.#pending.set(tid, { tid, what, resolve, reject, timer });
      this.#write({ iid: 0, tid, command, payload }, what).catch(reject);
    }).finally(() => this.#releaseTid(tid));
  }

  async #allocateTid(): Promise<number> {
    for (;;) {
      this.#assertUsable();
      for (let i = 0; i <= LAST_TID - FIRST_TID; i++) {
        const tid = this.#nextTid;
        this.#nextTid = tid === LAST_TID ? FIRST_TID : tid + 1;
        if (this.#inUse.has(tid)) continue;
        // Taken now, synchronously: concurrent callers must never share a TID.
        this.#inUse.add(tid);
        return tid;
      }
      await new Promise<void>((wake) => this.#waiting.push(wake));
    }
  }

  #releaseTid(tid: number): void {
    this.#inUse.delete(tid);
    this.#waiting.shift()?.();
  }

  async #write(frame: SpinelFrame, what: string): Promise<void> {
    try {
      await this.link.write(hdlcEncode(encodeSpinel(frame)));
    } catch (error) {
      const fault =
        error instanceof RigFault
          ? error
          : new RigFault(
              this.#unavailableKind(),
              this.where,
              `cannot write ${what}: ${(error as Error).message}`,
              "Check the RCP's USB connection.",
              { cause: error },
            );
      this.fail(fault);
      throw fault;
    }
  }

  #valueOf(prop: number, what: string, reply: SpinelFrame): Uint8Array {
    const { prop: answered, value } = this.#property(reply, what);
    if (answered === prop) return value;
    if (answered !== SPINEL_PROP.LAST_STATUS) throw this.#outOfStep(what, `PROP_VALUE_IS ${propertyName(answered)}`);
    const status = this.#status(value);
    if (status === undefined) throw this.#outOfStep(what, 'an unreadable LAST_STATUS');
    // A set of a property without a getter is answered LAST_STATUS OK (OpenThread's NcpBase).
    if (status === 0) return new Uint8Array(0);
    throw new RigFault(
      this.#role === 'radio' ? 'radio-refused' : 'sniffer-unavailable',
      this.where,
      `the RCP refused ${what}: ${statusName(status)}`,
      this.#role === 'radio'
        ? "Check the rig radio runs OpenThread's ot-rcp firmware (a current release) and the value is one it accepts."
        : "Check the sniffer runs OpenThread's ot-rcp firmware (a current release) and the channel is 11–26.",
    );
  }

  #status(value: Uint8Array): number | undefined {
    try {
      return readPacked(new Reader(value), 'spinel.last_status');
    } catch {
      return undefined;
    }
  }

  #property(reply: SpinelFrame, what: string): { prop: number; value: Uint8Array } {
    if (reply.command !== SPINEL_CMD.PROP_VALUE_IS) throw this.#outOfStep(what, `command ${reply.command}`);
    try {
      return readProperty(reply.payload);
    } catch (error) {
      throw this.#outOfStep(what, `an unreadable property (${(error as Error).message})`);
    }
  }

  #onFrame(bytes: Uint8Array): void {
    const unit = ++this.#units;
    let frame: SpinelFrame;
    try {
      frame = decodeSpinel(bytes);
    } catch (error) {
      return this.#reportDefect(unit, `not a Spinel frame: ${(error as Error).message}`, bytes);
    }
    if (frame.iid !== 0) {
      this.#log.info('spinel frame for another interface ignored', { where: this.where, iid: frame.iid, unit });
      return;
    }
    if (frame.tid !== 0) {
      const pending = this.#pending.get(frame.tid);
      if (!pending) {
        this.#log.warn('spinel reply with no command outstanding', { where: this.where, tid: frame.tid, unit, bytes: hex(bytes) });
        return;
      }
      this.#pending.delete(frame.tid);
      clearTimeout(pending.timer);
      pending.resolve(frame);
      return;
    }
    if (frame.command === SPINEL_CMD.PROP_VALUE_IS) {
      let property: { prop: number; value: Uint8Array } | undefined;
      try {
        property = readProperty(frame.payload);
      } catch (error) {
        return this.#reportDefect(unit, `unsolicited frame with an unreadable property: ${(error as Error).message}`, bytes);
      }
      if (property.prop === SPINEL_PROP.LAST_STATUS) {
        const status = this.#status(property.value);
        if (status === undefined) return this.#reportDefect(unit, 'unsolicited LAST_STATUS without a status', bytes);
        if (isResetStatus(status)) return this.#onReset(status);
        this.#log.info('unsolicited LAST_STATUS', { where: this.where, status: statusName(status) });
        return;
      }
    }
    for (const listener of this.#unsolicited) listener(frame, unit);
  }

  /**
   * A reset announcement. Expected while opening; afterwards the RCP has lost its channel, PAN,
   * addresses and raw-stream settings and dropped whatever it heard meanwhile: a rig fault rather
   * than a silent re-apply, because the case's evidence has a gap. The bench reopens the part
   * before the next case, which resets it and applies every setting again.
   */
  #onReset(status: number): void {
    this.#resets++;
    this.#log.info('RCP reset announced', { where: this.where, status: statusName(status) });
    if (this.#resetWaiter) return this.#resetWaiter.resolve(status);
    if (this.#resetExpected) return;
    this.fail(
      new RigFault(
        this.#role === 'radio' ? 'radio-unavailable' : 'sniffer-stopped',
        this.where,
        `the RCP reset (${statusName(status)}) and lost its channel, addresses and raw-stream settings: what it heard or sent meanwhile is unknown`,
        "Check the RCP's USB power and cable (it rebooted); the rig reopens it before the next case, re-run this one.",
      ),
    );
  }

  #onDefect(defect: HdlcDefect, raw: Uint8Array): void {
    this.#reportDefect(++this.#units, `HDLC ${defect}`, raw);
  }

  #reportDefect(unit: number, reason: string, raw: Uint8Array): void {
    this.#log.warn('spinel input unreadable', { where: this.where, unit, reason, bytes: hex(raw.subarray(0, 32)) });
    for (const listener of this.#defectListeners) listener({ unit, reason, raw });
  }

  #assertUsable(): void {
    if (this.#fault) throw this.#fault;
    if (this.#closed) throw new Error(`${this.where}: the RCP session is closed`);
  }

  #unavailableKind(): RigFaultKind {
    return this.#role === 'radio' ? 'radio-unavailable' : 'sniffer-stopped';
  }

  #noAnswerFault(what: string, message: string): RigFault {
    return new RigFault(
      this.#unavailableKind(),
      this.where,
      message,
      `Check the ${this.#role === 'radio' ? 'rig radio' : 'sniffer'} is plugged in and runs OpenThread's ot-rcp firmware ` +
        "(Spinel over HDLC at the rig's baud rate); " +
        `it stopped answering ${what.split(' ')[0]}, so reopen it (the rig does before the next case).`,
    );
  }

  #outOfStep(what: string, got: string): RigFault {
    const fault = new RigFault(
      this.#unavailableKind(),
      this.where,
      `answered ${what} with ${got}`,
      "The firmware does not speak Spinel as OpenThread's ot-rcp does: flash a current ot-rcp build.",
    );
    this.fail(fault);
    return fault;
  }
}
