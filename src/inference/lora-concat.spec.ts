import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterConfigSchema,
  PEFT_PREFIX,
  scalingOf,
} from 'src/inference/lora-adapter';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatLoraAdapters, LoraConcatError, PeftFiles } from 'src/inference/lora-concat';
import { loadLoraAdapter, loadServedAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { ROUTE_KEY_FIELD, ROUTE_SEGMENTS_FIELD } from 'src/inference/route-key';
import { readSafetensors, safetensorsBytes } from 'src/inference/safetensors';

const Q = 'model.layers.0.self_attn.q_proj';
const V = 'model.layers.0.self_attn.v_proj';

/** A crafted adapter: per module path, A [r, 3] and B [2, r] filled from a seed. */
function adapter(r: number, alpha: number, paths: string[], seed: number): PeftFiles {
  const values = (n: number, k: number) =>
    Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + k * 13 + i) / 3);
  const tensors = Object.fromEntries(
    paths.flatMap((path, k) => [
      [
        `${PEFT_PREFIX}${path}.lora_A.weight`,
        { dtype: 'F32' as const, shape: [r, 3], values: values(r * 3, k) },
      ],
      [
        `${PEFT_PREFIX}${path}.lora_B.weight`,
        { dtype: 'F32' as const, shape: [2, r], values: values(2 * r, k + 5) },
      ],
    ]),
  );
  const config = { peft_type: 'LORA', r, lora_alpha: alpha, target_modules: ['q_proj', 'v_proj'] };
  return {
    [ADAPTER_CONFIG_FILE]: Buffer.from(JSON.stringify(config)),
    [ADAPTER_WEIGHTS_FILE]: safetensorsBytes(tensors),
  };
}

/** The dense update s B A of one module of a PEFT adapter, in float64. */
function delta(files: PeftFiles, path: string): number[] {
  const config = adapterConfigSchema.parse(JSON.parse(files[ADAPTER_CONFIG_FILE].toString('utf8')));
  const tensors = readSafetensors(files[ADAPTER_WEIGHTS_FILE]);
  const a = tensors.get(`${PEFT_PREFIX}${path}.lora_A.weight`);
  const b = tensors.get(`${PEFT_PREFIX}${path}.lora_B.weight`);
  if (!a || !b) return new Array<number>(6).fill(0);
  const r = a.shape[0];
  const s = scalingOf(config, path, r);
  const out: number[] = [];
  for (let o = 0; o < 2; o++)
    for (let i = 0; i < 3; i++) {
      let sum = 0;
      for (let k = 0; k < r; k++) sum += Math.fround(b.data[o * r + k] * s) * a.data[k * 3 + i];
      out.push(sum);
    }
  return out;
}

