import { Injectable, Logger } from '@nestjs/common';
import { Actor, systemActor } from 'src/common/actor';
import { ReviewNotifications } from 'src/approvals/review-notifications';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsService } from 'src/channels/channels.service';
import { GateStage } from 'src/gates/gate';
import { failedGates, GatedPart, runGates } from 'src/gates/gate-catalog';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { GateVerdict } from 'src/gates/gate-verdict';
import { CandidateEvaluationInput, ModelScreeningInput, ProbeQuestion } from 'src/gates/gate-inputs';
import { ChannelPolicy, RequiredGate } from 'src/gates/policy/channel-policy';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { ModelService } from 'src/inference/model.service';
import { ServingStackService } from 'src/adapter-versions/serving-stack.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterVersionEntity, editsOf } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobName, PipelineJob } from 'src/queues/queue-names';
import { GENERATOR_UPDATE, GeneratorUpdates } from 'src/seal/rounds/generator-updates';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditKind } from 'src/self-edits/self-edit.types';
import { selfEditLines } from 'src/self-edits/self-edit-lines';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { SelfEditText } from 'src/training/self-edit-sequences';

const S = SelfEditStatus;

/** What a stage job did; `skipped` when the edit had already moved on (a retry, or a stale run). */
export type StageResult =
  | { stage: GateStage | 'training'; outcome: 'skipped'; status: SelfEditStatus }
  | { stage: GateStage; outcome: 'passed' | 'rejected'; verdicts: Record<string, GateVerdict> }
  | { stage: 'training'; outcome: 'trained'; adapterVersionId: string; digest: string };

/** The statuses in which an edit is inside the pipeline, so an infrastructure failure moves it to FAILED. */
const IN_PIPELINE = [S.PROPOSED, S.SCREENING, S.TRAINING, S.EVALUATING];

/**
 * The three stages of the gate pipeline, as job handlers. Each is idempotent: it acts only when the edit is in
 * the status its stage expects for the same pipeline run, and it stores its reports and moves the edit in one
 * transaction, so a crash at any point leaves either nothing or the whole stage done. An exception is an
 * infrastructure error: BullMQ retries it, and after the last attempt the edit is FAILED, never passed.
 */
@Injectable()
export class PipelineStages {
  private readonly logger = new Logger(PipelineStages.name);
  private readonly actor: Actor = systemActor('pipeline');

  constructor(
    private readonly versions: AdapterVersionsRepository,
    private readonly edits: SelfEditsService,
    private readonly channels: ChannelsService,
    private readonly knowledge: KnowledgeService,
    private readonly policies: ChannelPolicyService,
    private readonly stacks: ServingStackService,
    private readonly reports: GateReportsService,
    private readonly trainer: CandidateTrainer,
    private readonly model: ModelService,
    private readonly notifications: ReviewNotifications,
    private readonly generators: GeneratorUpdates,
  ) {}

  @JobHandler(JobName.SCREEN_SELF_EDIT)
  async screen(job: PipelineJob): Promise<StageResult> {
    let edit = await this.edits.get(job.selfEditId);
    if (edit.pipelineRun === job.pipelineRun && edit.status === S.PROPOSED) {
      edit = await this.edits.transition(this.actor, edit.id, S.SCREENING);
    }
    if (!this.isAt(edit, job, S.SCREENING))
      return { stage: 'screening', outcome: 'skipped', status: edit.status };
    const { policy, input } = await this.screeningContext(edit);
    return this.gateStage(
      edit,
      'screening',
      policy.gates.screening,
      await this.screeningParts(edit, input),
      S.TRAINING,
    );
  }

