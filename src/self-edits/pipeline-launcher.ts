import { Injectable } from '@nestjs/common';
import { JobsService } from 'src/queues/jobs.service';
import { JobName, QueueName } from 'src/queues/queue-names';

/** Where one pipeline run stands in the queue. */
export type RunState =
  /** A job of the run is queued, running or waiting for its child: the run will move the edit. */
  | { state: 'queued' }
  /** No job of the run can run any more (one failed for good, or the rest finished or were removed). */
  | { state: 'ended'; reason: string }
  /** No job of the run is in the queue at all (Redis flushed, or the enqueue after a proposal failed). */
  | { state: 'lost' };

const STAGES = ['screen', 'train', 'evaluate'] as const;
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** Starts one run of an edit through the gates: screening, then candidate training, then evaluation. */
@Injectable()
export class PipelineLauncher {
  constructor(private readonly jobs: JobsService) {}

  /** Idempotent: the job ids name the edit and the run, so starting a run twice adds nothing. */
  start(edit: { id: string; pipelineRun: number }): Promise<void> {
    const payload = { selfEditId: edit.id, pipelineRun: edit.pipelineRun };
    return this.jobs.enqueueChain([
      { name: JobName.SCREEN_SELF_EDIT, payload, jobId: jobIdOf(edit, 'screen') },
      { name: JobName.TRAIN_CANDIDATE, payload, jobId: jobIdOf(edit, 'train') },
      { name: JobName.EVALUATE_CANDIDATE, payload, jobId: jobIdOf(edit, 'evaluate') },
    ]);
  }

  /**
   * Reads the run's jobs. A job that failed for good (its attempts spent, or stalled more often than BullMQ
   * allows: a worker killed twice in the same stage) ends the run; so does a run none of whose jobs can still run.
   */
  async inspect(edit: { id: string; pipelineRun: number }): Promise<RunState> {
    const queue = this.jobs.queue(QueueName.pipeline);
    const states = await Promise.all(STAGES.map((stage) => queue.getJobState(jobIdOf(edit, stage))));
    const failed = STAGES.find((_, i) => states[i] === 'failed');
    if (failed) {
      const job = await queue.getJob(jobIdOf(edit, failed));
      return { state: 'ended', reason: `${job?.name ?? failed}: ${job?.failedReason ?? 'failed'}` };
    }
    if (states.some((s) => LIVE.has(s))) return { state: 'queued' };
    if (states.every((s) => s === 'unknown')) return { state: 'lost' };
    return { state: 'ended', reason: 'the run ended without moving the edit' };
  }
}

const jobIdOf = (edit: { id: string; pipelineRun: number }, stage: (typeof STAGES)[number]) =>
  `${edit.id}.${edit.pipelineRun}.${stage}`;
