import { TextTokenizer } from 'src/inference/text-tokenizer';
import { TokenSequence } from 'src/training/trainer-protocol';

export interface SelfEditText {
  /** The self-edit's lines (implications, rewrites, question-answer pairs), one training sequence each. */
  lines: string[];
  /** The source passage, trained on as one more sequence when given (SEAL trains on passage + self-edit). */
  passage?: { title: string; text: string };
}

/**
 * The inner update's training data: every line and the passage as `<s> text </s>`, the loss on every token
 * after <s>. Lines are trained on alone, so each must name its subject (the faithfulness gate checks that).
 */
export async function selfEditSequences(
  tokenizer: TextTokenizer,
  eosId: number,
  edit: SelfEditText,
): Promise<TokenSequence[]> {
  const texts = edit.lines.map((l) => l.trim()).filter((l) => l.length > 0);
  if (edit.passage) texts.push(`${edit.passage.title}\n${edit.passage.text}`);
  return Promise.all(
    texts.map(async (text) => {
      const inputIds = [...(await tokenizer.encode(text)), eosId];
      return { input_ids: inputIds, loss_mask: inputIds.map((_, i) => (i === 0 ? 0 : 1)) };
    }),
  );
}
