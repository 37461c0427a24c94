import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servingReport, ServingRun, writeBetweenMarkers } from './serving-report';

const side = (tokensPerSec: number, p50Ms: number) => ({ tokensPerSec, p50Ms, p99Ms: 2 * p50Ms });
const run: ServingRun = {
  startedAt: '2026-12-02T20:18:04.247Z',
  machine: { cpus: 2, model: 'Test CPU', loadavgBefore: [2.24, 2, 1], loadavgAfter: [2.35, 2, 1] },
  setup: { promptTokens: 46, maxTokens: 64, secondsPerLevel: 15, inferenceThreads: 2 },
  levels: [
    {
      clients: 32,
      gateway: { ...side(1922, 857), errors: 0 },
      direct: side(403, 143.1),
      unbatched: { tokensPerSec: 313, before: side(286, 2960), after: side(339, 2162) },
      batchingSpeedup: 6.14,
      p50OverDirect: 4.989,
    },
  ],
  latencyAt1Client: {
    rounds: 20,
    gatewayP50Ms: 142.7,
    directP50Ms: 134.6,
    overhead: 0.047,
    roundsUnder10Percent: 12,
  },
  overload: { clients: 384, capacity: 288, statusCounts: { '200': 160, '429': 3454 }, p50Ms: 131 },
};

describe('servingReport', () => {
  it('renders each level as a table row, the 1-client latency and the overload counts', () => {
    const text = servingReport(run, 'bench/results.json');
    expect(text).toContain('### `npm run bench`, 2026-12-02 20:18 UTC');
    expect(text).toContain('Written by the bench from `bench/results.json`.');
    expect(text).toContain('| 32 | 1,922 | 857 / 1,714 | 0 | 403 | 143 / 286 | 313 (286, 339) | 6.14x |');
    expect(text).toContain('**+4.7%** (median round; 12 of 20 rounds at or under 10%)');
    expect(text).toContain('384 clients against 288 places of batch and queue: 160 × 200, 3,454 × 429');
  });
});

describe('writeBetweenMarkers', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'sealgate-report-')), 'doc.md');

  it('replaces only what stands between the markers, as often as it is run', () => {
    const path = file();
    writeFileSync(path, 'before\n<!-- x:begin -->\nold\n<!-- x:end -->\nafter\n');
    writeBetweenMarkers(path, 'x', 'new');
    writeBetweenMarkers(path, 'x', 'newer');
    expect(readFileSync(path, 'utf8')).toBe('before\n<!-- x:begin -->\n\nnewer\n\n<!-- x:end -->\nafter\n');
  });

  it('refuses a file without the markers and leaves it as it was', () => {
    const path = file();
    writeFileSync(path, 'no markers\n');
    expect(() => writeBetweenMarkers(path, 'x', 'new')).toThrow(/no <!-- x:begin -->/);
    expect(readFileSync(path, 'utf8')).toBe('no markers\n');
  });
});
