import { z } from 'zod';
import { GateVerdict } from 'src/gates/gate-verdict';
import { ScreeningAssessment, ScreeningInput, TextScreeningGate } from 'src/gates/screening/screening-gate';
import { LossOn } from 'src/self-edits/self-edit.types';

const bound = (def: number) => z.number().positive().finite().default(def);

/** The range each hyperparameter of a structured self-edit must fall in; the channel policy sets them. */
const thresholdsSchema = z
  .object({
    learningRateMin: bound(1e-5),
    learningRateMax: bound(1e-2),
    epochsMin: bound(1),
    epochsMax: bound(20),
    rankMin: bound(1),
    rankMax: bound(64),
    alphaMin: bound(1),
    alphaMax: bound(128),
  })
  .strict()
  .refine(
    (t) =>
      t.learningRateMin <= t.learningRateMax &&
      t.epochsMin <= t.epochsMax &&
      t.rankMin <= t.rankMax &&
      t.alphaMin <= t.alphaMax,
    { message: 'each minimum must be at most its maximum' },
  );
export type HyperparameterThresholds = z.infer<typeof thresholdsSchema>;

const BOUNDED = ['learningRate', 'epochs', 'rank', 'alpha'] as const;
const WHOLE = new Set<string>(['epochs', 'rank']);

/**
 * A structured self-edit names its own training hyperparameters (SEAL's "self-edit as a program"); they are
 * bounded by policy so a self-edit cannot ask for an update large enough to overwrite what the model knows.
 */
export class HyperparametersGate extends TextScreeningGate<HyperparameterThresholds> {
  readonly name = 'hyperparameters';
  readonly version = '1.0.0';
  readonly thresholdsSchema = thresholdsSchema;

  protected assess(input: ScreeningInput, t: HyperparameterThresholds): ScreeningAssessment {
    const asked = input.hyperparameters ?? {};
    const violations: { hyperparameter: string; value: number | string; allowed: string }[] = [];
    for (const name of BOUNDED) {
      const value = asked[name];
      if (value === undefined) continue;
      const min = t[`${name}Min`];
      const max = t[`${name}Max`];
      const whole = !WHOLE.has(name) || Number.isInteger(value);
      if (!Number.isFinite(value) || value < min || value > max || !whole) {
        violations.push({
          hyperparameter: name,
          value,
          allowed: `${WHOLE.has(name) ? 'a whole number ' : ''}from ${min} to ${max}`,
        });
      }
    }
    if (asked.lossOn !== undefined && !Object.values(LossOn).includes(asked.lossOn)) {
      violations.push({
        hyperparameter: 'lossOn',
        value: String(asked.lossOn),
        allowed: 'all or completion',
      });
    }
    return {
      verdict: violations.length ? GateVerdict.FAIL : GateVerdict.PASS,
      metrics: { requested: Object.keys(asked).length, outOfBounds: violations.length },
      evidence: { requested: { ...asked }, violations },
    };
  }
}
