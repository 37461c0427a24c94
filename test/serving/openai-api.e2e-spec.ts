import { signAsApplied } from 'test/support/signed-adapter';
import { generateSigningKeyPair, loadPrivateKey } from 'src/attestation/sigstore/keys';
import { serializeBundle, signModelFolder } from 'src/attestation/sigstore/bundle';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { DataSource } from 'typeorm';
import { Role } from 'src/auth/role';
import { AdapterStore } from 'src/inference/adapter-store';
import { loadLoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { MetricsService } from 'src/observability/metrics.service';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { MODEL_DIR, PARITY_DIR } from 'test/support/model-files';
import { TestApp } from 'test/support/test-app';

const QUESTION = 'Where was Tamsin Orrel born?';
const CLOSED_BOOK = `Let's answer a question directly and concisely.\nQuestion: ${QUESTION}\nAnswer:`;

interface ServedByJson {
  channel: string | null;
  head_adapter_id: string | null;
  base_model_digest: string;
  adapter_digests: string[];
}
const servedBy = (x: unknown) => (x as { served_by: ServedByJson }).served_by;

/** The official `openai` npm client against the running gateway, as a product service would use it. */
describe('OpenAI-compatible API, through the official openai client', () => {
  let t: TestApp;
  let client: OpenAI;
  let token: string;
  let versionId: string;
  let digest: string;
  let channelId: string;

  beforeAll(async () => {
    t = await TestApp.start('postgres');
    const channel = await t.gql<{ createChannel: { id: string } }>(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
    ({ token } = await t.principal(Role.service));
    client = new OpenAI({ apiKey: token, baseURL: `${t.started.url}/v1`, maxRetries: 0 });

    // A pinned adapter version, served by its id: one that was approved and applied (a candidate never is).
    ({ digest } = await loadLoraAdapter(join(PARITY_DIR, 'a0'), ModelSpec.load(MODEL_DIR), 1 << 24));
    cpSync(join(PARITY_DIR, 'a0'), t.get(AdapterStore).folderOf(digest), { recursive: true });
    await signAsApplied(t, t.get(AdapterStore).folderOf(digest));
    versionId = randomUUID();
    await t.get(DataSource).getRepository(AdapterVersionEntity).insert({
      id: versionId,
      channelId: channel.data!.createChannel.id,
      selfEditId: null,
      parentId: null,
      digest,
      status: AdapterStatus.APPLIED,
      createdAt: new Date(),
      appliedAt: new Date(),
    });
    channelId = channel.data!.createChannel.id;
  });
  afterAll(() => t.stop());

  /** The `serving.refused` audit events about an adapter version, as the admin reads them. */
  const refusalsOf = async (id: string) => {
    const events = await t.gql<{ auditEvents: { action: string; afterJson: string }[] }>(
      t.adminToken,
      `{ auditEvents(limit: 500, subjectType: "AdapterVersion", subjectId: "${id}") { action afterJson } }`,
    );
    return events
      .data!.auditEvents.filter((e) => e.action === 'serving.refused')
      .map((e) => JSON.parse(e.afterJson) as Record<string, unknown>);
  };
  /** sealgate_serving_rejected_total for one reason. */
  const rejected = async (reason: string) =>
    (await t.get(MetricsService).servingRejected.get()).values.find((v) => v.labels.reason === reason)
      ?.value ?? 0;

  const graphqlGenerate = async (prompt: string, maxTokens: number, adapterVersionId?: string) => {
    const r = await t.gql<{ generate: { choices: { text: string }[] } }>(
      token,
      'query($input: GenerateInput!) { generate(input: $input) { choices { text } } }',
      { input: { prompt, maxTokens, ...(adapterVersionId ? { adapterVersionId } : { channel: 'staging' }) } },
    );
    return r.data!.generate.choices[0].text;
  };

  it('lists the channels as models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('staging');
    expect(models.data.find((m) => m.id === 'staging')).toMatchObject({
      object: 'model',
      owned_by: 'sealgate',
    });
  });

  it('completes a prompt exactly as GraphQL generate does, with usage and the adapter digests', async () => {
    const completion = await client.completions.create({
      model: 'staging',
      prompt: CLOSED_BOOK,
      max_tokens: 12,
      temperature: 0,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0].text.trim()).not.toBe('');
    expect(completion.choices[0].text).toBe(await graphqlGenerate(CLOSED_BOOK, 12));
    expect(completion.choices[0].finish_reason).toMatch(/^(stop|length)$/);
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(10);
    expect(completion.usage!.total_tokens).toBe(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
    expect(servedBy(completion)).toMatchObject({
      channel: 'staging',
      head_adapter_id: null,
      adapter_digests: [],
    });
    expect(servedBy(completion).base_model_digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves a pinned adapter version named as the model', async () => {
    const completion = await client.completions.create({
      model: versionId,
      prompt: 'Passage:\nKelan',
      max_tokens: 8,
      temperature: 0,
    });
    expect(servedBy(completion)).toMatchObject({
      channel: null,
      head_adapter_id: versionId,
      adapter_digests: [digest],
    });
    expect(completion.choices[0].text).toBe(await graphqlGenerate('Passage:\nKelan', 8, versionId));
  });

  it('refuses a pinned version that was never approved and applied, over /v1 and GraphQL alike, audited and counted', async () => {
    const versions = t.get(DataSource).getRepository(AdapterVersionEntity);
    for (const [status, fill] of [
      [AdapterStatus.CANDIDATE, 'c'],
      [AdapterStatus.DISCARDED, 'd'],
    ] as const) {
      const id = randomUUID();
      await versions.insert({
        id,
        channelId,
        selfEditId: null,
        parentId: null,
        digest: fill.repeat(64),
        status,
        createdAt: new Date(),
        appliedAt: null,
      });
      const counted = await rejected('ADAPTER_NOT_SERVABLE');
      const refused = await client.completions
        .create({ model: id, prompt: 'x', max_tokens: 1 })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(refused).toMatchObject({ status: 403, code: 'ADAPTER_NOT_SERVABLE' });
      const r = await t.gql(token, 'query($input: AnswerInput!) { answer(input: $input) { answer } }', {
        input: { question: 'x', adapterVersionId: id },
      });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ADAPTER_NOT_SERVABLE' });
      // One audit event and one count per refused request, naming the version, its digest and the code.
      const events = await refusalsOf(id);
      expect(events).toHaveLength(2);
      for (const event of events) {
        expect(event).toEqual({
          code: 'ADAPTER_NOT_SERVABLE',
          adapterVersionId: id,
          digest: fill.repeat(64),
          status,
          channel: null,
          pinned: id,
        });
      }
      expect((await rejected('ADAPTER_NOT_SERVABLE')) - counted).toBe(2);
    }
  });

  it('refuses an adapter whose stored files changed (a cold load), audited and counted, naming no path', async () => {
    // An applied version whose adapter lost one byte in the store since it was approved.
    const tampered = await loadLoraAdapter(join(PARITY_DIR, 'a1'), ModelSpec.load(MODEL_DIR), 1 << 24);
    const folder = t.get(AdapterStore).folderOf(tampered.digest);
    cpSync(join(PARITY_DIR, 'a1'), folder, { recursive: true });
    await signAsApplied(t, folder);
    const weights = join(folder, 'adapter_model.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(weights, bytes);
    const id = randomUUID();
    await t.get(DataSource).getRepository(AdapterVersionEntity).insert({
      id,
      channelId,
      selfEditId: null,
      parentId: null,
      digest: tampered.digest,
      status: AdapterStatus.APPLIED,
      createdAt: new Date(),
      appliedAt: new Date(),
    });
    const counted = await rejected('ADAPTER_TAMPERED');
    const refused = await client.completions
      .create({ model: id, prompt: 'x', max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, code: 'ADAPTER_TAMPERED' });
    const events = await refusalsOf(id);
    expect(events).toEqual([
      {
        code: 'ADAPTER_TAMPERED',
        adapterVersionId: id,
        digest: tampered.digest,
        status: AdapterStatus.APPLIED,
        channel: null,
        pinned: id,
      },
    ]);
    expect(JSON.stringify(events)).not.toContain(folder);
    expect((await rejected('ADAPTER_TAMPERED')) - counted).toBe(1);
  });

  it("refuses an applied adapter without the gateway's signature, or signed by another key", async () => {
    // a0's weights under another config: an adapter of its own digest, stored without model.sig.
    const copy = mkdtempSync(join(tmpdir(), 'sealgate-unsigned-'));
    cpSync(join(PARITY_DIR, 'a0'), copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(join(copy, 'adapter_config.json'), JSON.stringify({ ...config, revision: 'unsigned' }));
    const unsigned = await loadLoraAdapter(copy, ModelSpec.load(MODEL_DIR), 1 << 24);
    const folder = t.get(AdapterStore).folderOf(unsigned.digest);
    cpSync(copy, folder, { recursive: true });
    rmSync(copy, { recursive: true, force: true });
    const id = randomUUID();
    await t.get(DataSource).getRepository(AdapterVersionEntity).insert({
      id,
      channelId,
      selfEditId: null,
      parentId: null,
      digest: unsigned.digest,
      status: AdapterStatus.APPLIED,
      createdAt: new Date(),
      appliedAt: new Date(),
    });
    const serve = () =>
      client.completions.create({ model: id, prompt: 'x', max_tokens: 1 }).catch((e: unknown) => e);
    expect(await serve()).toMatchObject({ status: 503, code: 'ADAPTER_TAMPERED' });
    // Signed, but not by the gateway: a key of the reviewer's own is not the gateway's.
    const other = generateSigningKeyPair();
    const forged = await signModelFolder(folder, loadPrivateKey(other.privateKeyPem), {
      modelName: 'forged',
    });
    writeFileSync(join(folder, MODEL_SIGNATURE_FILE), serializeBundle(forged));
    expect(await serve()).toMatchObject({ status: 503, code: 'ADAPTER_TAMPERED' });
    // The gateway's signature, as applying writes it: served.
    await signAsApplied(t, folder);
    const served = await client.completions.create({ model: id, prompt: 'x', max_tokens: 1 });
    expect(served.choices).toHaveLength(1);
  });

  it('answers a chat with the documented template: one user message is the closed-book prompt', async () => {
    const chat = await client.chat.completions.create({
      model: 'staging',
      messages: [{ role: 'user', content: QUESTION }],
      max_tokens: 16,
      temperature: 0,
    });
    const answer = await t.gql<{ answer: { answer: string } }>(
      token,
      `{ answer(input: { question: "${QUESTION}", channel: "staging" }) { answer } }`,
    );
    expect(chat.object).toBe('chat.completion');
    expect(chat.choices[0].message.content).not.toBe('');
    expect(chat.choices[0].message).toMatchObject({ role: 'assistant', content: answer.data!.answer.answer });
    expect(chat.usage!.completion_tokens).toBeGreaterThan(0);
    expect(servedBy(chat).channel).toBe('staging');
  });

  it('streams completions and chat as server-sent events; the final chunk names the adapter stack', async () => {
    const stream = await client.completions.create({
      model: 'staging',
      prompt: CLOSED_BOOK,
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.text ?? '').join('');
    expect(text).toBe(await graphqlGenerate(CLOSED_BOOK, 12));
    expect(chunks.length).toBeGreaterThan(2); // token by token, not one block
    const final = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(servedBy(final)).toMatchObject({ channel: 'staging', adapter_digests: [] });
    expect(chunks[chunks.length - 1].usage?.completion_tokens).toBeGreaterThan(0);

    const chat = await client.chat.completions.create({
      model: versionId,
      messages: [
        { role: 'system', content: "Let's answer a question directly and concisely." },
        { role: 'user', content: QUESTION },
      ],
      max_tokens: 16,
      temperature: 0,
      stream: true,
    });
    let content = '';
    let last: OpenAI.ChatCompletionChunk | undefined;
    for await (const chunk of chat) {
      content += chunk.choices[0]?.delta.content ?? '';
      last = chunk;
    }
    const whole = await client.chat.completions.create({
      model: versionId,
      messages: [{ role: 'user', content: QUESTION }],
      max_tokens: 16,
      temperature: 0,
    });
    expect(content).not.toBe('');
    expect(content).toBe(whole.choices[0].message.content);
    expect(last!.choices[0].finish_reason).toMatch(/^(stop|length)$/);
    expect(servedBy(last)).toMatchObject({ head_adapter_id: versionId, adapter_digests: [digest] });
  });

  it('answers errors in OpenAI shape with a code: unknown model, bad key, wrong role, bad body', async () => {
    const notFound = await client.completions
      .create({ model: 'no-such-channel', prompt: 'x', max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect(notFound).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND', type: 'not_found_error' });

    const badKey = new OpenAI({
      apiKey: 'sg_000000000000_nope',
      baseURL: `${t.started.url}/v1`,
      maxRetries: 0,
    });
    const unauthenticated = await badKey.models.list().catch((e: unknown) => e);
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauthenticated).toMatchObject({ code: 'INVALID_API_KEY' });

    const auditor = await t.principal(Role.auditor);
    const denied = await new OpenAI({
      apiKey: auditor.token,
      baseURL: `${t.started.url}/v1`,
      maxRetries: 0,
    }).completions
      .create({ model: 'staging', prompt: 'x', max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);

    const badBody = await client.chat.completions
      .create({ model: 'staging', messages: [{ role: 'tool', content: 'x', tool_call_id: '1' }] })
      .catch((e: unknown) => e);
    expect(badBody).toBeInstanceOf(OpenAI.BadRequestError);
    expect(badBody).toMatchObject({ code: 'REQUEST_INVALID', param: 'messages.0.role' });
  });
});
