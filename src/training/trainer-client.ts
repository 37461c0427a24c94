import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Logger, LoggerService } from '@nestjs/common';
import {
  DoneMessage,
  RequestId,
  TRAINER_PROTOCOL_VERSION,
  TrainerInfo,
  TrainerRequest,
  TrainInput,
  TrainProgress,
  TrainResult,
  trainerInfoSchema,
  trainerMessageSchema,
  trainInputSchema,
  trainResultSchema,
} from 'src/training/trainer-protocol';
import { TrainerError, TrainerErrorCode } from 'src/training/training.errors';

export interface TrainerClientOptions {
  /** Default: SEALGATE_PYTHON, else /usr/bin/python3 (the Debian python that has torch). */
  python?: string;
  /** The folder holding sealgate_gpu/; default: defaultGpuDir(). */
  gpuDir?: string;
  /** Extra trainer arguments, e.g. ['--device', 'cpu', '--threads', '1']. */
  args?: string[];
  /** Added to the inherited environment (SEALGATE_DEVICE, SEALGATE_TORCH_THREADS, SEALGATE_LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the hello answer (python + torch import). Default 60 s. */
  startTimeoutMs?: number;
  /** How long close() waits for a clean exit before SIGKILL. Default 10 s. */
  closeTimeoutMs?: number;
  /** Receives the trainer's stderr lines (log) and protocol anomalies (warn). Default: a Nest Logger. */
  logger?: Pick<LoggerService, 'log' | 'warn'>;
}

export interface TrainOptions {
  onProgress?: (progress: TrainProgress) => void;
  /** Aborting sends `cancel`; the call then rejects with CANCELLED once the trainer has stopped. */
  signal?: AbortSignal;
}

const STDERR_TAIL_LINES = 20;

/** The gpu/ folder of the repository: walks up from this file (src/training/ or dist/src/training/). */
export function defaultGpuDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'gpu', 'sealgate_gpu'))) return join(dir, 'gpu');
    if (dirname(dir) === dir) throw new Error(`no gpu/sealgate_gpu folder above ${from}`);
  }
}

interface Pending {
  resolve: (message: DoneMessage) => void;
  reject: (error: TrainerError) => void;
  onProgress?: (progress: TrainProgress) => void;
}

/** One trainer process: its pipes, its pending requests, and how it ended. */
class TrainerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly stderrTail: string[] = [];
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  /** Set once the process is gone; every later request fails with it. */
  exitError?: TrainerError;

  constructor(
    python: string,
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    private readonly logger: Pick<LoggerService, 'log' | 'warn'>,
  ) {
    this.child = spawn(python, ['-m', 'sealgate_gpu.trainer_server', ...args], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const { stdin, stdout, stderr } = this.child;
    // A write to a dead process fails with EPIPE; the 'close' handler reports the exit itself.
    stdin.on('error', (err) => {
      this.logger.warn(`trainer stdin: ${err.message}`);
    });
    createInterface({ input: stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    createInterface({ input: stderr, crlfDelay: Infinity }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      this.logger.log(line);
    });
    this.child.on('error', (err) => {
      // Only a failed spawn ends the process here; other 'error's leave it running.
      if (this.child.pid === undefined) this.end(`could not start the trainer's Python (${basename(python)})`);
      else this.logger.warn(`trainer process: ${err.message}`);
    });
    // 'close' (not 'exit') fires after stdout is drained, so a terminal line written just before exit is seen.
    this.child.on('close', (code, signal) =>
      this.end(signal ? `trainer was killed by ${signal}` : `trainer exited with code ${code}`),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get pendingIds(): RequestId[] {
    return [...this.pending.keys()];
  }

  /** Sends a request; resolves with its `done` line, rejects with its `error` line or the process's end. */
  request(message: TrainerRequest, onProgress?: (progress: TrainProgress) => void): Promise<DoneMessage> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject, onProgress });
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exitError) this.child.kill(signal);
  }

  /** True when the process ended within the time. */
  async waitClosed(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([this.closed.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    const shown = line.slice(0, 500);
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      this.logger.warn(`trainer wrote a non-protocol line to stdout: ${shown}`);
      return;
    }
    const parsed = trainerMessageSchema.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      const pending = typeof id === 'string' || typeof id === 'number' ? this.pending.get(id) : undefined;
      const problem = `trainer sent an invalid message (${parsed.error.issues[0]?.message}): ${shown}`;
      if (pending) {
        this.pending.delete(id as RequestId);
        pending.reject(new TrainerError(TrainerErrorCode.TRAINER_PROTOCOL, problem));
      } else {
        this.logger.warn(problem);
      }
      return;
    }
    const message = parsed.data;
    // An id of null means the trainer could not read one of our lines; nothing can be matched to it.
    const pending = message.id === null ? undefined : this.pending.get(message.id);
    if (!pending || message.id === null) {
      this.logger.warn(`trainer message for no pending request: ${shown}`);
      return;
    }
    switch (message.event) {
      case 'progress':
        try {
          pending.onProgress?.({ step: message.step, total: message.total, loss: message.loss });
        } catch (err) {
          this.logger.warn(`onProgress listener threw: ${(err as Error).message}`);
        }
        break;
      case 'error':
        this.pending.delete(message.id);
        pending.reject(TrainerError.fromTrainer(message.id, message.code, message.message));
        break;
      case 'done':
        this.pending.delete(message.id);
        pending.resolve(message);
        break;
    }
  }

  /**
   * The error every pending and later request fails with. Its message is what a reviewer reads (an edit's
   * `statusReason`): a short reason, never the trainer's traceback or a server path. The stderr lines went to the
   * log as they came, and stay in the details for the logs.
   */
  private end(reason: string): void {
    if (this.exitError) return;
    const stderr = [...this.stderrTail];
    this.exitError = new TrainerError(TrainerErrorCode.TRAINER_EXITED, `${reason}; its output is in the log`, {
      pid: this.child.pid,
      exitCode: this.child.exitCode,
      signal: this.child.signalCode,
      stderr,
    });
    for (const pending of this.pending.values()) pending.reject(this.exitError);
    this.pending.clear();
    this.resolveClosed();
  }
}

