import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { Gate, GateStage, GateThresholds } from 'src/gates/gate';
import { resolveThresholds } from 'src/gates/gate-thresholds';
import { LossOn } from 'src/self-edits/self-edit.types';

const range = z.object({ min: z.number().positive().finite(), max: z.number().positive().finite() }).strict();

const trainingSchema = z
  .object({
    learningRate: z.number().positive().finite(),
    epochs: z.number().int().min(1),
    rank: z.number().int().min(1),
    alpha: z.number().positive().finite(),
    batchSize: z.number().int().min(1).default(8),
    /** The seed of the trainer's shuffling and LoRA initialisation: the same edit trains to the same adapter. */
    seed: z.number().int().min(0).default(0),
    lossOn: z.nativeEnum(LossOn),
    bounds: z.object({ learningRate: range, epochs: range, rank: range, alpha: range }).strict(),
    /**
     * Mitigation of forgetting across sequential edits: the candidate also trains on the applied edits below it
     * (their lines and passages) and on `rehearsal` texts of the model's rehearsal corpus (rehearsal.jsonl).
     */
    replay: z
      .object({
        appliedEdits: z.boolean(),
        rehearsal: z.number().int().min(0).max(256),
      })
      .strict()
      .default({ appliedEdits: false, rehearsal: 0 }),
    /**
     * `subject`: each candidate carries a route key naming what its edit is about (src/inference/route-key.ts),
     * trains on the part of the stack that its own texts route to, and is served only to prompts matching its
     * key, so unrelated prompts run on the parent unchanged (docs/results.md, experiment 2). `none`: every
     * adapter serves every prompt.
     */
    routing: z.enum(['none', 'subject']).default('none'),
  })
  .strict();

const channelPolicySchema = z
  .object({
    gates: z
      .object({ screening: z.array(z.string().min(1)), evaluation: z.array(z.string().min(1)) })
      .strict(),
    /** Per-gate overrides of the gate's default thresholds, by gate name. */
    thresholds: z.record(z.record(z.unknown())).default({}),
    protectedEntities: z.array(z.string().min(1)).default([]),
    training: trainingSchema,
    approval: z
      .object({
        quorum: z.number().int().min(1),
        quorumOnWarn: z.number().int().min(1),
        expiresAfterHours: z.number().positive().finite(),
        commentRequired: z.boolean(),
      })
      .strict()
      .refine((a) => a.quorumOnWarn >= a.quorum, { message: 'quorumOnWarn must be at least quorum' }),
  })
  .strict();

const channelPolicyFileSchema = z
  .object({
    version: z.literal(1),
    channels: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), channelPolicySchema),
  })
  .strict()
  .refine((f) => 'default' in f.channels, { message: 'a `default` channel policy is required' });

export type TrainingPolicy = z.infer<typeof trainingSchema>;
export type ApprovalPolicy = z.infer<typeof channelPolicySchema>['approval'];

/** One gate as a channel requires it: the gate and the thresholds it runs with there. */
export interface RequiredGate {
  gate: Gate<unknown>;
  thresholds: GateThresholds;
}

/** A channel's policy, checked against the gates that exist and with every threshold resolved. */
export interface ChannelPolicy {
  channel: string;
  gates: Record<GateStage, RequiredGate[]>;
  protectedEntities: string[];
  training: TrainingPolicy;
  approval: ApprovalPolicy;
}

export class ChannelPolicyError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Invalid channel policy ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ChannelPolicyError';
  }
}

/** The hyperparameters gate takes its bounds from `training.bounds`, so they are written in one place. */
const HYPERPARAMETERS_GATE = 'hyperparameters';

function boundsAsThresholds(bounds: TrainingPolicy['bounds']): GateThresholds {
  return Object.fromEntries(
    Object.entries(bounds).flatMap(([name, r]) => [
      [`${name}Min`, r.min],
      [`${name}Max`, r.max],
    ]),
  );
}

/** The `default` channel's training, for training outside the gateway (gate calibration, the gates' tests). */
export function defaultTrainingPolicy(file: string): TrainingPolicy {
  return channelPolicyFileSchema.parse(parse(readFileSync(file, 'utf8'))).channels.default.training;
}

/**
 * Loads `policies/channels.yaml` and resolves every channel against the gates that exist. Any problem (an
 * unknown gate, a gate listed under the wrong stage, an unknown or out-of-range threshold, a training default
 * outside its own bounds) stops the process, naming every place at once.
 */
export function loadChannelPolicies(file: string, gates: Gate<unknown>[]): Map<string, ChannelPolicy> {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ChannelPolicyError(file, [(err as Error).message]);
  }
  const parsed = channelPolicyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ChannelPolicyError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const byName = new Map(gates.map((g) => [g.name, g]));
  const problems: string[] = [];
  const policies = new Map<string, ChannelPolicy>();
  for (const [channel, policy] of Object.entries(parsed.data.channels)) {
    const where = `channels.${channel}`;
    const resolved: ChannelPolicy = {
      channel,
      gates: { screening: [], evaluation: [] },
      protectedEntities: policy.protectedEntities,
      training: policy.training,
      approval: policy.approval,
    };
    for (const stage of ['screening', 'evaluation'] as const) {
      const listed = policy.gates[stage];
      if (new Set(listed).size !== listed.length)
        problems.push(`${where}.gates.${stage}: a gate is listed twice`);
      for (const name of listed) {
        const gate = byName.get(name);
        if (!gate) {
          problems.push(
            `${where}.gates.${stage}: unknown gate "${name}" (known: ${[...byName.keys()].join(', ')})`,
          );
          continue;
        }
        if (gate.stage !== stage) {
          problems.push(`${where}.gates.${stage}: "${name}" is a ${gate.stage} gate`);
          continue;
        }
        const overrides =
          name === HYPERPARAMETERS_GATE
            ? boundsAsThresholds(policy.training.bounds)
            : policy.thresholds[name];
        try {
          resolved.gates[stage].push({ gate, thresholds: resolveThresholds(gate, overrides) });
        } catch (err) {
          const issues = ((err as { details?: { issues?: string[] } }).details?.issues ?? []).join('; ');
          problems.push(`${where}.thresholds.${name}: ${issues || (err as Error).message}`);
        }
      }
    }
    for (const name of Object.keys(policy.thresholds)) {
      if (name === HYPERPARAMETERS_GATE) {
        problems.push(`${where}.thresholds.${name}: set these bounds in ${where}.training.bounds`);
      } else if (!byName.has(name)) {
        problems.push(`${where}.thresholds.${name}: unknown gate`);
      } else if (![...policy.gates.screening, ...policy.gates.evaluation].includes(name)) {
        problems.push(`${where}.thresholds.${name}: the gate is not required on this channel`);
      }
    }
    const { bounds } = policy.training;
    for (const name of Object.keys(bounds) as (keyof typeof bounds)[]) {
      const value = policy.training[name];
      const r = bounds[name];
      if (r.min > r.max) problems.push(`${where}.training.bounds.${name}: min is above max`);
      else if (value < r.min || value > r.max) {
        problems.push(`${where}.training.${name}: ${value} is outside its bounds ${r.min}..${r.max}`);
      }
    }
    policies.set(channel, resolved);
  }
  if (problems.length) throw new ChannelPolicyError(file, problems);
  return policies;
}
