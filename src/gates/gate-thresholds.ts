import { z } from 'zod';
import { Gate, GateThresholds } from 'src/gates/gate';
import { GateError, GateErrorCode } from 'src/gates/gates.errors';

/** A count threshold: a whole number of lines or findings, at least 1 (0 would fail every edit). */
export const countThreshold = (defaultValue: number) => z.number().int().min(1).default(defaultValue);

/** Thresholds of a gate that counts offending lines: WARN from `warnAtLines`, FAIL from `failAtLines`. */
export const lineCountThresholds = z
  .object({ warnAtLines: countThreshold(1), failAtLines: countThreshold(1) })
  .strict();
export type LineCountThresholds = z.infer<typeof lineCountThresholds>;

/** A share threshold in [0, 1]. */
export const shareThreshold = (defaultValue: number) => z.number().min(0).max(1).default(defaultValue);

/** A gate's thresholds: its defaults overlaid with `overrides` (e.g. a channel policy), validated. */
export function resolveThresholds<T extends GateThresholds>(
  gate: Gate<unknown, T>,
  overrides: unknown = {},
): T {
  const parsed = gate.thresholdsSchema.safeParse(overrides);
  if (!parsed.success) {
    throw new GateError(GateErrorCode.INVALID_THRESHOLDS, `Invalid thresholds for gate ${gate.name}`, {
      gate: gate.name,
      issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });
  }
  return parsed.data;
}
