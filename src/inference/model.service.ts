import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AdapterCache } from 'src/inference/adapter-cache';
import { ContinuousBatcher, RowOptions } from 'src/inference/continuous-batcher';
import { GenerationRequest, GenerationResult } from 'src/inference/generator';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { LlamaSession } from 'src/inference/llama-session';
import { loadLoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec, sha256File, WEIGHTS_FILE } from 'src/inference/model-spec';
import { scoreBatch, ScoreResult } from 'src/inference/scoring';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { MetricsService } from 'src/observability/metrics.service';

const MB = 1024 * 1024;

/** A generation asked by adapter folder (base first) rather than loaded adapters. */
export interface ServedRequest extends Omit<GenerationRequest, 'adapters'> {
  adapterFolders: string[];
}

export interface ServedResult extends GenerationResult {
  /** Digests of the adapters that produced it, base first. */
  adapterDigests: string[];
}

/** Per-row options of a served (product) request: streaming and cancellation. */
export interface ServeOptions {
  /** Text of row `index` as it becomes final. */
  onText?: (index: number, delta: string) => void;
  signal?: AbortSignal;
}

interface LoadedModel {
  spec: ModelSpec;
  session: LlamaSession;
  batcher: ContinuousBatcher;
  tokenizer: TextTokenizer;
  digest: string;
  prompts: Record<string, string>;
}

/**
 * The served base model: one onnxruntime session for every adapter stack. Loading starts at boot without
 * holding it up; until it is done (or if it failed) requests get MODEL_UNAVAILABLE and /readyz says why.
 */
