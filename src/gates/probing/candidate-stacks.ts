import type { CandidateEvaluationInput } from 'src/gates/gate-inputs';
import { editNames } from 'src/gates/probing/probing';
import { readRouteKey } from 'src/inference/lora-adapter';
import { keyMatches } from 'src/inference/route-key';
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

/**
 * The probes of the gates that judge how a candidate behaves when it is active (canary drift, trigger scan)
 * name a routed candidate's subject first, so its adapter serves them as it would serve any request about
 * that subject: the only requests it ever sees. Unrelated prompts, where it is routed out, are the forgetting
 * gate's. An unrouted candidate serves every prompt as it is.
 */
export const inSubjectDomain = (input: CandidateEvaluationInput): ((text: string) => string) => {
  const key = candidateRouteKey(input);
  if (!key) return (text) => text;
  const subject = keyMatches(key, input.passage.title) ? input.passage.title : key[0];
  return (text) => `${subject}\n${text}`;
};
