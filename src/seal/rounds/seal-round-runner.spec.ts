import { parseProgressLine, roundArguments } from 'src/seal/rounds/seal-round-runner';

describe('the Python round, as the runner reads and calls it', () => {
  it('reads counted and uncounted progress lines, and nothing else', () => {
    expect(parseProgressLine('[round] ReST-EM round 1 trials: 32/500 (41 s)')).toEqual({
      stage: 'ReST-EM round 1 trials',
      done: 32,
      total: 500,
      seconds: 41,
    });
    expect(
      parseProgressLine('[round] ReST-EM round 1: fine-tuning the generator on 3 kept self-edits: (11 s)'),
    ).toEqual({
      stage: 'ReST-EM round 1: fine-tuning the generator on 3 kept self-edits',
      done: 0,
      total: 0,
      seconds: 11,
    });
    expect(parseProgressLine('error: no self-edit improved any passage')).toBeNull();
    expect(parseProgressLine('[trainer] step 3/10 (2 s)')).toBeNull();
  });

  it('passes the stack base first, absolute paths, and asks for the JSON summary', () => {
    const args = roundArguments({
      modelDir: 'models/default',
      adapterFolders: ['/store/a', '/store/b'],
      passagesFile: '/data/r/passages.jsonl',
      workDir: '/data/r/work',
      k: 2,
      seed: 7,
    });
    expect(args.slice(0, 2)).toEqual(['-m', 'sealgate_gpu.seal.round']);
    expect(args[args.indexOf('--model') + 1]).toMatch(/^\/.*models\/default$/);
    expect(args.filter((_, i) => args[i - 1] === '--adapter')).toEqual(['/store/a', '/store/b']);
    expect(args).toEqual(expect.arrayContaining(['--k', '2', '--seed', '7', '--json']));
  });
});
