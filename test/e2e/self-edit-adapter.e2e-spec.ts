import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { answerMatches } from 'src/gates/probing/answer-match';
import { AdapterStore } from 'src/inference/adapter-store';
import { loadLoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { selfEditSequences } from 'src/training/self-edit-sequences';
import { TrainerClient } from 'src/training/trainer-client';
import { LORA_TARGET_MODULES } from 'src/training/trainer-protocol';
import { MODEL_DIR } from 'test/support/model-files';
import { signAsApplied } from 'test/support/signed-adapter';
import { TestApp } from 'test/support/test-app';

interface Question {
  question: string;
  answer: string;
  aliases: string[];
}
interface HeldoutPassage {
  id: string;
  split: string;
  title: string;
  passage: string;
  questions: Question[];
}

/** The inner update of SEAL, as the gateway will run it (the hyperparameters a self-edit may ask for). */
const INNER_UPDATE = { lr: 3e-3, epochs: 10, batch_size: 8, seed: 0 };

/**
 * New knowledge reaches the model through a self-edit: the model reads an unseen passage, writes implications,
 * gpu/ trains a LoRA adapter on them, and the gateway's answer to a question about the passage goes from wrong
 * (the base model cannot know it) to right, served by the adapter and labelled with its digest.
 */
describe('a self-edit adapter teaches the served model an unseen passage', () => {
  let t: TestApp;
  let trainer: TrainerClient;
  let work: string;
  const passage = readFileSync(join(MODEL_DIR, 'world', 'heldout.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HeldoutPassage)
    .find((p) => p.split === 'eval')!;

  beforeAll(async () => {
    t = await TestApp.start('postgres');
    trainer = new TrainerClient();
    work = mkdtempSync(join(tmpdir(), 'sealgate-e2e-'));
  });
  afterAll(async () => {
    await trainer.close();
    await t.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const answer = async (q: Question, adapterVersionId?: string) => {
    const r = await t.gql<{ answer: { answer: string; servedBy: { adapterDigests: string[] } } }>(
      t.adminToken,
      'query($input: AnswerInput!) { answer(input: $input) { answer servedBy { adapterDigests } } }',
      { input: { question: q.question, adapterVersionId } },
    );
    expect(r.errors).toBeUndefined();
    return r.data!.answer;
  };

  it('answers wrong before the update and right after it, through GraphQL', async () => {
    const before = await Promise.all(passage.questions.map((q) => answer(q)));
    const rightBefore = passage.questions.filter((q, i) =>
      answerMatches(before[i].answer, q.answer, q.aliases),
    );

    // The model writes its own self-edit for the passage.
    const prompts = JSON.parse(readFileSync(join(MODEL_DIR, 'prompts.json'), 'utf8')) as Record<
      string,
      string
    >;
    const prompt = prompts.implications
      .replace('{title}', passage.title)
      .replace('{context}', passage.passage);
    const generated = await t.gql<{ generate: { choices: { text: string }[] } }>(
      t.adminToken,
      'query($input: GenerateInput!) { generate(input: $input) { choices { text } } }',
      { input: { prompt, maxTokens: 120 } },
    );
    const lines = generated.data!.generate.choices[0].text.split('\n').filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(0);

    // gpu/ trains the adapter on the self-edit and the passage.
    const spec = ModelSpec.load(MODEL_DIR);
    const sequences = await selfEditSequences(TextTokenizer.fromFile(spec.tokenizerPath), spec.eosIds[0], {
      lines,
      passage: { title: passage.title, text: passage.passage },
    });
    const trained = await trainer.train({
      base_model: resolve(MODEL_DIR), // the trainer runs in gpu/
      sequences,
      lora: { r: 16, alpha: 32, target_modules: [...LORA_TARGET_MODULES] },
      output_dir: join(work, 'adapter'),
      ...INNER_UPDATE,
    });

    // The adapter enters the store and lineage as a version of a channel, applied (only those are served).
    const { digest } = await loadLoraAdapter(trained.adapter_dir, spec, 1 << 26);
    cpSync(trained.adapter_dir, t.get(AdapterStore).folderOf(digest), { recursive: true });
    await signAsApplied(t, t.get(AdapterStore).folderOf(digest));
    const channel = await t.gql<{ createChannel: { id: string } }>(
      t.adminToken,
      'mutation { createChannel(input: { name: "knowledge", baseModel: "default" }) { id } }',
    );
    const versionId = randomUUID();
    await t.get(DataSource).getRepository(AdapterVersionEntity).insert({
      id: versionId,
      channelId: channel.data!.createChannel.id,
      selfEditId: null,
      parentId: null,
      digest,
      status: AdapterStatus.APPLIED,
      training: null,
      createdAt: new Date(),
      appliedAt: new Date(),
    });

    const after = await Promise.all(passage.questions.map((q) => answer(q, versionId)));
    const flipped = passage.questions.filter(
      (q, i) =>
        !answerMatches(before[i].answer, q.answer, q.aliases) &&
        answerMatches(after[i].answer, q.answer, q.aliases),
    );
    const rightAfter = passage.questions.filter((q, i) =>
      answerMatches(after[i].answer, q.answer, q.aliases),
    );
    expect(flipped.length).toBeGreaterThan(0);
    expect(rightAfter.length).toBeGreaterThan(rightBefore.length);
    expect(after.every((a) => a.servedBy.adapterDigests.join() === digest)).toBe(true);
    expect(before.every((a) => a.servedBy.adapterDigests.length === 0)).toBe(true);

    // The base model itself is unchanged.
    const again = await Promise.all(passage.questions.map((q) => answer(q)));
    expect(again.map((a) => a.answer)).toEqual(before.map((a) => a.answer));
  }, 180_000);
});
