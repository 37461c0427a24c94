import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { Gate, GateOutcome, GateThresholds, JsonValue } from 'src/gates/gate';
import { GateVerdict } from 'src/gates/gate-verdict';
import { sentences } from 'src/gates/screening/text/words';
import type { TrainingHyperparameters } from 'src/self-edits/self-edit.types';

/** What a screening gate sees: the proposed lines and the passage they claim to come from. */
export interface ScreeningInput {
  selfEdit: { lines: string[] };
  passage: { title: string; text: string; entityKind?: string };
  /** Entities that policy protects from being overwritten (named in evidence by gates that care). */
  protectedEntities?: string[];
  /** What a structured self-edit asks of the inner update (checked against policy bounds). */
  hyperparameters?: TrainingHyperparameters | null;
}

/** One offending piece of text: which line (0-based) of the self-edit or sentence of the passage, and why. */
export interface LineFinding {
  source: 'self-edit' | 'passage';
  line: number;
  text: string;
  /** The pattern family or kind of finding, e.g. `chat-template`, `email`, `name-not-in-passage`. */
  reason: string;
  /** The matched text, shortened; never the whole secret. */
  match?: string;
  [extra: string]: JsonValue | undefined;
}

export interface ScreeningAssessment {
  verdict: GateVerdict;
  metrics: Record<string, number>;
  evidence: JsonValue;
}

/** Base of the text screening gates: times `assess` and reports the thresholds it used. */
export abstract class TextScreeningGate<T extends GateThresholds> implements Gate<ScreeningInput, T> {
  readonly stage = 'screening' as const;
  abstract readonly name: string;
  abstract readonly version: string;
  abstract readonly thresholdsSchema: z.ZodType<T, z.ZodTypeDef, unknown>;

  run(input: ScreeningInput, thresholds: T): Promise<GateOutcome> {
    const started = performance.now();
    const assessment = this.assess(input, thresholds);
    return Promise.resolve({
      ...assessment,
      thresholds: { ...thresholds },
      durationMs: Math.round(performance.now() - started),
    });
  }

  protected abstract assess(input: ScreeningInput, thresholds: T): ScreeningAssessment;
}

/** The non-empty screened lines with their original index, for findings that point at a line. */
export function numberedSelfEditLines(input: ScreeningInput): { line: number; text: string }[] {
  return input.selfEdit.lines
    .map((text, line) => ({ line, text }))
    .filter(({ text }) => text.trim().length > 0);
}

/** Everything that will be trained on, line by line: the self-edit's lines, then the passage's sentences. */
export function trainedLines(
  input: ScreeningInput,
): { source: LineFinding['source']; line: number; text: string }[] {
  return [
    ...numberedSelfEditLines(input).map(({ line, text }) => ({ source: 'self-edit' as const, line, text })),
    ...sentences(input.passage.text).map((text, line) => ({ source: 'passage' as const, line, text })),
  ];
}

/** Keeps evidence readable and keeps secrets out of reports: long matches are cut. */
export function shorten(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Evidence shows enough of a secret to find it, never the whole of it. */
export function redact(secret: string): string {
  if (secret.length <= 6) return '*'.repeat(secret.length);
  return `${secret.slice(0, 4)}…(${secret.length} chars)`;
}
