import { readFileSync } from 'node:fs';

/** The parts of a Hugging Face tokenizer.json that decoding needs. */
interface TokenizerJson {
  decoder?: { type?: string } | null;
  model?: { type?: string; vocab?: Record<string, number> };
  added_tokens?: { id: number; content: string; special: boolean }[];
}

/** GPT-2's byte-level alphabet: the character that stands for each byte in a byte-level token. */
function byteOfChar(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]), b]));
}

/**
 * Decoding, with special tokens skipped, for tokenizers whose decoder is plain ByteLevel (GPT-2 style BPE, as
 * the default model's is): each id's token maps to bytes, and the concatenated bytes are read as UTF-8 with
 * invalid sequences replaced by U+FFFD, as the `tokenizers` library does. Synchronous and a table lookup per
 * token, where the library's decode is a call into native code on the thread pool: the batcher decodes every
 * row's text after every token, so this is on the serving hot path.
 * tokenizer-parity.int-spec.ts checks it against the library's decode.
 */
export class ByteLevelDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  private constructor(
    /** Bytes of each id's token; null for special tokens and ids the tokenizer does not know (both skipped). */
    private readonly pieces: (Uint8Array | null)[],
  ) {}

  /** The decoder for a tokenizer.json, or null when its decoder is not plain ByteLevel BPE. */
  static fromFile(path: string): ByteLevelDecoder | null {
    const json = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
    if (json.decoder?.type !== 'ByteLevel' || json.model?.type !== 'BPE' || !json.model.vocab) return null;
    const table = byteOfChar();
    const encoder = new TextEncoder();
    const bytesOf = (token: string): Uint8Array => {
      const out: number[] = [];
      for (const c of token) {
        const b = table.get(c);
        // A token with a character outside the alphabet is taken as its own UTF-8, as the library does.
        if (b === undefined) return encoder.encode(token);
        out.push(b);
      }
      return Uint8Array.from(out);
    };
    const pieces: (Uint8Array | null)[] = [];
    for (const [token, id] of Object.entries(json.model.vocab)) pieces[id] = bytesOf(token);
    for (const added of json.added_tokens ?? [])
      pieces[added.id] = added.special ? null : bytesOf(added.content);
    return new ByteLevelDecoder(Array.from(pieces, (p) => p ?? null));
  }

  decode(ids: number[]): string {
    let length = 0;
    for (const id of ids) length += this.pieces[id]?.length ?? 0;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const id of ids) {
      const piece = this.pieces[id];
      if (!piece) continue;
      bytes.set(piece, at);
      at += piece.length;
    }
    return this.utf8.decode(bytes);
  }
}