/**
 * Client of the long-lived Python LoRA trainer (gpu/README.md). The process starts on first use and again after
 * it died; requests run one at a time in the trainer, in the order sent.
 */
export class TrainerClient {
  private current?: { trainer: TrainerProcess; ready: Promise<TrainerInfo> };
  private lastId = 0;
  private readonly python: string;
  private readonly gpuDir: string;

  constructor(private readonly options: TrainerClientOptions = {}) {
    this.python = options.python ?? process.env.SEALGATE_PYTHON ?? '/usr/bin/python3';
    this.gpuDir = options.gpuDir ?? defaultGpuDir();
  }

  /** The pid of the running trainer, if one is. */
  get pid(): number | undefined {
    const trainer = this.current?.trainer;
    return trainer && !trainer.exitError ? trainer.pid : undefined;
  }

  /** Starts the trainer (when not running) and answers its hello. */
  async start(): Promise<TrainerInfo> {
    return (await this.running()).info;
  }

  async train(input: TrainInput, options: TrainOptions = {}): Promise<TrainResult> {
    const { signal, onProgress } = options;
    const checked = trainInputSchema.safeParse(input);
    if (!checked.success) {
      const problems = checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new TrainerError(TrainerErrorCode.BAD_REQUEST, `invalid train request: ${problems.join('; ')}`, {
        problems,
      });
    }
    const cancelled = () => new TrainerError(TrainerErrorCode.CANCELLED, 'cancelled before it was sent');
    if (signal?.aborted) throw cancelled();
    const { trainer } = await this.running();
    if (signal?.aborted) throw cancelled();

    const id = this.nextId('train');
    const cancel = () => {
      trainer.request({ id: this.nextId('cancel'), type: 'cancel', target: id }).catch(() => undefined);
    };
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const done = await trainer.request({ ...checked.data, id, type: 'train' }, onProgress);
      if (done.type !== 'train') throw this.unexpected(done);
      return trainResultSchema.parse(done);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /**
   * Cancels what is pending, sends shutdown and waits for the exit (SIGKILL after closeTimeoutMs). A later call
   * starts a new trainer.
   */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current || current.trainer.exitError) return;
    const { trainer } = current;
    for (const target of trainer.pendingIds) {
      trainer.request({ id: this.nextId('cancel'), type: 'cancel', target }).catch(() => undefined);
    }
    trainer.request({ id: this.nextId('shutdown'), type: 'shutdown' }).catch(() => undefined);
    if (!(await trainer.waitClosed(this.options.closeTimeoutMs ?? 10_000))) {
      trainer.kill();
      await trainer.closed;
    }
  }

  private async running(): Promise<{ trainer: TrainerProcess; info: TrainerInfo }> {
    if (!this.current || this.current.trainer.exitError) {
      const trainer = new TrainerProcess(
        this.python,
        this.options.args ?? [],
        this.gpuDir,
        { ...process.env, ...this.options.env },
        this.options.logger ?? new Logger(TrainerClient.name),
      );
      this.current = { trainer, ready: this.handshake(trainer) };
    }
    const { trainer, ready } = this.current;
    return { trainer, info: await ready };
  }

  private async handshake(trainer: TrainerProcess): Promise<TrainerInfo> {
    const ms = this.options.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TrainerError(TrainerErrorCode.TRAINER_START_TIMEOUT, `no hello from trainer in ${ms} ms`),
          ),
        ms,
      );
    });
    try {
      const done = await Promise.race([
        trainer.request({ id: this.nextId('hello'), type: 'hello' }),
        timeout,
      ]);
      if (done.type !== 'hello') throw this.unexpected(done);
      if (done.protocol !== TRAINER_PROTOCOL_VERSION) {
        throw new TrainerError(
          TrainerErrorCode.TRAINER_PROTOCOL,
          `trainer speaks protocol ${done.protocol}, this client ${TRAINER_PROTOCOL_VERSION}`,
        );
      }
      return trainerInfoSchema.parse(done);
    } catch (err) {
      trainer.kill();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private unexpected(done: DoneMessage): TrainerError {
    return new TrainerError(
      TrainerErrorCode.TRAINER_PROTOCOL,
      `unexpected '${done.type}' answer to ${done.id}`,
    );
  }

  private nextId(kind: TrainerRequest['type']): string {
    this.lastId += 1;
    return `${kind}-${this.lastId}`;
  }
}
