import { DelayedError, Job } from 'bullmq';
import { ModelService } from 'src/inference/model.service';
import { PipelineProcessor } from 'src/pipeline/pipeline.processor';
import { PipelineTransitions } from 'src/pipeline/stages/pipeline-transitions';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { QueueName } from 'src/queues/queue-names';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';

describe('PipelineProcessor', () => {
  it('holds a job taken while the model loads until loading has settled, then runs it', async () => {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const run = jest.fn().mockResolvedValue('done');
    const processor = new PipelineProcessor(
      { run } as unknown as JobDispatcher,
      {} as PipelineTransitions,
      { whenSettled: () => settled } as unknown as ModelService,
      {} as CandidateTrainer,
      {} as SelfEditsService,
    );
    const job = { name: 'screen-self-edit' } as Job;

    const result = processor.process(job);
    await new Promise((resolve) => setImmediate(resolve));
    expect(run).not.toHaveBeenCalled();

    settle();
    await expect(result).resolves.toBe('done');
    expect(run).toHaveBeenCalledWith(QueueName.pipeline, job);
  });

  it('marks the edit FAILED when a job fails for good, even on its first attempt (stalled twice)', async () => {
    const markFailed = jest.fn().mockResolvedValue(undefined);
    const processor = new PipelineProcessor(
      {} as JobDispatcher,
      { markFailed } as unknown as PipelineTransitions,
      {} as ModelService,
      {} as CandidateTrainer,
      {} as SelfEditsService,
    );
    const data = { selfEditId: 'e', pipelineRun: 1 };
    const job = (finishedOn?: number) =>
      ({ name: 'screen-self-edit', data, attemptsMade: 1, opts: { attempts: 3 }, finishedOn }) as Job;

    await processor.onFailed(job(undefined), new Error('will be retried'));
    expect(markFailed).not.toHaveBeenCalled();

    await processor.onFailed(job(Date.now()), new Error('job stalled more than allowable limit'));
    expect(markFailed).toHaveBeenCalledWith(data, 'screen-self-edit: job stalled more than allowable limit');

    // The next stage fails with its child: the edit keeps the first stage's reason, not a job key.
    markFailed.mockClear();
    const next = { ...job(Date.now()), name: 'train-candidate' } as Job;
    await processor.onFailed(next, new Error('child test:pipeline:e.1.screen failed'));
    expect(markFailed).not.toHaveBeenCalled();
  });

  it('sends a training job back to wait, without an attempt, while the trainer cannot start; the edit says why', async () => {
    const run = jest.fn().mockResolvedValue('trained');
    const waiting = jest.fn().mockResolvedValue(undefined);
    let health: { ok: boolean; error?: string } = { ok: false, error: 'trainer exited with code 1' };
    const processor = new PipelineProcessor(
      { run } as unknown as JobDispatcher,
      {} as PipelineTransitions,
      { whenSettled: () => Promise.resolve() } as unknown as ModelService,
      { health: () => Promise.resolve(health) } as unknown as CandidateTrainer,
      { waiting } as unknown as SelfEditsService,
    );
    const moveToDelayed = jest.fn().mockResolvedValue(undefined);
    const data = { selfEditId: 'e', pipelineRun: 2 };
    const job = { id: 'e.2.train', name: 'train-candidate', data, moveToDelayed } as unknown as Job;

    await expect(processor.process(job, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(run).not.toHaveBeenCalled();
    expect(moveToDelayed).toHaveBeenCalledWith(expect.any(Number), 'token');
    const at = { pipelineRun: 2, status: SelfEditStatus.TRAINING };
    expect(waiting).toHaveBeenCalledWith('e', at, 'waiting for a trainer: trainer exited with code 1');

    health = { ok: true };
    await expect(processor.process(job, 'token')).resolves.toBe('trained');
    expect(waiting).toHaveBeenLastCalledWith('e', at, null);
  });
});
