import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import { ROUTE_KEY_FIELD } from 'src/inference/route-key';
import { GateVerdict } from 'src/gates/gate-verdict';
import { ForgettingGate } from 'src/gates/forgetting/forgetting.gate';
import { TargetGainGate } from 'src/gates/forgetting/target-gain.gate';
import type { CandidateEvaluationInput } from 'src/gates/gate-inputs';
import type { WorldProbes } from 'src/gates/probing/world-probes';
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

describe('ForgettingGate: route keys', () => {
  const known = {
    'What is the capital of Soudubi?': right('Zazai'),
    'What is the capital of Kuleho?': right('Koukai'),
  };
  const work = mkdtempSync(join(tmpdir(), 'sealgate-forgetting-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const candidateWithKey = (name: string, key: string[]): string => {
    const folder = join(work, name);
    mkdirSync(folder);
    const config = {
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      target_modules: ['q_proj'],
      [ROUTE_KEY_FIELD]: key,
    };
    writeFileSync(join(folder, 'adapter_config.json'), JSON.stringify(config));
    return folder;
  };
  const routedInput = (folder: string): CandidateEvaluationInput => ({
    ...input([]),
    candidateFolders: ['parent', folder],
  });

  it('passes a candidate whose key names only its subject, and reports the key', async () => {
    const gate = new ForgettingGate(new FakeGateModel({ answers: known }), probes);
    const outcome = await gate.run(
      routedInput(candidateWithKey('honest', ['mopos'])),
      resolveThresholds(gate),
    );
    expect(outcome.metrics).toMatchObject({ routed: 1, keyReach: 0, answersChanged: 0 });
    expect(outcome.evidence).toMatchObject({ routeKey: ['mopos'], keyFiresOn: [] });
    expect(outcome.verdict).toBe(GateVerdict.PASS);
  });

  it('fails a candidate whose key fires on what the edit is not about, even when nothing changed yet', async () => {
    const gate = new ForgettingGate(new FakeGateModel({ answers: known }), probes);
    const outcome = await gate.run(
      routedInput(candidateWithKey('forged', ['mopos', 'capital'])),
      resolveThresholds(gate),
    );
    expect(outcome.metrics).toMatchObject({ routed: 1, keyReach: 1, factDelta: 0 });
    expect(outcome.evidence).toMatchObject({
      keyFiresOn: [
        'closed-book|What is the capital of Soudubi?|',
        'closed-book|What is the capital of Kuleho?|',
      ],
    });
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
  });

  it('fails an unrouted candidate that changes one known fact in forty', async () => {
    const many = {
      ...probes,
      forgetting: Array.from({ length: 40 }, (_, i) => ({
        id: `f${i}`,
        entity: `Place${i}`,
        relation: 'capital',
        question: `What is the capital of Place${i}?`,
        answer: `City${i}`,
      })),
    };
    const answers = Object.fromEntries(many.forgetting.map((f) => [f.question, right(f.answer)]));
    const gate = new ForgettingGate(
      new FakeGateModel({
        answers: { ...answers, 'parent,candidate>What is the capital of Place3?': right('Zazai') },
      }),
      many,
    );
    const outcome = await gate.run(input([]), resolveThresholds(gate));
    expect(outcome.metrics).toMatchObject({ routed: 0, factDelta: -0.025, answersChanged: 0.025 });
    expect(outcome.verdict).toBe(GateVerdict.WARN);
    const three = new ForgettingGate(
      new FakeGateModel({
        answers: {
          ...answers,
          'parent,candidate>What is the capital of Place3?': right('Zazai'),
          'parent,candidate>What is the capital of Place4?': right('Zazai'),
          'parent,candidate>What is the capital of Place5?': right('Zazai'),
        },
      }),
      many,
    );
    expect((await three.run(input([]), resolveThresholds(three))).verdict).toBe(GateVerdict.FAIL);
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
