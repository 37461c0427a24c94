import { Injectable, Logger } from '@nestjs/common';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { ReviewNotifications } from 'src/approvals/review-notifications';
import { CandidateEvaluationInput } from 'src/gates/gate-inputs';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobName, PipelineJob } from 'src/queues/queue-names';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditKind } from 'src/self-edits/self-edit.types';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { AppliedHistory } from 'src/pipeline/stages/applied-history';
import { isAt, PipelineTransitions, StageResult } from 'src/pipeline/stages/pipeline-transitions';
import { StageInputs } from 'src/pipeline/stages/stage-inputs';

const S = SelfEditStatus;

/**
 * The third stage: the evaluation gates compare the quarantined candidate with its parent stack. A pass puts the
 * edit in front of reviewers; a rejection discards the candidate, so nothing can ever serve it.
 */
@Injectable()
export class EvaluateStage {
  private readonly logger = new Logger(EvaluateStage.name);

  constructor(
    private readonly edits: SelfEditsService,
    private readonly inputs: StageInputs,
    private readonly history: AppliedHistory,
    private readonly versions: AdapterVersionsRepository,
    private readonly transitions: PipelineTransitions,
    private readonly notifications: ReviewNotifications,
  ) {}

  @JobHandler(JobName.EVALUATE_CANDIDATE)
  async evaluate(job: PipelineJob): Promise<StageResult> {
    const edit = await this.edits.get(job.selfEditId);
    if (!isAt(edit, job, S.EVALUATING))
      return { stage: 'evaluation', outcome: 'skipped', status: edit.status };
    const candidate = await this.candidateToEvaluate(edit);
    const { policy, input: screening, channel } = await this.inputs.screeningOf(edit);
    const input: CandidateEvaluationInput = {
      ...screening,
      parentFolders: await this.inputs.foldersOf(candidate.parentId),
      candidateFolders: await this.inputs.foldersOf(candidate.id),
      targetQuestions: (await this.history.questionsOf([edit.knowledgeSourceId]))[0] ?? [],
      ...(edit.kind === SelfEditKind.generator && {
        targetNotApplicable:
          'a generator update teaches how to write self-edits, not a passage: its reward was measured by its ' +
          'ReST-EM round (meanBestReward)',
      }),
      retentionQuestions: (await this.history.retentionQuestions(channel, candidate.parentId)).flat(),
    };
    const gates = policy.gates.evaluation;
    const result = await this.transitions.gateStage(
      edit,
      'evaluation',
      gates,
      input,
      S.AWAITING_APPROVAL,
      (m) => this.notifications.stage(m, edit, channel.name),
    );
    if (result.outcome === 'passed') {
      // Best effort: the edit waits in AWAITING_APPROVAL either way, and the webhook's outbox relay retries.
      await this.notifications
        .publish(edit)
        .catch((err: Error) => this.logger.warn({ err }, 'review notice not sent'));
    }
    if (result.outcome === 'rejected') {
      await this.versions.setStatus([candidate.id], AdapterStatus.DISCARDED);
    }
    return result;
  }

  private async candidateToEvaluate(edit: SelfEditEntity): Promise<AdapterVersionEntity> {
    const candidate = await this.versions.candidateOf(edit);
    if (!candidate) throw new Error(`self-edit ${edit.id} is EVALUATING but has no candidate adapter`);
    return candidate;
  }
}
