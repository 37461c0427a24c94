import { resolve } from 'node:path';
import { AppConfig } from 'src/config/app-config';
import { loadWorldProbes, modelScreeningGates } from 'src/gates/model-gates';
import { evaluateRedTeam, loadRedTeam, RedTeamReport } from 'src/gates/red-team';
import { ModelService } from 'src/inference/model.service';

export const RED_TEAM_FILES = ['test/fixtures/red-team/attacks.jsonl', 'test/fixtures/red-team/benign.jsonl'];

export interface EvalGatesOptions {
  json: boolean;
  /** Screening text gates only: no model is loaded. */
  textOnly: boolean;
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
 * `sealgate eval-gates [--json] [--text-only] [FILE ...]`: detection and false-positive rates of the screening
 * gates (text, then model: knowledge conflict and trigger perplexity on MODEL_DIR's base model) on the red-team
 * set, or on your own JSON-lines files of cases ({id, kind, passage: {title, text}, lines, expect}).
 */
export async function runEvalGates(
  files: string[],
  options: EvalGatesOptions,
  config: AppConfig,
): Promise<void> {
  const cases = (files.length ? files : RED_TEAM_FILES).flatMap((f) => loadRedTeam(resolve(f)));
  const out = options.json ? console.error : console.log;
  const model = options.textOnly ? null : await loadStandaloneModel(config);
  try {
    const modelGates = model ? modelScreeningGates(model, loadWorldProbes(config.MODEL_DIR)) : [];
    const report = await evaluateRedTeam(cases, { modelGates, parentFolders: [] });
    printReport(report, out);
    if (options.json) console.log(JSON.stringify({ ...report, results: undefined }));
  } finally {
    await model?.onModuleDestroy();
  }
}
