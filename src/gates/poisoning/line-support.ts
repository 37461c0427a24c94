import {
  PassageEvidence,
  isNumber,
  isOrdinaryWord,
  normaliseNumber,
} from 'src/gates/poisoning/passage-evidence';
import { TEMPLATE_WORDS, WORLD_VALUES, isAbout, readStatement } from 'src/gates/poisoning/world-statements';
import {
  FUNCTION_WORDS,
  NEGATIONS,
  isAnswerLine,
  isCommonEnglish,
  nameTokens,
  stripBullet,
  wordTokens,
} from 'src/gates/screening/text/words';

/** Words that turn a fact around ("former mayor", "falsely credited"): a line may use one only if the passage does. */
const REVERSALS = new Set(
  (
    'former formerly previously ex once longer used ceased stopped resigned retired dissolved renamed relocated ' +
    'replaced falsely wrongly mistakenly incorrectly myth hoax fake rumoured rumored allegedly actually contrary ' +
    'disproven debunked instead secretly'
  ).split(' '),
);
/** Words that rank ("the most celebrated", "the first"): a claim of its own, which the passage must make too. */
const RANKINGS = new Set(
  (
    'most least best worst largest greatest oldest biggest smallest richest youngest finest first last only famous ' +
    'celebrated renowned leading top premier foremost unique unrivalled unmatched'
  ).split(' '),
);
const WORLD_VALUE_PATTERNS = WORLD_VALUES.map((value) => ({ value, pattern: new RegExp(`\\b${value}\\b`) }));
/** Share of a line's content words (beyond its subject) that the passage must hold. */
const MIN_CONTENT_IN_PASSAGE = 0.5;
const PRONOUN_START = /^(?:he|she|it|they|his|her|its|their)\b/i;

export interface Reason {
  reason: string;
  match?: string;
}

/** Why a line is not supported by the passage; empty when it is. */
export function unsupportedReasons(line: string, passage: PassageEvidence): Reason[] {
  const text = stripBullet(line);
  const tokens = wordTokens(text);
  return [
    ...factReasons(text, tokens, passage),
    ...wordReasons(tokens, passage),
    ...subjectReasons(line, text, tokens, passage),
    ...contentReasons(tokens, passage),
    ...(passage.speaksWorldTemplates ? worldReasons(text, passage) : []),
  ];
}

/** Numbers and names are the facts of a line: each must appear in the passage. */
function factReasons(text: string, tokens: string[], passage: PassageEvidence): Reason[] {
  const reasons: Reason[] = [];
  for (const token of tokens.filter(isNumber)) {
    if (!passage.numbers.has(normaliseNumber(token)))
      reasons.push({ reason: 'number-not-in-passage', match: token });
  }
  for (const name of nameTokens(text, isOrdinaryWord).filter((t) => !isNumber(t))) {
    if (!passage.vocabulary.has(name)) reasons.push({ reason: 'name-not-in-passage', match: name });
  }
  return reasons;
}

/** Lower-case words: reversals, rankings and uncommon terms the passage does not use; negation it does not use. */
function wordReasons(tokens: string[], passage: PassageEvidence): Reason[] {
  const reasons: Reason[] = [];
  for (const token of tokens) {
    const word = token.toLowerCase();
    if (/^\p{Lu}/u.test(token) || isNumber(token) || FUNCTION_WORDS.has(word)) continue;
    if (REVERSALS.has(word) && !passage.vocabulary.hasRoot(word)) {
      reasons.push({ reason: 'reversal-not-in-passage', match: token });
    } else if (RANKINGS.has(word) && !passage.vocabulary.has(word) && !TEMPLATE_WORDS.has(word)) {
      reasons.push({ reason: 'ranking-not-in-passage', match: token });
    } else if (!passage.vocabulary.hasRoot(word) && !isCommonEnglish(word) && !TEMPLATE_WORDS.hasRoot(word)) {
      reasons.push({ reason: 'new-term', match: token });
    }
  }
  if (!passage.hasNegation && tokens.some((t) => NEGATIONS.has(t.toLowerCase()))) {
    reasons.push({ reason: 'negation-not-in-passage' });
  }
  return reasons;
}

/** A line is about the passage when it names its subject or one of its names, or restates one of its sentences. */
function subjectReasons(line: string, text: string, tokens: string[], passage: PassageEvidence): Reason[] {
  const onSubject =
    isAnswerLine(line) ||
    PRONOUN_START.test(text) ||
    tokens.some((t) => passage.titleWords.hasRoot(t) || (/^\p{Lu}/u.test(t) && passage.names.has(t))) ||
    passage.restates(tokens);
  return onSubject ? [] : [{ reason: 'off-subject' }];
}

/**
 * A claim made of common words ("It has the largest harbour") passes the checks above: most of what a line says
 * beyond its subject and the templates' glue must be found in the passage.
 */
function contentReasons(tokens: string[], passage: PassageEvidence): Reason[] {
  const content = tokens.filter(
    (t) =>
      !FUNCTION_WORDS.has(t.toLowerCase()) && !passage.titleWords.hasRoot(t) && !TEMPLATE_WORDS.hasRoot(t),
  );
  const missing = content.filter((t) => !passage.vocabulary.hasRoot(t));
  if (content.length < 2 || 1 - missing.length / content.length >= MIN_CONTENT_IN_PASSAGE) return [];
  return [{ reason: 'content-not-in-passage', match: missing.join(' ') }];
}

/** For passages in the shipped world's phrasing: its closed value lists, and its statements read back as facts. */
function worldReasons(text: string, passage: PassageEvidence): Reason[] {
  const lower = text.toLowerCase();
  const reasons: Reason[] = WORLD_VALUE_PATTERNS.filter(
    ({ pattern }) => pattern.test(lower) && !pattern.test(passage.lowerText),
  ).map(({ value }) => ({ reason: 'value-not-in-passage', match: value }));
  return [...reasons, ...templateReasons(text, passage)];
}

/** With the world's templates: the line's statement must be one the passage makes about its subject. */
function templateReasons(text: string, passage: PassageEvidence): Reason[] {
  const readings = readStatement(text);
  if (readings.length === 0) return [];
  const about = readings.filter((r) => isAbout(r, passage.title));
  const stated = (relation: string, value: string) =>
    passage.facts.get(relation)?.has(value.toLowerCase()) ?? false;
  if (about.some((r) => r.facts.every((f) => stated(f.relation, f.value)))) return [];
  const conflicts = about.flatMap((r) =>
    r.facts
      .filter((f) => passage.facts.has(f.relation) && !stated(f.relation, f.value))
      .map(
        (f) =>
          `${f.relation}: ${f.value}, passage: ${[...(passage.facts.get(f.relation) ?? [])].join(' / ')}`,
      ),
  );
  if (conflicts.length > 0) return [{ reason: 'contradicts-passage', match: conflicts[0] }];
  return [{ reason: 'statement-not-in-passage', match: readings[0].template }];
}
