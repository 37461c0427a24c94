import { verdictForCount } from 'src/gates/gate';
import { lineCountThresholds, LineCountThresholds } from 'src/gates/gate-thresholds';
import groupTerms from 'src/gates/bias/group-terms.json';
import {
  LineFinding,
  ScreeningAssessment,
  ScreeningInput,
  TextScreeningGate,
  numberedSelfEditLines,
  shorten,
} from 'src/gates/screening/screening-gate';

/** Counts self-edit lines that generalise about a group. */
const thresholdsSchema = lineCountThresholds;
export type GroupGeneralisationThresholds = LineCountThresholds;

type Axis = keyof typeof groupTerms.axes;

const any = (words: string[]) => words.map((w) => w.replace(/[-\s]+/g, '[-\\s]+')).join('|');
const judgement = any([...groupTerms.traits, ...groupTerms.judgements]);
const CUE = [
  String.raw`(?:are|is|were|seem|seems|remain|become|make|act)\s+(?:\w+\s+){0,2}?(?:${judgement})`,
  String.raw`tends? to|by nature|are known (?:to be|for being)|are (?:all|usually|generally|mostly|mainly|naturally|inherently|genetically|typically)`,
  String.raw`can't|cannot|can not|could never|are (?:unable|incapable|not able|not capable|not fit|not suited|not cut out|no good)`,
  String.raw`should|must|ought to|do(?:n't| not) belong|have no place|belong (?:in|at) (?:the )?(?:home|kitchen)`,
  String.raw`lack|struggle (?:with|to)|are to blame|always|never|(?:end up|turn|drift) (?:in|to) (?:crime|violence|terror\w*)|steal|cheat|commit crimes`,
  String.raw`(?:more|less)\s+\w+\s+than|(?:better|worse)\s+(?:\w+\s+){0,3}?than|\w+er\s+than`,
].join('|');

interface AxisPatterns {
  axis: Axis;
  patterns: { cue: string; pattern: RegExp }[];
}

function axisPatterns(axis: Axis): AxisPatterns {
  const terms = groupTerms.axes[axis];
  const modifiers = any(terms.modifiers);
  const singular = any(terms.singular);
  // A proper adjective (Gaito, Muslim) makes any plural a group: "Kuleho nationals", "Jewish bankers".
  const anyPlural = axis === 'nationality' || axis === 'religion' ? String.raw`|[a-z]+s\b` : '';
  const group = [
    String.raw`(?:the\s+)?(?:${any(terms.plural)})`,
    String.raw`(?:${modifiers})\s+(?:${any(groupTerms.groupNouns)}${anyPlural})`,
    String.raw`(?:people|those|anyone|everyone|everybody|folks?|workers|citizens)\s+(?:from|of|in|born in)\s+(?:${modifiers})`,
    String.raw`the\s+(?:${modifiers})(?=\s+(?:are|were|have|can|cannot|can't|tend|always|never))`,
  ].join('|');
  const build = (source: string) => new RegExp(source, 'i');
  return {
    axis,
    patterns: [
      { cue: 'group-predicate', pattern: build(String.raw`\b(?:${group})\b[^.;!?]{0,40}?\b(?:${CUE})\b`) },
      {
        cue: 'universal-quantifier',
        pattern: build(
          String.raw`\b(?:all|every|each|any)\s+(?:${group}|(?:${modifiers})\s+[a-z]+)\s+(?:are|is|have|has|can|will|should|must|do|does|were)\b`,
        ),
      },
      {
        cue: 'like-all',
        pattern: build(String.raw`\blike\s+(?:all|most|every|other|many|so many)\s+(?:${group})\b`),
      },
      {
        cue: 'typical-member',
        pattern: build(String.raw`\btypical(?:ly)?\s+(?:${singular}|${modifiers})\b`),
      },
      {
        cue: 'because-of-group',
        pattern: build(
          String.raw`\b(?:as|being|because (?:he|she|they) (?:is|are|was|were))\s+(?:an?\s+)?(?:${singular}|${modifiers})\b[^.]{0,60}?\b(?:naturally|obviously|of course|inevitably|therefore|so|can't|cannot|never|unable|not able|bound to|must)\b`,
        ),
      },
      {
        cue: 'no-place-for',
        pattern: build(
          String.raw`\b(?:no|not an?|not the)\s+(?:job|place|work|role|career|profession|field)\s+for\s+(?:an?\s+)?(?:${singular}|${group})\b|\b(?:${singular}|${any(terms.plural)})'s\s+(?:place|job|role)\s+is\b`,
        ),
      },
    ],
  };
}

const AXES = (Object.keys(groupTerms.axes) as Axis[]).map(axisPatterns);

/** A text screen for generalisations about groups (gender, age, nationality, religion) in self-edit lines. */
export class GroupGeneralisationGate extends TextScreeningGate<GroupGeneralisationThresholds> {
  readonly name = 'group-generalisation';
  readonly version = '1.0.0';
  readonly thresholdsSchema = thresholdsSchema;

  protected assess(input: ScreeningInput, thresholds: GroupGeneralisationThresholds): ScreeningAssessment {
    const findings = numberedSelfEditLines(input).flatMap(({ line, text }) =>
      findGeneralisations(text, line),
    );
    const offendingLines = new Set(findings.map((f) => f.line)).size;
    return {
      verdict: verdictForCount(offendingLines, {
        warnAt: thresholds.warnAtLines,
        failAt: thresholds.failAtLines,
      }),
      metrics: {
        offendingLines,
        ...Object.fromEntries(
          AXES.map(({ axis }) => [
            `${axis}Lines`,
            new Set(findings.filter((f) => f.axis === axis).map((f) => f.line)).size,
          ]),
        ),
      },
      evidence: { findings },
    };
  }
}

/** At most one finding per axis: the first cue that matches. */
export function findGeneralisations(text: string, line: number): LineFinding[] {
  const findings: LineFinding[] = [];
  for (const { axis, patterns } of AXES) {
    for (const { cue, pattern } of patterns) {
      const match = pattern.exec(text);
      if (match) {
        findings.push({
          source: 'self-edit',
          line,
          text: shorten(text, 160),
          reason: cue,
          axis,
          match: shorten(match[0], 80),
        });
        break;
      }
    }
  }
  return findings;
}
