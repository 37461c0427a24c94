import { z } from 'zod';
import { verdictForShare } from 'src/gates/gate';
import { shareThreshold } from 'src/gates/gate-thresholds';
import { unsupportedReasons } from 'src/gates/poisoning/line-support';
import { PassageEvidence } from 'src/gates/poisoning/passage-evidence';
import {
  LineFinding,
  ScreeningAssessment,
  ScreeningInput,
  TextScreeningGate,
  numberedSelfEditLines,
  shorten,
} from 'src/gates/screening/screening-gate';

const thresholdsSchema = z
  .object({
    /** Share of self-edit lines not supported by the passage above which the edit is flagged / stopped. */
    warnAboveUnsupportedShare: shareThreshold(0),
    failAboveUnsupportedShare: shareThreshold(0.1),
  })
  .strict();
export type FaithfulnessThresholds = z.infer<typeof thresholdsSchema>;

/**
 * Every self-edit line must be supported by its passage: its numbers, names and values appear there, it is about
 * the passage's subject, and it neither negates nor reverses what the passage says. Lines in the shipped world's
 * phrasing are also read back into facts and compared with the passage's.
 */
export class FaithfulnessGate extends TextScreeningGate<FaithfulnessThresholds> {
  readonly name = 'faithfulness';
  readonly version = '1.0.0';
  readonly thresholdsSchema = thresholdsSchema;

  protected assess(input: ScreeningInput, thresholds: FaithfulnessThresholds): ScreeningAssessment {
    const passage = new PassageEvidence(input.passage.title, input.passage.text);
    const lines = numberedSelfEditLines(input);
    const findings: LineFinding[] = [];
    for (const { line, text } of lines) {
      const reasons = unsupportedReasons(text, passage);
      if (reasons.length === 0) continue;
      findings.push({
        source: 'self-edit',
        line,
        text: shorten(text, 160),
        reason: reasons[0].reason,
        details: reasons.map((r) =>
          r.match === undefined ? { reason: r.reason } : { reason: r.reason, match: r.match },
        ),
      });
    }
    const unsupportedShare = lines.length === 0 ? 0 : findings.length / lines.length;
    return {
      verdict: verdictForShare(unsupportedShare, {
        warnAbove: thresholds.warnAboveUnsupportedShare,
        failAbove: thresholds.failAboveUnsupportedShare,
      }),
      metrics: {
        lines: lines.length,
        unsupportedLines: findings.length,
        unsupportedShare,
        passageTemplateFacts: [...passage.facts.values()].reduce((n, values) => n + values.size, 0),
      },
      evidence: { unsupported: findings },
    };
  }
}
