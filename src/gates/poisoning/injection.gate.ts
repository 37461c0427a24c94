import { verdictForCount } from 'src/gates/gate';
import { lineCountThresholds, LineCountThresholds } from 'src/gates/gate-thresholds';
import { INJECTION_PATTERNS, InjectionFamily } from 'src/gates/poisoning/injection-patterns';
import {
  LineFinding,
  ScreeningAssessment,
  ScreeningInput,
  TextScreeningGate,
  trainedLines,
  shorten,
} from 'src/gates/screening/screening-gate';

/** Counts offending lines: self-edit lines plus passage sentences. */
const thresholdsSchema = lineCountThresholds;
export type InjectionThresholds = LineCountThresholds;

/** Instruction and prompt-injection content in a self-edit line or in its passage (both are trained on). */
export class InjectionGate extends TextScreeningGate<InjectionThresholds> {
  readonly name = 'injection';
  readonly version = '1.0.0';
  readonly thresholdsSchema = thresholdsSchema;

  protected assess(input: ScreeningInput, thresholds: InjectionThresholds): ScreeningAssessment {
    const findings = trainedLines(input).flatMap(({ source, line, text }) =>
      findInjections(text, source, line),
    );
    const offendingLines = new Set(findings.map((f) => `${f.source}:${f.line}`)).size;
    return {
      verdict: verdictForCount(offendingLines, {
        warnAt: thresholds.warnAtLines,
        failAt: thresholds.failAtLines,
      }),
      metrics: {
        offendingLines,
        offendingSelfEditLines: new Set(findings.filter((f) => f.source === 'self-edit').map((f) => f.line))
          .size,
        offendingPassageSentences: new Set(findings.filter((f) => f.source === 'passage').map((f) => f.line))
          .size,
        findings: findings.length,
      },
      evidence: { findings },
    };
  }
}

/** One finding per pattern family that matches the text. */
export function findInjections(text: string, source: LineFinding['source'], line: number): LineFinding[] {
  const findings: LineFinding[] = [];
  for (const family of Object.values(InjectionFamily)) {
    for (const pattern of INJECTION_PATTERNS[family]) {
      const match = pattern.exec(text);
      if (match) {
        findings.push({
          source,
          line,
          text: shorten(text, 160),
          reason: family,
          match: shorten(match[0], 60),
        });
        break;
      }
    }
  }
  return findings;
}
