import { basename } from 'node:path';
import { AdapterCache } from 'src/inference/adapter-cache';
import { BatcherOptions, ContinuousBatcher } from 'src/inference/continuous-batcher';
import { GenerationParams, GenerationResult } from 'src/inference/generator';
import { LlamaSession } from 'src/inference/llama-session';
import {
  AdapterRouting,
  LoraAdapter,
  loadServedAdapter,
  readRouting,
  routesAny,
} from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { routes, routeWords } from 'src/inference/route-key';
import { scoreBatch, ScoreResult } from 'src/inference/scoring';
import { TextTokenizer } from 'src/inference/text-tokenizer';

export interface EngineOptions {
  modelDir: string;
  threads: number;
  maxBatch: number;
  adapterCacheBytes: number;
  adapterMaxBytes: number;
}

/** One row of a generation, with its adapter stack given as folders (base first). */
export interface EngineRow {
  prompt: string;
  params: GenerationParams;
  adapterFolders: string[];
}

export interface EngineResult extends GenerationResult {
  adapterDigests: string[];
}

export interface EngineLoad {
  batchRows: number;
  queued: number;
}

export type StepListener = NonNullable<BatcherOptions['onStep']>;

/** What ModelService needs from the model, wherever it runs (a worker thread, or this thread). */
export interface EngineClient {
  generate(
    rows: EngineRow[],
    onText?: (index: number, delta: string) => void,
    signal?: AbortSignal,
  ): Promise<EngineResult[]>;
  score(texts: string[], adapterFolders: string[]): Promise<ScoreResult[]>;
  load(): EngineLoad;
  close(): Promise<void>;
}

/**
 * The model and everything that touches onnxruntime: the session, the tokenizer, loaded adapters and the
 * continuous batcher. Admission (the queue bound) is the caller's: rows given here always wait for a place.
 */
export class InferenceEngine implements EngineClient {
  private constructor(
    private readonly session: LlamaSession,
    private readonly tokenizer: TextTokenizer,
    private readonly adapters: AdapterCache,
    private readonly batcher: ContinuousBatcher,
  ) {}

  private readonly routings = new Map<string, AdapterRouting>();

  static async create(options: EngineOptions, onStep?: StepListener): Promise<InferenceEngine> {
    const spec = ModelSpec.load(options.modelDir);
    const tokenizer = TextTokenizer.fromFile(spec.tokenizerPath);
    const session = await LlamaSession.create(spec, options.threads);
    const adapters = new AdapterCache(options.adapterCacheBytes, (folder) =>
      loadServedAdapter(folder, spec, options.adapterMaxBytes),
    );
    const batcher = new ContinuousBatcher(session, tokenizer, {
      maxBatch: options.maxBatch,
      onStep,
    });
    return new InferenceEngine(session, tokenizer, adapters, batcher);
  }

  /**
   * All rows are checked (adapters loaded, prompts encoded and bounded) before any is queued. Each row gets the
   * adapters of its stack that route to its prompt (route-key.ts): a routed edit serves only prompts about it.
   */
  async generate(
    rows: EngineRow[],
    onText?: (index: number, delta: string) => void,
    signal?: AbortSignal,
  ): Promise<EngineResult[]> {
    const stacks = await Promise.all(rows.map((r) => this.routedStack(r.adapterFolders, r.prompt)));
    const prepared = await Promise.all(
      rows.map((r, i) => this.batcher.prepare({ prompt: r.prompt, params: r.params, adapters: stacks[i] })),
    );
    const results = await Promise.all(
      this.batcher.enqueue(
        prepared.map((p, i) => ({ ...p, signal, onText: onText && ((delta: string) => onText(i, delta)) })),
      ),
    );
    // Parts of one concatenated adapter share its digest: it is named once.
    return results.map((result, i) => ({
      ...result,
      adapterDigests: [...new Set(stacks[i].map((a) => a.digest))],
    }));
  }

  /** Each text is scored under the adapters of the stack that route to it, as it would be served. */
  async score(texts: string[], adapterFolders: string[]): Promise<ScoreResult[]> {
    const stacks = await Promise.all(texts.map((t) => this.routedStack(adapterFolders, t)));
    const encoded = await Promise.all(texts.map((t) => this.tokenizer.encode(t)));
    return this.batcher.exclusive(() =>
      scoreBatch(
        this.session,
        encoded.map((tokenIds, i) => ({ tokenIds, adapters: stacks[i] })),
      ),
    );
  }

  /**
   * The adapters of `folders` that serve `text`. Keys are read from the adapters' configs (kept by folder: a
   * stored folder is content-addressed, so it never changes) and only the adapters that route to the text are
   * loaded: a stack of a hundred routed edits costs an unrelated request no adapter loads.
   */
  private async routedStack(folders: string[], text: string): Promise<LoraAdapter[]> {
    if (folders.length === 0) return [];
    const words = routeWords(text); // once per row, whatever the depth of its stack
    const active = folders.filter((f) => routesAny(this.routingOf(f), words));
    const stack = await Promise.all(active.map((f) => this.adapters.get(f)));
    return stack.flatMap((a) => {
      if (!a.segments) return routes(a.routeKey, words) ? [a] : [];
      const parts = a.segments.filter((s) => routes(s.routeKey, words));
      return parts.length === a.segments.length ? [a] : parts;
    });
  }

  private routingOf(folder: string): AdapterRouting {
    let routing = this.routings.get(folder);
    if (!routing) {
      routing = readRouting(folder);
      // Only a content-addressed folder keeps its routing; any other is read again next time.
      if (/^[0-9a-f]{64}$/.test(basename(folder))) this.routings.set(folder, routing);
    }
    return routing;
  }

  load(): EngineLoad {
    return { batchRows: this.batcher.batchRows, queued: this.batcher.queued };
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.session.release();
  }
}
