import { Logger } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job } from 'bullmq';
import { ModelService } from 'src/inference/model.service';
import { PipelineTransitions } from 'src/pipeline/stages/pipeline-transitions';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { JobName, PipelineJob, QueueName } from 'src/queues/queue-names';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';

const CHILD_FAILED = /^child \S+ failed$/;

/** How long a training job waits before it asks again whether this worker's trainer starts. */
const TRAINER_WAIT_MS = 30_000;

/**
 * Consumes the pipeline queue one job at a time (training and the model gates use every core they are given).
 * When a job has failed for good, its edit is marked FAILED: an infrastructure error never passes a gate, and a
 * run always ends. A worker killed in the middle of a job leaves it stalled; BullMQ puts it back once
 * (`maxStalledCount`) and fails it the next time, whatever attempts it has left, so a job that crashes its worker
 * cannot crash every restart.
 */
@Processor(QueueName.pipeline, { concurrency: 1, maxStalledCount: 1 })
export class PipelineProcessor extends WorkerHost {
  private readonly logger = new Logger(PipelineProcessor.name);

  constructor(
    private readonly dispatcher: JobDispatcher,
    private readonly transitions: PipelineTransitions,
    private readonly model: ModelService,
    private readonly trainer: CandidateTrainer,
    private readonly edits: SelfEditsService,
  ) {
    super();
  }

  /**
   * A job taken while the model is still loading (a worker just started) waits for it instead of failing. A
   * training job on a worker whose trainer cannot start (no PyTorch, a broken Python) goes back to wait, delayed,
   * without spending an attempt; its edit says why, and the worker's /readyz says the same.
   */
  async process(job: Job<PipelineJob>, token?: string): Promise<unknown> {
    await this.model.whenSettled();
    if (job.name === (JobName.TRAIN_CANDIDATE as string)) {
      const health = await this.trainer.health();
      const at = { pipelineRun: job.data.pipelineRun, status: SelfEditStatus.TRAINING };
      if (!health.ok) {
        this.logger.warn({ jobId: job.id, error: health.error }, 'training waits for a trainer');
        await this.edits.waiting(job.data.selfEditId, at, `waiting for a trainer: ${health.error}`);
        await job.moveToDelayed(Date.now() + TRAINER_WAIT_MS, token);
        throw new DelayedError();
      }
      await this.edits.waiting(job.data.selfEditId, at, null);
    }
    return this.dispatcher.run(QueueName.pipeline, job);
  }

  /**
   * `finishedOn` is set only when the job has failed for good: its attempts spent, or stalled too often (then
   * attemptsMade is still 1), or unrecoverable. A failure that BullMQ will retry leaves the edit where it is.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<PipelineJob> | undefined, error: Error): Promise<void> {
    if (!job?.finishedOn) return;
    // A later stage failed only because the stage before it did (BullMQ: "child <job key> failed"): that stage's
    // own failure marks the edit, with its reason (or recovery does, at the next start); this one would name
    // an internal job key instead, and could win the race.
    if (CHILD_FAILED.test(error.message)) return;
    try {
      await this.transitions.markFailed(job.data, `${job.name}: ${error.message}`);
    } catch (err) {
      this.logger.error({ err, jobId: job.id }, 'could not mark the self-edit FAILED');
    }
  }
}
