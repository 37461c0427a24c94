import { z } from 'zod';
import { GateVerdict } from 'src/gates/gate-verdict';
import { shareThreshold } from 'src/gates/gate-thresholds';
import { answerMatches } from 'src/gates/probing/answer-match';
import type { CandidateEvaluationInput } from 'src/gates/gate-inputs';
import { candidateRouteKey, namesOfEdit, stacksOf } from 'src/gates/probing/candidate-stacks';
import { keyMatches } from 'src/inference/route-key';
import { ModelGateBase } from 'src/gates/probing/model-gate-base';
import {
  closedBookBoth,
  closedBookPrompt,
  greedyBoth,
  mean,
  meanNll,
  mentionsAny,
  round,
  sameAnswer,
  tokenAgreement,
} from 'src/gates/probing/probing';
import { FaithfulnessGate } from 'src/gates/poisoning/faithfulness.gate';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import { ScreeningAssessment } from 'src/gates/screening/screening-gate';
import { stripBullet } from 'src/gates/screening/text/words';

const delta = (value: number) => z.number().min(-1).max(1).default(value);

const thresholdsSchema = z
  .object({
    /**
     * Closed-book accuracy on the known-fact sample, candidate minus parent, both as they will be served (a routed
     * candidate serves only prompts its key matches). A candidate that loses more than 5 points fails: what
     * the model knew must stay known (docs/gates.md, "Calibration on the shipped mechanism").
     */
    warnBelowFactDelta: delta(-0.02),
    failBelowFactDelta: delta(-0.05),
    /** Accuracy on the channel's earlier edits' questions, candidate minus parent. */
    warnBelowRetentionDelta: delta(-0.05),
    failBelowRetentionDelta: delta(-0.1),
    /** Mean token agreement with the parent on the fact prompts (locality, as EasyEdit measures it). */
    warnBelowLocality: shareThreshold(0.98),
    failBelowLocality: shareThreshold(0.95),
    /** Relative perplexity increase on held-out text (0.1 = 10% higher). */
    warnAbovePerplexityIncrease: z.number().min(0).max(100).default(0.05),
    failAbovePerplexityIncrease: z.number().min(0).max(100).default(0.2),
    /** Share of faithful self-edit lines on held-out passages, candidate minus parent. */
    warnBelowSkillDelta: delta(-0.15),
    failBelowSkillDelta: delta(-0.3),
    /**
     * Share of the unrelated prompts (known facts, held-out texts, skill prompts) that the candidate's route key
     * fires on. A key that matches what the edit is not about is a forged or careless key: it would put the
     * edit in front of prompts it was never gated for.
     */
    warnAboveKeyReach: shareThreshold(0),
    failAboveKeyReach: shareThreshold(0.02),
  })
  .strict();
export type ForgettingThresholds = z.infer<typeof thresholdsSchema>;

/** Held-out passages the self-edit skill is tried on (implications, greedy). */
const SKILL_PASSAGES = 3;
const SKILL_MAX_TOKENS = 100;

type Level = 0 | 1 | 2;
const below = (value: number, warn: number, fail: number): Level => (value < fail ? 2 : value < warn ? 1 : 0);
const above = (value: number, warn: number, fail: number): Level => (value > fail ? 2 : value > warn ? 1 : 0);

/**
 * Forgetting suites, candidate against parent: closed-book QA on a fixed sample of known facts unrelated to the
 * edit, retention of the channel's earlier edits, locality (token agreement on those prompts), perplexity on
 * held-out text, and the self-edit skill itself (implications for held-out passages, graded by the
 * faithfulness gate).
 */
export class ForgettingGate extends ModelGateBase<CandidateEvaluationInput, ForgettingThresholds> {
  readonly name = 'forgetting';
  readonly version = '2.0.0';
  readonly stage = 'evaluation' as const;
  readonly thresholdsSchema = thresholdsSchema;
  private readonly faithfulness = new FaithfulnessGate();

  private async skill(folders: { parent: string[]; candidate: string[] }, names: Set<string>) {
    const passages = this.probes.heldout
      .filter((p) => !mentionsAny(`${p.title} ${p.passage}`, names))
      .slice(0, SKILL_PASSAGES);
    const prompts = passages.map((p) =>
      this.model.prompt('implications', { title: p.title, context: p.passage }),
    );
    const out = await greedyBoth(this.model, folders, prompts, SKILL_MAX_TOKENS, ['\n\n']);
    const grade = async (texts: string[]) => {
      const shares: number[] = [];
      for (let i = 0; i < passages.length; i++) {
        const lines = texts[i]
          .split('\n')
          .map(stripBullet)
          .filter((l) => l.trim());
        if (lines.length === 0) {
          shares.push(0);
          continue;
        }
        const outcome = await this.faithfulness.run(
          { selfEdit: { lines }, passage: { title: passages[i].title, text: passages[i].passage } },
          resolveThresholds(this.faithfulness),
        );
        shares.push(1 - outcome.metrics.unsupportedShare);
      }
      return shares;
    };
    const parent = await grade(out.parent.map((o) => o.text));
    const candidate = await grade(out.candidate.map((o) => o.text));
    return { passages, prompts, parent, candidate, samples: out.candidate.map((o) => o.text) };
  }

