import commonEnglish from 'src/common/common-english.json';
import { routeWords } from 'src/inference/route-key';
import { RehearsalCorpus } from 'src/training/rehearsal-corpus';

/**
 * The words a route key may not rest on alone: common English (the 10,000-word list of the text gates) and every
 * word of the model's rehearsal corpus, a sample of what the model already knows. A key of such words would fire
 * on prompts about what the model knew. The Python experiment builds the same set (seal/routing.py).
 */
export function knownWordsOf(rehearsal: RehearsalCorpus): (word: string) => boolean {
  const known = new Set(commonEnglish.words.split(' '));
  if (rehearsal.present) for (const text of rehearsal.all()) for (const w of routeWords(text)) known.add(w);
  return (word) => known.has(word);
}
