import { Injectable } from '@nestjs/common';
import { JobsService } from 'src/queues/jobs.service';
import { JobName } from 'src/queues/queue-names';

/** Starts one run of an edit through the gates: screening, then candidate training, then evaluation. */
@Injectable()
export class PipelineLauncher {
  constructor(private readonly jobs: JobsService) {}

  /** Idempotent: the job ids name the edit and the run, so starting a run twice adds nothing. */
  start(edit: { id: string; pipelineRun: number }): Promise<void> {
    const payload = { selfEditId: edit.id, pipelineRun: edit.pipelineRun };
    const jobId = (stage: string) => `${edit.id}.${edit.pipelineRun}.${stage}`;
    return this.jobs.enqueueChain([
      { name: JobName.SCREEN_SELF_EDIT, payload, jobId: jobId('screen') },
      { name: JobName.TRAIN_CANDIDATE, payload, jobId: jobId('train') },
      { name: JobName.EVALUATE_CANDIDATE, payload, jobId: jobId('evaluate') },
    ]);
  }
}