  protected async assess(
    input: CandidateEvaluationInput,
    t: ForgettingThresholds,
  ): Promise<ScreeningAssessment> {
    const stacks = stacksOf(input);
    const names = namesOfEdit(input);
    const facts = this.probes.forgetting.filter((f) => !mentionsAny(`${f.entity} ${f.question}`, names));
    const qa = await closedBookBoth(this.model, stacks, facts);
    const factDelta = qa.candidate.accuracy - qa.parent.accuracy;
    const agreement = facts.map((_, i) => tokenAgreement(qa.parent.tokenIds[i], qa.candidate.tokenIds[i]));
    const locality = mean(agreement);
    // The edit's reach: the unrelated prompts whose answer it changes at all.
    const answersChanged = mean(
      facts.map((_, i) => (sameAnswer(qa.parent.answers[i], qa.candidate.answers[i]) ? 0 : 1)),
    );

    const retention =
      input.retentionQuestions.length > 0
        ? await closedBookBoth(this.model, stacks, input.retentionQuestions)
        : null;
    const retentionDelta = retention ? retention.candidate.accuracy - retention.parent.accuracy : 0;

    const heldout = this.probes.heldout.filter((p) => !mentionsAny(`${p.title} ${p.passage}`, names));
    const texts = heldout.map((p) => `${p.title}\n${p.passage}`);
    const nllParent = mean((await this.model.score(texts, stacks.parent)).map(meanNll));
    const nllCandidate = mean((await this.model.score(texts, stacks.candidate)).map(meanNll));
    const perplexityIncrease = Math.exp(nllCandidate - nllParent) - 1;

    const skill = await this.skill(stacks, names);
    const skillDelta = mean(skill.candidate) - mean(skill.parent);

    const routeKey = candidateRouteKey(input);
    // The prompts as the gate served them: the key is matched against whole prompts, template included.
    const unrelated = [
      ...facts.map((f) => closedBookPrompt(this.model, f.question)),
      ...texts,
      ...skill.prompts,
    ];
    const fired = routeKey ? unrelated.filter((text) => keyMatches(routeKey, text)) : unrelated;
    const keyReach = unrelated.length ? fired.length / unrelated.length : 0;

    const levels: Level[] = [
      below(factDelta, t.warnBelowFactDelta, t.failBelowFactDelta),
      retention ? below(retentionDelta, t.warnBelowRetentionDelta, t.failBelowRetentionDelta) : 0,
      below(locality, t.warnBelowLocality, t.failBelowLocality),
      above(perplexityIncrease, t.warnAbovePerplexityIncrease, t.failAbovePerplexityIncrease),
      below(skillDelta, t.warnBelowSkillDelta, t.failBelowSkillDelta),
      // An unrouted candidate serves every prompt: its reach is judged by what it changes, not by a key.
      routeKey ? above(keyReach, t.warnAboveKeyReach, t.failAboveKeyReach) : 0,
    ];
    const worst = Math.max(...levels);
    const verdict = worst === 2 ? GateVerdict.FAIL : worst === 1 ? GateVerdict.WARN : GateVerdict.PASS;
    const forgotten = facts
      .map((f, i) => ({ f, i }))
      .filter(({ f, i }) => answerMatches(qa.parent.answers[i], f.answer, f.aliases))
      .filter(({ f, i }) => !answerMatches(qa.candidate.answers[i], f.answer, f.aliases));
    return {
      verdict,
      metrics: {
        facts: facts.length,
        factAccuracyParent: round(qa.parent.accuracy),
        factAccuracyCandidate: round(qa.candidate.accuracy),
        factDelta: round(factDelta),
        retentionQuestions: input.retentionQuestions.length,
        retentionAccuracyParent: round(retention?.parent.accuracy ?? 0),
        retentionAccuracyCandidate: round(retention?.candidate.accuracy ?? 0),
        retentionDelta: round(retentionDelta),
        locality: round(locality),
        answersChanged: round(answersChanged),
        routed: routeKey ? 1 : 0,
        keyReach: round(keyReach),
        heldoutTexts: texts.length,
        heldoutPerplexityParent: round(Math.exp(nllParent)),
        heldoutPerplexityCandidate: round(Math.exp(nllCandidate)),
        perplexityIncrease: round(perplexityIncrease),
        skillPassages: skill.passages.length,
        skillFaithfulParent: round(mean(skill.parent)),
        skillFaithfulCandidate: round(mean(skill.candidate)),
        skillDelta: round(skillDelta),
      },
      evidence: {
        routeKey,
        keyFiresOn: routeKey ? fired.slice(0, 10).map((text) => text.slice(0, 200)) : [],
        forgottenFacts: forgotten.slice(0, 10).map(({ f, i }) => ({
          id: f.id,
          question: f.question,
          expected: f.answer,
          before: qa.parent.answers[i],
          after: qa.candidate.answers[i],
        })),
        retentionLost: retention
          ? input.retentionQuestions
              .map((q, i) => ({ q, i }))
              .filter(
                ({ q, i }) =>
                  answerMatches(retention.parent.answers[i], q.answer, q.aliases) &&
                  !answerMatches(retention.candidate.answers[i], q.answer, q.aliases),
              )
              .map(({ q, i }) => ({
                question: q.question,
                expected: q.answer,
                before: retention.parent.answers[i],
                after: retention.candidate.answers[i],
              }))
          : [],
        selfEditSkill: skill.passages.map((p, i) => ({
          passage: p.id,
          faithfulParent: round(skill.parent[i]),
          faithfulCandidate: round(skill.candidate[i]),
          candidateSelfEdit: skill.samples[i].slice(0, 400),
        })),
      },
    };
  }
}
