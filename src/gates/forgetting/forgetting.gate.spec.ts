import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { ForgettingGate } from 'src/gates/forgetting/forgetting.gate';
import { TargetGainGate } from 'src/gates/forgetting/target-gain.gate';
import type { CandidateEvaluationInput } from 'src/gates/model-gate';
import type { WorldProbes } from 'src/gates/model/world-probes';
import { FakeGateModel } from 'test/support/fake-gate-model';

const probes: WorldProbes = {
  questionTemplates: {},
  canaries: [],
  forgetting: [
    {
      id: 'f1',
      entity: 'Soudubi',
      relation: 'capital',
      question: 'What is the capital of Soudubi?',
      answer: 'Zazai',
    },
    {
      id: 'f2',
      entity: 'Kuleho',
      relation: 'capital',
      question: 'What is the capital of Kuleho?',
      answer: 'Koukai',
    },
  ],
  biasSwaps: [],
  biasPairs: [],
  heldout: [],
};

const input = (retention: CandidateEvaluationInput['retentionQuestions']): CandidateEvaluationInput => ({
  selfEdit: { lines: ['Mopos was founded in 1617.'] },
  passage: { title: 'Mopos', text: 'Mopos was founded in 1617.' },
  parentFolders: ['parent'],
  candidateFolders: ['parent', 'candidate'],
  targetQuestions: [{ question: 'When was Mopos founded?', answer: '1617' }],
  retentionQuestions: retention,
});

const right = (answer: string) => ({ answer, probability: 0.9 });

describe('ForgettingGate', () => {
  const known = {
    'What is the capital of Soudubi?': right('Zazai'),
    'What is the capital of Kuleho?': right('Koukai'),
  };

  it('passes a candidate that keeps the known facts and the earlier edits', async () => {
    const gate = new ForgettingGate(
      new FakeGateModel({ answers: { ...known, 'Who leads Hona?': right('Sumo Fa') } }),
      probes,
    );
    const outcome = await gate.run(
      input([{ question: 'Who leads Hona?', answer: 'Sumo Fa' }]),
      resolveThresholds(gate),
    );
    expect(outcome.metrics).toMatchObject({ factDelta: 0, retentionDelta: 0, locality: 1 });
    expect(outcome.verdict).toBe(GateVerdict.PASS);
  });

  it('fails a candidate that lost an earlier edit, and names the lost question', async () => {
    const gate = new ForgettingGate(
      new FakeGateModel({
        answers: {
          ...known,
          'Who leads Hona?': right('Sumo Fa'),
          'parent,candidate>Who leads Hona?': right('Vidi Mukome'),
        },
      }),
      probes,
    );
    const outcome = await gate.run(
      input([{ question: 'Who leads Hona?', answer: 'Sumo Fa' }]),
      resolveThresholds(gate),
    );
    expect(outcome.metrics.retentionDelta).toBe(-1);
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(outcome.evidence).toMatchObject({
      retentionLost: [{ question: 'Who leads Hona?', before: 'Sumo Fa', after: 'Vidi Mukome' }],
    });
  });

  it('warns when known facts are lost and fails on a collapse', async () => {
    const lostOne = new FakeGateModel({
      answers: { ...known, 'parent,candidate>What is the capital of Kuleho?': right('Zazai') },
    });
    const gate = new ForgettingGate(lostOne, probes);
    const outcome = await gate.run(input([]), resolveThresholds(gate, { failBelowFactDelta: -0.75 }));
    expect(outcome.metrics.factDelta).toBe(-0.5);
    expect(outcome.verdict).toBe(GateVerdict.WARN);
    const strict = await gate.run(input([]), resolveThresholds(gate, { failBelowFactDelta: -0.4 }));
    expect(strict.verdict).toBe(GateVerdict.FAIL);
  });
});

describe('TargetGainGate', () => {
  it('reports the SEAL reward and warns when the edit taught nothing', async () => {
    const learnt = new TargetGainGate(
      new FakeGateModel({ answers: { 'parent,candidate>When was Mopos founded?': right('1617') } }),
      probes,
    );
    const gain = await learnt.run(input([]), resolveThresholds(learnt));
    expect(gain.metrics).toMatchObject({ parentAccuracy: 0, candidateAccuracy: 1, gain: 1 });
    expect(gain.verdict).toBe(GateVerdict.PASS);
    const nothing = new TargetGainGate(new FakeGateModel({ answers: {} }), probes);
    expect((await nothing.run(input([]), resolveThresholds(nothing))).verdict).toBe(GateVerdict.WARN);
  });
});
