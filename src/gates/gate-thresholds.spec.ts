import { Gate, verdictForCount, verdictForShare, worstVerdict } from 'src/gates/gate';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { GateError, GateErrorCode } from 'src/gates/gates.errors';
import { FaithfulnessGate } from 'src/gates/poisoning/faithfulness.gate';
import { InjectionGate } from 'src/gates/poisoning/injection.gate';

describe('gate thresholds', () => {
  it('fills in the defaults when policy overrides nothing', () => {
    expect(resolveThresholds(new FaithfulnessGate())).toEqual({
      warnAboveUnsupportedShare: 0,
      failAboveUnsupportedShare: 0.1,
    });
  });

  it('takes an override for one threshold and keeps the other defaults', () => {
    expect(resolveThresholds(new InjectionGate(), { failAtLines: 2 })).toEqual({
      warnAtLines: 1,
      failAtLines: 2,
    });
  });

  it.each<[string, Gate<unknown>, unknown]>([
    ['an unknown key (a typo in policy)', new InjectionGate(), { failAtLine: 2 }],
    ['a share above 1', new FaithfulnessGate(), { failAboveUnsupportedShare: 1.5 }],
    ['a string', new FaithfulnessGate(), { failAboveUnsupportedShare: '0.2' }],
  ])('refuses %s with a gate error naming the gate', (_, gate, overrides) => {
    let error: unknown;
    try {
      resolveThresholds(gate, overrides);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GateError);
    expect(error).toMatchObject({ code: GateErrorCode.INVALID_THRESHOLDS, details: { gate: gate.name } });
  });

  it('refuses a zero count threshold, which would fail every edit', () => {
    expect(() => resolveThresholds(new InjectionGate(), { failAtLines: 0 })).toThrow(GateError);
  });
});

describe('verdicts', () => {
  it('counts: FAIL from failAt, WARN from warnAt', () => {
    const limits = { warnAt: 1, failAt: 3 };
    expect([0, 1, 2, 3].map((n) => verdictForCount(n, limits))).toEqual([
      GateVerdict.PASS,
      GateVerdict.WARN,
      GateVerdict.WARN,
      GateVerdict.FAIL,
    ]);
  });

  it('shares: FAIL above failAbove, WARN above warnAbove', () => {
    const limits = { warnAbove: 0, failAbove: 0.1 };
    expect([0, 0.1, 0.11].map((s) => verdictForShare(s, limits))).toEqual([
      GateVerdict.PASS,
      GateVerdict.WARN,
      GateVerdict.FAIL,
    ]);
  });

  it('the worst verdict wins', () => {
    expect(worstVerdict([GateVerdict.PASS, GateVerdict.WARN])).toBe(GateVerdict.WARN);
    expect(worstVerdict([GateVerdict.WARN, GateVerdict.FAIL, GateVerdict.PASS])).toBe(GateVerdict.FAIL);
    expect(worstVerdict([])).toBe(GateVerdict.PASS);
  });
});
