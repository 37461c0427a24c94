import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  EngineClient,
  EngineLoad,
  EngineOptions,
  EngineResult,
  EngineRow,
  StepListener,
} from 'src/inference/inference-engine';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import {
  FromWorker,
  LOAD_CELLS,
  readLoad,
  ToWorker,
  WireError,
  WorkerData,
} from 'src/inference/inference-protocol';
import { ScoreResult } from 'src/inference/scoring';

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  onText?: (index: number, delta: string) => void;
}

/** A domain error keeps its class and code across the thread boundary; anything else becomes an Error. */
function fromWire(error: WireError): Error {
  if (error.name === 'InferenceError' && error.code) {
    return new InferenceError(error.code as InferenceErrorCode, error.message, error.details);
  }
  return Object.assign(new Error(error.message), { name: error.name });
}

/**
 * Runs from TypeScript sources (tests, ts tooling): the worker has no transpiler of its own, so it gets a
 * require hook compiling .ts with SWC (as Jest does) and resolving `src/...` imports from the project root.
 */
export function sourceBootstrap(entry: string, root: string): string {
  return `
const { transformSync } = require('@swc/core');
const Module = require('node:module');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const resolve = Module._resolveFilename;
// \`src/...\` from the project root, a .ts file before a .json of the same name (as Jest resolves them).
Module._resolveFilename = function (request, ...rest) {
  if (/^(src|test|migrations)\\//.test(request)) {
    request = join(${JSON.stringify(root)}, request);
    if (existsSync(request + '.ts')) request += '.ts';
  }
  return resolve.call(this, request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    module: { type: 'commonjs' },
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
  });
  module._compile(code, filename);
};
require(${JSON.stringify(entry)});
`;
}

/** The model in a worker thread, behind the same interface as an engine on this thread. */
export class InferenceThread implements EngineClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly loadCells: Int32Array,
    private readonly onStep?: StepListener,
  ) {}

  static start(options: EngineOptions, onStep?: StepListener): Promise<InferenceThread> {
    const fromSource = __filename.endsWith('.ts');
    const entry = join(__dirname, `inference-worker${fromSource ? '.ts' : '.js'}`);
    const workerData: WorkerData = {
      options,
      load: new SharedArrayBuffer(LOAD_CELLS * Int32Array.BYTES_PER_ELEMENT),
    };
    const worker = fromSource
      ? new Worker(sourceBootstrap(entry, join(__dirname, '..', '..')), { eval: true, workerData })
      : new Worker(entry, { workerData });
    const thread = new InferenceThread(worker, new Int32Array(workerData.load), onStep);
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') resolve(thread);
        else if (message.type === 'failed') reject(fromWire(message.error));
        else return;
        worker.off('message', onMessage);
        worker.on('message', (m: FromWorker) => thread.receive(m));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.on('exit', (code) => thread.fail(new Error(`the inference thread exited with code ${code}`)));
      worker.on('error', (err) => thread.fail(err));
    });
  }

  generate(
    rows: EngineRow[],
    onText?: (index: number, delta: string) => void,
    signal?: AbortSignal,
  ): Promise<EngineResult[]> {
    const id = this.nextId++;
    const result = this.request<EngineResult[]>(id, { type: 'generate', id, rows, stream: !!onText }, onText);
    if (!signal) return result;
    const cancel = () => this.worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
    if (signal.aborted) {
      cancel();
      return result;
    }
    signal.addEventListener('abort', cancel, { once: true });
    // The signal may outlive the request (a caller's long-lived controller): let go of it once answered.
    return result.finally(() => signal.removeEventListener('abort', cancel));
  }

  score(texts: string[], adapterFolders: string[]): Promise<ScoreResult[]> {
    const id = this.nextId++;
    return this.request<ScoreResult[]>(id, { type: 'score', id, texts, adapterFolders });
  }

  /** As of the last forward pass (the worker writes it to shared memory after each). */
  load(): EngineLoad {
    return readLoad(this.loadCells);
  }

  /** Lets queued and running work finish, then stops the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.exited) return;
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      await closed;
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private request<T>(id: number, message: ToWorker, onText?: Pending['onText']): Promise<T> {
    if (this.exited) {
      return Promise.reject(new InferenceError(InferenceErrorCode.MODEL_UNAVAILABLE, this.exited.message));
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject, onText });
      this.worker.postMessage(message);
    });
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'steps':
        for (const step of message.steps) this.onStep?.(step);
        return;
      case 'text':
        this.pending.get(message.id)?.onText?.(message.index, message.delta);
        return;
      case 'generated':
      case 'scored':
        this.pending.get(message.id)?.resolve(message.results);
        this.pending.delete(message.id);
        return;
      case 'error':
        this.pending.get(message.id)?.reject(fromWire(message.error));
        this.pending.delete(message.id);
        return;
      case 'ready':
      case 'failed':
      case 'closed':
        return;
    }
  }

  private fail(err: Error): void {
    this.exited ??= err;
    for (const p of this.pending.values()) {
      p.reject(new InferenceError(InferenceErrorCode.MODEL_UNAVAILABLE, `inference stopped: ${err.message}`));
    }
    this.pending.clear();
  }
}
