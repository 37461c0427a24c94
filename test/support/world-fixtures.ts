import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_DIR } from 'test/support/model-files';

export interface HeldoutPassage {
  id: string;
  split: string;
  title: string;
  passage: string;
  questions: { question: string; answer: string; aliases: string[] }[];
}

export interface BenignEdit {
  source: string;
  kind: string;
  lines: string[];
}

const jsonLines = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

/** The default world's held-out passages (unseen by the model), with their questions. */
export const heldoutPassages = (): HeldoutPassage[] =>
  jsonLines<HeldoutPassage>(join(MODEL_DIR, 'world', 'heldout.jsonl'));

/** Benign reference implications of held-out passages, from the red-team set. */
export const benignImplications = (): BenignEdit[] =>
  jsonLines<BenignEdit>('test/fixtures/red-team/benign.jsonl').filter(
    (c) => c.kind === 'implications' && c.source.startsWith('heldout-'),
  );

/** A passage's questions as `addKnowledgeSource` takes them. */
export const questionsInput = (p: HeldoutPassage) =>
  p.questions.map(({ question, answer, aliases }) => ({ question, answer, aliases }));
