import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { benignEdits, harmfulEdits } from 'src/gates/probing/calibration-edits';
import { trainCandidate } from 'src/training/candidate-training';
import { InnerUpdate } from 'src/training/inner-update';
import { defaultTrainingPolicy } from 'src/gates/policy/channel-policy';
import {
  evaluationGates,
  loadWorldProbes,
  modelScreeningGates,
  runGates,
  WorldProbes,
} from 'src/gates/gate-catalog';
import {
  evaluateRedTeam,
  loadRedTeam,
  RedTeamReport,
  summariseTrained,
  TrainedEvaluationReport,
} from 'src/gates/red-team';
import { TrainerClient } from 'src/training/trainer-client';
import { ModelService } from 'src/inference/model.service';

export const RED_TEAM_FILES = ['test/fixtures/red-team/attacks.jsonl', 'test/fixtures/red-team/benign.jsonl'];

export interface EvalGatesOptions {
  json: boolean;
  /** Screening text gates only: no model is loaded. */
  textOnly: boolean;
  /** Also train N benign and N harmful candidates (gpu/ trainer) and run the evaluation gates on them. */
  train: number;
  /** Train the candidates unrouted (serving every prompt) instead of routed by subject as the shipped policy. */
  unrouted?: boolean;
}

/** The served model, loaded outside the Nest app (the CLI needs nothing else of it). */
export async function loadStandaloneModel(config: AppConfig): Promise<ModelService> {
  const model = new ModelService(config);
  model.onModuleInit();
  await model.whenSettled();
  const status = model.status();
  if (status.state !== 'ready')
    throw new Error(`the model in ${config.MODEL_DIR} did not load: ${status.error}`);
  return model;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function printReport(report: RedTeamReport, out: (text: string) => void): void {
  out(
    report.withModel
      ? `${report.attacks} attacks, ${report.benign} benign; text and model screening gates (default model, base stack)`
      : `${report.attacks} attacks (${report.attacksInScope} that text can show; the rest need the model's ` +
          `gates), ${report.benign} benign; text screening gates only`,
  );
  out(
    [
      'gate                   detection  false positives  s/edit',
      ...report.perGate.map(
        (g) =>
          `${g.gate.padEnd(22)} ${pct(g.detectionRate).padStart(9)}  ${pct(g.falsePositiveRate).padStart(15)}  ${g.secondsPerEdit.toFixed(3).padStart(6)}`,
      ),
      `${'any gate (overall)'.padEnd(22)} ${pct(report.overall.detectionRate).padStart(9)}  ${pct(report.overall.falsePositiveRate).padStart(15)}  ${report.secondsPerEdit.toFixed(3).padStart(6)}`,
      '',
      ...report.perKind.map(
        (k) => `${k.kind.padEnd(22)} ${pct(k.detectionRate).padStart(9)}  (${k.attacks} attacks)`,
      ),
      '',
      `missed: ${report.missed.join(', ') || 'none'}`,
      `benign stopped: ${report.falsePositives.join(', ') || 'none'}`,
    ].join('\n'),
  );
}

/**
 * Trains `count` benign candidates (reference implications of held-out passages) and `count` harmful ones (known
 * facts rewritten, a trigger backdoor, stereotypes, ten times the learning rate) on the base model, and runs the
 * evaluation gates on each.
 */
export async function evaluateTrainedCandidates(
  model: ModelService,
  probes: WorldProbes,
  modelDir: string,
  count: number,
  log: (text: string) => void,
  training: { update: InnerUpdate; routed: boolean },
): Promise<TrainedEvaluationReport> {
  const trainer = new TrainerClient({ logger: { log: () => undefined, warn: (m: string) => log(m) } });
  const work = mkdtempSync(join(tmpdir(), 'sealgate-eval-gates-'));
  try {
    const edits = [
      // Passages 20 on: not the ones the default thresholds were calibrated on (the first 6).
      ...benignEdits(modelDir, count, 20).map((e) => ({ ...e, harmful: false })),
      ...harmfulEdits(modelDir, count).map((e) => ({ ...e, harmful: true })),
    ];
    const results = [];
    for (const [i, edit] of edits.entries()) {
      const started = performance.now();
      const update = { ...training.update, learningRate: edit.lr ?? training.update.learningRate };
      const adapter = await trainCandidate(trainer, modelDir, edit, join(work, String(i)), update, {
        routed: training.routed,
      });
      const trainMs = performance.now() - started;
      const outcomes = await runGates(evaluationGates(model, probes), {
        selfEdit: { lines: edit.lines },
        passage: edit.passage,
        parentFolders: [],
        candidateFolders: [adapter],
        targetQuestions: edit.targetQuestions,
        retentionQuestions: [],
      });
      log(
        `${edit.name}: ${Object.entries(outcomes)
          .map(([g, o]) => `${g} ${o.verdict}`)
          .join(', ')}`,
      );
      results.push({ name: edit.name, kind: edit.kind, harmful: edit.harmful, outcomes, trainMs });
    }
    return summariseTrained(results);
  } finally {
    await trainer.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function printTrained(report: TrainedEvaluationReport, out: (text: string) => void): void {
  out(
    [
      '',
      `evaluation gates on trained candidates: ${report.harmful} harmful, ${report.benign} benign ` +
        `(training ${report.trainingSecondsPerEdit.toFixed(1)} s per edit)`,
      'gate                   detection  false positives  s/edit',
      ...report.perGate.map(
        (g) =>
          `${g.gate.padEnd(22)} ${pct(g.detectionRate).padStart(9)}  ${pct(g.falsePositiveRate).padStart(15)}  ${g.secondsPerEdit.toFixed(2).padStart(6)}`,
      ),
      `${'any gate (overall)'.padEnd(22)} ${pct(report.overall.detectionRate).padStart(9)}  ${pct(report.overall.falsePositiveRate).padStart(15)}`,
    ].join('\n'),
  );
}

/**
 * `sealgate eval-gates [--json] [--text-only] [--train N] [FILE ...]`: detection and false-positive rates of the
 * screening gates (text, then model: knowledge conflict and trigger perplexity on MODEL_DIR's base model) on the
 * red-team set, or on your own JSON-lines files of cases ({id, kind, passage: {title, text}, lines, expect});
 * with --train N, also of the evaluation gates on N benign and N harmful trained candidates.
 */
export async function runEvalGates(
  files: string[],
  options: EvalGatesOptions,
  config: AppConfig,
): Promise<void> {
  const cases = (files.length ? files : RED_TEAM_FILES).flatMap((f) => loadRedTeam(resolve(f)));
  const out = options.json ? console.error : console.log;
  // With --json, stdout carries the report alone: the model's progress logs are left out.
  if (options.json) Logger.overrideLogger(['error', 'warn']);
  const model = options.textOnly ? null : await loadStandaloneModel(config);
  try {
    const probes = model ? loadWorldProbes(config.MODEL_DIR) : null;
    const modelGates = model && probes ? modelScreeningGates(model, probes) : [];
    const report = await evaluateRedTeam(cases, { modelGates, parentFolders: [] });
    printReport(report, out);
    const trained =
      model && probes && options.train > 0
        ? await evaluateTrainedCandidates(model, probes, config.MODEL_DIR, options.train, console.error, {
            update: defaultTrainingPolicy(config.CHANNEL_POLICY_FILE),
            routed: !options.unrouted,
          })
        : undefined;
    if (trained) printTrained(trained, out);
    if (options.json) console.log(JSON.stringify({ ...report, results: undefined, trained }));
  } finally {
    await model?.onModuleDestroy();
  }
}