@Injectable()
export class ModelService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ModelService.name);
  private loaded: LoadedModel | null = null;
  private loadError: Error | null = null;
  private loading: Promise<void> | null = null;
  private readonly adapters: AdapterCache;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.adapters = new AdapterCache(config.ADAPTER_CACHE_MB * MB, (folder) =>
      loadLoraAdapter(folder, this.model().spec, config.ADAPTER_MAX_MB * MB),
    );
  }

  onModuleInit(): void {
    this.loading = this.load().catch((err: Error) => {
      this.loadError = err;
      this.logger.error({ err, modelDir: this.config.MODEL_DIR }, 'model failed to load');
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.loading;
    await this.loaded?.batcher.close();
    await this.loaded?.session.release();
  }

  /** Resolves once loading has finished, successfully or not. */
  async whenSettled(): Promise<void> {
    await this.loading;
  }

  status(): { state: 'loading' | 'ready' | 'failed'; error?: string; baseModelDigest?: string } {
    if (this.loaded) return { state: 'ready', baseModelDigest: this.loaded.digest };
    if (this.loadError) return { state: 'failed', error: this.loadError.message };
    return { state: 'loading' };
  }

  get baseModelDigest(): string {
    return this.model().digest;
  }

  /** The model's prompt template of `kind` (prompts.json in the model folder), filled with `fields`. */
  prompt(kind: string, fields: Record<string, string>): string {
    const template = this.model().prompts[kind];
    if (!template) {
      throw new InferenceError(
        InferenceErrorCode.MODEL_INVALID,
        `the model has no "${kind}" prompt in prompts.json`,
      );
    }
    return template.replace(/\{(\w+)\}/g, (_, name: string) => fields[name] ?? '');
  }

  /**
   * Generates for internal callers (the gates, SEAL rounds): the rows join the shared continuous batch and
   * wait for a place however long the queue is, since the worker's own concurrency bounds them.
   */
  generate(requests: ServedRequest[]): Promise<ServedResult[]> {
    return this.run(requests, false, {});
  }

  /**
   * Generates for product traffic: the rows join the shared continuous batch, or are refused at once with
   * OVERLOADED when the queue cannot take them (never an unbounded queue); text can be streamed per row.
   */
  serve(requests: ServedRequest[], options: ServeOptions = {}): Promise<ServedResult[]> {
    return this.run(requests, true, options);
  }

  /** Rows generating now, rows waiting, and the batch bound. */
  servingLoad(): { batchRows: number; queued: number; maxBatch: number } {
    const { batcher } = this.model();
    return { batchRows: batcher.batchRows, queued: batcher.queued, maxBatch: batcher.maxBatch };
  }

  private async run(
    requests: ServedRequest[],
    limited: boolean,
    options: ServeOptions,
  ): Promise<ServedResult[]> {
    const { batcher } = this.model();
    for (const r of requests) {
      if (r.params.maxTokens > this.config.GENERATION_MAX_TOKENS) {
        throw new InferenceError(
          InferenceErrorCode.GENERATION_INVALID,
          `maxTokens ${r.params.maxTokens} is over the limit of ${this.config.GENERATION_MAX_TOKENS}`,
        );
      }
    }
    const stacks = await Promise.all(
      requests.map((r) => Promise.all(r.adapterFolders.map((f) => this.adapters.get(f)))),
    );
    const prepared = await Promise.all(
      requests.map((r, i) => batcher.prepare({ prompt: r.prompt, params: r.params, adapters: stacks[i] })),
    );
    const rowOptions = (i: number): RowOptions => ({
      signal: options.signal,
      onText: options.onText && ((delta) => options.onText!(i, delta)),
    });
    const results = await Promise.all(
      batcher.enqueue(
        prepared.map((p, i) => ({ ...p, ...rowOptions(i) })),
        limited,
      ),
    );
    return results.map((result, i) => ({ ...result, adapterDigests: stacks[i].map((a) => a.digest) }));
  }

  /** Log-probabilities of texts (each encoded with <s>) under an adapter stack given by folders. */
  async score(texts: string[], adapterFolders: string[]): Promise<ScoreResult[]> {
    const { session, tokenizer, batcher } = this.model();
    const adapters = await Promise.all(adapterFolders.map((f) => this.adapters.get(f)));
    const encoded = await Promise.all(texts.map((t) => tokenizer.encode(t)));
    return batcher.exclusive(() =>
      scoreBatch(
        session,
        encoded.map((tokenIds) => ({ tokenIds, adapters })),
      ),
    );
  }

  private model(): LoadedModel {
    if (this.loaded) return this.loaded;
    throw new InferenceError(
      InferenceErrorCode.MODEL_UNAVAILABLE,
      this.loadError ? `the model failed to load: ${this.loadError.message}` : 'the model is still loading',
    );
  }

  private async load(): Promise<void> {
    const started = performance.now();
    const spec = ModelSpec.load(this.config.MODEL_DIR);
    const tokenizer = TextTokenizer.fromFile(spec.tokenizerPath);
    const promptsPath = join(spec.folder, 'prompts.json');
    const prompts = existsSync(promptsPath)
      ? (JSON.parse(readFileSync(promptsPath, 'utf8')) as Record<string, string>)
      : {};
    const weights = join(spec.folder, WEIGHTS_FILE);
    const [session, digest] = await Promise.all([
      LlamaSession.create(spec, this.config.INFERENCE_THREADS),
      sha256File(existsSync(weights) ? weights : spec.onnxPath),
    ]);
    // One batcher per session: onnxruntime already uses the threads it was given, so forward passes run one
    // at a time and concurrency comes from sharing each pass between requests.
    const batcher = new ContinuousBatcher(session, tokenizer, {
      maxBatch: this.config.SERVING_MAX_BATCH,
      maxQueue: this.config.SERVING_MAX_QUEUE,
      retryAfterSeconds: this.config.SERVING_RETRY_AFTER,
      onStep: (step) => this.metrics?.servingStep(step),
    });
    this.loaded = { spec, session, batcher, tokenizer, digest, prompts };
    this.logger.log(
      { modelDir: spec.folder, digest, ms: Math.round(performance.now() - started) },
      'model loaded',
    );
  }
}
