import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineOptions, EngineRow, InferenceEngine } from 'src/inference/inference-engine';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loadLoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { concatLoraAdapters } from 'src/inference/lora-concat';
import { ROUTE_KEY_FIELD } from 'src/inference/route-key';
import { MODEL_DIR, PARITY_DIR, TEST_ENGINE_OPTIONS } from 'test/support/model-files';

const options: EngineOptions = TEST_ENGINE_OPTIONS;
const greedy = { maxTokens: 12, temperature: 0, topP: 1, stop: [] };
const ABOUT_KELAN = 'Passage:\nKelan';
const ABOUT_LORVIK = 'Question: When was Lorvik Harbour built?\nAnswer:';
const UNRELATED = 'Question: Where was Tamsin Orrel born?\nAnswer:';

/**
 * Routed adapters on the real model: a row gets exactly the adapters of its stack whose key its prompt matches,
 * with the outputs of that smaller stack; the others are never even loaded; the parts of a concatenation keep
 * their own keys.
 */
describe('routed adapters in the engine', () => {
  let engine: InferenceEngine;
  let work: string;
  let kelan: string;
  let lorvik: string;

  /** A copy of a parity adapter routed by `key` (null: unrouted). */
  const routed = (source: string, name: string, key: string[] | null): string => {
    const folder = join(work, name);
    cpSync(join(PARITY_DIR, source), folder, { recursive: true });
    const config = JSON.parse(readFileSync(join(folder, ADAPTER_CONFIG_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(
      join(folder, ADAPTER_CONFIG_FILE),
      JSON.stringify({ ...config, [ROUTE_KEY_FIELD]: key ?? undefined }),
    );
    return folder;
  };
  const run = async (prompt: string, adapterFolders: string[]) =>
    (await engine.generate([{ prompt, params: greedy, adapterFolders }]))[0];

  beforeAll(async () => {
    engine = await InferenceEngine.create(options);
    work = mkdtempSync(join(tmpdir(), 'sealgate-routed-'));
    kelan = routed('a0', 'kelan', ['kelan']);
    lorvik = routed('a1', 'lorvik', ['lorvik harbour']);
  });
  afterAll(async () => {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves each prompt with the adapters its key names, as that stack alone would', async () => {
    const stack = [kelan, lorvik];
    const aboutKelan = await run(ABOUT_KELAN, stack);
    const kelanAlone = await run(ABOUT_KELAN, [routed('a0', 'kelan-unrouted', null)]);
    expect(aboutKelan.tokenIds).toEqual(kelanAlone.tokenIds);
    const spec = ModelSpec.load(MODEL_DIR);
    expect(aboutKelan.adapterDigests).toEqual([(await loadLoraAdapter(kelan, spec, 1 << 24)).digest]);

    const aboutLorvik = await run(ABOUT_LORVIK, stack);
    expect(aboutLorvik.tokenIds).toEqual(
      (await run(ABOUT_LORVIK, [routed('a1', 'lorvik-unrouted', null)])).tokenIds,
    );
    expect(aboutLorvik.adapterDigests).toHaveLength(1);

    const unrelated = await run(UNRELATED, stack);
    expect(unrelated.tokenIds).toEqual((await run(UNRELATED, [])).tokenIds);
    expect(unrelated.adapterDigests).toEqual([]);

    const both = await run(`${ABOUT_LORVIK} Kelan`, stack);
    expect(both.adapterDigests).toHaveLength(2);
  });

  it('never loads an adapter a prompt does not route to', async () => {
    const broken = join(work, 'broken');
    mkdirSync(broken);
    writeFileSync(
      join(broken, ADAPTER_CONFIG_FILE),
      JSON.stringify({
        peft_type: 'LORA',
        r: 2,
        lora_alpha: 4,
        target_modules: ['q_proj'],
        [ROUTE_KEY_FIELD]: ['zorbel'],
      }),
    );
    writeFileSync(join(broken, ADAPTER_WEIGHTS_FILE), 'not safetensors');
    expect((await run(UNRELATED, [kelan, broken])).adapterDigests).toEqual([]);
    await expect(run('Question: Who founded Zorbel?\nAnswer:', [kelan, broken])).rejects.toMatchObject({
      code: 'ADAPTER_INVALID',
    });
  });

  it('routes each part of a concatenation (a revert rebuilt) by its own key', async () => {
    const files = (folder: string) => ({
      [ADAPTER_CONFIG_FILE]: readFileSync(join(folder, ADAPTER_CONFIG_FILE)),
      [ADAPTER_WEIGHTS_FILE]: readFileSync(join(folder, ADAPTER_WEIGHTS_FILE)),
    });
    const merged = join(work, 'merged');
    mkdirSync(merged);
    for (const [name, bytes] of Object.entries(concatLoraAdapters([files(kelan), files(lorvik)]))) {
      writeFileSync(join(merged, name), bytes);
    }
    const rows: EngineRow[] = [ABOUT_KELAN, ABOUT_LORVIK, UNRELATED].map((prompt) => ({
      prompt,
      params: greedy,
      adapterFolders: [merged],
    }));
    const [k, l, u] = await engine.generate(rows);
    expect(k.tokenIds).toEqual((await run(ABOUT_KELAN, [kelan])).tokenIds);
    expect(l.tokenIds).toEqual((await run(ABOUT_LORVIK, [lorvik])).tokenIds);
    expect(u.tokenIds).toEqual((await run(UNRELATED, [])).tokenIds);
    expect(u.adapterDigests).toEqual([]);
    expect(k.adapterDigests).toHaveLength(1);
  });
});
