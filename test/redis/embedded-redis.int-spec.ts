import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig } from 'src/config/app-config';
import { redisAnswers, startEmbeddedRedis } from 'src/redis/redis-endpoint';

describe('embedded Redis', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sealgate-redis-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps queued work across a restart (AOF under DATA_DIR)', async () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = await startEmbeddedRedis(config);
    const queue = new Queue('persist', { connection: { url: first.url, maxRetriesPerRequest: null } });
    await queue.add('work', { n: 1 });
    await queue.close();
    await first.stop();
    const port = Number(new URL(first.url).port);
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);

    const second = await startEmbeddedRedis(config);
    try {
      const again = new Queue('persist', { connection: { url: second.url, maxRetriesPerRequest: null } });
      expect(await again.getWaitingCount()).toBe(1);
      await again.close();
    } finally {
      await second.stop();
    }
  });
});
