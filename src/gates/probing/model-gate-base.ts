import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { Gate, GateOutcome, GateStage, GateThresholds } from 'src/gates/gate';
import type { GateModel } from 'src/gates/gate-inputs';
import type { WorldProbes } from 'src/gates/probing/world-probes';
import type { ScreeningAssessment } from 'src/gates/screening/screening-gate';

/** Base of the gates that ask the model: times `assess` and reports the thresholds it used. */
export abstract class ModelGateBase<Input, T extends GateThresholds> implements Gate<Input, T> {
  abstract readonly name: string;
  abstract readonly version: string;
  abstract readonly stage: GateStage;
  abstract readonly thresholdsSchema: z.ZodType<T, z.ZodTypeDef, unknown>;

  constructor(
    protected readonly model: GateModel,
    protected readonly probes: WorldProbes,
  ) {}

  async run(input: Input, thresholds: T): Promise<GateOutcome> {
    const started = performance.now();
    const assessment = await this.assess(input, thresholds);
    return {
      ...assessment,
      thresholds: { ...thresholds },
      durationMs: Math.round(performance.now() - started),
    };
  }

  protected abstract assess(input: Input, thresholds: T): Promise<ScreeningAssessment>;
}
