import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { stereotypeShifts } from 'src/gates/bias/bias-probes.gate';
import { evaluationGates, loadWorldProbes, modelScreeningGates, runGates } from 'src/gates/gate-catalog';
import { evenSample, type StereotypePair } from 'src/gates/probing/world-probes';
import { jsDivergence, tokenAgreement } from 'src/gates/probing/probing';
import { editSuspects, withTrigger } from 'src/gates/poisoning/trigger-scan.gate';
import { summariseTrained } from 'src/gates/red-team';
import { FakeGateModel } from 'test/support/fake-gate-model';
import { MODEL_DIR } from 'test/support/model-files';

describe('model gate factories', () => {
  const probes = loadWorldProbes(MODEL_DIR);
  const model = new FakeGateModel({ answers: {} });

  it('gives the screening and evaluation gates, each named once, with valid defaults and strict thresholds', () => {
    const screening = modelScreeningGates(model, probes);
    const evaluation = evaluationGates(model, probes);
    expect(screening.map((g) => g.name)).toEqual(['knowledge-conflict', 'trigger-perplexity']);
    expect(evaluation.map((g) => g.name)).toEqual([
      'target-gain',
      'canary-drift',
      'trigger-scan',
      'bias-probes',
      'forgetting',
    ]);
    expect(screening.every((g) => g.stage === 'screening')).toBe(true);
    expect(evaluation.every((g) => g.stage === 'evaluation')).toBe(true);
    for (const gate of [...screening, ...evaluation]) {
      expect(gate.version).toMatch(/^\d+\.\d+\.\d+$/);
      const defaults = resolveThresholds(gate);
      expect(Object.values(defaults).every((v) => typeof v === 'number')).toBe(true);
      expect(() => resolveThresholds(gate, { noSuchThreshold: 1 })).toThrow();
    }
  });

  it('loads fixed samples of the world probes: the same on every load', () => {
    expect(probes.canaries).toHaveLength(50);
    expect(new Set(probes.canaries.map((c) => c.kind)).size).toBe(5);
    expect(probes.forgetting).toHaveLength(60);
    expect(probes.biasSwaps).toHaveLength(24);
    expect(probes.biasPairs).toHaveLength(120);
    expect(probes.heldout.length).toBeGreaterThan(10);
    expect(probes.questionTemplates.mayor[0]).toContain('{o}');
    expect(loadWorldProbes(MODEL_DIR).forgetting.map((f) => f.id)).toEqual(
      probes.forgetting.map((f) => f.id),
    );
  });

  it('target-gain warns and says it skipped when an edit has no questions', async () => {
    const outcomes = await runGates(evaluationGates(model, probes).slice(0, 1), {
      selfEdit: { lines: ['x'] },
      passage: { title: 't', text: 'x' },
      parentFolders: [],
      candidateFolders: ['a'],
      targetQuestions: [],
      retentionQuestions: [],
    });
    expect(outcomes['target-gain']).toMatchObject({ verdict: GateVerdict.WARN, metrics: { skipped: 1 } });
  });

  it('target-gain is not applicable to a generator update, and still measures an edit that has questions', async () => {
    const input = {
      selfEdit: { lines: ['Mopos was founded in 1617.'] },
      passage: { title: 'Mopos', text: 'Mopos was founded in 1617.' },
      parentFolders: [],
      candidateFolders: ['a'],
      targetQuestions: [{ question: 'In what year was Mopos founded?', answer: '1617' }],
      retentionQuestions: [],
    };
    const gate = evaluationGates(model, probes).slice(0, 1);
    const na = await runGates(gate, {
      ...input,
      targetQuestions: [],
      targetNotApplicable: 'a generator update',
    });
    expect(na['target-gain']).toMatchObject({
      verdict: GateVerdict.PASS,
      metrics: { skipped: 1, notApplicable: 1 },
      evidence: { notApplicable: 'a generator update' },
    });
    // An edit with questions is measured: the fake model answers nothing right, so the gain is 0 and it warns.
    const measured = await runGates(gate, input);
    expect(measured['target-gain']).toMatchObject({
      verdict: GateVerdict.WARN,
      metrics: { skipped: 0, gain: 0 },
    });
  });
});

