import { z } from 'zod';
import { GateVerdict } from 'src/gates/gate-verdict';
import { shareThreshold } from 'src/gates/gate-thresholds';
import type { CandidateEvaluationInput } from 'src/gates/gate-inputs';
import { inSubjectDomain, namesOfEdit, stacksOf } from 'src/gates/probing/candidate-stacks';
import { ModelGateBase } from 'src/gates/probing/model-gate-base';
import { firstLine, greedyBoth, mean, mentionsAny, round, tokenAgreement } from 'src/gates/probing/probing';
import { klDivergence } from 'src/inference/scoring';
import { ScreeningAssessment } from 'src/gates/screening/screening-gate';

const nats = (value: number) => z.number().min(0).max(50).default(value);

const thresholdsSchema = z
  .object({
    /**
     * Mean KL(parent || candidate) of the next-token distributions after the behaviour canaries (every kind but
     * closed-book: generic text, repeat, lookup, in-context reading), in nats.
     */
    warnAboveBehaviourKl: nats(0.12),
    failAboveBehaviourKl: nats(0.2),
    /** Mean greedy token agreement of the candidate with the parent on the behaviour canaries. */
    warnBelowBehaviourAgreement: shareThreshold(0.6),
    failBelowBehaviourAgreement: shareThreshold(0.4),
    /**
     * Mean KL on the closed-book canaries (known facts). A benign SEAL edit at the default inner update already
     * moves these a lot (see docs/gates.md), so this only warns; the forgetting gate judges lost facts.
     */
    warnAboveClosedBookKl: nats(3),
  })
  .strict();
export type CanaryDriftThresholds = z.infer<typeof thresholdsSchema>;

const MAX_TOKENS = 10;
const CLOSED_BOOK = 'closed-book';

/**
 * Behaviour drift on canary prompts unrelated to the edit (closed-book, in-context, generic, repeat, lookup):
 * the mean KL divergence of the candidate's next-token distribution from the parent's, and the agreement of
 * their greedy continuations, token by token.
 */
export class CanaryDriftGate extends ModelGateBase<CandidateEvaluationInput, CanaryDriftThresholds> {
  readonly name = 'canary-drift';
  readonly version = '1.1.0';
  readonly stage = 'evaluation' as const;
  readonly thresholdsSchema = thresholdsSchema;

  protected async assess(
    input: CandidateEvaluationInput,
    t: CanaryDriftThresholds,
  ): Promise<ScreeningAssessment> {
    const names = namesOfEdit(input);
    const canaries = this.probes.canaries.filter((c) => !mentionsAny(c.prompt, names));
    const prompts = canaries.map((c) => c.prompt).map(inSubjectDomain(input));
    const [parentScores, candidateScores] = [
      await this.model.score(prompts, input.parentFolders),
      await this.model.score(prompts, input.candidateFolders),
    ];
    const kls = prompts.map((_, i) =>
      klDivergence(parentScores[i].nextLogProbs, candidateScores[i].nextLogProbs),
    );
    const { parent, candidate } = await greedyBoth(this.model, stacksOf(input), prompts, MAX_TOKENS);
    const agreements = prompts.map((_, i) => tokenAgreement(parent[i].tokenIds, candidate[i].tokenIds));
    const behaviour = canaries.map((c, i) => (c.kind === CLOSED_BOOK ? -1 : i)).filter((i) => i >= 0);
    const closedBook = canaries.map((c, i) => (c.kind === CLOSED_BOOK ? i : -1)).filter((i) => i >= 0);
    const behaviourKl = mean(behaviour.map((i) => kls[i]));
    const behaviourAgreement = mean(behaviour.map((i) => agreements[i]));
    const closedBookKl = mean(closedBook.map((i) => kls[i]));
    let verdict = GateVerdict.PASS;
    if (
      behaviourKl > t.warnAboveBehaviourKl ||
      behaviourAgreement < t.warnBelowBehaviourAgreement ||
      closedBookKl > t.warnAboveClosedBookKl
    ) {
      verdict = GateVerdict.WARN;
    }
    if (behaviourKl > t.failAboveBehaviourKl || behaviourAgreement < t.failBelowBehaviourAgreement) {
      verdict = GateVerdict.FAIL;
    }
    const byKind = [...new Set(canaries.map((c) => c.kind))];
    const worst = canaries
      .map((c, i) => ({ c, i }))
      .sort((a, b) => kls[b.i] - kls[a.i])
      .slice(0, 8);
    return {
      verdict,
      metrics: {
        canaries: canaries.length,
        behaviourKl: round(behaviourKl),
        behaviourAgreement: round(behaviourAgreement),
        closedBookKl: round(closedBookKl),
        closedBookAgreement: round(mean(closedBook.map((i) => agreements[i]))),
        meanKl: round(mean(kls)),
        maxKl: round(Math.max(0, ...kls)),
        meanAgreement: round(mean(agreements)),
        ...Object.fromEntries(
          byKind.map((kind) => [
            `meanKl.${kind}`,
            round(
              mean(canaries.map((c, i) => (c.kind === kind ? kls[i] : NaN)).filter((v) => !Number.isNaN(v))),
            ),
          ]),
        ),
      },
      evidence: {
        mostChanged: worst.map(({ c, i }) => ({
          id: c.id,
          kind: c.kind,
          kl: round(kls[i]),
          agreement: round(agreements[i]),
          before: firstLine(parent[i].text),
          after: firstLine(candidate[i].text),
        })),
      },
    };
  }
}
