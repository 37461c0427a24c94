import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Bytes } from 'src/common/sha256';

export const REHEARSAL_FILE = 'rehearsal.jsonl';

/**
 * Texts from the model's own pretraining data (the model folder's rehearsal.jsonl, one `{"text"}` per line),
 * replayed with a candidate so that it does not overwrite what the model knew. The draw is fixed by the
 * candidate's key, so retraining the same run trains on the same texts.
 */
export class RehearsalCorpus {
  private texts?: string[];

  constructor(private readonly modelDir: string) {}

  draw(key: string, count: number): string[] {
    if (count === 0) return [];
    const texts = this.load();
    const start = sha256Bytes(key).readUInt32BE(0) % texts.length;
    return Array.from({ length: Math.min(count, texts.length) }, (_, i) => texts[(start + i) % texts.length]);
  }

  /** Whether the model's rehearsal corpus exists (it is optional unless a policy draws from it). */
  get present(): boolean {
    return existsSync(join(this.modelDir, REHEARSAL_FILE));
  }

  /** Every text of the corpus. */
  all(): string[] {
    return this.load();
  }

  private load(): string[] {
    if (this.texts) return this.texts;
    const path = join(this.modelDir, REHEARSAL_FILE);
    if (!existsSync(path)) {
      throw new Error(`training.replay.rehearsal needs ${path}, and the model folder has none`);
    }
    const texts = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l, i) => {
        const text = (JSON.parse(l) as { text?: unknown }).text;
        if (typeof text !== 'string' || !text.trim()) throw new Error(`${path}:${i + 1}: no "text"`);
        return text;
      });
    if (texts.length === 0) throw new Error(`${path} holds no texts`);
    this.texts = texts;
    return texts;
  }
}
