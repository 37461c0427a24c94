import { GateOutcome } from 'src/gates/gate';
import { GateVerdict } from 'src/gates/gate-verdict';

const SEVERITY: Record<GateVerdict, number> = {
  [GateVerdict.PASS]: 0,
  [GateVerdict.WARN]: 1,
  [GateVerdict.FAIL]: 2,
};

/**
 * One gate's outcomes on the parts of a change that is screened part by part (a ReST-EM generator update: each
 * kept self-edit against its own passage), as one report: the worst verdict, the worst part's metrics with the
 * counts of parts, and every part's evidence under its label. A single part is returned as it is.
 */
export function combineOutcomes(parts: { label: string; outcome: GateOutcome }[]): GateOutcome {
  if (parts.length === 0) throw new Error('no outcomes to combine');
  if (parts.length === 1) return parts[0].outcome;
  const worst = parts.reduce((a, b) => (SEVERITY[b.outcome.verdict] > SEVERITY[a.outcome.verdict] ? b : a));
  const count = (v: GateVerdict) => parts.filter((p) => p.outcome.verdict === v).length;
  return {
    verdict: worst.outcome.verdict,
    metrics: {
      ...worst.outcome.metrics,
      parts: parts.length,
      partsWarned: count(GateVerdict.WARN),
      partsFailed: count(GateVerdict.FAIL),
    },
    thresholds: worst.outcome.thresholds,
    evidence: {
      worstPart: worst.label,
      parts: parts.map((p) => ({
        part: p.label,
        verdict: p.outcome.verdict,
        metrics: p.outcome.metrics,
        evidence: p.outcome.evidence,
      })),
    },
    durationMs: parts.reduce((sum, p) => sum + p.outcome.durationMs, 0),
  };
}
