import {
  EngineLoad,
  EngineOptions,
  EngineResult,
  EngineRow,
  StepListener,
} from 'src/inference/inference-engine';
import { ScoreResult } from 'src/inference/scoring';

/** Messages between ModelService (main thread) and the inference worker thread. */
export type ToWorker =
  | { type: 'generate'; id: number; rows: EngineRow[]; stream: boolean }
  | { type: 'cancel'; id: number }
  | { type: 'score'; id: number; texts: string[]; adapterFolders: string[] }
  | { type: 'close' };

/** An error as it crosses the thread boundary: domain errors keep their class name, code and details. */
export interface WireError {
  name: string;
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | { type: 'text'; id: number; index: number; delta: string }
  | { type: 'generated'; id: number; results: EngineResult[] }
  | { type: 'scored'; id: number; results: ScoreResult[] }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'steps'; steps: StepReport[] }
  | { type: 'closed' };

export type StepReport = Parameters<StepListener>[0];

/**
 * Forward passes are reported in batches, at most this long after they ran (and right after the result of
 * a request they served): a message per step would wake the main thread hundreds of times a second, and with
 * onnxruntime's threads on every core each wake stalls a step (measured: about 4 points of latency at 1 client).
 */
export const STEP_REPORT_MS = 250;

export interface WorkerData {
  options: EngineOptions;
  /** Int32 cells [batchRows, queued], written by the worker after each step: the load without a message. */
  load: SharedArrayBuffer;
}

export const LOAD_CELLS = 2;

export function writeLoad(cells: Int32Array, load: EngineLoad): void {
  Atomics.store(cells, 0, load.batchRows);
  Atomics.store(cells, 1, load.queued);
}

export function readLoad(cells: Int32Array): EngineLoad {
  return { batchRows: Atomics.load(cells, 0), queued: Atomics.load(cells, 1) };
}

export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const { code, details } = err as Error & { code?: unknown; details?: Record<string, unknown> };
    return {
      name: err.name,
      code: typeof code === 'string' ? code : undefined,
      message: err.message,
      details,
    };
  }
  return { name: 'Error', message: String(err) };
}
