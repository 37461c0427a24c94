import { SelfEditKind } from 'src/self-edits/self-edit.types';

const NUMBERED_QUESTION = /^Question(?: \d+)?:\s*/;

/**
 * The training lines of a self-edit's text: its non-empty lines, except that in a self-QA edit an answer line
 * joins its question ("Question: ...\nAnswer: ..."), so that a pair trains as one sequence. The experiments'
 * trainer applies the same rule (gpu/sealgate_gpu/seal/self_edits.py).
 */
export function selfEditLines(edit: { kind: SelfEditKind; content: string }): string[] {
  const lines = edit.content
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (edit.kind !== SelfEditKind.self_qa) return lines;
  const pairs: string[] = [];
  for (const line of lines) {
    if (line.startsWith('Answer:') && pairs.length > 0) pairs[pairs.length - 1] += `\n${line}`;
    else pairs.push(`Question: ${line.replace(NUMBERED_QUESTION, '')}`);
  }
  return pairs;
}
