import { Gate, GateOutcome } from 'src/gates/gate';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import type { CandidateEvaluationInput, GateModel, ModelScreeningInput } from 'src/gates/gate-inputs';
import type { WorldProbes } from 'src/gates/probing/world-probes';
import { KnowledgeConflictGate } from 'src/gates/poisoning/knowledge-conflict.gate';
import { TriggerPerplexityGate } from 'src/gates/poisoning/trigger-perplexity.gate';
import { BiasProbesGate } from 'src/gates/bias/bias-probes.gate';
import { ForgettingGate } from 'src/gates/forgetting/forgetting.gate';
import { TargetGainGate } from 'src/gates/forgetting/target-gain.gate';
import { CanaryDriftGate } from 'src/gates/poisoning/canary-drift.gate';
import { TriggerScanGate } from 'src/gates/poisoning/trigger-scan.gate';

export { loadWorldProbes } from 'src/gates/probing/world-probes';
export type { WorldProbes } from 'src/gates/probing/world-probes';

/** The screening gates that ask the model (before training; the parent stack is the reference). */
export function modelScreeningGates(model: GateModel, probes: WorldProbes): Gate<ModelScreeningInput>[] {
  return [new KnowledgeConflictGate(model, probes), new TriggerPerplexityGate(model, probes)];
}

/** The gates of a trained candidate (in quarantine), each comparing it with its parent stack. */
export function evaluationGates(model: GateModel, probes: WorldProbes): Gate<CandidateEvaluationInput>[] {
  return [
    new TargetGainGate(model, probes),
    new CanaryDriftGate(model, probes),
    new TriggerScanGate(model, probes),
    new BiasProbesGate(model, probes),
    new ForgettingGate(model, probes),
  ];
}

/**
 * Runs gates one after another (they share the model, which runs one batch at a time anyway). `overrides` holds
 * per-gate thresholds by gate name (a channel policy); they are validated, so a typo fails loudly.
 */
export async function runGates<Input>(
  gates: Gate<Input>[],
  input: Input,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, GateOutcome>> {
  const outcomes: Record<string, GateOutcome> = {};
  for (const gate of gates) {
    outcomes[gate.name] = await gate.run(
      input,
      resolveThresholds(gate as Gate<unknown>, overrides[gate.name]),
    );
  }
  return outcomes;
}
