import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * The layer rule of `npm run lint` (eslint.config.mjs, LAYERS; docs/architecture.md) on two files written for
 * the test: a low folder importing a higher one fails, the same folder importing a lower one passes.
 */
describe('layers', () => {
  const upward = join(ROOT, 'src', 'channels', 'layer-probe-upward.ts');
  const downward = join(ROOT, 'src', 'channels', 'layer-probe-downward.ts');

  afterAll(() => {
    rmSync(upward, { force: true });
    rmSync(downward, { force: true });
  });

  it('fails an import from a lower folder up to a higher one, and passes one that runs down', () => {
    writeFileSync(
      upward,
      "import { LineageService } from 'src/lineage/lineage.service';\nexport const probe = LineageService;\n",
    );
    writeFileSync(
      downward,
      "import { sha256Hex } from 'src/common/sha256';\nexport const probe = sha256Hex;\n",
    );
    const lint = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', upward, downward],
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
  }, 180_000);
});