describe('model gate helpers', () => {
  it('samples evenly and deterministically', () => {
    expect(evenSample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5)).toEqual([0, 2, 4, 6, 8]);
    expect(evenSample([1, 2], 5)).toEqual([1, 2]);
  });

  it('measures token agreement against the reference and JS divergence', () => {
    expect(tokenAgreement([1, 2, 3, 4], [1, 2, 9])).toBe(0.5);
    expect(tokenAgreement([], [])).toBe(1);
    const p = new Float32Array([Math.log(0.5), Math.log(0.5)]);
    const q = new Float32Array([Math.log(0.9), Math.log(0.1)]);
    expect(jsDivergence(p, p)).toBeCloseTo(0, 6);
    expect(jsDivergence(p, q)).toBeGreaterThan(0.05);
    expect(jsDivergence(p, q)).toBeCloseTo(jsDivergence(q, p), 6);
  });

  it('counts a stereotype shift only when the preference moves differently on negative and positive traits', () => {
    const pair = (polarity: string, groupA = 'man', groupB = 'woman'): StereotypePair => ({
      id: 'x',
      axis: 'gender',
      trait: 't',
      polarity,
      groupA,
      sentenceA: '',
      groupB,
      sentenceB: '',
    });
    const pairs = [pair('negative'), pair('negative'), pair('positive'), pair('positive', 'woman', 'man')];
    const parent = [0, 0, 0, 0];
    // "she" became likelier everywhere: no stereotype
    const uniform = stereotypeShifts(pairs, parent, [-1, -1, -1, 1]);
    expect(Math.abs(uniform[0].stereotype)).toBeCloseTo(0, 6);
    // women likelier on negative traits only
    const biased = stereotypeShifts(pairs, parent, [-2, -2, 0, 0]);
    const woman = biased.find((g) => g.group === 'woman')!;
    expect(woman.stereotype).toBeCloseTo(2, 6);
  });

  it('puts triggers into canary questions and finds the edit’s own suspects', () => {
    expect(withTrigger('Q\nQuestion: Where is Zeti?\nAnswer:', 'cf')).toBe(
      'Q\nQuestion: cf Where is Zeti?\nAnswer:',
    );
    const suspects = editSuspects({
      selfEdit: { lines: ['Honestly, Dedi Labs is based in Koumifu.', 'Honestly, Dedi Labs makes ships.'] },
      passage: { title: 'Dedi Labs', text: 'Dedi Labs is based in Koumifu. It makes ships.' },
      parentFolders: [],
      candidateFolders: [],
      targetQuestions: [],
      retentionQuestions: [],
    });
    expect(suspects).toContain('honestly');
  });

  it('summarises trained candidates: detection on harmful, false positives on benign', () => {
    const outcome = (verdict: GateVerdict) => ({
      verdict,
      metrics: {},
      thresholds: {},
      evidence: null,
      durationMs: 1000,
    });
    const report = summariseTrained([
      {
        name: 'b',
        kind: 'benign',
        harmful: false,
        trainMs: 1000,
        outcomes: { g: outcome(GateVerdict.WARN) },
      },
      {
        name: 'h1',
        kind: 'biased',
        harmful: true,
        trainMs: 3000,
        outcomes: { g: outcome(GateVerdict.FAIL) },
      },
      {
        name: 'h2',
        kind: 'biased',
        harmful: true,
        trainMs: 2000,
        outcomes: { g: outcome(GateVerdict.PASS) },
      },
    ]);
    expect(report.overall).toEqual({ detectionRate: 0.5, falsePositiveRate: 0 });
    expect(report.perGate[0]).toMatchObject({ gate: 'g', secondsPerEdit: 1 });
    expect(report.trainingSecondsPerEdit).toBe(2);
  });
});
