import { AppConfig } from 'src/config/app-config';
import { AdapterStore } from 'src/inference/adapter-store';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';

describe('CandidateTrainer', () => {
  it('starts no trainer once its worker is stopping: health says so and training refuses', async () => {
    const config = { MODEL_DIR: 'models/default', DATA_DIR: 'data', ADAPTER_MAX_MB: 64 } as AppConfig;
    const trainer = new CandidateTrainer(config, {} as AdapterStore);
    await trainer.onModuleDestroy();
    await expect(trainer.health()).resolves.toEqual({ ok: false, error: 'the worker is stopping' });
    await expect(
      trainer.train({
        key: 'k',
        lines: ['a line'],
        passage: null,
        parentFolders: [],
        policy: {
          learningRate: 3e-3,
          epochs: 1,
          rank: 4,
          alpha: 8,
          batchSize: 8,
          seed: 0,
          replay: { appliedEdits: false, rehearsal: 0 },
          routing: 'none',
        },
        requested: null,
      }),
    ).rejects.toMatchObject({ code: 'TRAINER_EXITED' });
  });
});
