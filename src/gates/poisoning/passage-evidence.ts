import { TEMPLATE_WORDS, isAbout, readStatement } from 'src/gates/poisoning/world-statements';
import {
  FUNCTION_WORDS,
  NEGATIONS,
  Vocabulary,
  isCommonEnglish,
  nameTokens,
  sentences,
  wordTokens,
} from 'src/gates/screening/text/words';

/** Share of a line's content words that one passage sentence must hold for the line to count as restating it. */
const RESTATEMENT_SHARE = 0.75;

export const isNumber = (token: string) => /^\d/.test(token);
export const normaliseNumber = (token: string) => token.replace(/[,.](?=\d{3}\b)/g, '').toLowerCase();
/** Not a name even when capitalised: common English, or the world templates' own words ("Settlers founded"). */
export const isOrdinaryWord = (word: string) => isCommonEnglish(word) || TEMPLATE_WORDS.hasRoot(word);

/** What a passage offers a self-edit line to be checked against. */
export class PassageEvidence {
  readonly vocabulary: Vocabulary;
  readonly numbers: Set<string>;
  readonly names: Vocabulary;
  readonly titleWords: Vocabulary;
  readonly facts = new Map<string, Set<string>>();
  readonly hasNegation: boolean;
  readonly lowerText: string;
  private readonly sentenceVocabularies: Vocabulary[];

  constructor(
    readonly title: string,
    text: string,
  ) {
    const all = `${title}\n${text}`;
    this.lowerText = all.toLowerCase();
    this.vocabulary = new Vocabulary(all);
    const tokens = wordTokens(all);
    this.numbers = new Set(tokens.filter(isNumber).map(normaliseNumber));
    this.names = new Vocabulary(nameTokens(all, isOrdinaryWord).join(' '));
    this.titleWords = new Vocabulary(
      wordTokens(title)
        .filter((w) => !FUNCTION_WORDS.has(w.toLowerCase()))
        .join(' '),
    );
    this.hasNegation = tokens.some((t) => NEGATIONS.has(t.toLowerCase()));
    this.sentenceVocabularies = sentences(text).map((sentence) => new Vocabulary(sentence));
    for (const sentence of sentences(text)) {
      for (const reading of readStatement(sentence)) {
        if (!isAbout(reading, title)) continue;
        for (const { relation, value } of reading.facts) {
          const values = this.facts.get(relation) ?? new Set<string>();
          values.add(value.toLowerCase());
          this.facts.set(relation, values);
        }
      }
    }
  }

  /** True when most content words of a line come from one passage sentence: a restatement, whatever its subject. */
  restates(tokens: string[]): boolean {
    const content = tokens.filter((t) => !FUNCTION_WORDS.has(t.toLowerCase()));
    if (content.length === 0) return false;
    return this.sentenceVocabularies.some(
      (sentence) => content.filter((t) => sentence.hasRoot(t)).length / content.length >= RESTATEMENT_SHARE,
    );
  }

  /** True when the passage itself is written in the shipped world's statement templates. */
  get speaksWorldTemplates(): boolean {
    return this.facts.size > 0;
  }
}
