import { GateOutcome } from 'src/gates/gate';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GroupGeneralisationGate } from 'src/gates/bias/group-generalisation.gate';
import { FaithfulnessGate } from 'src/gates/poisoning/faithfulness.gate';
import { InjectionGate } from 'src/gates/poisoning/injection.gate';
import { RareRepeatsGate } from 'src/gates/poisoning/rare-repeats.gate';
import { SensitiveDataGate } from 'src/gates/privacy/sensitive-data.gate';
import { ScreeningInput, TextScreeningGate } from 'src/gates/screening/screening-gate';

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

/**
 * Runs every text gate on one input. `overrides` holds per-gate thresholds by gate name (from a channel
 * policy); they are validated, so a typo fails loudly instead of silently using a default.
 */
export async function runTextScreening(
  input: ScreeningInput,
  overrides: Record<string, unknown> = {},
  gates = textScreeningGates(),
): Promise<Record<string, GateOutcome>> {
  const outcomes: Record<string, GateOutcome> = {};
  for (const gate of gates) {
    outcomes[gate.name] = await gate.run(input, resolveThresholds(gate, overrides[gate.name]));
  }
  return outcomes;
}