  @JobHandler(JobName.TRAIN_CANDIDATE)
  async train(job: PipelineJob, progress?: (p: number) => Promise<void>): Promise<StageResult> {
    const edit = await this.edits.get(job.selfEditId);
    if (!this.isAt(edit, job, S.TRAINING))
      return { stage: 'training', outcome: 'skipped', status: edit.status };
    if (edit.kind === SelfEditKind.generator) return this.importGenerator(edit);
    const channel = await this.channels.get(edit.channelId);
    const policy = this.policies.forChannel(channel.name);
    const source = edit.knowledgeSourceId ? await this.knowledge.get(edit.knowledgeSourceId) : null;
    const parent = await this.stacks.resolve({ channel: channel.name });
    const trained = await this.trainer.train(
      {
        key: `${edit.id}.${edit.pipelineRun}`,
        lines: selfEditLines(edit),
        passage: source ? { title: source.title, text: source.passage } : null,
        parentFolders: parent.folders,
        policy: policy.training,
        requested: edit.hyperparameters,
        replay: policy.training.replay.appliedEdits ? await this.replayOf(channel, parent.headAdapterId) : [],
      },
      (share) => void progress?.(Math.round(share * 100)),
    );
    let adapterVersionId = '';
    await this.edits.transition(this.actor, edit.id, S.EVALUATING, null, async (manager) => {
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
          baseModelDigest: this.model.baseModelDigest,
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
    const channel = await this.channels.get(edit.channelId);
    const { digest } = await this.trainer.importAdapter(update.result.adapterDir);
    let adapterVersionId = '';
    await this.edits.transition(this.actor, edit.id, S.EVALUATING, null, async (manager) => {
      adapterVersionId = await this.versions.recordCandidate(manager, {
        channelId: channel.id,
        selfEditId: edit.id,
        parentId: update.round.parentAdapterId,
        digest,
        training: {
          hyperparameters: { ...GENERATOR_UPDATE },
          device: update.result.device ?? 'unknown',
          trainSeconds: update.seconds,
          trainingDataSha256: update.trainingDataSha256,
          baseModelDigest: this.model.baseModelDigest,
          sealRoundId: update.round.id,
        },
      });
    });
    this.logger.log({ selfEditId: edit.id, roundId: update.round.id, digest }, 'generator candidate ready');
    return { stage: 'training', outcome: 'trained', adapterVersionId, digest };
  }

  @JobHandler(JobName.EVALUATE_CANDIDATE)
  async evaluate(job: PipelineJob): Promise<StageResult> {
    const edit = await this.edits.get(job.selfEditId);
    if (!this.isAt(edit, job, S.EVALUATING))
      return { stage: 'evaluation', outcome: 'skipped', status: edit.status };
    const candidate = await this.candidateToEvaluate(edit);
    const { policy, input: screening, channel } = await this.screeningContext(edit);
    const candidateStack = await this.stacks.resolve({ adapterVersionId: candidate.id });
    const parentStack = await this.stacks.resolve({ adapterVersionId: candidate.parentId });
    const input: CandidateEvaluationInput = {
      ...screening,
      parentFolders: parentStack.folders,
      candidateFolders: candidateStack.folders,
      targetQuestions: (await this.questionsOf([edit.knowledgeSourceId]))[0] ?? [],
      ...(edit.kind === SelfEditKind.generator && {
        targetNotApplicable:
          'a generator update teaches how to write self-edits, not a passage: its reward was measured by its ' +
          'ReST-EM round (meanBestReward)',
      }),
      retentionQuestions: (await this.retentionQuestions(channel, candidate.parentId)).flat(),
    };
    const result = await this.gateStage(
      edit,
      'evaluation',
      policy.gates.evaluation,
      input,
      S.AWAITING_APPROVAL,
    );
    if (result.outcome === 'passed') {
      // Telling reviewers is best effort: the edit waits in AWAITING_APPROVAL either way.
      await this.edits
        .get(edit.id)
        .then((waiting) => this.notifications.publish(waiting, channel.name))
        .catch((err: Error) => this.logger.warn({ err }, 'review notice not sent'));
    }
    if (result.outcome === 'rejected') {
      await this.versions.setStatus([candidate.id], AdapterStatus.DISCARDED);
    }
    return result;
  }

  /**
   * Called when a stage has failed for good (every retry spent): the edit leaves the pipeline as FAILED with the
   * reason, from where only a new run (back to PROPOSED) can continue.
   */
  async markFailed(job: PipelineJob, reason: string): Promise<void> {
    const edit = await this.edits.get(job.selfEditId);
    if (edit.pipelineRun !== job.pipelineRun || !IN_PIPELINE.includes(edit.status)) return;
    await this.edits.transition(this.actor, edit.id, S.FAILED, `infrastructure: ${reason}`.slice(0, 2000));
  }

  private isAt(edit: SelfEditEntity, job: PipelineJob, status: SelfEditStatus): boolean {
    return edit.pipelineRun === job.pipelineRun && edit.status === status;
  }

  /** Runs the gates, then stores every report and moves the edit in one transaction. */
  private async gateStage(
    edit: SelfEditEntity,
    stage: GateStage,
    gates: RequiredGate[],
    input: ModelScreeningInput | CandidateEvaluationInput | GatedPart<ModelScreeningInput>[],
    onPass: SelfEditStatus,
  ): Promise<StageResult> {
    const outcomes = await runGates(gates, input);
    const failed = failedGates(outcomes);
    const to = failed.length ? S.REJECTED_BY_GATE : onPass;
    const reason = failed.length ? `${stage}: failed ${failed.join(', ')}` : null;
    await this.edits.transition(this.actor, edit.id, to, reason, async (manager) => {
      for (const { gate } of gates)
        await this.reports.record(manager, this.actor, edit, gate, outcomes[gate.name]);
    });
    return {
      stage,
      outcome: failed.length ? 'rejected' : 'passed',
      verdicts: Object.fromEntries(Object.entries(outcomes).map(([gate, o]) => [gate, o.verdict])),
    };
  }

  private async screeningContext(
    edit: SelfEditEntity,
  ): Promise<{ channel: ChannelEntity; policy: ChannelPolicy; input: ModelScreeningInput }> {
    const channel = await this.channels.get(edit.channelId);
    const policy = this.policies.forChannel(channel.name);
    const parent = await this.stacks.resolve({ channel: channel.name });
    return {
      channel,
      policy,
      input: {
        selfEdit: { lines: selfEditLines(edit) },
        passage: await this.passageOf(edit),
        protectedEntities: policy.protectedEntities,
        hyperparameters: edit.hyperparameters,
        parentFolders: parent.folders,
      },
    };
  }

  /**
   * What the screening gates read: the edit against its passage; for a generator update, each kept self-edit
   * against its own passage (one report per gate, its worst part deciding), since no one passage backs them all.
   */
  private async screeningParts(edit: SelfEditEntity, input: ModelScreeningInput): Promise<GatedPart<ModelScreeningInput>[]> {
    if (edit.kind !== SelfEditKind.generator) return [{ label: edit.id, input }];
    const { parts } = await this.generators.forEdit(edit.id);
    return parts.map((part) => ({
      label: part.knowledgeSourceId,
      input: { ...input, selfEdit: { lines: part.lines }, passage: part.passage },
    }));
  }

  /** The passage the gates check an edit against; a generator update's are its round's passages. */
  private async passageOf(edit: SelfEditEntity): Promise<{ title: string; text: string }> {
    if (edit.kind === SelfEditKind.generator) return (await this.generators.forEdit(edit.id)).passage;
    const source = edit.knowledgeSourceId ? await this.knowledge.get(edit.knowledgeSourceId) : null;
    return { title: source?.title ?? '', text: source?.passage ?? '' };
  }

  private async candidateToEvaluate(edit: SelfEditEntity): Promise<AdapterVersionEntity> {
    const candidate = await this.versions.candidateOf(edit);
    if (!candidate) throw new Error(`self-edit ${edit.id} is EVALUATING but has no candidate adapter`);
    return candidate;
  }

  /** The questions of the passages behind the edits applied below `headId` (what the channel must retain). */
  private async retentionQuestions(
    channel: ChannelEntity,
    headId: string | null,
  ): Promise<ProbeQuestion[][]> {
    return this.questionsOf((await this.appliedEdits(channel, headId)).map((e) => e.knowledgeSourceId));
  }

  /** The training text of the edits applied below `headId`, oldest first (policy `training.replay`). */
  private async replayOf(channel: ChannelEntity, headId: string | null): Promise<SelfEditText[]> {
    const edits = (await this.appliedEdits(channel, headId)).reverse();
    return Promise.all(
      edits.map(async (e) => {
        const source = e.knowledgeSourceId ? await this.knowledge.get(e.knowledgeSourceId) : null;
        return {
          lines: selfEditLines(e),
          passage: source ? { title: source.title, text: source.passage } : undefined,
        };
      }),
    );
  }

  /** The edits applied at or below `headId`, newest first. */
  private async appliedEdits(channel: ChannelEntity, headId: string | null): Promise<SelfEditEntity[]> {
    const chain = await this.versions.chainOf(headId);
    // Only this channel's part of the stack counts.
    const own = chain.findIndex((v) => v.channelId !== channel.id);
    const edits: SelfEditEntity[] = [];
    for (const version of own < 0 ? chain : chain.slice(0, own))
      for (const selfEditId of editsOf(version)) edits.push(await this.edits.get(selfEditId));
    return edits;
  }

  private async questionsOf(sourceIds: (string | null)[]): Promise<ProbeQuestion[][]> {
    return Promise.all(
      sourceIds.map(async (id) => (id ? ((await this.knowledge.get(id)).questions ?? []) : [])),
    );
  }
}
