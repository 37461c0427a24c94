import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GateVerdict } from 'src/gates/gate-verdict';
import { parseBundle } from 'src/attestation/sigstore/bundle';
import { decodePayload } from 'src/attestation/sigstore/dsse';
import {
  compareManifestPaths,
  IN_TOTO_STATEMENT_TYPE,
  modelSigningStatement,
  parseStatement,
  readModelSigningStatement,
  slsaProvenanceStatement,
  Statement,
  statementPayload,
  TEST_RESULT_PREDICATE_TYPE,
  testResultOutcomeOf,
  testResultStatement,
} from 'src/attestation/sigstore/in-toto';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

const FIXTURE = join(__dirname, '../../../test/fixtures/signing/model-signing-v1.1.0/v1.1.0-elliptic-key');
/** The statement model_signing 1.1.0 wrote for the fixture folder. */
const realStatement = JSON.parse(
  decodePayload(parseBundle(readFileSync(join(FIXTURE, 'model.sig'), 'utf8')).dsseEnvelope).toString(),
) as Statement;

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function failure(run: () => unknown): SigningError {
  try {
    run();
  } catch (error) {
    if (error instanceof SigningError) return error;
    throw error;
  }
  throw new Error('expected a SigningError');
}

describe('model_signing v1.0 statement', () => {
  const fixtureManifest = {
    modelName: 'v1.1.0-elliptic-key',
    files: [
      { path: 'signme-2', sha256: '32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028' },
      { path: 'signme-1', sha256: 'bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc' },
    ],
    ignorePaths: ['.git', 'model.sig', 'ignore-me', '.gitattributes', '.gitignore', '.github'],
  };

  it('is the statement model_signing 1.1.0 writes for the same files (golden)', () => {
    expect(modelSigningStatement(fixtureManifest)).toEqual(realStatement);
  });

  it('reads model_signing’s own statement back', () => {
    expect(readModelSigningStatement(parseStatement(statementPayload(realStatement)))).toEqual({
      ...fixtureManifest,
      files: [...fixtureManifest.files].reverse(),
    });
  });

  it('orders resources as Python orders POSIX paths: by component, then by code point', () => {
    const paths = ['a.txt', 'a/b', 'B', 'a', 'a/b/c', 'é', 'z'];
    expect([...paths].sort(compareManifestPaths)).toEqual(['B', 'a', 'a/b', 'a/b/c', 'a.txt', 'z', 'é']);
  });

  it('fails when the subject digest does not match the resources', () => {
    const statement = modelSigningStatement({
      modelName: 'm',
      files: [{ path: 'f', sha256: SHA_A }],
      ignorePaths: [],
    });
    statement.predicate.resources[0] = { name: 'f', algorithm: 'sha256', digest: SHA_B };
    const error = failure(() => readModelSigningStatement(statement));
    expect(error.code).toBe(SigningErrorCode.MALFORMED);
    expect(error.message).toMatch(/^the subject digest [0-9a-f]{64} does not match the resources/);
  });

  it.each([
    [
      'sharded serialization',
      { method: 'shards', hash_type: 'sha256', shard_size: 1000, allow_symlinks: false },
    ],
    ['another hash', { method: 'files', hash_type: 'blake2', allow_symlinks: false }],
  ])('refuses %s, which sealgate does not write', (_, serialization) => {
    const statement = {
      ...realStatement,
      predicate: { ...(realStatement.predicate as object), serialization },
    };
    expect(() => readModelSigningStatement(statement)).toThrow('only files/sha256');
  });

  it('refuses a file listed twice, a bad digest, and an empty model', () => {
    const twice = [
      { path: 'f', sha256: SHA_A },
      { path: 'f', sha256: SHA_B },
    ];
    expect(() => modelSigningStatement({ modelName: 'm', files: twice, ignorePaths: [] })).toThrow(
      'f is listed twice',
    );
    expect(() =>
      modelSigningStatement({ modelName: 'm', files: [{ path: 'f', sha256: 'ABC' }], ignorePaths: [] }),
    ).toThrow('f has no valid sha256 digest');
    expect(() => modelSigningStatement({ modelName: 'm', files: [], ignorePaths: [] })).toThrow(
      'at least one file',
    );
  });
});

describe('statements', () => {
  it('serialize as canonical JSON (RFC 8785) and parse back', () => {
    const statement = modelSigningStatement({
      modelName: 'm',
      files: [{ path: 'f', sha256: SHA_A }],
      ignorePaths: [],
    });
    const payload = statementPayload(statement).toString();
    expect(payload.startsWith('{"_type":"https://in-toto.io/Statement/v1","predicate":{"resources":[')).toBe(
      true,
    );
    expect(payload).not.toMatch(/\s/);
    expect(parseStatement(Buffer.from(payload))).toEqual(statement);
  });

  it.each([
    ['not JSON', 'nope', 'the payload is not JSON'],
    ['another _type', '{"_type":"https://in-toto.io/Statement/v0.1"}', 'the statement _type is'],
    [
      'no predicateType',
      `{"_type":"${IN_TOTO_STATEMENT_TYPE}","subject":[{"digest":{"sha256":"x"}}]}`,
      'no predicateType',
    ],
    [
      'no subject',
      `{"_type":"${IN_TOTO_STATEMENT_TYPE}","predicateType":"p","subject":[]}`,
      'has no subject',
    ],
    [
      'a subject without digest',
      `{"_type":"${IN_TOTO_STATEMENT_TYPE}","predicateType":"p","subject":[{"name":"n"}]}`,
      'subject #0 has no digest',
    ],
  ])('refuses a payload that is %s', (_, payload, message) => {
    expect(() => parseStatement(Buffer.from(payload))).toThrow(message);
  });
});

