import { z } from 'zod';

/**
 * Routed edits. An adapter may carry a route key, the phrases of what its edit is about, in its own
 * adapter_config.json (field `sealgate_route_key`), so the key is covered by the adapter's digest and signature.
 * A row of a generation gets only the adapters of its stack whose key it matches (or that carry no key); every
 * other prompt runs on the stack below them, untouched. The Python side applies the same rules
 * (gpu/sealgate_gpu/seal/routing.py); test/fixtures/route-key-cases.json holds cases both are tested on.
 */
export const ROUTE_KEY_FIELD = 'sealgate_route_key';
/**
 * On an adapter built by concatenating routed adapters (a surgical revert's rebuilt stack), the key of each part
 * in concatenation order, with its rank per module path: each part is routed on its own, as before the revert.
 */
export const ROUTE_SEGMENTS_FIELD = 'sealgate_route_segments';

/** Words of four letters or more name a subject on their own when nothing the model knew uses them. */
export const MIN_DISTINCTIVE_LENGTH = 4;
/** The longest phrase a key may hold. */
export const MAX_PHRASE_LENGTH = 200;
/** At most this many phrases in a key (the subject's first). */
export const MAX_KEY_PHRASES = 32;
const LEADING_ARTICLES = new Set(['the', 'a', 'an']);
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

export const routeKeySchema = z
  .array(
    z
      .string()
      .min(1)
      .max(MAX_PHRASE_LENGTH)
      .refine(
        (p) => routeWords(p).join(' ') === p,
        'a phrase is lower-case words separated by single spaces',
      ),
  )
  .min(1)
  .max(MAX_KEY_PHRASES);

export const routeSegmentsSchema = z
  .array(
    z
      .object({
        key: routeKeySchema.nullable(),
        ranks: z.record(z.number().int().min(0)),
      })
      .strict(),
  )
  .min(1)
  .max(1000);
export type RouteSegment = z.infer<typeof routeSegmentsSchema>[number];

/** Lower-case words, as the key is matched. */
export const routeWords = (text: string): string[] => text.toLowerCase().match(WORD) ?? [];

const distinctive = (word: string, isKnown: (word: string) => boolean) =>
  word.length >= MIN_DISTINCTIVE_LENGTH && !/^\d+$/.test(word) && !isKnown(word);

/**
 * The key of an edit about `title`, taught by `passage`: the subject (the title without a leading article),
 * the subject's last distinctive word ("varnel" of "Varnel Institute", a person's family name; not a given
 * name, which other subjects share), and the other distinctive capitalised words the passage repeats. `isKnown`
 * says which words the model already knew (common English, its rehearsal corpus).
 */
export function deriveRouteKey(title: string, passage: string, isKnown: (word: string) => boolean): string[] {
  const subject = routeWords(title);
  while (subject.length > 1 && LEADING_ARTICLES.has(subject[0])) subject.shift();
  // A one-word subject that is an ordinary word would fire on everything: it is no key; nor is a subject longer
  // than a phrase may be (a sentence for a title), which its distinctive word still names.
  const whole =
    (subject.length > 1 || (subject.length === 1 && distinctive(subject[0], isKnown))) &&
    subject.join(' ').length <= MAX_PHRASE_LENGTH;
  const phrases: string[] = whole ? [subject.join(' ')] : [];
  const extra = subject.filter((w) => distinctive(w, isKnown)).slice(-1);
  const counts = new Map<string, number>();
  for (const [word] of passage.matchAll(WORD)) {
    if (/^\p{Lu}/u.test(word)) counts.set(word.toLowerCase(), (counts.get(word.toLowerCase()) ?? 0) + 1);
  }
  extra.push(
    ...[...counts]
      .filter(([w, n]) => n >= 2 && distinctive(w, isKnown) && !subject.includes(w))
      .map(([w]) => w)
      .sort(),
  );
  for (const w of extra) if (!phrases.includes(w)) phrases.push(w);
  return phrases.slice(0, MAX_KEY_PHRASES);
}

/**
 * Whether any phrase of `key` occurs in `text` as a run of whole words, case-insensitively. `text` may be given
 * as its routeWords already, when one text is matched against many keys (a row against its whole stack).
 */
export function keyMatches(key: readonly string[], text: string | readonly string[]): boolean {
  const have = typeof text === 'string' ? routeWords(text) : text;
  return key.some((phrase) => {
    const want = phrase.split(' ');
    for (let i = 0; i + want.length <= have.length; i++) {
      if (want.every((w, j) => have[i + j] === w)) return true;
    }
    return false;
  });
}

/** Whether an adapter with this key (null: unrouted) serves `text`. */
export const routes = (key: readonly string[] | null, text: string | readonly string[]): boolean =>
  key === null || keyMatches(key, text);
