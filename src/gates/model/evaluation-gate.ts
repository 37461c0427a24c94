import type { CandidateEvaluationInput } from 'src/gates/model-gate';
import { editNames } from 'src/gates/model/probing';
import { readRouteKey } from 'src/inference/lora-adapter';
import { isOrdinaryWord } from 'src/gates/poisoning/passage-evidence';

/** The stacks an evaluation compares. */
export const stacksOf = (input: CandidateEvaluationInput) => ({
  parent: input.parentFolders,
  candidate: input.candidateFolders,
});

/** The names an edit touches (probes naming them are not "unrelated"). */
export const namesOfEdit = (input: CandidateEvaluationInput) =>
  editNames([input.passage.title, input.passage.text, ...input.selfEdit.lines], isOrdinaryWord);

/** The route key the candidate carries (null: it serves every prompt), read from its own adapter config. */
export const candidateRouteKey = (input: CandidateEvaluationInput): string[] | null => {
  const folder = input.candidateFolders[input.candidateFolders.length - 1];
  return folder ? readRouteKey(folder) : null;
};
