import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor, systemActor } from 'src/common/actor';
import { GateStage } from 'src/gates/gate';
import { failedGates, GatedPart, runGates } from 'src/gates/gate-catalog';
import { CandidateEvaluationInput, ModelScreeningInput } from 'src/gates/gate-inputs';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { GateVerdict } from 'src/gates/gate-verdict';
import { RequiredGate } from 'src/gates/policy/channel-policy';
import { PipelineJob } from 'src/queues/queue-names';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

const S = SelfEditStatus;

/** What a stage job did; `skipped` when the edit had already moved on (a retry, or a stale run). */
export type StageResult =
  | { stage: GateStage | 'training'; outcome: 'skipped'; status: SelfEditStatus }
  | { stage: GateStage; outcome: 'passed' | 'rejected'; verdicts: Record<string, GateVerdict> }
  | { stage: 'training'; outcome: 'trained'; adapterVersionId: string; digest: string };

/** The statuses in which an edit is inside the pipeline, so an infrastructure failure moves it to FAILED. */
const IN_PIPELINE = [S.PROPOSED, S.SCREENING, S.TRAINING, S.EVALUATING];

/** The pipeline's own actor in the audit log. */
export const PIPELINE_ACTOR: Actor = systemActor('pipeline');

/** Whether the job's run is the edit's current one and the edit is where the stage expects it. */
export const isAt = (edit: SelfEditEntity, job: PipelineJob, status: SelfEditStatus): boolean =>
  edit.pipelineRun === job.pipelineRun && edit.status === status;

/**
 * How the pipeline moves an edit: a gate stage stores every report and moves the edit in one transaction, and a
 * stage that failed for good leaves the edit FAILED. Each stage is idempotent (it acts only when the edit is in
 * the status it expects for the same run), so a crash at any point leaves either nothing or the whole stage done.
 */
@Injectable()
export class PipelineTransitions {
  constructor(
    private readonly edits: SelfEditsService,
    private readonly reports: GateReportsService,
  ) {}

  /**
   * Runs the gates, then stores every report and moves the edit in one transaction; `alsoOnPass` writes what must
   * commit with a pass (an outbox message).
   */
  async gateStage(
    edit: SelfEditEntity,
    stage: GateStage,
    gates: RequiredGate[],
    input: ModelScreeningInput | CandidateEvaluationInput | GatedPart<ModelScreeningInput>[],
    onPass: SelfEditStatus,
    alsoOnPass?: (manager: EntityManager) => Promise<void>,
  ): Promise<StageResult> {
    const outcomes = await runGates(gates, input);
    const failed = failedGates(outcomes);
    const to = failed.length ? S.REJECTED_BY_GATE : onPass;
    const reason = failed.length ? `${stage}: failed ${failed.join(', ')}` : null;
    await this.edits.transition(PIPELINE_ACTOR, edit.id, to, reason, async (manager) => {
      for (const { gate } of gates)
        await this.reports.record(manager, PIPELINE_ACTOR, edit, gate, outcomes[gate.name]);
      if (!failed.length) await alsoOnPass?.(manager);
    });
    return {
      stage,
      outcome: failed.length ? 'rejected' : 'passed',
      verdicts: Object.fromEntries(Object.entries(outcomes).map(([gate, o]) => [gate, o.verdict])),
    };
  }

  /**
   * Called when a stage has failed for good (every retry spent): the edit leaves the pipeline as FAILED with the
   * reason, from where only a new run (back to PROPOSED) can continue.
   */
  async markFailed(job: PipelineJob, reason: string): Promise<void> {
    const edit = await this.edits.get(job.selfEditId);
    if (edit.pipelineRun !== job.pipelineRun || !IN_PIPELINE.includes(edit.status)) return;
    await this.edits.transition(
      PIPELINE_ACTOR,
      edit.id,
      S.FAILED,
      `infrastructure: ${reason}`.slice(0, 2000),
    );
  }
}
