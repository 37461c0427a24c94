/** The benches' requests: SEAL's implications prompt on passages of the model's held-out split. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HeldoutPassage {
  title: string;
  passage: string;
  reference_implications: string[];
}

/** The first `count` passages of `<modelDir>/world/heldout.jsonl`. */
export function heldoutPassages(modelDir: string, count: number): HeldoutPassage[] {
  return readFileSync(join(modelDir, 'world', 'heldout.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .slice(0, count)
    .map((line) => JSON.parse(line) as HeldoutPassage);
}

const implicationsPrompt = (p: HeldoutPassage): string =>
  `Passage:\n${p.title}\n${p.passage}\n\nImplications:\n`;

/** Implications prompts on the first `count` held-out passages (the first alone: 46 tokens on the shipped model). */
export const benchPrompts = (modelDir: string, count: number): string[] =>
  heldoutPassages(modelDir, count).map(implicationsPrompt);
