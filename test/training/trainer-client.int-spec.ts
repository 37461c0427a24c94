import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultGpuDir, TrainerClient } from 'src/training/trainer-client';
import { TrainerError, TrainerErrorCode } from 'src/training/training.errors';
import { TrainInput, TrainProgress } from 'src/training/trainer-protocol';

const PYTHON = process.env.SEALGATE_PYTHON ?? '/usr/bin/python3';

/** A random two-layer Llama, small enough to train in a second on one CPU thread. */
function writeTinyModel(dir: string): void {
  const script = [
    'import sys, torch',
    'from sealgate_gpu.config import LlamaConfig',
    'from sealgate_gpu.model import LlamaForCausalLM',
    'torch.manual_seed(0)',
    'LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,',
    '    num_attention_heads=4, max_position_embeddings=64)).save_pretrained(sys.argv[1])',
  ].join('\n');
  execFileSync(PYTHON, ['-c', script, dir], { cwd: defaultGpuDir(), stdio: 'pipe' });
}

const quiet = { log: () => undefined, warn: () => undefined };

describe('TrainerClient (real Python trainer)', () => {
  const work = mkdtempSync(join(tmpdir(), 'sealgate-trainer-'));
  const baseModel = join(work, 'base');
  let client: TrainerClient;
  let outputs = 0;

  const job = (overrides: Partial<TrainInput> = {}): TrainInput => ({
    base_model: baseModel,
    sequences: [
      { input_ids: [1, 5, 9, 13, 17, 21, 25, 29], loss_mask: [0, 1, 1, 1, 1, 1, 1, 1] },
      { input_ids: [1, 40, 38, 36, 34, 32, 30], loss_mask: [0, 0, 1, 1, 1, 1, 1] },
    ],
    lora: { r: 4, alpha: 8, target_modules: ['q_proj', 'v_proj'] },
    lr: 0.05,
    epochs: 20,
    batch_size: 2,
    seed: 7,
    output_dir: join(work, `adapter-${++outputs}`),
    ...overrides,
  });
  /** Long enough that it is still running when the test acts on its first progress event. */
  const longJob = () => job({ epochs: 100_000 });

  async function rejection(promise: Promise<unknown>): Promise<TrainerError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrainerError);
    return err as TrainerError;
  }

  beforeAll(() => writeTinyModel(baseModel), 60_000);
  beforeEach(() => {
    client = new TrainerClient({
      python: PYTHON,
      args: ['--device', 'cpu', '--threads', '1'],
      logger: quiet,
    });
  });
  afterEach(() => client.close());
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('trains a LoRA adapter, streaming progress, into a PEFT folder', async () => {
    const progress: TrainProgress[] = [];
    const result = await client.train(job(), { onProgress: (p) => progress.push(p) });

    expect(existsSync(join(result.adapter_dir, 'adapter_config.json'))).toBe(true);
    expect(existsSync(join(result.adapter_dir, 'adapter_model.safetensors'))).toBe(true);
    expect(result).toMatchObject({ steps: 20, device: 'cpu', dtype: 'float32' });
    expect(result.loss_curve).toHaveLength(20);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(progress.map((p) => p.loss)).toEqual(result.loss_curve);
    expect(progress[19].loss).toBeLessThan(progress[0].loss);
    expect(result.tokens).toBeGreaterThan(0);
  }, 60_000);

  it('gives the same loss curve for the same seed, and another for another seed', async () => {
    const first = await client.train(job({ seed: 3 }));
    const again = await client.train(job({ seed: 3 }));
    const other = await client.train(job({ seed: 4 }));

    expect(again.loss_curve).toEqual(first.loss_curve);
    expect(other.loss_curve).not.toEqual(first.loss_curve);
  }, 60_000);

  it("rejects a bad request with the trainer's code and keeps serving", async () => {
    const info = await client.start();

    const missing = await rejection(client.train(job({ base_model: join(work, 'no-such-model') })));
    expect(missing.code).toBe(TrainerErrorCode.NOT_FOUND);
    const negative = await rejection(client.train(job({ lr: -0.1 })));
    expect(negative.code).toBe(TrainerErrorCode.BAD_REQUEST);
    expect(negative.message).toMatch(/lr must be > 0/);
    // NaN would reach the trainer as null, which it reads as "use the default"; the client refuses it.
    const nan = await rejection(client.train(job({ lr: NaN })));
    expect(nan.code).toBe(TrainerErrorCode.BAD_REQUEST);

    const result = await client.train(job());
    expect(result.steps).toBe(20);
    expect(client.pid).toBe(info.pid);
  }, 60_000);

  it('cancels a running training through its AbortSignal, writing nothing', async () => {
    const controller = new AbortController();
    const input = longJob();
    const running = client.train(input, { signal: controller.signal, onProgress: () => controller.abort() });

    expect((await rejection(running)).code).toBe(TrainerErrorCode.CANCELLED);
    expect(existsSync(input.output_dir)).toBe(false);
    expect((await client.train(job())).steps).toBe(20);
  }, 60_000);

  it('does not send a training whose signal is already aborted', async () => {
    const err = await rejection(client.train(job(), { signal: AbortSignal.abort() }));
    expect(err.code).toBe(TrainerErrorCode.CANCELLED);
    expect(client.pid).toBeUndefined();
  });

  it('rejects pending work when the trainer dies, and starts a new one on the next call', async () => {
    const { pid } = await client.start();
    let killed = false;
    const kill = () => {
      if (!killed) process.kill(pid, 'SIGKILL');
      killed = true;
    };
    const running = client.train(longJob(), { onProgress: kill });
    const queued = client.train(job());

    const [died, behind] = [await rejection(running), await rejection(queued)];
    expect(died.code).toBe(TrainerErrorCode.TRAINER_EXITED);
    expect(died.message).toMatch(/SIGKILL/);
    expect(died.details?.stderr).toEqual(expect.arrayContaining([expect.stringMatching(/trainer ready/)]));
    expect(behind.code).toBe(TrainerErrorCode.TRAINER_EXITED);

    const result = await client.train(job());
    expect(result.steps).toBe(20);
    expect(client.pid).not.toBe(pid);
  }, 60_000);

  it('reports a python that cannot be started as TRAINER_EXITED', async () => {
    const broken = new TrainerClient({ python: join(work, 'no-python'), logger: quiet });
    const err = await rejection(broken.start());
    expect(err.code).toBe(TrainerErrorCode.TRAINER_EXITED);
    expect(err.message).toMatch(/could not start/);
    expect(err.message).not.toContain(work);
  });

  it('tells why a trainer died in a short reason; its traceback goes to the log, not into the message', async () => {
    // A Python without torch dies at import, as on a machine where python3-torch is missing.
    const torchless = join(work, 'torchless-python');
    const traceback = [
      'Traceback (most recent call last):',
      '  File "/srv/sealgate/gpu/sealgate_gpu/trainer_server.py", line 12, in <module>',
      "ModuleNotFoundError: No module named 'torch'",
    ];
    writeFileSync(
      torchless,
      `#!/bin/sh\nprintf '%s\\n' ${traceback.map((l) => JSON.stringify(l)).join(' ')} >&2\nexit 1\n`,
      {
        mode: 0o755,
      },
    );
    const logged: string[] = [];
    const dead = new TrainerClient({
      python: torchless,
      logger: { log: (line: string) => logged.push(line), warn: () => undefined },
    });
    const err = await rejection(dead.start());
    expect(err.code).toBe(TrainerErrorCode.TRAINER_EXITED);
    expect(err.message).toBe('trainer exited with code 1; its output is in the log');
    expect(logged).toEqual(expect.arrayContaining([expect.stringMatching(/ModuleNotFoundError/)]));
    await dead.close();
  });

  it('gives up on a trainer that never answers hello', async () => {
    const silent = join(work, 'silent-python');
    writeFileSync(silent, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const hung = new TrainerClient({ python: silent, startTimeoutMs: 500, logger: quiet });
    const err = await rejection(hung.start());
    expect(err.code).toBe(TrainerErrorCode.TRAINER_START_TIMEOUT);
    await hung.close();
  });

  it('shuts the trainer down on close', async () => {
    const { pid } = await client.start();
    await client.close();
    expect(client.pid).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow();
  }, 30_000);
});
