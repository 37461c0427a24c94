import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { sha256Hex } from 'src/common/sha256';
import { AdapterStore, readPeftFiles } from 'src/inference/adapter-store';
import { loadLoraAdapter, readRouting, routesAny, writeRouteKey } from 'src/inference/lora-adapter';
import { deriveRouteKey } from 'src/inference/route-key';
import { ModelSpec } from 'src/inference/model-spec';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { TrainingHyperparameters } from 'src/self-edits/self-edit.types';
import { InnerUpdate, innerUpdateInput } from 'src/training/inner-update';
import { RehearsalCorpus } from 'src/training/rehearsal-corpus';
import { knownWordsOf } from 'src/training/known-words';
import { selfEditSequences, SelfEditText } from 'src/training/self-edit-sequences';
import { TrainerClient } from 'src/training/trainer-client';
import { TrainerError, TrainerErrorCode } from 'src/training/training.errors';
import { TrainerInfo } from 'src/training/trainer-protocol';

const MB = 1024 * 1024;

export interface CandidateRequest {
  /** Names the quarantine folder; the same key retrains into the same place. */
  key: string;
  lines: string[];
  passage: { title: string; text: string } | null;
  /** The frozen stack below the candidate, oldest first. */
  parentFolders: string[];
  /** The channel policy's `training` section. */
  policy: InnerUpdate & { replay: { appliedEdits: boolean; rehearsal: number }; routing: 'none' | 'subject' };
  /** A structured self-edit's own choices (already checked against the policy bounds by a gate). */
  requested: TrainingHyperparameters | null;
  /** The applied edits below the candidate, oldest first, trained on again (policy `training.replay`). */
  replay?: SelfEditText[];
}

export interface TrainedCandidate {
  digest: string;
  folder: string;
  hyperparameters: { learningRate: number; epochs: number; rank: number; alpha: number };
  trainSeconds: number;
  device: string;
  /** SHA-256 of the canonical JSON of the sequences trained on. */
  trainingDataSha256: string;
  replay?: { appliedEdits: number; rehearsalTexts: number };
  /** Policy `training.routing: subject`: the candidate's route key and the parent adapters it trained on. */
  routing?: { key: string[]; parentAdapters: number; parentAdaptersRouted: number };
}

/**
 * The inner update of SEAL for one self-edit: its lines (and the passage) become training sequences, the gpu/
 * trainer fits a LoRA adapter on top of the channel's stack, and the adapter enters the content-addressed
 * store. Nothing here serves it: a candidate is only reachable through lineage once it has been applied.
 */
