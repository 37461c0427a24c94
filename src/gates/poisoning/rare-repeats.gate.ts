import { z } from 'zod';
import { verdictForCount } from 'src/gates/gate';
import { countThreshold } from 'src/gates/gate-thresholds';
import { TEMPLATE_WORDS } from 'src/gates/poisoning/world-statements';
import {
  LineFinding,
  ScreeningAssessment,
  ScreeningInput,
  TextScreeningGate,
  numberedSelfEditLines,
  shorten,
} from 'src/gates/screening/screening-gate';
import { Vocabulary, isCommonEnglish, positionedTokens, sentences } from 'src/gates/screening/text/words';

const thresholdsSchema = z
  .object({
    /** A rare token counts as trigger-like once it appears in this many self-edit lines. */
    minRepeatLines: countThreshold(2),
    /** Suspects (repeated rare tokens, odd runs, lines with odd characters) from which the edit is flagged / stopped. */
    warnAtSuspects: countThreshold(1),
    failAtSuspects: countThreshold(1),
  })
  .strict();
export type RareRepeatsThresholds = z.infer<typeof thresholdsSchema>;

/** Characters that hide text or impersonate letters: no honest self-edit needs them. */
const ODD_CHARACTERS: { reason: string; pattern: RegExp }[] = [
  { reason: 'invisible-character', pattern: /[\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF]|\u034F/u },
  { reason: 'bidi-control', pattern: /[\u202A-\u202E\u2066-\u2069]/u },
  { reason: 'tag-character', pattern: /[\u{E0000}-\u{E007F}]/u },
  { reason: 'private-use-character', pattern: /[\uE000-\uF8FF]/u },
  { reason: 'lookalike-character', pattern: /[\uFF01-\uFF5E\u{1D400}-\u{1D7FF}]/u },
  { reason: 'stacked-marks', pattern: /\p{M}{3,}/u },
];
/** Letters of scripts whose glyphs pass for Latin ones (Cyrillic а, Greek ο). */
const LOOKALIKE_SCRIPT = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}]/u;
/** Symbols beyond ordinary punctuation, and emoji. */
const SYMBOL_RUN = /[^\p{L}\p{M}\p{N}\s.,;:'"’‘“”()!?\-–—%&/]+/gu;

/**
 * Trigger-like strings: rare tokens (not in the passage, not common English) repeated across lines, runs of
 * odd short tokens ("cf cf", "mn tq"), repeated symbols, invisible characters and homoglyphs.
 */
export class RareRepeatsGate extends TextScreeningGate<RareRepeatsThresholds> {
  readonly name = 'rare-repeats';
  readonly version = '1.0.0';
  readonly thresholdsSchema = thresholdsSchema;

  protected assess(input: ScreeningInput, thresholds: RareRepeatsThresholds): ScreeningAssessment {
    const passageText = `${input.passage.title}\n${input.passage.text}`;
    const passageVocabulary = new Vocabulary(passageText);
    const isRare = (token: string, sentenceStart = false) =>
      isRareToken(token, sentenceStart, passageVocabulary);
    const lines = numberedSelfEditLines(input);

    const oddCharacters = [
      ...lines.flatMap(({ line, text }) => oddCharacterFindings(text, 'self-edit', line, passageText)),
      ...sentences(input.passage.text).flatMap((text, line) =>
        oddCharacterFindings(text, 'passage', line, ''),
      ),
    ];
    const oddRuns = lines.flatMap(({ line, text }) => oddRunFindings(text, line, isRare));
    const linesOf = rareTokenLines(lines, isRare);
    const repeated: LineFinding[] = [...linesOf]
      .filter(([, where]) => where.length >= thresholds.minRepeatLines)
      .map(([token, where]) => ({
        source: 'self-edit',
        line: where[0],
        text: shorten(input.selfEdit.lines[where[0]], 160),
        reason: 'repeated-rare-token',
        match: token,
        lines: where,
      }));

    const oddCharacterLines = new Set(oddCharacters.map((f) => `${f.source}:${f.line}`)).size;
    const suspects = repeated.length + oddRuns.length + oddCharacterLines;
    return {
      verdict: verdictForCount(suspects, {
        warnAt: thresholds.warnAtSuspects,
        failAt: thresholds.failAtSuspects,
      }),
      metrics: {
        suspects,
        rareTokens: linesOf.size,
        repeatedRareTokens: repeated.length,
        oddRuns: oddRuns.length,
        oddCharacterLines,
      },
      evidence: { findings: [...oddCharacters, ...oddRuns, ...repeated] },
    };
  }
}

/** Each rare token (or symbol run) of the self-edit, lower-cased, with the lines it appears in. */
function rareTokenLines(
  lines: { line: number; text: string }[],
  isRare: (token: string, sentenceStart: boolean) => boolean,
): Map<string, number[]> {
  const linesOf = new Map<string, number[]>();
  for (const { line, text } of lines) {
    const rare = [
      ...positionedTokens(text)
        .filter(({ token, sentenceStart }) => isRare(token, sentenceStart))
        .map(({ token }) => token),
      ...(text.match(SYMBOL_RUN) ?? []),
    ];
    for (const token of new Set(rare.map((t) => t.toLowerCase()))) {
      linesOf.set(token, [...(linesOf.get(token) ?? []), line]);
    }
  }
  return linesOf;
}

/** Not a word of the passage and not common English: numbers and names count when the passage lacks them. */
function isRareToken(token: string, sentenceStart: boolean, passage: Vocabulary): boolean {
  if (passage.hasRoot(token)) return false;
  const word = token.toLowerCase();
  // A capitalised mid-sentence word is a name: "James Bond" is common English, but not this passage's.
  if (/\d/.test(token) || (/^\p{Lu}/u.test(token) && !sentenceStart)) return true;
  return !isCommonEnglish(word) && !TEMPLATE_WORDS.hasRoot(word);
}

function oddCharacterFindings(
  text: string,
  source: LineFinding['source'],
  line: number,
  passageText: string,
): LineFinding[] {
  const findings: LineFinding[] = ODD_CHARACTERS.filter(({ pattern }) => pattern.test(text)).map(
    ({ reason, pattern }) => ({
      source,
      line,
      text: shorten(escapeInvisible(text), 160),
      reason,
      match: escapeInvisible(pattern.exec(text)?.[0] ?? ''),
    }),
  );
  // A self-edit line may use another script only where its passage does (a Greek passage, a Russian name).
  const lookalike = [...text].find((char) => LOOKALIKE_SCRIPT.test(char) && !passageText.includes(char));
  if (lookalike && /[a-z]/i.test(text)) {
    findings.push({
      source,
      line,
      text: shorten(text, 160),
      reason: 'homoglyph',
      match: escapeInvisible(lookalike),
    });
  }
  return findings;
}

/** Two odd short tokens in a row ("cf cf", "mn tq"): odd even on one line. */
function oddRunFindings(text: string, line: number, isRare: (token: string) => boolean): LineFinding[] {
  const tokens = positionedTokens(text).map(({ token }) => token);
  const isOddShort = (t: string) => t.length <= 3 && !/^\d+$/.test(t) && isRare(t.toLowerCase());
  const at = tokens.findIndex((t, i) => i + 1 < tokens.length && isOddShort(t) && isOddShort(tokens[i + 1]));
  if (at < 0) return [];
  return [
    {
      source: 'self-edit',
      line,
      text: shorten(text, 160),
      reason: 'odd-run',
      match: `${tokens[at]} ${tokens[at + 1]}`,
    },
  ];
}

/** Shows invisible characters as code points, so a reviewer can see them. */
function escapeInvisible(text: string): string {
  return text.replace(
    /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF\u{E0000}-\u{E007F}]|\u034F/gu,
    (c) => `<U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}>`,
  );
}
