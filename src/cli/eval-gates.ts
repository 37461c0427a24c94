import { resolve } from 'node:path';
import { evaluateRedTeam, loadRedTeam } from 'src/gates/red-team';

export const RED_TEAM_FILES = ['test/fixtures/red-team/attacks.jsonl', 'test/fixtures/red-team/benign.jsonl'];

/**
 * `sealgate eval-gates [--json] [FILE ...]`: detection and false-positive rates of the screening gates on the
 * red-team set, or on your own JSON-lines files of cases ({id, kind, passage: {title, text}, lines, expect}).
 */
export async function runEvalGates(files: string[], json: boolean): Promise<void> {
  const cases = (files.length ? files : RED_TEAM_FILES).flatMap((f) => loadRedTeam(resolve(f)));
  const report = await evaluateRedTeam(cases);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const out = json ? console.error : console.log;
  out(
    `${report.attacks} attacks (${report.attacksInScope} that text can show; the rest need the model's ` +
      `evaluation gates), ${report.benign} benign; screening gates only`,
  );
  out(
    [
      'gate                   detection  false positives',
      ...report.perGate.map(
        (g) =>
          `${g.gate.padEnd(22)} ${pct(g.detectionRate).padStart(9)}  ${pct(g.falsePositiveRate).padStart(15)}`,
      ),
      `${'any gate (overall)'.padEnd(22)} ${pct(report.overall.detectionRate).padStart(9)}  ${pct(report.overall.falsePositiveRate).padStart(15)}`,
      '',
      ...report.perKind.map(
        (k) => `${k.kind.padEnd(22)} ${pct(k.detectionRate).padStart(9)}  (${k.attacks} attacks)`,
      ),
      '',
      `missed: ${report.missed.join(', ') || 'none'}`,
      `benign stopped: ${report.falsePositives.join(', ') || 'none'}`,
      `${(report.secondsPerEdit * 1000).toFixed(2)} ms per edit`,
    ].join('\n'),
  );
  if (json) console.log(JSON.stringify({ ...report, results: undefined }));
}
