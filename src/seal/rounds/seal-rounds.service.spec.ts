import { createMongoAbility } from '@casl/ability';
import { AppAbility } from 'src/auth/ability.factory';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { JobName } from 'src/queues/queue-names';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { SealRoundStatus } from 'src/seal/rounds/seal-round.types';
import { SealRoundError } from 'src/seal/rounds/seal-rounds.errors';
import { SealRoundStates } from 'src/seal/rounds/seal-round-states';
import { SealRoundsService } from 'src/seal/rounds/seal-rounds.service';

const SOURCES: Record<string, { id: string; questions: unknown[] | null }> = {
  a: { id: 'a', questions: [{ question: 'Q?', answer: 'A' }] },
  b: { id: 'b', questions: [{ question: 'Q?', answer: 'B' }] },
  bare: { id: 'bare', questions: null },
};

function setup(stored?: Partial<SealRoundEntity>) {
  const inserted: SealRoundEntity[] = [];
  const repository = {
    insert: jest.fn((_m: unknown, round: SealRoundEntity) => {
      inserted.push(round);
      return Promise.resolve(round);
    }),
    findById: jest.fn(() => Promise.resolve(stored ? ({ ...stored } as SealRoundEntity) : null)),
    updateIfStatus: jest.fn(() => Promise.resolve(false)),
  };
  const audit = { append: jest.fn(() => Promise.resolve()) };
  const jobs = { enqueue: jest.fn(() => Promise.resolve('job')), queue: jest.fn() };
  const states = new SealRoundStates(
    repository as never,
    { run: (work: (m: unknown) => Promise<unknown>) => work({}) } as never,
    audit as never,
    { publishCancel: jest.fn(), publishChanged: jest.fn() } as never,
  );
  const service = new SealRoundsService(
    states,
    { getByName: () => Promise.resolve({ id: 'channel-1', name: 'staging' }) } as never,
    { get: (id: string) => Promise.resolve(SOURCES[id]) } as never,
    jobs as never,
  );
  const ability = createMongoAbility<AppAbility>([{ action: Action.manage, subject: Subject.all }]);
  const ctx = new AuthContext(Object.assign(new PrincipalEntity(), { id: 'p-1', name: 'eng' }), ability);
  return { service, ctx, repository, audit, jobs, inserted };
}

describe('SealRoundsService', () => {
  it('stores a round QUEUED with its settings, audits it and queues it once under its own id', async () => {
    const { service, ctx, audit, jobs, inserted } = setup();
    const round = await service.start(ctx, {
      channel: 'staging',
      knowledgeSourceIds: ['a', 'b'],
      k: 2,
      seed: 3,
    });
    expect(round).toMatchObject({
      status: SealRoundStatus.QUEUED,
      channelId: 'channel-1',
      startedById: 'p-1',
      settings: { knowledgeSourceIds: ['a', 'b'], k: 2, seed: 3 },
    });
    expect(inserted).toHaveLength(1);
    expect(audit.append).toHaveBeenCalledWith(
      {},
      ctx.actor,
      expect.objectContaining({ action: 'seal_round.started' }),
    );
    expect(jobs.enqueue).toHaveBeenCalledWith(
      JobName.RUN_SEAL_ROUND,
      { roundId: round.id },
      expect.objectContaining({ jobId: round.id }),
    );
  });

  it('refuses a passage without questions, or one named twice, storing and queueing nothing', async () => {
    const { service, ctx, jobs, inserted } = setup();
    const start = (ids: string[]) =>
      service.start(ctx, { channel: 'staging', knowledgeSourceIds: ids, k: 2, seed: 0 });
    await expect(start(['a', 'bare'])).rejects.toMatchObject({ code: 'PASSAGE_WITHOUT_QUESTIONS' });
    await expect(start(['a', 'a'])).rejects.toMatchObject({ code: 'DUPLICATE_PASSAGE' });
    expect(inserted).toHaveLength(0);
    expect(jobs.enqueue).not.toHaveBeenCalled();
  });

  it('refuses to cancel a round that is over', async () => {
    const { service, ctx, audit } = setup({ id: 'r-1', status: SealRoundStatus.SUCCEEDED });
    const error = await service.cancel(ctx, 'r-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealRoundError);
    expect(error).toMatchObject({ code: 'ROUND_NOT_LIVE' });
    expect(audit.append).not.toHaveBeenCalled();
  });
});
