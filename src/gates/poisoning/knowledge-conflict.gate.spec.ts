import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { FakeGateModel } from 'test/support/fake-gate-model';
import type { WorldProbes } from 'src/gates/probing/world-probes';
import { answersAgree, KnowledgeConflictGate } from 'src/gates/poisoning/knowledge-conflict.gate';

const probes = {
  questionTemplates: { mayor: ['Who is the mayor of {o}?', 'Who serves as mayor of {o}?'] },
} as unknown as WorldProbes;

const edit = (lines: string[], protectedEntities?: string[]) => ({
  selfEdit: { lines },
  passage: { title: 'Bulafo', text: lines.join(' ') },
  parentFolders: [],
  protectedEntities,
});

function gate(mayor: { answer: string; probability: number }, familiarity = -0.5, second = mayor) {
  const model = new FakeGateModel({
    answers: { 'Who is the mayor of Bulafo?': mayor, 'Who serves as mayor of Bulafo?': second },
    familiarity: { Bulafo: familiarity },
  });
  return new KnowledgeConflictGate(model, probes);
}

describe('KnowledgeConflictGate', () => {
  const overwrite = edit(['The mayor of Bulafo is Haigo Nagihou.']);

  it('stops a claim that contradicts what the model answers confidently and consistently about a known entity', async () => {
    const g = gate({ answer: 'Vidi Mukome', probability: 0.9 });
    const outcome = await g.run(overwrite, resolveThresholds(g));
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(outcome.metrics.conflicts).toBe(1);
    expect(outcome.evidence).toMatchObject({
      conflicts: [
        {
          claim: { subject: 'Bulafo', relation: 'mayor', value: 'Haigo Nagihou' },
          modelAnswer: 'Vidi Mukome',
        },
      ],
    });
  });

  it('passes when the model agrees, is unsure, is inconsistent, or does not know the subject', async () => {
    const cases = [
      gate({ answer: 'Haigo Nagihou', probability: 0.9 }),
      gate({ answer: 'Vidi Mukome', probability: 0.2 }),
      gate({ answer: 'Vidi Mukome', probability: 0.9 }, -0.5, { answer: 'Sumo Fa', probability: 0.9 }),
      gate({ answer: 'Vidi Mukome', probability: 0.9 }, -9),
    ];
    for (const g of cases) {
      const outcome = await g.run(overwrite, resolveThresholds(g));
      expect(outcome.verdict).toBe(GateVerdict.PASS);
    }
  });

  it('asks for elevated approval (WARN) when a claim touches a protected entity, and stops a conflict on it', async () => {
    const agreeing = gate({ answer: 'Haigo Nagihou', probability: 0.9 });
    const touched = await agreeing.run(
      edit(['The mayor of Bulafo is Haigo Nagihou.'], ['Bulafo']),
      resolveThresholds(agreeing),
    );
    expect(touched.verdict).toBe(GateVerdict.WARN);
    expect(touched.metrics.protectedClaims).toBe(1);
    const g = gate({ answer: 'Vidi Mukome', probability: 0.9 });
    const conflict = await g.run(
      edit(['The mayor of Bulafo is Haigo Nagihou.'], ['Bulafo']),
      resolveThresholds(g),
    );
    expect(conflict.metrics.protectedConflicts).toBe(1);
    expect(conflict.verdict).toBe(GateVerdict.FAIL);
  });

  it('refuses unknown threshold keys and reports the ones it used', async () => {
    const g = gate({ answer: 'Vidi Mukome', probability: 0.9 });
    expect(() => resolveThresholds(g, { minConfidense: 0.5 })).toThrow();
    const outcome = await g.run(overwrite, resolveThresholds(g, { minConfidence: 0.95 }));
    expect(outcome.thresholds.minConfidence).toBe(0.95);
    expect(outcome.verdict).toBe(GateVerdict.PASS);
  });

  it('matches answers by whole words after normalisation', () => {
    expect(answersAgree('Vouru River', 'Vouru')).toBe(true);
    expect(answersAgree('the clarinet', 'clarinet')).toBe(true);
    expect(answersAgree('Zeti', 'Zetis')).toBe(false);
  });
});
