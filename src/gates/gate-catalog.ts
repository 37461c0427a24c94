import { Gate, GateOutcome, GateThresholds } from 'src/gates/gate';
import { combineOutcomes } from 'src/gates/gate-outcomes';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import type { CandidateEvaluationInput, GateModel, ModelScreeningInput } from 'src/gates/gate-inputs';
import type { WorldProbes } from 'src/gates/probing/world-probes';
import { KnowledgeConflictGate } from 'src/gates/poisoning/knowledge-conflict.gate';
import { TriggerPerplexityGate } from 'src/gates/poisoning/trigger-perplexity.gate';
import { BiasProbesGate } from 'src/gates/bias/bias-probes.gate';
import { ForgettingGate } from 'src/gates/forgetting/forgetting.gate';
import { TargetGainGate } from 'src/gates/forgetting/target-gain.gate';
import { CanaryDriftGate } from 'src/gates/poisoning/canary-drift.gate';
import { TriggerScanGate } from 'src/gates/poisoning/trigger-scan.gate';
import { GroupGeneralisationGate } from 'src/gates/bias/group-generalisation.gate';
import { FaithfulnessGate } from 'src/gates/poisoning/faithfulness.gate';
import { InjectionGate } from 'src/gates/poisoning/injection.gate';
import { RareRepeatsGate } from 'src/gates/poisoning/rare-repeats.gate';
import { SensitiveDataGate } from 'src/gates/privacy/sensitive-data.gate';
import { TextScreeningGate } from 'src/gates/screening/screening-gate';

export { loadWorldProbes } from 'src/gates/probing/world-probes';
export type { WorldProbes } from 'src/gates/probing/world-probes';

/** Every text screening gate, cheapest first. */
export function textScreeningGates(): TextScreeningGate<Record<string, number>>[] {
  return [
    new InjectionGate(),
    new SensitiveDataGate(),
    new GroupGeneralisationGate(),
    new RareRepeatsGate(),
    new FaithfulnessGate(),
  ];
}

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

/** A gate with the thresholds it runs with (a channel policy's gates come so, resolved). */
export interface GateWithThresholds<Input> {
  gate: Gate<Input>;
  thresholds: GateThresholds;
}

/** One part of a change gated part by part (a generator update: each kept self-edit), named in its report. */
export interface GatedPart<Input> {
  label: string;
  input: Input;
}

/**
 * Runs gates one after another (they share the model, which runs one batch at a time anyway), by gate name.
 * Given parts (an input is never an array), each gate runs on every part and reports once (combineOutcomes).
 * A bare gate's thresholds are its defaults under `overrides[gate.name]`, validated, so a typo fails loudly.
 */
export async function runGates<Input>(
  gates: readonly (Gate<Input> | GateWithThresholds<Input>)[],
  input: Input | readonly GatedPart<Input>[],
  overrides: Record<string, unknown> = {},
): Promise<Record<string, GateOutcome>> {
  const parts = Array.isArray(input)
    ? (input as readonly GatedPart<Input>[])
    : [{ label: '', input: input as Input }];
  const outcomes: Record<string, GateOutcome> = {};
  for (const entry of gates) {
    const { gate, thresholds } =
      'gate' in entry
        ? entry
        : { gate: entry, thresholds: resolveThresholds(entry as Gate<unknown>, overrides[entry.name]) };
    const perPart: { label: string; outcome: GateOutcome }[] = [];
    for (const part of parts)
      perPart.push({ label: part.label, outcome: await gate.run(part.input, thresholds) });
    outcomes[gate.name] = combineOutcomes(perPart);
  }
  return outcomes;
}

/** The gates that failed, by name: any one stops a change. */
export function failedGates(outcomes: Record<string, GateOutcome>): string[] {
  return Object.entries(outcomes)
    .filter(([, outcome]) => outcome.verdict === GateVerdict.FAIL)
    .map(([name]) => name);
}