describe('SLSA provenance v1', () => {
  const adapter = { name: 'adapter', digest: { sha256: SHA_A } };

  it('has the v1 buildDefinition and runDetails, with RFC 3339 times', () => {
    const statement = slsaProvenanceStatement({
      subject: [adapter],
      buildType: 'https://sealgate.example/lora-self-edit/v1',
      externalParameters: { selfEditId: 'se-1', hyperparameters: { rank: 32, epochs: 10 } },
      internalParameters: { trainer: 'sealgate-gpu 0.1.0', device: 'cuda' },
      resolvedDependencies: [
        { name: 'parent-adapter', digest: { sha256: SHA_B } },
        { uri: 'sealgate://models/default', digest: { sha256: SHA_A } },
      ],
      builder: { id: 'https://sealgate.example/trainer', version: { sealgate: '0.1.0' } },
      invocationId: 'job-42',
      startedOn: new Date('2025-01-02T03:04:05Z'),
      finishedOn: new Date('2025-01-02T03:14:05Z'),
    });
    expect(statement).toEqual({
      _type: IN_TOTO_STATEMENT_TYPE,
      subject: [adapter],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://sealgate.example/lora-self-edit/v1',
          externalParameters: { selfEditId: 'se-1', hyperparameters: { rank: 32, epochs: 10 } },
          internalParameters: { trainer: 'sealgate-gpu 0.1.0', device: 'cuda' },
          resolvedDependencies: [
            { name: 'parent-adapter', digest: { sha256: SHA_B } },
            { uri: 'sealgate://models/default', digest: { sha256: SHA_A } },
          ],
        },
        runDetails: {
          builder: { id: 'https://sealgate.example/trainer', version: { sealgate: '0.1.0' } },
          metadata: {
            invocationId: 'job-42',
            startedOn: '2025-01-02T03:04:05.000Z',
            finishedOn: '2025-01-02T03:14:05.000Z',
          },
        },
      },
    });
  });

  it('leaves optional parts out rather than writing them empty', () => {
    const { predicate } = slsaProvenanceStatement({
      subject: [adapter],
      buildType: 'https://sealgate.example/lora-self-edit/v1',
      externalParameters: {},
      builder: { id: 'https://sealgate.example/trainer' },
    });
    expect(predicate.runDetails).toEqual({ builder: { id: 'https://sealgate.example/trainer' } });
    expect(Object.keys(predicate.buildDefinition)).toEqual(['buildType', 'externalParameters']);
  });

  it.each([
    ['no subject', { subject: [] }, 'at least one subject'],
    ['a subject without digest', { subject: [{ name: 'x', uri: 'u' }] }, 'subject #0 has no digest'],
    [
      'an uppercase sha256',
      { subject: [{ digest: { sha256: SHA_A.toUpperCase() } }] },
      'invalid sha256 digest',
    ],
    [
      'a dependency without uri or digest',
      { resolvedDependencies: [{ name: 'x' }] },
      'dependency #0 has neither',
    ],
    ['no builder id', { builder: { id: '' } }, 'needs a builder id'],
  ])('refuses provenance with %s', (_, override, message) => {
    const input = {
      subject: [adapter],
      buildType: 't',
      externalParameters: {},
      builder: { id: 'b' },
      ...override,
    };
    expect(() => slsaProvenanceStatement(input)).toThrow(message);
  });
});

describe('test-result v0.1', () => {
  it('records a gate report as the spec’s example does', () => {
    const statement = testResultStatement({
      subject: [{ name: 'candidate-adapter', digest: { sha256: SHA_A } }],
      result: testResultOutcomeOf(GateVerdict.WARN),
      configuration: [{ name: 'policies/prod.yaml', digest: { sha256: SHA_B } }],
      url: 'https://sealgate.example/gate-reports/7',
      passedTests: ['poisoning-screen'],
      warnedTests: ['bias-probe'],
    });
    expect(statement.predicateType).toBe(TEST_RESULT_PREDICATE_TYPE);
    expect(statement.predicate).toEqual({
      result: 'WARNED',
      configuration: [{ name: 'policies/prod.yaml', digest: { sha256: SHA_B } }],
      url: 'https://sealgate.example/gate-reports/7',
      passedTests: ['poisoning-screen'],
      warnedTests: ['bias-probe'],
      failedTests: [],
    });
  });

  it('maps every gate verdict', () => {
    expect([GateVerdict.PASS, GateVerdict.WARN, GateVerdict.FAIL].map(testResultOutcomeOf)).toEqual([
      'PASSED',
      'WARNED',
      'FAILED',
    ]);
  });

  it('refuses a passing result that lists failed tests', () => {
    const input = {
      subject: [{ digest: { sha256: SHA_A } }],
      result: 'PASSED' as const,
      configuration: [{ uri: 'sealgate://policies/prod' }],
      failedTests: ['forgetting-suite'],
    };
    expect(() => testResultStatement(input)).toThrow(
      'a PASSED result cannot list failed tests (forgetting-suite)',
    );
  });
});
