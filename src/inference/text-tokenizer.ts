import { Tokenizer } from 'tokenizers';
import { ByteLevelDecoder } from 'src/inference/byte-level-decoder';

/**
 * The model's tokenizer.json, read by Hugging Face's own `tokenizers` library (its Rust implementation), so the
 * ids are those every Hugging Face tool computes.
 */
export class TextTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** The same decoding in JavaScript, where the tokenizer's decoder allows (see ByteLevelDecoder). */
    private readonly fastDecoder: ByteLevelDecoder | null,
  ) {}

  static fromFile(path: string): TextTokenizer {
    return new TextTokenizer(Tokenizer.fromFile(path), ByteLevelDecoder.fromFile(path));
  }

  /** Token ids; with `addSpecialTokens` the tokenizer's post-processor adds <s> in front. */
  async encode(text: string, addSpecialTokens = true): Promise<number[]> {
    const encoding = await this.tokenizer.encode(text, null, { addSpecialTokens });
    return encoding.getIds();
  }

  decode(ids: number[], skipSpecialTokens = true): Promise<string> {
    if (skipSpecialTokens && this.fastDecoder) return Promise.resolve(this.fastDecoder.decode(ids));
    return this.tokenizer.decode(ids, skipSpecialTokens);
  }
}
