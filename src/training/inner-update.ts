import { resolve } from 'node:path';
import { LORA_TARGET_MODULES, TokenSequence, TrainInput } from 'src/training/trainer-protocol';

/**
 * SEAL's inner update: a LoRA adapter on every projection of the model, fitted to an edit's sequences on top of a
 * frozen stack. Its settings are a channel policy's `training` section (policies/channels.yaml), the one place
 * their values are written; a structured self-edit may choose others within that policy's bounds.
 */
export interface InnerUpdate {
  learningRate: number;
  epochs: number;
  rank: number;
  alpha: number;
  batchSize: number;
  seed: number;
}

/** The trainer's input for one inner update. Paths become absolute: the trainer runs in gpu/. */
export function innerUpdateInput(
  update: InnerUpdate,
  job: { baseModel: string; adapters: string[]; sequences: TokenSequence[]; outputDir: string },
): TrainInput {
  return {
    base_model: resolve(job.baseModel),
    adapters: job.adapters.map((folder) => resolve(folder)),
    sequences: job.sequences,
    lora: { r: update.rank, alpha: update.alpha, target_modules: [...LORA_TARGET_MODULES] },
    lr: update.learningRate,
    epochs: update.epochs,
    batch_size: update.batchSize,
    seed: update.seed,
    output_dir: resolve(job.outputDir),
  };
}
