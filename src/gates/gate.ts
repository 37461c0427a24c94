import { z } from 'zod';
import { GateVerdict } from 'src/gates/gate-verdict';

/** `screening` gates read text only, before any training; `evaluation` gates need a trained candidate. */
export type GateStage = 'screening' | 'evaluation';

/** JSON as stored; an undefined property is left out when serialised. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

/** Plain numbers only, so policies can override them per channel. */
export type GateThresholds = Record<string, number>;

export interface GateOutcome {
  verdict: GateVerdict;
  metrics: Record<string, number>;
  /** The thresholds the verdict was decided with, defaults filled in. */
  thresholds: GateThresholds;
  evidence: JsonValue;
  durationMs: number;
}

export interface Gate<Input, Thresholds extends GateThresholds = GateThresholds> {
  readonly name: string;
  readonly version: string;
  readonly stage: GateStage;
  /** Validates overrides (from policy) and fills in this gate's defaults; unknown keys are refused. */
  readonly thresholdsSchema: z.ZodType<Thresholds, z.ZodTypeDef, unknown>;
  run(input: Input, thresholds: Thresholds): Promise<GateOutcome>;
}

/** The worst verdict wins. */
export function worstVerdict(verdicts: GateVerdict[]): GateVerdict {
  if (verdicts.includes(GateVerdict.FAIL)) return GateVerdict.FAIL;
  if (verdicts.includes(GateVerdict.WARN)) return GateVerdict.WARN;
  return GateVerdict.PASS;
}

/** FAIL from `failAt` on, WARN from `warnAt` on (both inclusive). */
export function verdictForCount(count: number, limits: { warnAt: number; failAt: number }): GateVerdict {
  if (count >= limits.failAt) return GateVerdict.FAIL;
  if (count >= limits.warnAt) return GateVerdict.WARN;
  return GateVerdict.PASS;
}

/** FAIL above `failAbove`, WARN above `warnAbove` (both exclusive), for shares in [0, 1]. */
export function verdictForShare(
  share: number,
  limits: { warnAbove: number; failAbove: number },
): GateVerdict {
  if (share > limits.failAbove) return GateVerdict.FAIL;
  if (share > limits.warnAbove) return GateVerdict.WARN;
  return GateVerdict.PASS;
}
