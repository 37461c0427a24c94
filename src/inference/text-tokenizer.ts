import { Tokenizer } from 'tokenizers';

/**
 * The model's tokenizer.json, read by Hugging Face's own `tokenizers` library (its Rust implementation), so the
 * ids are those every Hugging Face tool computes.
 */
export class TextTokenizer {
  private constructor(private readonly tokenizer: Tokenizer) {}

  static fromFile(path: string): TextTokenizer {
    return new TextTokenizer(Tokenizer.fromFile(path));
  }

  /** Token ids; with `addSpecialTokens` the tokenizer's post-processor adds <s> in front. */
  async encode(text: string, addSpecialTokens = true): Promise<number[]> {
    const encoding = await this.tokenizer.encode(text, null, { addSpecialTokens });
    return encoding.getIds();
  }

  decode(ids: number[], skipSpecialTokens = true): Promise<string> {
    return this.tokenizer.decode(ids, skipSpecialTokens);
  }
}
