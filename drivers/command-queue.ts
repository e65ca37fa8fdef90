// Commands over a serial line, answered one by one in the order sent (the rig radio's and the
// observation port's protocols): the queue of outstanding commands, their timeouts, and the one
// fault that fails every outstanding and later command once the line is out of step or gone.
import { RigFault } from './faults.ts';

export type Outstanding<A, Extra extends object> = Extra & {
  line: string;
  resolve: (answer: A) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
};

export interface CommandQueueOptions {
  /** Names the line in errors, e.g. `rig radio`. */
  where: string;
  /** What the far end is called in errors: `radio`, `observation port`. */
  what: string;
  timeoutMs: number;
  write(line: string): Promise<void>;
  /** The fault when a command gets no answer in time (the line is then out of step). */
  noAnswer(line: string): RigFault;
  /** The fault when a command cannot be written. */
  cannotWrite(line: string, error: Error): RigFault;
}

export class CommandQueue<A, Extra extends object = object> {
  #pending: Outstanding<A, Extra>[] = [];
  #fault: RigFault | undefined;
  #closed = false;
  #onFault?: (fault: RigFault) => void;

  constructor(private readonly o: CommandQueueOptions) {}

  get fault(): RigFault | undefined {
    return this.#fault;
  }

  /** The command the next answer belongs to. */
  get head(): Outstanding<A, Extra> | undefined {
    return this.#pending[0];
  }

  /** Takes the head off the queue once its answer is complete. */
  shift(): Outstanding<A, Extra> | undefined {
    const p = this.#pending.shift();
    if (p) clearTimeout(p.timer);
    return p;
  }

  onFault(listener: (fault: RigFault) => void): void {
    this.#onFault = listener;
  }

  send(line: string, extra: Extra): Promise<A> {
    if (this.#fault) return Promise.reject(this.#fault);
    if (this.#closed) return Promise.reject(new Error(`${this.o.where}: ${this.o.what} is closed`));
    return new Promise<A>((resolve, reject) => {
      const pending = {
        ...extra,
        line,
        resolve,
        reject,
        timer: setTimeout(() => this.fail(this.o.noAnswer(line)), this.o.timeoutMs),
      } as Outstanding<A, Extra>;
      // Queued before writing: a fast device can answer before the write callback runs.
      this.#pending.push(pending);
      this.o.write(`${line}\r\n`).catch((error) => this.fail(error instanceof RigFault ? error : this.o.cannotWrite(line, error as Error)));
    });
  }

  /** A line out of step or gone fails every outstanding and later command with the same fault. */
  fail(fault: RigFault): void {
    if (this.#fault) return;
    this.#fault = fault;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(fault);
    }
    this.#onFault?.(fault);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new Error(`${this.o.where}: ${this.o.what} closed before answering "${p.line}"`));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}
