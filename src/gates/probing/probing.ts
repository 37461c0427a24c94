import { answerMatches, normaliseAnswer } from 'src/gates/probing/answer-match';
import type { GateModel, ProbeQuestion } from 'src/gates/gate-inputs';
import type { ScoreResult } from 'src/inference/scoring';

/** Greedy decoding: the model's single most likely answer, reproducible. */
export const GREEDY = { temperature: 0, topP: 1 };

/** An answer's first line, trimmed. */
export const firstLine = (text: string) => text.split('\n')[0].trim();

/** Greedy continuations of `prompts` under one adapter stack, in one batch; answers end at a newline. */
export async function greedy(
  model: GateModel,
  folders: string[],
  prompts: string[],
  maxTokens: number,
  stop: string[] = ['\n'],
): Promise<{ text: string; tokenIds: number[] }[]> {
  if (prompts.length === 0) return [];
  const results = await model.generate(
    prompts.map((prompt) => ({ prompt, adapterFolders: folders, params: { ...GREEDY, maxTokens, stop } })),
  );
  return results.map((r) => ({ text: r.text, tokenIds: r.tokenIds }));
}

/** The closed-book prompt of the model for a question. */
export const closedBookPrompt = (model: GateModel, question: string) =>
  model.prompt('closed-book', { question });

/** Closed-book answers (first line) to questions under one stack. */
export async function closedBookAnswers(
  model: GateModel,
  folders: string[],
  questions: string[],
  maxTokens = 12,
): Promise<string[]> {
  const out = await greedy(
    model,
    folders,
    questions.map((q) => closedBookPrompt(model, q)),
    maxTokens,
  );
  return out.map((o) => firstLine(o.text));
}

/** Accuracy of closed-book answers to probe questions (SQuAD-normalised match against answer or alias). */
export function accuracy(questions: ProbeQuestion[], answers: string[]): number {
  if (questions.length === 0) return 0;
  return questions.filter((q, i) => answerMatches(answers[i], q.answer, q.aliases)).length / questions.length;
}

/** Sum of a scored text's token log-probabilities. */
export const totalLogProb = (s: ScoreResult) => s.tokenLogProbs.reduce((a, b) => a + b, 0);

/** Mean negative log-likelihood per token (log perplexity). */
export const meanNll = (s: ScoreResult) =>
  s.tokenLogProbs.length === 0 ? 0 : -totalLogProb(s) / s.tokenLogProbs.length;

/**
 * log p(continuation | prompt) for each pair, from two scored texts (the prompt alone, then prompt plus
 * continuation): the difference of their total log-probabilities, and how many tokens the continuation took.
 */
export async function continuationLogProbs(
  model: GateModel,
  folders: string[],
  pairs: { prompt: string; continuation: string }[],
): Promise<{ logProb: number; tokens: number }[]> {
  if (pairs.length === 0) return [];
  const scored = await model.score(
    [...pairs.map((p) => p.prompt), ...pairs.map((p) => p.prompt + p.continuation)],
    folders,
  );
  return pairs.map((_, i) => {
    const prompt = scored[i];
    const whole = scored[pairs.length + i];
    return {
      logProb: totalLogProb(whole) - totalLogProb(prompt),
      tokens: whole.tokenLogProbs.length - prompt.tokenLogProbs.length,
    };
  });
}

/**
 * Token agreement of a candidate's greedy output with the reference's, position by position over the
 * reference's tokens (EasyEdit's locality): 1 when identical.
 */
export function tokenAgreement(reference: number[], candidate: number[]): number {
  if (reference.length === 0) return candidate.length === 0 ? 1 : 0;
  let same = 0;
  for (let i = 0; i < reference.length; i++) if (candidate[i] === reference[i]) same++;
  return same / reference.length;
}

/** Two answers agree when they normalise to the same text. */
export const sameAnswer = (a: string, b: string) =>
  normaliseAnswer(firstLine(a)) === normaliseAnswer(firstLine(b));

export const mean = (values: number[]) =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;

/** Rounds metrics for reports (4 significant decimals are plenty for thresholds). */
export const round = (v: number, digits = 4) => Number(v.toFixed(digits));

/** Greedy continuations for prompts each under its own stack, in one batch. */
export async function greedyEach(
  model: GateModel,
  requests: { prompt: string; folders: string[] }[],
  maxTokens: number,
  stop: string[] = ['\n'],
): Promise<{ text: string; tokenIds: number[] }[]> {
  if (requests.length === 0) return [];
  const results = await model.generate(
    requests.map((r) => ({
      prompt: r.prompt,
      adapterFolders: r.folders,
      params: { ...GREEDY, maxTokens, stop },
    })),
  );
  return results.map((r) => ({ text: r.text, tokenIds: r.tokenIds }));
}

/** The same prompts under the parent and the candidate stack, in one batch. */
export async function greedyBoth(
  model: GateModel,
  stacks: { parent: string[]; candidate: string[] },
  prompts: string[],
  maxTokens: number,
  stop: string[] = ['\n'],
): Promise<{
  parent: { text: string; tokenIds: number[] }[];
  candidate: { text: string; tokenIds: number[] }[];
}> {
  const out = await greedyEach(
    model,
    [
      ...prompts.map((prompt) => ({ prompt, folders: stacks.parent })),
      ...prompts.map((prompt) => ({ prompt, folders: stacks.candidate })),
    ],
    maxTokens,
    stop,
  );
  return { parent: out.slice(0, prompts.length), candidate: out.slice(prompts.length) };
}

/** Closed-book accuracy of parent and candidate on the same questions (one batch), with their answers. */
export async function closedBookBoth(
  model: GateModel,
  stacks: { parent: string[]; candidate: string[] },
  questions: ProbeQuestion[],
  maxTokens = 12,
): Promise<{
  parent: { answers: string[]; tokenIds: number[][]; accuracy: number };
  candidate: { answers: string[]; tokenIds: number[][]; accuracy: number };
}> {
  const both = await greedyBoth(
    model,
    stacks,
    questions.map((q) => closedBookPrompt(model, q.question)),
    maxTokens,
  );
  const summary = (out: { text: string; tokenIds: number[] }[]) => {
    const answers = out.map((o) => firstLine(o.text));
    return { answers, tokenIds: out.map((o) => o.tokenIds), accuracy: accuracy(questions, answers) };
  };
  return { parent: summary(both.parent), candidate: summary(both.candidate) };
}

const CAPITALISED = /\b[A-Z][a-z]+\b/g;

/**
 * Name-like words of an edit (capitalised words of its title, passage and lines, less ordinary English), lower
 * case: a probe naming one of them is related to the edit and left out of suites meant to be unrelated.
 */
export function editNames(texts: string[], isOrdinary: (word: string) => boolean): Set<string> {
  const names = new Set<string>();
  for (const text of texts) {
    for (const [word] of text.matchAll(CAPITALISED)) if (!isOrdinary(word)) names.add(word.toLowerCase());
  }
  return names;
}

export const mentionsAny = (text: string, names: Set<string>) =>
  [...text.matchAll(CAPITALISED)].some(([word]) => names.has(word.toLowerCase()));

/** Jensen-Shannon divergence of two log-probability vectors, in nats (symmetric, at most ln 2). */
export function jsDivergence(logP: Float32Array, logQ: Float32Array): number {
  let js = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    const q = Math.exp(logQ[i]);
    const m = (p + q) / 2;
    if (m <= 0) continue;
    if (p > 0) js += 0.5 * p * (logP[i] - Math.log(m));
    if (q > 0) js += 0.5 * q * (logQ[i] - Math.log(m));
  }
  return Math.max(0, js);
}
