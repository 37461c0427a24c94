import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { GenerationRequest, GenerationResult } from 'src/inference/generator';
import { EngineClient, EngineOptions, InferenceEngine, StepListener } from 'src/inference/inference-engine';
import { InferenceThread } from 'src/inference/inference-thread';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { ModelSpec, WEIGHTS_FILE } from 'src/inference/model-spec';
import { sha256File } from 'src/common/sha256';
import { ScoreResult } from 'src/inference/scoring';
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
  engine: EngineClient;
  digest: string;
  prompts: Record<string, string>;
}

/**
 * The served base model: one onnxruntime session for every adapter stack, with continuous batching, in a worker
 * thread (SERVING_INFERENCE_THREAD) so forward passes never hold up HTTP. Loading starts at boot without
 * holding it up; until it is done (or if it failed) requests get MODEL_UNAVAILABLE and /readyz says why.
 */
@Injectable()
export class ModelService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ModelService.name);
  private loaded: LoadedModel | null = null;
  private loadError: Error | null = null;
  private loading: Promise<void> | null = null;
  /** Rows given to the engine and not finished yet: the running batch plus its queue. */
  private inFlight = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  onModuleInit(): void {
    this.loading = this.load().catch((err: Error) => {
      this.loadError = err;
      this.logger.error({ err, modelDir: this.config.MODEL_DIR }, 'model failed to load');
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.loading;
    await this.loaded?.engine.close();
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
   * OVERLOADED when batch and queue cannot take them (never an unbounded queue); text can be streamed per row.
   */
  serve(requests: ServedRequest[], options: ServeOptions = {}): Promise<ServedResult[]> {
    return this.run(requests, true, options);
  }

  /**
   * Rows generating now and rows waiting (as of the last forward pass), the batch bound, and the rows in
   * flight (given to the engine, internal ones included) that admission counts against batch + queue.
   */
  servingLoad(): { batchRows: number; queued: number; maxBatch: number; inFlight: number } {
    return {
      ...this.model().engine.load(),
      maxBatch: this.config.SERVING_MAX_BATCH,
      inFlight: this.inFlight,
    };
  }

  /** Log-probabilities of texts (each encoded with <s>) under an adapter stack given by folders. */
  score(texts: string[], adapterFolders: string[]): Promise<ScoreResult[]> {
    return this.model().engine.score(texts, adapterFolders);
  }

  private async run(
    requests: ServedRequest[],
    limited: boolean,
    options: ServeOptions,
  ): Promise<ServedResult[]> {
    const { engine } = this.model();
    for (const r of requests) {
      if (r.params.maxTokens > this.config.GENERATION_MAX_TOKENS) {
        throw new InferenceError(
          InferenceErrorCode.GENERATION_INVALID,
          `maxTokens ${r.params.maxTokens} is over the limit of ${this.config.GENERATION_MAX_TOKENS}`,
        );
      }
    }
    const capacity = this.config.SERVING_MAX_BATCH + this.config.SERVING_MAX_QUEUE;
    if (limited && this.inFlight + requests.length > capacity) {
      const load = engine.load();
      throw new InferenceError(
        InferenceErrorCode.OVERLOADED,
        `the model is at capacity (${this.inFlight} rows generating or queued, room for ${capacity}); retry later`,
        {
          ...load,
          inFlight: this.inFlight,
          maxBatch: this.config.SERVING_MAX_BATCH,
          maxQueue: this.config.SERVING_MAX_QUEUE,
          retryAfterSeconds: this.config.SERVING_RETRY_AFTER,
        },
      );
    }
    this.inFlight += requests.length;
    try {
      return await engine.generate(requests, options.onText, options.signal);
    } finally {
      this.inFlight -= requests.length;
    }
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
    const promptsPath = join(spec.folder, 'prompts.json');
    const prompts = existsSync(promptsPath)
      ? (JSON.parse(readFileSync(promptsPath, 'utf8')) as Record<string, string>)
      : {};
    const weights = join(spec.folder, WEIGHTS_FILE);
    const options: EngineOptions = {
      modelDir: this.config.MODEL_DIR,
      threads: this.config.INFERENCE_THREADS,
      maxBatch: this.config.SERVING_MAX_BATCH,
      adapterCacheBytes: this.config.ADAPTER_CACHE_MB * MB,
      adapterMaxBytes: this.config.ADAPTER_MAX_MB * MB,
    };
    const onStep: StepListener = (step) => this.metrics?.servingStep(step);
    const [engine, digest] = await Promise.all([
      this.config.SERVING_INFERENCE_THREAD === 'true'
        ? InferenceThread.start(options, onStep)
        : InferenceEngine.create(options, onStep),
      sha256File(existsSync(weights) ? weights : spec.onnxPath),
    ]);
    this.loaded = { engine, digest, prompts };
    this.logger.log(
      { modelDir: spec.folder, digest, ms: Math.round(performance.now() - started) },
      'model loaded',
    );
  }
}
