import { writeRouteKey } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { deriveRouteKey } from 'src/inference/route-key';
import { InnerUpdate, innerUpdateInput } from 'src/training/inner-update';
import { RehearsalCorpus } from 'src/training/rehearsal-corpus';
import { knownWordsOf } from 'src/training/known-words';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { selfEditSequences } from 'src/training/self-edit-sequences';
import { TrainerClient } from 'src/training/trainer-client';

export interface CandidateEdit {
  lines: string[];
  passage?: { title: string; text: string };
}

/**
 * Trains a candidate adapter for an edit on top of `parentFolders` with the gpu/ trainer, for the evaluation
 * gates' calibration and tests (the pipeline trains through its own queue, CandidateTrainer). `update` is a
 * channel policy's training section. Returns the adapter folder.
 */
export async function trainCandidate(
  trainer: TrainerClient,
  modelDir: string,
  edit: CandidateEdit,
  outputDir: string,
  update: InnerUpdate,
  options: {
    parentFolders?: string[];
    /** Route the candidate by its subject, as the pipeline does under `training.routing: subject`. */
    routed?: boolean;
  } = {},
): Promise<string> {
  const spec = ModelSpec.load(modelDir);
  const sequences = await selfEditSequences(TextTokenizer.fromFile(spec.tokenizerPath), spec.eosIds[0], edit);
  const result = await trainer.train({
    ...innerUpdateInput(update, {
      baseModel: modelDir,
      adapters: options.parentFolders ?? [],
      sequences,
      outputDir,
    }),
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
