import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { HyperparametersGate } from 'src/gates/policy/hyperparameters.gate';
import { ScreeningInput } from 'src/gates/screening/screening-gate';

const gate = new HyperparametersGate();
const input = (hyperparameters: ScreeningInput['hyperparameters']): ScreeningInput => ({
  selfEdit: { lines: ['Vela Works makes lamps.'] },
  passage: { title: 'Vela Works', text: 'Vela Works makes lamps.' },
  hyperparameters,
});

describe('HyperparametersGate', () => {
  const thresholds = resolveThresholds(gate, { learningRateMax: 0.005, epochsMax: 15 });

  it('passes an edit that asks for nothing, or for values within the policy', async () => {
    expect((await gate.run(input(null), thresholds)).verdict).toBe(GateVerdict.PASS);
    const within = await gate.run(input({ learningRate: 0.003, epochs: 15, rank: 8 }), thresholds);
    expect(within.verdict).toBe(GateVerdict.PASS);
    expect(within.metrics).toEqual({ requested: 3, outOfBounds: 0 });
  });

  it('fails and names every hyperparameter outside the policy', async () => {
    const outcome = await gate.run(input({ learningRate: 0.1, epochs: 16, rank: 2.5 }), thresholds);
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(outcome.evidence).toMatchObject({
      violations: [
        { hyperparameter: 'learningRate', value: 0.1, allowed: 'from 0.00001 to 0.005' },
        { hyperparameter: 'epochs', value: 16 },
        { hyperparameter: 'rank', value: 2.5, allowed: 'a whole number from 1 to 64' },
      ],
    });
    expect(outcome.thresholds).toMatchObject({ learningRateMax: 0.005, epochsMax: 15 });
  });

  it('refuses a policy whose minimum is above its maximum', () => {
    expect(() => resolveThresholds(gate, { rankMin: 8, rankMax: 4 })).toThrow(/Invalid thresholds/);
  });
});
