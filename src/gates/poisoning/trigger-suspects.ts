/**
 * Candidate trigger strings of a self-edit, found from its text alone: the spans an ONION-style test removes
 * and re-scores. Words the passage itself uses are never suspects (the faithfulness gate vouches for them).
 */

/** A line split into words as written (punctuation attached), with a matching key per word. */
export interface LineWords {
  words: string[];
  keys: string[];
}

const keyOf = (word: string) => word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '');

export function lineWords(text: string): LineWords {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return { words, keys: words.map(keyOf) };
}

/** A span of words of one line, [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** The suspect's text as a key: its words' keys joined by spaces. */
export const spanKey = (line: LineWords, span: Span) => line.keys.slice(span.start, span.end).join(' ');

/** The line with the span removed, tidied so that it reads as a sentence again. */
export function removeSpan(line: LineWords, span: Span): string {
  const kept = [...line.words.slice(0, span.start), ...line.words.slice(span.end)];
  let text = kept.join(' ').trim();
  if (span.start === 0 && text) text = text[0].toUpperCase() + text.slice(1);
  text = text.replace(/[,;:]+$/, '');
  const end = /[.?!]$/.exec(line.words[line.words.length - 1] ?? '')?.[0];
  if (end && text && !/[.?!]$/.test(text)) text += end;
  return text;
}

export interface SuspectSpans {
  /** Per line: the spans to remove and re-score. */
  perLine: { span: Span; key: string }[][];
  /** Keys of the n-grams found in two or more lines. */
  recurring: Set<string>;
}

export const MAX_NGRAM = 5;

/** Words with no content of their own: a suspect may contain them, but needs one word the passage lacks. */
const FILLERS = new Set(
  (
    'a an the and or but so of in on at to for from by with about as into it its this that these those is are ' +
    'was were be been has have had do does did when then than if there here what which who'
  ).split(' '),
);

/**
 * For each line: every word not in the passage (ONION's single-word removals) and every occurrence of a
 * recurring n-gram (1 to 5 words found in two or more lines) made of words the passage lacks and fillers.
 */
export function suspectSpans(lines: string[], passageText: string): SuspectSpans {
  const passageKeys = new Set(lineWords(passageText).keys);
  const parsed = lines.map(lineWords);
  const novel = (k: string) => k !== '' && !passageKeys.has(k) && !FILLERS.has(k);
  const candidate = (keys: string[]) => keys.every((k) => novel(k) || FILLERS.has(k)) && keys.some(novel);
  const linesOf = new Map<string, Set<number>>();
  parsed.forEach((line, l) => {
    for (let n = 1; n <= MAX_NGRAM; n++) {
      for (let s = 0; s + n <= line.keys.length; s++) {
        const keys = line.keys.slice(s, s + n);
        if (!candidate(keys)) continue;
        const key = keys.join(' ');
        linesOf.set(key, (linesOf.get(key) ?? new Set()).add(l));
      }
    }
  });
  const recurring = new Set([...linesOf.entries()].filter(([, ls]) => ls.size >= 2).map(([key]) => key));
  const perLine = parsed.map((line) => {
    const spans = new Map<string, { span: Span; key: string }>();
    line.keys.forEach((k, i) => {
      if (k && !passageKeys.has(k)) spans.set(`${i}:${i + 1}`, { span: { start: i, end: i + 1 }, key: k });
    });
    for (let n = 1; n <= MAX_NGRAM; n++) {
      for (let s = 0; s + n <= line.keys.length; s++) {
        const span = { start: s, end: s + n };
        const key = spanKey(line, span);
        if (recurring.has(key)) spans.set(`${s}:${s + n}`, { span, key });
      }
    }
    return [...spans.values()];
  });
  return { perLine, recurring };
}