describe('concatLoraAdapters', () => {
  const first = adapter(2, 4, [Q, V], 1);
  const second = adapter(1, 3, [Q], 2);

  it('gives one adapter whose update is the sum of the stack, with the scaled factors kept exactly', () => {
    const merged = concatLoraAdapters([first, second]);
    for (const path of [Q, V]) {
      const expected = delta(first, path).map((v, i) => v + delta(second, path)[i]);
      delta(merged, path).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    }
    const config = adapterConfigSchema.parse(JSON.parse(merged[ADAPTER_CONFIG_FILE].toString('utf8')));
    expect(scalingOf(config, Q, 3)).toBe(1);
    expect(scalingOf(config, V, 2)).toBe(1);
    const tensors = readSafetensors(merged[ADAPTER_WEIGHTS_FILE]);
    const b = tensors.get(`${PEFT_PREFIX}${Q}.lora_B.weight`)!;
    const firstB = readSafetensors(first[ADAPTER_WEIGHTS_FILE]).get(`${PEFT_PREFIX}${Q}.lora_B.weight`)!;
    expect(b.shape).toEqual([2, 3]);
    // Row 1, columns 0-1 are the first adapter's B row 1 times its scaling (2), bit for bit.
    expect([...b.data.subarray(3, 5)]).toEqual(
      [...firstB.data.subarray(2, 4)].map((v) => Math.fround(v * 2)),
    );
  });

  it('is deterministic, and a single adapter comes back with its scaling folded in', () => {
    expect(concatLoraAdapters([first, second])).toEqual(concatLoraAdapters([first, second]));
    const alone = concatLoraAdapters([second]);
    delta(alone, Q).forEach((v, i) => expect(v).toBeCloseTo(delta(second, Q)[i], 12));
    expect(alone[ADAPTER_WEIGHTS_FILE].equals(second[ADAPTER_WEIGHTS_FILE])).toBe(false);
  });

  it('keeps each routed part with its key, and the loader splits the parts back exactly', async () => {
    const routed = (files: PeftFiles, key: string[] | null): PeftFiles => {
      const config = JSON.parse(files[ADAPTER_CONFIG_FILE].toString('utf8')) as Record<string, unknown>;
      return {
        ...files,
        [ADAPTER_CONFIG_FILE]: Buffer.from(
          JSON.stringify({ ...config, [ROUTE_KEY_FIELD]: key ?? undefined }),
        ),
      };
    };
    const merged = concatLoraAdapters([routed(first, ['mopos']), routed(second, null)]);
    const config = JSON.parse(merged[ADAPTER_CONFIG_FILE].toString('utf8')) as Record<string, unknown>;
    expect(config[ROUTE_SEGMENTS_FIELD]).toEqual([
      { key: ['mopos'], ranks: { [Q]: 2, [V]: 2 } },
      { key: null, ranks: { [Q]: 1 } },
    ]);
    // Unrouted parts alone stay unrouted, as before.
    expect(
      JSON.parse(concatLoraAdapters([first, second])[ADAPTER_CONFIG_FILE].toString('utf8')),
    ).not.toHaveProperty(ROUTE_SEGMENTS_FIELD);

    const folder = mkdtempSync(join(tmpdir(), 'sealgate-concat-'));
    try {
      for (const [name, bytes] of Object.entries(merged)) writeFileSync(join(folder, name), bytes);
      const spec = { layers: 1, moduleShape: () => [3, 2] } as unknown as ModelSpec;
      const loaded = await loadLoraAdapter(folder, spec, 1 << 20);
      expect(loaded.segments!.map((p) => [p.routeKey, p.digest, [...p.modules.keys()]])).toEqual([
        [['mopos'], loaded.digest, ['0.q_proj', '0.v_proj']],
        [null, loaded.digest, ['0.q_proj']],
      ]);
      // The first part's q_proj is the first adapter's, scaled: rows 0-1 of A, columns 0-1 of B.
      const whole = loaded.modules.get('0.q_proj')!;
      const part = loaded.segments![0].modules.get('0.q_proj')!;
      expect([...part.a]).toEqual([...whole.a.subarray(0, 6)]);
      expect([...part.b]).toEqual([whole.b[0], whole.b[1], whole.b[3], whole.b[4]]);
      expect([...loaded.segments![1].modules.get('0.q_proj')!.b]).toEqual([whole.b[2], whole.b[5]]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('serves a stored adapter only while its files hash to its address', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sealgate-store-'));
    const spec = { layers: 1, moduleShape: () => [3, 2] } as unknown as ModelSpec;
    try {
      const scratch = join(root, 'scratch');
      mkdirSync(scratch);
      for (const [name, bytes] of Object.entries(first)) writeFileSync(join(scratch, name), bytes);
      const { digest } = await loadLoraAdapter(scratch, spec, 1 << 20);
      const stored = join(root, digest);
      renameSync(scratch, stored);
      await expect(loadServedAdapter(stored, spec, 1 << 20)).resolves.toMatchObject({ digest });
      const weights = readFileSync(join(stored, ADAPTER_WEIGHTS_FILE));
      weights[weights.length - 1] ^= 1;
      writeFileSync(join(stored, ADAPTER_WEIGHTS_FILE), weights);
      await expect(loadServedAdapter(stored, spec, 1 << 20)).rejects.toMatchObject({
        code: 'ADAPTER_TAMPERED',
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses adapters that do not fit together', () => {
    expect(() => concatLoraAdapters([])).toThrow(LoraConcatError);
    const wide = adapter(1, 1, [Q], 3);
    const tensors = readSafetensors(wide[ADAPTER_WEIGHTS_FILE]);
    const a = tensors.get(`${PEFT_PREFIX}${Q}.lora_A.weight`)!;
    const b = tensors.get(`${PEFT_PREFIX}${Q}.lora_B.weight`)!;
    wide[ADAPTER_WEIGHTS_FILE] = safetensorsBytes({
      [`${PEFT_PREFIX}${Q}.lora_A.weight`]: { dtype: 'F32', shape: [1, 3], values: a.data },
      [`${PEFT_PREFIX}${Q}.lora_B.weight`]: { dtype: 'F32', shape: [1, 2], values: b.data },
    });
    expect(() => concatLoraAdapters([first, wide])).toThrow(/lora_A and lora_B|shape/);
  });
});
