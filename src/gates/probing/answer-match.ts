/**
 * SQuAD-style answer matching, as the world's Python side does it (gpu/sealgate_gpu/world/templates.py):
 * lower case, no punctuation, no articles, single spaces; the prediction's first line against the answer or
 * any alias.
 */
export function normaliseAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 ]/g, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .join(' ');
}

export function answerMatches(prediction: string, answer: string, aliases: string[] = []): boolean {
  const predicted = normaliseAnswer(prediction.split('\n')[0]);
  return [answer, ...aliases].some((a) => normaliseAnswer(a) === predicted);
}
