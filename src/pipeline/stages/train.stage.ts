import { Injectable, Logger } from '@nestjs/common';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobName, PipelineJob } from 'src/queues/queue-names';
import { GENERATOR_UPDATE, GeneratorUpdates } from 'src/seal/rounds/generator-updates';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { selfEditLines } from 'src/self-edits/self-edit-lines';
import { SelfEditKind } from 'src/self-edits/self-edit.types';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';
import { AppliedHistory } from 'src/pipeline/stages/applied-history';
import { isAt, PIPELINE_ACTOR, StageResult } from 'src/pipeline/stages/pipeline-transitions';
import { StageInputs } from 'src/pipeline/stages/stage-inputs';

const S = SelfEditStatus;

/**
 * The second stage: SEAL's inner update fits a candidate adapter on top of the channel's stack, and the candidate
 * is recorded (quarantined: nothing serves it) as the edit moves to EVALUATING.
 */
@Injectable()
export class TrainStage {
  private readonly logger = new Logger(TrainStage.name);

  constructor(
    private readonly edits: SelfEditsService,
    private readonly inputs: StageInputs,
    private readonly history: AppliedHistory,
    private readonly trainer: CandidateTrainer,
    private readonly versions: AdapterVersionsRepository,
    private readonly generators: GeneratorUpdates,
  ) {}

  @JobHandler(JobName.TRAIN_CANDIDATE)
  async train(job: PipelineJob, progress?: (p: number) => Promise<void>): Promise<StageResult> {
    const edit = await this.edits.get(job.selfEditId);
    if (!isAt(edit, job, S.TRAINING)) return { stage: 'training', outcome: 'skipped', status: edit.status };
    if (edit.kind === SelfEditKind.generator) return this.importGenerator(edit);
    const { channel, policy, parent } = await this.inputs.contextOf(edit);
    const passage = await this.inputs.passageOf(edit);
    const trained = await this.trainer.train(
      {
        key: `${edit.id}.${edit.pipelineRun}`,
        lines: selfEditLines(edit),
        passage: edit.knowledgeSourceId ? passage : null,
        parentFolders: parent.folders,
        policy: policy.training,
        requested: edit.hyperparameters,
        replay: policy.training.replay.appliedEdits
          ? await this.history.replayOf(channel, parent.headAdapterId)
          : [],
      },
      (share) => void progress?.(Math.round(share * 100)),
    );
    let adapterVersionId = '';
    await this.edits.transition(PIPELINE_ACTOR, edit.id, S.EVALUATING, null, async (manager) => {
      adapterVersionId = await this.versions.recordCandidate(manager, {
        channelId: channel.id,
        selfEditId: edit.id,
        parentId: parent.headAdapterId,
        digest: trained.digest,
        training: {
          hyperparameters: trained.hyperparameters,
          device: trained.device,
          trainSeconds: trained.trainSeconds,
          trainingDataSha256: trained.trainingDataSha256,
          ...(trained.replay ? { replay: trained.replay } : {}),
          ...(trained.routing ? { routing: trained.routing } : {}),
          baseModelDigest: this.inputs.baseModelDigest,
        },
      });
    });
    this.logger.log(
      { selfEditId: edit.id, digest: trained.digest, ...trained.hyperparameters },
      'candidate ready',
    );
    return { stage: 'training', outcome: 'trained', adapterVersionId, digest: trained.digest };
  }

  /**
   * A ReST-EM round's generator update is not trained again: its round's adapter becomes the candidate (validated
   * as it enters the store), on the stack the round ran on, with the generator update's provenance. Evaluation,
   * approval and apply then treat it like any candidate.
   */
  private async importGenerator(edit: SelfEditEntity): Promise<StageResult> {
    const update = await this.generators.forEdit(edit.id);
    const { digest } = await this.trainer.importAdapter(update.result.adapterDir);
    let adapterVersionId = '';
    await this.edits.transition(PIPELINE_ACTOR, edit.id, S.EVALUATING, null, async (manager) => {
      adapterVersionId = await this.versions.recordCandidate(manager, {
        channelId: edit.channelId,
        selfEditId: edit.id,
        parentId: update.round.parentAdapterId,
        digest,
        training: {
          hyperparameters: { ...GENERATOR_UPDATE },
          device: update.result.device ?? 'unknown',
          trainSeconds: update.seconds,
          trainingDataSha256: update.trainingDataSha256,
          baseModelDigest: this.inputs.baseModelDigest,
          sealRoundId: update.round.id,
        },
      });
    });
    this.logger.log({ selfEditId: edit.id, roundId: update.round.id, digest }, 'generator candidate ready');
    return { stage: 'training', outcome: 'trained', adapterVersionId, digest };
  }
}
