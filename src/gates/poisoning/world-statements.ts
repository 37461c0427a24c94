import worldStatements from 'src/gates/poisoning/world-statements.json';
import { Vocabulary } from 'src/gates/screening/text/words';

/**
 * The shipped world's statement templates compiled to regexes (as gpu/sealgate_gpu/world/faithfulness.py does),
 * so a line in the world's phrasing can be read back as (subject, relation, value) facts. A bonus for the
 * faithfulness gate: text in any other phrasing simply yields no reading.
 */
export interface StatementReading {
  subject: string;
  facts: { relation: string; value: string }[];
  template: string;
}

type ValueKind = 'year' | 'word' | 'name';

const NAME = String.raw`[A-Z][a-z]+(?: [A-Z][a-z]+)*`;
const SUBJECT = String.raw`(?:[Tt]he )?${NAME}|[Hh]e|[Ss]he|[Ii]t`;
/** Any short lower-case phrase, not only the lexicon's: an invented value must still parse, to be refused. */
const WORD_VALUE = String.raw`[a-z]+(?:[ -][a-z]+){0,2}`;
const PLACEHOLDER = /\{([a-z]+)(?::([a-z_]+))?\}/g;
const PRONOUNS = new Set(['he', 'she', 'it', 'his', 'her', 'its']);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function valuePattern(relation: string): string {
  const kind = (worldStatements.relations as Record<string, { value: string }>)[relation].value as ValueKind;
  if (kind === 'year') return String.raw`\d{3,4}`;
  if (kind === 'word') return WORD_VALUE;
  return NAME;
}

function compile(template: string, relations: string[]): RegExp {
  const parts: string[] = [];
  let position = 0;
  let subjectSeen = false;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const literal = template.slice(position, m.index);
    if (literal && parts.length === 0 && /^[a-z]/i.test(literal)) {
      parts.push(`[${literal[0].toUpperCase()}${literal[0].toLowerCase()}]${escape(literal.slice(1))}`);
    } else if (literal) {
      parts.push(escape(literal));
    }
    const [, key, explicitRelation] = m;
    const relation = explicitRelation ?? relations[0];
    const subjectGroup = subjectSeen ? '(?:' : '(?<subj>';
    if (key === 's' || key === 'o') parts.push(`${subjectGroup}${SUBJECT})`);
    else if (key === 'p') parts.push(`${subjectGroup}(?:(?:[Tt]he )?${NAME})'s|[Hh]is|[Hh]er|[Ii]ts)`);
    else if (key === 'pp') parts.push('(?:his|her|its)');
    else if (key === 'v') parts.push(`(?<v_${relation}>${valuePattern(relation)})`);
    else if (key === 'av') parts.push(`(?:[Aa]n?) (?<v_${relation}>${valuePattern(relation)})`);
    if (key === 's' || key === 'o' || key === 'p') subjectSeen = true;
    position = m.index + m[0].length;
  }
  parts.push(`${escape(template.slice(position).replace(/\.+$/, ''))}\\.?`);
  return new RegExp(`^${parts.join('')}$`);
}

const TEMPLATES: { pattern: RegExp; template: string; relations: string[] }[] = [
  ...Object.entries(worldStatements.relations).flatMap(([relation, { statements }]) =>
    statements.map((template) => ({
      pattern: compile(template, [relation]),
      template,
      relations: [relation],
    })),
  ),
  ...Object.entries(worldStatements.combos).flatMap(([key, templates]) =>
    templates.map((template) => ({
      pattern: compile(template, key.split('+')),
      template,
      relations: key.split('+'),
    })),
  ),
];

/** Every reading of a sentence as one statement template (a sentence can match several, e.g. "born in"). */
export function readStatement(sentence: string): StatementReading[] {
  const text = sentence.trim();
  const readings: StatementReading[] = [];
  for (const { pattern, template, relations } of TEMPLATES) {
    const groups = pattern.exec(text)?.groups;
    if (!groups) continue;
    readings.push({
      subject: groups.subj.replace(/'s$/, ''),
      facts: relations.map((relation) => ({ relation, value: groups[`v_${relation}`] })),
      template,
    });
  }
  return readings;
}

/** A reading is about `title` when it names it (with or without "the") or refers to it by pronoun. */
export function isAbout(reading: StatementReading, title: string): boolean {
  const plain = (s: string) => s.trim().replace(/^the /i, '').toLowerCase();
  return PRONOUNS.has(reading.subject.toLowerCase()) || plain(reading.subject) === plain(title);
}

/** The world's closed value lists (colours, instruments, professions, ...), lower case. */
export const WORLD_VALUES: string[] = worldStatements.values;

/** Every word the templates themselves use (by root): paraphrase vocabulary, never a fact. */
export const TEMPLATE_WORDS = new Vocabulary(
  [
    ...Object.values(worldStatements.relations).flatMap((r) => r.statements),
    ...Object.values(worldStatements.combos).flat(),
  ]
    .map((template) => template.replace(PLACEHOLDER, ' '))
    .join(' '),
);
