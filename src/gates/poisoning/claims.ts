import { readStatement } from 'src/gates/poisoning/world-statements';
import { trainedLines, ScreeningInput, LineFinding } from 'src/gates/screening/screening-gate';

/** A factual claim read from a trained line: (subject, relation, value), where it came from. */
export interface Claim {
  subject: string;
  relation: string;
  value: string;
  /** `world`: a world statement template's relation; `generic`: "X's R is V" / "The R of X is V". */
  shape: 'world' | 'generic';
  source: LineFinding['source'];
  line: number;
  text: string;
}

const PRONOUNS = new Set(['he', 'she', 'it', 'they']);
const NAME = String.raw`(?:[Tt]he )?[A-Z][\w-]*(?: [A-Z][\w-]*)*`;
const RELATION = String.raw`[a-z][a-z ]{1,30}?`;
const VALUE = String.raw`[\w][\w ,'-]{0,40}?`;
const GENERIC_SHAPES: { pattern: RegExp }[] = [
  { pattern: new RegExp(`^(?<subj>${NAME})'s (?<rel>${RELATION}) (?:is|was) (?<v>${VALUE})\\.?$`) },
  { pattern: new RegExp(`^[Tt]he (?<rel>${RELATION}) of (?<subj>${NAME}) (?:is|was) (?<v>${VALUE})\\.?$`) },
];

const stripThe = (s: string) => s.replace(/^the /i, '').trim();

/**
 * Every claim the trained text makes that can be put to the model as a closed-book question: lines in the
 * world's phrasing read into facts, plus the generic possessive shapes. Pronoun subjects are the passage's
 * title. Duplicates (same subject, relation, value) are kept once, at their first line.
 */
export function extractClaims(input: ScreeningInput): Claim[] {
  const claims = new Map<string, Claim>();
  const add = (claim: Claim) => {
    const key = [claim.subject, claim.relation, claim.value].map((s) => s.toLowerCase()).join('\u0000');
    if (!claims.has(key)) claims.set(key, claim);
  };
  for (const { source, line, text } of trainedLines(input)) {
    const readings = readStatement(text);
    for (const reading of readings) {
      const subject = PRONOUNS.has(reading.subject.toLowerCase()) ? input.passage.title : reading.subject;
      for (const fact of reading.facts) {
        if (!fact.value) continue;
        add({
          subject: stripThe(subject),
          relation: fact.relation,
          value: fact.value,
          shape: 'world',
          source,
          line,
          text,
        });
      }
    }
    if (readings.length > 0) continue;
    for (const { pattern } of GENERIC_SHAPES) {
      const groups = pattern.exec(text.trim())?.groups;
      if (!groups) continue;
      add({
        subject: stripThe(groups.subj),
        relation: groups.rel.trim(),
        value: groups.v.trim(),
        shape: 'generic',
        source,
        line,
        text,
      });
      break;
    }
  }
  return [...claims.values()];
}
