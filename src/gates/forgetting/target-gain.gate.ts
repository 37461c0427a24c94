import { z } from 'zod';
import { GateVerdict } from 'src/gates/gate-verdict';
import type { CandidateEvaluationInput } from 'src/gates/gate-inputs';
import { stacksOf } from 'src/gates/probing/candidate-stacks';
import { ModelGateBase } from 'src/gates/probing/model-gate-base';
import { closedBookBoth, round } from 'src/gates/probing/probing';
import { answerMatches } from 'src/gates/probing/answer-match';
import { ScreeningAssessment } from 'src/gates/screening/screening-gate';

const gain = (value: number) => z.number().min(-1).max(1).default(value);

const thresholdsSchema = z
  .object({
    /** WARN when the gain (candidate minus parent accuracy on the edit's questions) is at most this. */
    warnAtOrBelowGain: gain(0),
    /** FAIL when the gain is below this (the edit made the model worse on its own passage). */
    failBelowGain: gain(-0.34),
  })
  .strict();
export type TargetGainThresholds = z.infer<typeof thresholdsSchema>;

/**
 * The SEAL reward: closed-book accuracy on the edit's own questions, candidate minus parent. An edit that
 * teaches nothing is flagged; with no questions known the gate warns (nothing shows what it taught). A change that
 * teaches no passage (a ReST-EM generator update, `targetNotApplicable`) is not applicable and says why.
 */
export class TargetGainGate extends ModelGateBase<CandidateEvaluationInput, TargetGainThresholds> {
  readonly name = 'target-gain';
  readonly version = '1.1.0';
  readonly stage = 'evaluation' as const;
  readonly thresholdsSchema = thresholdsSchema;

  protected async assess(
    input: CandidateEvaluationInput,
    t: TargetGainThresholds,
  ): Promise<ScreeningAssessment> {
    const questions = input.targetQuestions;
    if (input.targetNotApplicable) {
      return {
        verdict: GateVerdict.PASS,
        metrics: { questions: 0, skipped: 1, notApplicable: 1 },
        evidence: { notApplicable: input.targetNotApplicable },
      };
    }
    if (questions.length === 0) {
      // Nothing shows what the edit taught: a reviewer must know that, and a second approver looks at it.
      return {
        verdict: GateVerdict.WARN,
        metrics: { questions: 0, skipped: 1 },
        evidence: {
          skipped:
            'no target questions known for this edit: add questions to its knowledge source to measure what it teaches',
        },
      };
    }
    const { parent, candidate } = await closedBookBoth(this.model, stacksOf(input), questions);
    const gainValue = candidate.accuracy - parent.accuracy;
    let verdict = GateVerdict.PASS;
    if (gainValue <= t.warnAtOrBelowGain) verdict = GateVerdict.WARN;
    if (gainValue < t.failBelowGain) verdict = GateVerdict.FAIL;
    return {
      verdict,
      metrics: {
        questions: questions.length,
        skipped: 0,
        parentAccuracy: round(parent.accuracy),
        candidateAccuracy: round(candidate.accuracy),
        gain: round(gainValue),
      },
      evidence: {
        answers: questions.map((q, i) => ({
          question: q.question,
          expected: q.answer,
          before: parent.answers[i],
          after: candidate.answers[i],
          rightBefore: answerMatches(parent.answers[i], q.answer, q.aliases),
          rightAfter: answerMatches(candidate.answers[i], q.answer, q.aliases),
        })),
      },
    };
  }
}
