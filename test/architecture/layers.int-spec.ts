import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * The layer rules of `npm run lint` (eslint.config.mjs, LAYERS; docs/architecture.md) on files written for the
 * test: a low folder importing a higher one fails, two files importing each other fail, an import down passes.
 */
describe('layers', () => {
  const upward = join(ROOT, 'src', 'channels', 'layer-probe-upward.ts');
  const downward = join(ROOT, 'src', 'channels', 'layer-probe-downward.ts');
  const circle = [
    join(ROOT, 'src', 'channels', 'layer-probe-a.ts'),
    join(ROOT, 'src', 'channels', 'layer-probe-b.ts'),
  ];

  afterAll(() => {
    for (const file of [upward, downward, ...circle]) rmSync(file, { force: true });
  });

  it('fails an import up a layer and a circle of imports, and passes an import down', () => {
    writeFileSync(
      upward,
      "import { ApplyService } from 'src/lineage/apply.service';\nexport const probe = ApplyService;\n",
    );
    writeFileSync(
      downward,
      "import { sha256Hex } from 'src/common/sha256';\nexport const probe = sha256Hex;\n",
    );
    writeFileSync(
      circle[0],
      "import { b } from 'src/channels/layer-probe-b';\nexport const a = (): number => b();\n",
    );
    writeFileSync(
      circle[1],
      "import { a } from 'src/channels/layer-probe-a';\nexport const b = (): number => a();\n",
    );
    const lint = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'),
        '--format',
        'json',
        upward,
        downward,
        ...circle,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(lint.status).toBe(1);
    const results = JSON.parse(lint.stdout) as {
      filePath: string;
      messages: { ruleId: string; message: string }[];
    }[];
    const messagesOf = (file: string) => results.find((r) => r.filePath === file)?.messages ?? [];
    expect(messagesOf(upward)).toEqual([
      expect.objectContaining({
        ruleId: 'boundaries/dependencies',
        message: expect.stringContaining('channels sits below lineage'),
      }),
    ]);
    expect(messagesOf(downward)).toEqual([]);
    expect(messagesOf(circle[0])).toEqual([expect.objectContaining({ ruleId: 'import-x/no-cycle' })]);
  }, 180_000);
});
