import type { ServedRequest, ServedResult } from 'src/inference/model.service';
import type { ScoreResult } from 'src/inference/scoring';
import type { ScreeningInput } from 'src/gates/screening/screening-gate';

/**
 * What model-based gates need from the served model (ModelService implements it). Adapter stacks are given as
 * folders, base model first is implied: `[]` is the base model alone.
 */
export interface GateModel {
  prompt(kind: string, fields: Record<string, string>): string;
  generate(requests: ServedRequest[]): Promise<ServedResult[]>;
  score(texts: string[], adapterFolders: string[]): Promise<ScoreResult[]>;
}

/** A question with its reference answer, as in the world's QA files. */
export interface ProbeQuestion {
  question: string;
  answer: string;
  aliases?: string[];
}

/** Screening with the model, still before any training: the channel's current stack is the reference. */
export interface ModelScreeningInput extends ScreeningInput {
  /** The channel's applied adapter stack (folders, oldest first); `[]` for the base model. */
  parentFolders: string[];
}

/** Evaluation of a trained candidate (in quarantine) against its parent. */
export interface CandidateEvaluationInput extends ModelScreeningInput {
  /** `parentFolders` plus the candidate adapter on top. */
  candidateFolders: string[];
  /** Questions on the edit's passage (target gain, the SEAL reward); may be empty when none are known. */
  targetQuestions: ProbeQuestion[];
  /**
   * Why the target gain does not apply to this change at all (a ReST-EM generator update teaches no passage);
   * absent for every edit that teaches a passage, whose gain is measured whenever it has questions.
   */
  targetNotApplicable?: string;
  /** Questions of the edits already applied on this channel (retention); empty on a fresh channel. */
  retentionQuestions: ProbeQuestion[];
}
