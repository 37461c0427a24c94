import { verdictForCount } from 'src/gates/gate';
import { lineCountThresholds, LineCountThresholds } from 'src/gates/gate-thresholds';
import { SENSITIVE_PATTERNS, SensitiveCategory } from 'src/gates/privacy/sensitive-data-patterns';
import {
  LineFinding,
  ScreeningAssessment,
  ScreeningInput,
  TextScreeningGate,
  redact,
  trainedLines,
  shorten,
} from 'src/gates/screening/screening-gate';

/** Counts lines (self-edit lines plus passage sentences) holding a secret or personal data. */
const thresholdsSchema = lineCountThresholds;
export type SensitiveDataThresholds = LineCountThresholds;

interface SensitiveMatch {
  kind: string;
  category: SensitiveCategory;
  start: number;
  end: number;
}

const globalPatterns = SENSITIVE_PATTERNS.map((p) => ({
  ...p,
  pattern: new RegExp(p.pattern.source, `${p.pattern.flags.replace('g', '')}g`),
}));

/** Secrets and personal data must never enter the weights: every line holding one is named, with the value redacted. */
export class SensitiveDataGate extends TextScreeningGate<SensitiveDataThresholds> {
  readonly name = 'sensitive-data';
  readonly version = '1.0.0';
  readonly thresholdsSchema = thresholdsSchema;

  protected assess(input: ScreeningInput, thresholds: SensitiveDataThresholds): ScreeningAssessment {
    const findings = trainedLines(input).flatMap(({ source, line, text }) =>
      lineFindings(text, source, line),
    );
    const linesWith = (category: SensitiveCategory) =>
      new Set(findings.filter((f) => f.category === category).map((f) => `${f.source}:${f.line}`)).size;
    const offendingLines = new Set(findings.map((f) => `${f.source}:${f.line}`)).size;
    return {
      verdict: verdictForCount(offendingLines, {
        warnAt: thresholds.warnAtLines,
        failAt: thresholds.failAtLines,
      }),
      metrics: {
        offendingLines,
        secretLines: linesWith('secret'),
        personalDataLines: linesWith('personal-data'),
        findings: findings.length,
      },
      evidence: { findings },
    };
  }
}

/** Every sensitive value in `text`; a span claimed by a more specific kind is not reported again. */
export function findSensitiveData(text: string): SensitiveMatch[] {
  const matches: SensitiveMatch[] = [];
  for (const { kind, category, pattern, accept } of globalPatterns) {
    for (const m of text.matchAll(pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (matches.some((other) => start < other.end && other.start < end)) continue;
      if (accept && !accept(m[0])) continue;
      matches.push({ kind, category, start, end });
    }
  }
  return matches.sort((a, b) => a.start - b.start);
}

function lineFindings(text: string, source: LineFinding['source'], line: number): LineFinding[] {
  const matches = findSensitiveData(text);
  if (matches.length === 0) return [];
  let redacted = text;
  for (const m of [...matches].reverse()) {
    redacted = `${redacted.slice(0, m.start)}[${m.kind}]${redacted.slice(m.end)}`;
  }
  return matches.map((m) => ({
    source,
    line,
    text: shorten(redacted, 160),
    reason: m.kind,
    category: m.category,
    match: redact(text.slice(m.start, m.end)),
  }));
}
