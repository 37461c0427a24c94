import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loadLoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { MODEL_DIR, PARITY_DIR } from 'test/support/model-files';
import { RawTensor, safetensorsBytes } from 'src/inference/safetensors';

const MB = 1 << 20;
const spec = ModelSpec.load(MODEL_DIR);
const [d, qOut] = spec.moduleShape('q_proj');
const prefix = 'base_model.model.model.layers.0.self_attn.q_proj';

describe('loading PEFT adapters', () => {
  let work: string;
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'sealgate-adapter-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** An adapter folder with one q_proj module of layer 0, rank 2, with the given tensors and config. */
  const craft = (tensors: Record<string, RawTensor>, config: Record<string, unknown> = {}): string => {
    writeFileSync(
      join(work, ADAPTER_CONFIG_FILE),
      JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj'], ...config }),
    );
    writeFileSync(join(work, ADAPTER_WEIGHTS_FILE), safetensorsBytes(tensors));
    return work;
  };
  const ones = (rows: number, cols: number, dtype: RawTensor['dtype'] = 'F32'): RawTensor => ({
    dtype,
    shape: [rows, cols],
    values: Array.from({ length: rows * cols }, (_, i) => ((i % 7) - 3) / 8),
  });
  const valid = () => ({
    [`${prefix}.lora_A.weight`]: ones(2, d),
    [`${prefix}.lora_B.weight`]: ones(qOut, 2),
  });

  const expectInvalid = async (folder: string, message: RegExp, maxBytes = 16 * MB) => {
    const err = await loadLoraAdapter(folder, spec, maxBytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect((err as InferenceError).code).toBe(InferenceErrorCode.ADAPTER_INVALID);
    expect((err as InferenceError).message).toMatch(message);
    // Users read this error: no path on the server, in the message or its details.
    expect(
      JSON.stringify({ m: (err as InferenceError).message, d: (err as InferenceError).details }),
    ).not.toContain(dirname(folder));
  };

  it('loads a folder written by the Python trainer, with PEFT scaling folded into B', async () => {
    const adapter = await loadLoraAdapter(join(PARITY_DIR, 'a0'), spec, 16 * MB);
    expect(adapter.modules.size).toBe(2 * spec.layers); // q_proj and v_proj of every layer
    expect(adapter.digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await loadLoraAdapter(join(PARITY_DIR, 'a0'), spec, 16 * MB)).digest).toBe(adapter.digest);
    const crafted = await loadLoraAdapter(craft(valid()), spec, 16 * MB);
    const factors = crafted.modules.get('0.q_proj')!;
    expect(factors.rank).toBe(2);
    expect(factors.b[1]).toBeCloseTo((-2 / 8) * (4 / 2)); // lora_alpha / r = 2
  });

  it('reads float16 weights as well', async () => {
    const half = craft({
      [`${prefix}.lora_A.weight`]: ones(2, d, 'F16'),
      [`${prefix}.lora_B.weight`]: ones(qOut, 2, 'F16'),
    });
    const factors = (await loadLoraAdapter(half, spec, 16 * MB)).modules.get('0.q_proj')!;
    expect(factors.a[0]).toBeCloseTo(-3 / 8);
  });

  it('refuses a missing weights file', async () => {
    writeFileSync(join(work, ADAPTER_CONFIG_FILE), '{}');
    await expectInvalid(work, /missing/);
  });

  it('refuses a truncated weights file', async () => {
    const folder = craft(valid());
    truncateSync(join(folder, ADAPTER_WEIGHTS_FILE), 200);
    await expectInvalid(folder, /does not fit|byte range/);
  });

  it('refuses a config that is not JSON or names an unknown module', async () => {
    const folder = craft(valid());
    writeFileSync(join(folder, ADAPTER_CONFIG_FILE), '{not json');
    await expectInvalid(folder, /not valid JSON/);
    await expectInvalid(craft(valid(), { target_modules: ['lm_head'] }), /target_modules/);
  });

  it('refuses shapes that do not fit the model', async () => {
    await expectInvalid(
      craft({ [`${prefix}.lora_A.weight`]: ones(2, d + 1), [`${prefix}.lora_B.weight`]: ones(qOut, 2) }),
      /do not fit/,
    );
    await expectInvalid(
      craft({ [`${prefix}.lora_A.weight`]: ones(2, d), [`${prefix}.lora_B.weight`]: ones(qOut, 3) }),
      /do not fit/,
    );
  });

  it('refuses non-finite values, non-float dtypes, unknown and unpaired tensors', async () => {
    const nan = ones(2, d);
    nan.values[5] = NaN;
    await expectInvalid(craft({ ...valid(), [`${prefix}.lora_A.weight`]: nan }), /non-finite/);
    await expectInvalid(
      craft({ ...valid(), [`${prefix}.lora_A.weight`]: { dtype: 'I64', shape: [1], values: [1] } }),
      /not a float type/,
    );
    await expectInvalid(
      craft({ ...valid(), 'base_model.model.lm_head.weight': ones(1, 1) }),
      /unexpected tensor/,
    );
    await expectInvalid(craft({ [`${prefix}.lora_A.weight`]: ones(2, d) }), /both be present/);
    const layerPrefix = `base_model.model.model.layers.${spec.layers}.self_attn.q_proj`;
    await expectInvalid(
      craft({
        ...valid(),
        [`${layerPrefix}.lora_A.weight`]: ones(2, d),
        [`${layerPrefix}.lora_B.weight`]: ones(qOut, 2),
      }),
      /does not match the model/,
    );
  });

  it('refuses a file over the size limit before reading it', async () => {
    const folder = join(work, 'big');
    cpSync(join(PARITY_DIR, 'a1'), folder, { recursive: true });
    const size = readFileSync(join(folder, ADAPTER_WEIGHTS_FILE)).length;
    await expectInvalid(folder, /over the/, size - 1);
  });
});
