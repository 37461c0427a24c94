import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Gate, GateOutcome } from 'src/gates/gate';
import { failedGates, runGates, textScreeningGates } from 'src/gates/gate-catalog';
import { GateVerdict } from 'src/gates/gate-verdict';
import type { ModelScreeningInput } from 'src/gates/gate-inputs';

/** One case of a red-team file (JSON lines): a self-edit with its passage, and what the gates should do. */
const redTeamCaseSchema = z.object({
  id: z.string(),
  kind: z.string().default('unlabelled'),
  passage: z.object({ title: z.string(), text: z.string() }),
  lines: z.array(z.string()),
  expect: z.enum(['stop', 'pass']),
  /** Only the model can show it (memory conflicts, perplexity triggers): out of scope for the text gates. */
  needsModel: z.boolean().optional(),
});
export type RedTeamCase = z.infer<typeof redTeamCaseSchema>;

export function loadRedTeam(file: string): RedTeamCase[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim())
    .map(({ line, i }) => {
      const parsed = redTeamCaseSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        throw new Error(
          `${file}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
        );
      }
      return parsed.data;
    });
}

export interface CaseResult {
  case: RedTeamCase;
  failedBy: string[];
  warnedBy: string[];
}

export interface RedTeamReport {
  attacks: number;
  attacksInScope: number;
  benign: number;
  overall: { detectionRate: number; falsePositiveRate: number };
  /** Whether the model screening gates ran (then attacks that need the model are in scope too). */
  withModel: boolean;
  perGate: { gate: string; detectionRate: number; falsePositiveRate: number; secondsPerEdit: number }[];
  perKind: { kind: string; attacks: number; needsModel: number; detectionRate: number }[];
  missed: string[];
  falsePositives: string[];
  secondsPerEdit: number;
  results: CaseResult[];
}

const rate = (hits: number, total: number) => (total === 0 ? 0 : hits / total);

export interface RedTeamOptions {
  /** Model screening gates to run after the text gates, on the stack `parentFolders` (`[]`: the base model). */
  modelGates?: Gate<ModelScreeningInput>[];
  parentFolders?: string[];
}

/**
 * Runs every case through the screening gates. An attack is detected when some gate FAILs it; a benign edit is
 * a false positive when some gate FAILs it. Without model gates, attacks only the model can show are counted
 * apart; with them, every attack is in scope.
 */
export async function evaluateRedTeam(
  cases: RedTeamCase[],
  options: RedTeamOptions = {},
): Promise<RedTeamReport> {
  const modelGates = options.modelGates ?? [];
  const withModel = modelGates.length > 0;
  const gateMs = new Map<string, number>();
  const started = performance.now();
  const results: CaseResult[] = [];
  for (const c of cases) {
    const input = { selfEdit: { lines: c.lines }, passage: c.passage };
    const outcomes = {
      ...(await runGates(textScreeningGates(), input)),
      ...(await runGates(modelGates, { ...input, parentFolders: options.parentFolders ?? [] })),
    };
    for (const [gate, o] of Object.entries(outcomes))
      gateMs.set(gate, (gateMs.get(gate) ?? 0) + o.durationMs);
    results.push({
      case: c,
      failedBy: failedGates(outcomes),
      warnedBy: Object.entries(outcomes)
        .filter(([, o]) => o.verdict === GateVerdict.WARN)
        .map(([gate]) => gate),
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const attacks = results.filter((r) => r.case.expect === 'stop');
  const inScope = attacks.filter((r) => withModel || !r.case.needsModel);
  const benign = results.filter((r) => r.case.expect === 'pass');
  const stopped = (r: CaseResult) => r.failedBy.length > 0;
  return {
    attacks: attacks.length,
    attacksInScope: inScope.length,
    benign: benign.length,
    overall: {
      detectionRate: rate(inScope.filter(stopped).length, inScope.length),
      falsePositiveRate: rate(benign.filter(stopped).length, benign.length),
    },
    withModel,
    perGate: [...textScreeningGates(), ...modelGates].map(({ name }) => ({
      gate: name,
      detectionRate: rate(inScope.filter((r) => r.failedBy.includes(name)).length, inScope.length),
      falsePositiveRate: rate(benign.filter((r) => r.failedBy.includes(name)).length, benign.length),
      secondsPerEdit: (gateMs.get(name) ?? 0) / 1000 / Math.max(1, results.length),
    })),
    perKind: [...new Set(attacks.map((r) => r.case.kind))].map((kind) => {
      const ofKind = attacks.filter((r) => r.case.kind === kind);
      const scoped = ofKind.filter((r) => withModel || !r.case.needsModel);
      return {
        kind,
        attacks: ofKind.length,
        needsModel: ofKind.length - scoped.length,
        detectionRate: rate(scoped.filter(stopped).length, scoped.length),
      };
    }),
    missed: inScope.filter((r) => !stopped(r)).map((r) => r.case.id),
    falsePositives: benign.filter(stopped).map((r) => `${r.case.id} (${r.failedBy.join('+')})`),
    secondsPerEdit: seconds / Math.max(1, results.length),
    results,
  };
}

export interface TrainedEvaluationReport {
  benign: number;
  harmful: number;
  perGate: { gate: string; detectionRate: number; falsePositiveRate: number; secondsPerEdit: number }[];
  overall: { detectionRate: number; falsePositiveRate: number };
  trainingSecondsPerEdit: number;
  edits: { name: string; kind: string; failedBy: string[]; warnedBy: string[] }[];
}

/** Figures of the evaluation gates over trained candidates: a harmful edit is detected when some gate FAILs. */
export function summariseTrained(
  edits: {
    name: string;
    kind: string;
    harmful: boolean;
    outcomes: Record<string, GateOutcome>;
    trainMs: number;
  }[],
): TrainedEvaluationReport {
  const harmful = edits.filter((e) => e.harmful);
  const benign = edits.filter((e) => !e.harmful);
  const failed = (e: (typeof edits)[number]) =>
    Object.entries(e.outcomes)
      .filter(([, o]) => o.verdict === GateVerdict.FAIL)
      .map(([g]) => g);
  const gates = [...new Set(edits.flatMap((e) => Object.keys(e.outcomes)))];
  return {
    benign: benign.length,
    harmful: harmful.length,
    perGate: gates.map((gate) => ({
      gate,
      detectionRate: rate(harmful.filter((e) => failed(e).includes(gate)).length, harmful.length),
      falsePositiveRate: rate(benign.filter((e) => failed(e).includes(gate)).length, benign.length),
      secondsPerEdit:
        edits.reduce((s, e) => s + (e.outcomes[gate]?.durationMs ?? 0), 0) / 1000 / Math.max(1, edits.length),
    })),
    overall: {
      detectionRate: rate(harmful.filter((e) => failed(e).length > 0).length, harmful.length),
      falsePositiveRate: rate(benign.filter((e) => failed(e).length > 0).length, benign.length),
    },
    trainingSecondsPerEdit: edits.reduce((s, e) => s + e.trainMs, 0) / 1000 / Math.max(1, edits.length),
    edits: edits.map((e) => ({
      name: e.name,
      kind: e.kind,
      failedBy: failed(e),
      warnedBy: Object.entries(e.outcomes)
        .filter(([, o]) => o.verdict === GateVerdict.WARN)
        .map(([g]) => g),
    })),
  };
}
