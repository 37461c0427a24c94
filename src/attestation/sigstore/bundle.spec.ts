import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bundleStatement,
  parseBundle,
  publicKeyHint,
  serializeBundle,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  signModelFolder,
  SigstoreBundle,
  verifyBundle,
  verifyModelFolder,
} from 'src/attestation/sigstore/bundle';
import { addSignature, decodePayload, IN_TOTO_PAYLOAD_TYPE } from 'src/attestation/sigstore/dsse';
import { parseStatement, slsaProvenanceStatement } from 'src/attestation/sigstore/in-toto';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey } from 'src/attestation/sigstore/keys';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

const GOLDEN = join(__dirname, '../../../test/fixtures/signing/model-signing-v1.1.0');
const goldenKey = loadPublicKey(readFileSync(join(GOLDEN, 'signing-key-pub.pem'), 'utf8'));

const keyPair = () => {
  const pair = generateSigningKeyPair();
  return {
    ...pair,
    privateKey: loadPrivateKey(pair.privateKeyPem),
    publicKey: loadPublicKey(pair.publicKeyPem),
  };
};
const gateway = keyPair();
const approver = keyPair();

async function failure(run: () => Promise<unknown>): Promise<SigningError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SigningError) return error;
    throw error;
  }
  throw new Error('expected a SigningError');
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sealgate-bundle-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A PEFT-like adapter folder, with git clutter that must stay unsigned. */
async function adapterFolder(name: string): Promise<string> {
  const folder = join(scratch, name);
  await mkdir(join(folder, 'checkpoint'), { recursive: true });
  await mkdir(join(folder, '.git'));
  await writeFile(
    join(folder, 'adapter_config.json'),
    '{"r":32,"lora_alpha":64,"target_modules":["q_proj","v_proj"]}',
  );
  await writeFile(join(folder, 'adapter_model.safetensors'), randomBytes(4096));
  await writeFile(join(folder, 'checkpoint', 'trainer_state.json'), '{"epoch":10}');
  await writeFile(join(folder, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return folder;
}

/** Signs the folder and writes model.sig into it, as `model_signing sign` does. */
async function signInPlace(folder: string): Promise<SigstoreBundle> {
  const bundle = await signModelFolder(folder, gateway.privateKey);
  await writeFile(join(folder, MODEL_SIGNATURE_FILE), serializeBundle(bundle));
  return parseBundle(await readFile(join(folder, MODEL_SIGNATURE_FILE), 'utf8'));
}

const flipByte = async (path: string, at = 0): Promise<void> => {
  const bytes = await readFile(path);
  bytes[at] = (bytes[at] ?? 0) ^ 1;
  await writeFile(path, bytes);
};

describe('model_signing 1.1.0 signature (golden)', () => {
  const readGoldenBundle = () =>
    parseBundle(readFileSync(join(GOLDEN, 'v1.1.0-elliptic-key', MODEL_SIGNATURE_FILE), 'utf8'));

  it('verifies the folder and signature model_signing wrote, with its public key', async () => {
    const verified = await verifyModelFolder(
      join(GOLDEN, 'v1.1.0-elliptic-key'),
      readGoldenBundle(),
      goldenKey,
    );
    expect(verified.modelName).toBe('v1.1.0-elliptic-key');
    expect(verified.files.map((file) => file.path)).toEqual(['signme-1', 'signme-2']);
  });

  it('computes the same key hint model_signing wrote', () => {
    expect(publicKeyHint(goldenKey)).toBe(readGoldenBundle().verificationMaterial.publicKey.hint);
  });

  it('names the changed file after one byte of it changes, and ignores the ignored one', async () => {
    const folder = join(scratch, 'golden-copy');
    await cp(join(GOLDEN, 'v1.1.0-elliptic-key'), folder, { recursive: true });
    await writeFile(join(folder, 'ignore-me'), 'anything at all');
    await expect(verifyModelFolder(folder, readGoldenBundle(), goldenKey)).resolves.toBeDefined();
    await flipByte(join(folder, 'signme-2'), 7);
    const error = await failure(() => verifyModelFolder(folder, readGoldenBundle(), goldenKey));
    expect(error.code).toBe(SigningErrorCode.DIGEST_MISMATCH);
    expect(error.message).toMatch(/^signme-2 has sha256 [0-9a-f]{64}, but 32dcb1f8[0-9a-f]{56} was signed$/);
    expect(error.details).toEqual({ path: 'signme-2' });
  });
});

describe('signing an adapter folder into model.sig', () => {
  it('writes the Sigstore bundle shape model_signing writes for key-based signing', async () => {
    const folder = await adapterFolder('shape');
    const bundle = await signModelFolder(folder, gateway.privateKey);
    expect(JSON.parse(serializeBundle(bundle))).toEqual({
      mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
      verificationMaterial: {
        publicKey: { hint: createHash('sha256').update(gateway.publicKeyPem).digest('hex') },
        tlogEntries: [],
      },
      dsseEnvelope: {
        payload: expect.any(String),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        signatures: [{ keyid: gateway.keyId, sig: expect.any(String) }],
      },
    });
    const statement = parseStatement(decodePayload(bundle.dsseEnvelope));
    expect(statement.subject[0]?.name).toBe('shape');
    expect(statement.predicate).toEqual({
      serialization: {
        method: 'files',
        hash_type: 'sha256',
        allow_symlinks: false,
        ignore_paths: ['model.sig', '.git', '.gitattributes', '.github', '.gitignore'],
      },
      resources: [
        {
          name: 'adapter_config.json',
          algorithm: 'sha256',
          digest: createHash('sha256')
            .update(await readFile(join(folder, 'adapter_config.json')))
            .digest('hex'),
        },
        {
          name: 'adapter_model.safetensors',
          algorithm: 'sha256',
          digest: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        {
          name: 'checkpoint/trainer_state.json',
          algorithm: 'sha256',
          digest: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      ],
    });
  });

  it('round-trips: model.sig inside the folder verifies with the gateway’s public key', async () => {
    const folder = await adapterFolder('round-trip');
    const bundle = await signInPlace(folder);
    const verified = await verifyModelFolder(folder, bundle, gateway.publicKey);
    expect(verified).toEqual({
      modelName: 'round-trip',
      files: expect.any(Array),
      signerKeyIds: [gateway.keyId],
    });
    expect(verified.files).toHaveLength(3);
  });

  it('names the file when one byte of it changes', async () => {
    const folder = await adapterFolder('one-byte');
    const bundle = await signInPlace(folder);
    await flipByte(join(folder, 'adapter_model.safetensors'), 1000);
    const error = await failure(() => verifyModelFolder(folder, bundle, gateway.publicKey));
    expect(error.code).toBe(SigningErrorCode.DIGEST_MISMATCH);
    expect(error.message).toMatch(/^adapter_model\.safetensors has sha256 /);
  });

  it('names a signed file that is gone, and a file nobody signed', async () => {
    const folder = await adapterFolder('added-removed');
    const bundle = await signInPlace(folder);
    await writeFile(join(folder, 'checkpoint', 'optimizer.pt'), 'new');
    expect((await failure(() => verifyModelFolder(folder, bundle, gateway.publicKey))).message).toBe(
      'checkpoint/optimizer.pt is not covered by the signature',
    );
    await unlink(join(folder, 'adapter_config.json'));
    expect((await failure(() => verifyModelFolder(folder, bundle, gateway.publicKey))).message).toBe(
      'adapter_config.json is signed but missing',
    );
  });

  it('fails on the signature when one byte of the payload or of the signature changes', async () => {
    const folder = await adapterFolder('tampered-bundle');
    const bundle = await signInPlace(folder);
    const payload = decodePayload(bundle.dsseEnvelope);
    payload[payload.indexOf('adapter_config.json')] = 'A'.charCodeAt(0);
    const forgedPayload = {
      ...bundle,
      dsseEnvelope: { ...bundle.dsseEnvelope, payload: payload.toString('base64') },
    };
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0]?.sig ?? '', 'base64');
    sig[sig.length - 5] = (sig[sig.length - 5] ?? 0) ^ 1;
    const forgedSig = {
      ...bundle,
      dsseEnvelope: {
        ...bundle.dsseEnvelope,
        signatures: [{ keyid: gateway.keyId, sig: sig.toString('base64') }],
      },
    };
    for (const forged of [forgedPayload, forgedSig]) {
      const error = await failure(() => verifyModelFolder(folder, forged, gateway.publicKey));
      expect(error.code).toBe(SigningErrorCode.SIGNATURE_INVALID);
      expect(error.message).toContain(`DSSE signature #0 (keyid ${gateway.keyId}) does not verify`);
    }
  });

  it('fails with another key: first on the hint, then on the signature if the hint is removed', async () => {
    const folder = await adapterFolder('other-key');
    const bundle = await signInPlace(folder);
    const hintError = await failure(() => verifyModelFolder(folder, bundle, approver.publicKey));
    expect(hintError.message).toBe(
      `the bundle names key hint ${publicKeyHint(gateway.publicKey)}, which is none of the trusted keys`,
    );
    const noHint = { ...bundle, verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] } };
    expect((await failure(() => verifyModelFolder(folder, noHint, approver.publicKey))).message).toContain(
      `no valid signature by required key ${approver.keyId}`,
    );
  });

  it('refuses symlinks, as model_signing does by default', async () => {
    const folder = await adapterFolder('symlink');
    await symlink(join(folder, 'adapter_config.json'), join(folder, 'config-link.json'));
    const error = await failure(() => signModelFolder(folder, gateway.privateKey));
    expect(error.code).toBe(SigningErrorCode.UNSUPPORTED_FILE);
    expect(error.message).toBe('config-link.json is a symlink');
  });

  it('refuses an empty folder and a path that is not a folder', async () => {
    const empty = join(scratch, 'empty');
    await mkdir(empty);
    expect((await failure(() => signModelFolder(empty, gateway.privateKey))).message).toContain(
      'has no files',
    );
    expect(
      (await failure(() => signModelFolder(join(scratch, 'nowhere'), gateway.privateKey))).message,
    ).toContain('is not a folder');
  });

  it('refuses a signature naming a path outside the folder, even when validly signed', async () => {
    const folder = await adapterFolder('escape');
    const bundle = await signModelFolder(folder, gateway.privateKey, { modelName: 'escape' });
    const statement = parseStatement(decodePayload(bundle.dsseEnvelope));
    const predicate = statement.predicate as { resources: { name: string }[] };
    predicate.resources.forEach((resource) => (resource.name = `../escape/${resource.name}`));
    const evil = bundleStatement(statement, gateway.privateKey);
    expect((await failure(() => verifyModelFolder(folder, evil, gateway.publicKey))).message).toMatch(
      /^the signature names a path outside the folder: \.\.\/escape\//,
    );
  });
});

