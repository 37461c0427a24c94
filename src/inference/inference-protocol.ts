import { EngineLoad, EngineOptions, EngineResult, EngineRow } from 'src/inference/inference-engine';
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
  | { type: 'step'; kind: 'prefill' | 'decode'; rows: number; queued: number; ms: number; load: EngineLoad }
  | { type: 'load'; load: EngineLoad }
  | { type: 'closed' };

export interface WorkerData {
  options: EngineOptions;
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
