import { GateOutcome } from 'src/gates/gate';
import { combineOutcomes } from 'src/gates/gate-outcomes';
import { GateVerdict } from 'src/gates/gate-verdict';

const outcome = (verdict: GateVerdict, share: number): GateOutcome => ({
  verdict,
  metrics: { unsupportedShare: share },
  thresholds: { failAboveUnsupportedShare: 0.1 },
  evidence: { share },
  durationMs: 2,
});

describe('combineOutcomes', () => {
  it('reports the worst part, with every part under its label', () => {
    const combined = combineOutcomes([
      { label: 'a', outcome: outcome(GateVerdict.PASS, 0) },
      { label: 'b', outcome: outcome(GateVerdict.FAIL, 0.6) },
      { label: 'c', outcome: outcome(GateVerdict.WARN, 0.05) },
    ]);
    expect(combined.verdict).toBe(GateVerdict.FAIL);
    expect(combined.metrics).toEqual({ unsupportedShare: 0.6, parts: 3, partsWarned: 1, partsFailed: 1 });
    expect(combined.durationMs).toBe(6);
    expect(combined.evidence).toMatchObject({
      worstPart: 'b',
      parts: [{ part: 'a' }, { part: 'b' }, { part: 'c' }],
    });
  });

  it('passes only when every part passes, and leaves a single part as it is', () => {
    const one = outcome(GateVerdict.PASS, 0);
    expect(combineOutcomes([{ label: 'a', outcome: one }])).toBe(one);
    const two = combineOutcomes([
      { label: 'a', outcome: one },
      { label: 'b', outcome: outcome(GateVerdict.PASS, 0) },
    ]);
    expect(two.verdict).toBe(GateVerdict.PASS);
  });
});