describe('attestation bundles with approvals', () => {
  const provenance = slsaProvenanceStatement({
    subject: [{ name: 'adapter', digest: { sha256: 'c'.repeat(64) } }],
    buildType: 'https://sealgate.example/lora-self-edit/v1',
    externalParameters: { selfEditId: 'se-1' },
    builder: { id: 'https://sealgate.example/trainer' },
  });

  it('carries the gateway’s and each approver’s signature, and requires the ones asked for', () => {
    const bundle = bundleStatement(provenance, gateway.privateKey);
    const approved = { ...bundle, dsseEnvelope: addSignature(bundle.dsseEnvelope, approver.privateKey) };
    const reread = parseBundle(serializeBundle(approved));
    const verified = verifyBundle(reread, [gateway.publicKey, approver.publicKey], {
      requiredKeyIds: [gateway.keyId, approver.keyId],
    });
    expect(verified.statement).toEqual(provenance);
    expect(verified.signerKeyIds).toEqual([gateway.keyId, approver.keyId]);
    expect(() =>
      verifyBundle(bundle, [gateway.publicKey, approver.publicKey], { requiredKeyIds: [approver.keyId] }),
    ).toThrow(`no valid signature by required key ${approver.keyId}`);
  });

  it.each([
    ['not JSON', 'nope', 'the bundle is not JSON'],
    [
      'another media type',
      '{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1"}',
      'media type',
    ],
    [
      'without verification material',
      `{"mediaType":"${SIGSTORE_BUNDLE_MEDIA_TYPE}"}`,
      'no verificationMaterial',
    ],
    [
      'no envelope',
      `{"mediaType":"${SIGSTORE_BUNDLE_MEDIA_TYPE}","verificationMaterial":{}}`,
      'not a JSON object',
    ],
  ])('refuses a bundle %s', (_, text, message) => {
    expect(() => parseBundle(text)).toThrow(message);
  });
});