@Injectable()
export class CandidateTrainer implements OnModuleDestroy {
  private readonly logger = new Logger(CandidateTrainer.name);
  private readonly trainer = new TrainerClient();
  private readonly spec: ModelSpec;
  private tokenizer?: Promise<TextTokenizer>;
  private readonly rehearsal: RehearsalCorpus;
  private knownWord?: (word: string) => boolean;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: AdapterStore,
  ) {
    this.spec = ModelSpec.load(config.MODEL_DIR);
    this.rehearsal = new RehearsalCorpus(config.MODEL_DIR);
  }

  /** Set when the worker stops: no trainer starts after that, since it would outlive the process's stop. */
  private stopping = false;

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.trainer.close();
  }

  /**
   * Whether this worker can train: the trainer process starts and answers its hello (Python, torch, the device it
   * trains on). A trainer that died is started again, so a fixed installation turns ready without a restart.
   */
  async health(): Promise<{ ok: true; trainer: TrainerInfo } | { ok: false; error: string }> {
    if (this.stopping) return { ok: false, error: 'the worker is stopping' };
    try {
      return { ok: true, trainer: await this.trainer.start() };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  /**
   * Takes an adapter trained elsewhere (a ReST-EM round's generator update) into the content-addressed store as a
   * candidate: it must load as a LoRA adapter of this model (PEFT names, shapes, size limit), like any trained one.
   */
  async importAdapter(sourceFolder: string): Promise<{ digest: string; folder: string }> {
    await loadLoraAdapter(sourceFolder, this.spec, this.config.ADAPTER_MAX_MB * MB);
    const { digest, folder } = this.store.put(readPeftFiles(sourceFolder));
    this.logger.log({ sourceFolder, digest }, 'candidate imported');
    return { digest, folder };
  }

  async train(request: CandidateRequest, onProgress?: (share: number) => void): Promise<TrainedCandidate> {
    if (this.stopping) {
      throw new TrainerError(
        TrainerErrorCode.TRAINER_EXITED,
        'the worker is stopping: the job goes back to the queue',
      );
    }
    this.tokenizer ??= Promise.resolve(TextTokenizer.fromFile(this.spec.tokenizerPath));
    const tokenizer = await this.tokenizer;
    const eos = this.spec.eosIds[0];
    const replayed = request.replay ?? [];
    const rehearsal = this.rehearsal.draw(request.key, request.policy.replay.rehearsal);
    const texts: SelfEditText[] = [
      { lines: request.lines, passage: request.passage ?? undefined },
      ...replayed,
      { lines: rehearsal },
    ];
    const sequences = (
      await Promise.all(texts.map((text) => selfEditSequences(tokenizer, eos, text)))
    ).flat();
    const chosen = {
      learningRate: request.requested?.learningRate ?? request.policy.learningRate,
      epochs: request.requested?.epochs ?? request.policy.epochs,
      rank: request.requested?.rank ?? request.policy.rank,
      alpha: request.requested?.alpha ?? request.policy.alpha,
    };
    const routing = this.routingOf(request);
    const quarantine = resolve(this.config.DATA_DIR, 'quarantine', request.key);
    rmSync(quarantine, { recursive: true, force: true });
    mkdirSync(quarantine, { recursive: true });
    const result = await this.trainer.train(
      innerUpdateInput(
        { ...request.policy, ...chosen },
        {
          baseModel: this.config.MODEL_DIR,
          adapters: routing?.parentFolders ?? request.parentFolders,
          sequences,
          outputDir: join(quarantine, 'adapter'),
        },
      ),
      { onProgress: (p) => onProgress?.(p.total ? p.step / p.total : 0) },
    );
    // The key goes into the adapter's own config, so its digest and signature cover it.
    if (routing) writeRouteKey(result.adapter_dir, routing.key);
    await loadLoraAdapter(result.adapter_dir, this.spec, this.config.ADAPTER_MAX_MB * MB);
    const { digest, folder } = this.store.put(readPeftFiles(result.adapter_dir));
    rmSync(quarantine, { recursive: true, force: true });
    this.logger.log({ key: request.key, digest, seconds: result.seconds }, 'candidate trained');
    return {
      digest,
      folder,
      hyperparameters: chosen,
      trainSeconds: result.seconds,
      device: result.device,
      trainingDataSha256: sha256Hex(canonicalize(sequences) ?? ''),
      ...(replayed.length || rehearsal.length
        ? { replay: { appliedEdits: replayed.length, rehearsalTexts: rehearsal.length } }
        : {}),
      ...(routing
        ? {
            routing: {
              key: routing.key,
              parentAdapters: request.parentFolders.length,
              parentAdaptersRouted: routing.parentFolders.length,
            },
          }
        : {}),
    };
  }

  /**
   * Under `training.routing: subject`, the key of an edit with a passage, and the parent as the gateway will
   * serve it to the edit's own texts: the parent adapters whose keys those texts match (usually none), so the
   * candidate learns on what its prompts will meet. No key can be named without a passage: such an edit trains
   * and serves unrouted, and the forgetting gate judges it so.
   */
  private routingOf(request: CandidateRequest): { key: string[]; parentFolders: string[] } | null {
    if (request.policy.routing !== 'subject' || !request.passage) return null;
    this.knownWord ??= knownWordsOf(this.rehearsal);
    const key = deriveRouteKey(request.passage.title, request.passage.text, this.knownWord);
    if (key.length === 0) return null;
    const texts = [...request.lines, `${request.passage.title}\n${request.passage.text}`];
    const parentFolders = request.parentFolders.filter((folder) => {
      const routing = readRouting(folder);
      return texts.some((text) => routesAny(routing, text));
    });
    return { key, parentFolders };
  }
}
