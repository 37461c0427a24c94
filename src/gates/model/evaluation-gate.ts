import type { CandidateEvaluationInput } from 'src/gates/model-gate';
import { editNames } from 'src/gates/model/probing';
import { isOrdinaryWord } from 'src/gates/poisoning/passage-evidence';

/** The stacks an evaluation compares. */
export const stacksOf = (input: CandidateEvaluationInput) => ({
  parent: input.parentFolders,
  candidate: input.candidateFolders,
});

/** The names an edit touches (probes naming them are not "unrelated"). */
export const namesOfEdit = (input: CandidateEvaluationInput) =>
  editNames([input.passage.title, input.passage.text, ...input.selfEdit.lines], isOrdinaryWord);
