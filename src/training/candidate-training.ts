import { resolve } from 'node:path';
import { writeRouteKey } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { deriveRouteKey } from 'src/inference/route-key';
import { RehearsalCorpus } from 'src/training/rehearsal-corpus';
import { knownWordsOf } from 'src/training/known-words';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { selfEditSequences } from 'src/training/self-edit-sequences';
import { TrainerClient } from 'src/training/trainer-client';
import { LORA_TARGET_MODULES } from 'src/training/trainer-protocol';

/** SEAL's inner update as the gateway runs it by default (r 16 on every projection, 10 epochs, lr 3e-3). */
export const DEFAULT_INNER_UPDATE = { lr: 3e-3, epochs: 10, batch_size: 8, seed: 0, r: 16 };

export interface CandidateEdit {
  lines: string[];
  passage?: { title: string; text: string };
}

/**
 * Trains a candidate adapter for an edit on top of `parentFolders` with the gpu/ trainer, for the evaluation
 * gates' calibration and tests (the pipeline trains through its own queue). Returns the adapter folder.
 */
export async function trainCandidate(
  trainer: TrainerClient,
  modelDir: string,
  edit: CandidateEdit,
  outputDir: string,
  options: {
    parentFolders?: string[];
    lr?: number;
    epochs?: number;
    r?: number;
    seed?: number;
    /** Route the candidate by its subject, as the pipeline does under `training.routing: subject`. */
    routed?: boolean;
  } = {},
): Promise<string> {
  const spec = ModelSpec.load(modelDir);
  const sequences = await selfEditSequences(TextTokenizer.fromFile(spec.tokenizerPath), spec.eosIds[0], edit);
  const r = options.r ?? DEFAULT_INNER_UPDATE.r;
  const result = await trainer.train({
    base_model: resolve(modelDir),
    adapters: (options.parentFolders ?? []).map((f) => resolve(f)),
    sequences,
    lora: { r, alpha: 2 * r, target_modules: [...LORA_TARGET_MODULES] },
    output_dir: resolve(outputDir),
    lr: options.lr ?? DEFAULT_INNER_UPDATE.lr,
    epochs: options.epochs ?? DEFAULT_INNER_UPDATE.epochs,
    batch_size: DEFAULT_INNER_UPDATE.batch_size,
    seed: options.seed ?? DEFAULT_INNER_UPDATE.seed,
    overwrite: true,
  });
  if (options.routed && edit.passage) {
    const key = deriveRouteKey(
      edit.passage.title,
      edit.passage.text,
      knownWordsOf(new RehearsalCorpus(modelDir)),
    );
    if (key.length) writeRouteKey(result.adapter_dir, key);
  }
  return result.adapter_dir;
}
