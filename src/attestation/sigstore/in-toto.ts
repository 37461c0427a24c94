import canonicalize from 'canonicalize';
import { sha256Hex } from 'src/common/sha256';
import { isRecord } from 'src/attestation/sigstore/dsse';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

/** in-toto attestation framework v1 (github.com/in-toto/attestation, spec/v1). */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const MODEL_SIGNING_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
export const SLSA_PROVENANCE_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';
export const TEST_RESULT_PREDICATE_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

/** Algorithm name to lowercase hex digest, e.g. `{ sha256: '…' }`. */
export type DigestSet = Record<string, string>;

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface Statement<Predicate = unknown> {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: Predicate;
}

/** The DSSE payload of a statement: RFC 8785 canonical JSON, so the same statement always has the same bytes. */
export const statementPayload = (statement: Statement): Buffer =>
  Buffer.from(canonicalize(statement) ?? '', 'utf8');

/** Parses a payload as an in-toto Statement v1 and checks the layer's required fields. */
export function parseStatement(payload: Buffer): Statement {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw malformed('the payload is not JSON');
  }
  if (!isRecord(value)) throw malformed('the statement is not a JSON object');
  if (value._type !== IN_TOTO_STATEMENT_TYPE) {
    throw malformed(`the statement _type is ${JSON.stringify(value._type)}, not ${IN_TOTO_STATEMENT_TYPE}`);
  }
  if (typeof value.predicateType !== 'string' || !value.predicateType) {
    throw malformed('the statement has no predicateType');
  }
  const subject = value.subject;
  if (!Array.isArray(subject) || subject.length === 0) throw malformed('the statement has no subject');
  subject.forEach((entry: unknown, index) => {
    if (!isRecord(entry) || !isRecord(entry.digest) || Object.keys(entry.digest).length === 0) {
      throw malformed(`subject #${index} has no digest`);
    }
  });
  return value as unknown as Statement;
}

// --- model_signing v1.0 (github.com/sigstore/model-transparency, src/model_signing/_signing/signing.py) ---

export interface FileDigest {
  /** Relative POSIX path inside the model folder. */
  path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** The predicate exactly as model_signing 1.x writes it for serialization by whole files. */
export interface ModelSigningPredicate {
  serialization: { method: 'files'; hash_type: 'sha256'; allow_symlinks: boolean; ignore_paths: string[] };
  resources: { name: string; algorithm: 'sha256'; digest: string }[];
}

export interface ModelManifest {
  /** The folder's name when it was signed; informative only, renaming a folder keeps its signature valid. */
  modelName: string;
  /** In manifest order (see `compareManifestPaths`). */
  files: FileDigest[];
  ignorePaths: string[];
}

/**
 * The model_signing statement for a folder: one subject named after the model whose sha256 is the SHA-256 of
 * the concatenated raw file digests in resource order, and every file in `predicate.resources`.
 */
export function modelSigningStatement(manifest: ModelManifest): Statement<ModelSigningPredicate> {
  if (!manifest.modelName) throw malformed('the model name is empty');
  if (manifest.files.length === 0) throw malformed('a model signature needs at least one file');
  const files = [...manifest.files].sort((a, b) => compareManifestPaths(a.path, b.path));
  files.forEach((file, index) => {
    if (!isSha256(file.sha256)) throw malformed(`${file.path} has no valid sha256 digest`);
    if (index > 0 && files[index - 1]?.path === file.path) throw malformed(`${file.path} is listed twice`);
  });
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: manifest.modelName, digest: { sha256: rootDigestOf(files) } }],
    predicateType: MODEL_SIGNING_PREDICATE_TYPE,
    predicate: {
      serialization: {
        method: 'files',
        hash_type: 'sha256',
        allow_symlinks: false,
        ignore_paths: [...manifest.ignorePaths],
      },
      resources: files.map((file) => ({ name: file.path, algorithm: 'sha256', digest: file.sha256 })),
    },
  };
}

/** Reads a model_signing v1.0 statement back, checking the subject digest against the resources. */
export function readModelSigningStatement(statement: Statement): ModelManifest {
  if (statement.predicateType !== MODEL_SIGNING_PREDICATE_TYPE) {
    throw malformed(`the predicate type is ${statement.predicateType}, not ${MODEL_SIGNING_PREDICATE_TYPE}`);
  }
  const [subject, ...others] = statement.subject;
  if (!subject || others.length > 0) throw malformed('a model signature has exactly one subject');
  const predicate = statement.predicate;
  if (!isRecord(predicate) || !isRecord(predicate.serialization) || !Array.isArray(predicate.resources)) {
    throw malformed('the model signing predicate has no serialization or resources');
  }
  const { method, hash_type: hashType, ignore_paths: ignorePaths = [] } = predicate.serialization;
  if (method !== 'files' || hashType !== 'sha256') {
    throw malformed(
      `serialization ${String(method)}/${String(hashType)} is not supported; only files/sha256`,
    );
  }
  if (!Array.isArray(ignorePaths) || !ignorePaths.every((path) => typeof path === 'string')) {
    throw malformed('ignore_paths is not a list of strings');
  }
  const files = predicate.resources.map((resource: unknown, index): FileDigest => {
    if (!isRecord(resource) || typeof resource.name !== 'string' || !resource.name) {
      throw malformed(`resource #${index} has no name`);
    }
    if (
      resource.algorithm !== 'sha256' ||
      typeof resource.digest !== 'string' ||
      !isSha256(resource.digest)
    ) {
      throw malformed(`resource ${resource.name} has no sha256 digest`);
    }
    return { path: resource.name, sha256: resource.digest };
  });
  if (new Set(files.map((file) => file.path)).size !== files.length) {
    throw malformed('a resource is listed twice');
  }
  const signedRoot = subject.digest?.sha256;
  const root = rootDigestOf(files);
  if (signedRoot !== root) {
    throw malformed(
      `the subject digest ${String(signedRoot)} does not match the resources, which hash to ${root}`,
    );
  }
  return { modelName: subject.name ?? '', files, ignorePaths };
}

/** model_signing sorts resources as Python sorts PurePosixPath: component by component, by code point. */
export function compareManifestPaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareCodePoints(left[i] ?? '', right[i] ?? '');
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

const rootDigestOf = (files: FileDigest[]): string =>
  sha256Hex(Buffer.concat(files.map((file) => Buffer.from(file.sha256, 'hex'))));

// --- SLSA provenance v1 (slsa.dev/spec/v1.0/provenance) ---

export interface SlsaProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string>; builderDependencies?: ResourceDescriptor[] };
    metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
    byproducts?: ResourceDescriptor[];
  };
}

export interface SlsaProvenanceInput {
  /** What was built, e.g. the adapter folder (its model_signing root digest) or its weights file. */
  subject: ResourceDescriptor[];
  /** URI naming the template of this build, e.g. sealgate's "LoRA trained on a self-edit". */
  buildType: string;
  /** What the requester controlled, e.g. the proposal: self-edit, passage, hyperparameters. */
  externalParameters: Record<string, unknown>;
  /** What the platform chose, e.g. trainer version, device. */
  internalParameters?: Record<string, unknown>;
  /** Inputs by digest: parent adapter, base model, training data. */
  resolvedDependencies?: ResourceDescriptor[];
  builder: { id: string; version?: Record<string, string> };
  invocationId?: string;
  startedOn?: Date;
  finishedOn?: Date;
  byproducts?: ResourceDescriptor[];
}

export function slsaProvenanceStatement(input: SlsaProvenanceInput): Statement<SlsaProvenancePredicate> {
  checkSubject(input.subject);
  if (!input.buildType) throw malformed('SLSA provenance needs a buildType');
  if (!input.builder.id) throw malformed('SLSA provenance needs a builder id');
  input.resolvedDependencies?.forEach((dependency, index) =>
    checkDescriptor(dependency, `dependency #${index}`),
  );
  const metadata = {
    ...(input.invocationId !== undefined && { invocationId: input.invocationId }),
    ...(input.startedOn && { startedOn: input.startedOn.toISOString() }),
    ...(input.finishedOn && { finishedOn: input.finishedOn.toISOString() }),
  };
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: input.subject,
    predicateType: SLSA_PROVENANCE_PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: input.buildType,
        externalParameters: input.externalParameters,
        ...(input.internalParameters && { internalParameters: input.internalParameters }),
        ...(input.resolvedDependencies && { resolvedDependencies: input.resolvedDependencies }),
      },
      runDetails: {
        builder: { id: input.builder.id, ...(input.builder.version && { version: input.builder.version }) },
        ...(Object.keys(metadata).length > 0 && { metadata }),
        ...(input.byproducts && { byproducts: input.byproducts }),
      },
    },
  };
}

// --- Test result v0.1 (github.com/in-toto/attestation, spec/predicates/test-result.md) ---

export type TestResultOutcome = 'PASSED' | 'WARNED' | 'FAILED';

export interface TestResultPredicate {
  result: TestResultOutcome;
  /** The configuration the tests ran with, e.g. the gate's thresholds file by digest. */
  configuration: ResourceDescriptor[];
  url?: string;
  passedTests: string[];
  warnedTests: string[];
  failedTests: string[];
}

export interface TestResultInput {
  /** What was tested, e.g. the candidate adapter by digest. */
  subject: ResourceDescriptor[];
  result: TestResultOutcome;
  configuration: ResourceDescriptor[];
  url?: string;
  passedTests?: string[];
  warnedTests?: string[];
  failedTests?: string[];
}

export function testResultStatement(input: TestResultInput): Statement<TestResultPredicate> {
  checkSubject(input.subject);
  input.configuration.forEach((entry, index) => checkDescriptor(entry, `configuration #${index}`));
  const failedTests = input.failedTests ?? [];
  if (input.result !== 'FAILED' && failedTests.length > 0) {
    throw malformed(`a ${input.result} result cannot list failed tests (${failedTests.join(', ')})`);
  }
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: input.subject,
    predicateType: TEST_RESULT_PREDICATE_TYPE,
    predicate: {
      result: input.result,
      configuration: input.configuration,
      ...(input.url !== undefined && { url: input.url }),
      passedTests: input.passedTests ?? [],
      warnedTests: input.warnedTests ?? [],
      failedTests,
    },
  };
}

/** A gate verdict (gates' GateVerdict, which sits above this folder) as a test-result outcome. */
const OUTCOME_OF_VERDICT: Record<'PASS' | 'WARN' | 'FAIL', TestResultOutcome> = {
  PASS: 'PASSED',
  WARN: 'WARNED',
  FAIL: 'FAILED',
};

/** A gate report's verdict as a test-result outcome. */
export const testResultOutcomeOf = (verdict: keyof typeof OUTCOME_OF_VERDICT): TestResultOutcome =>
  OUTCOME_OF_VERDICT[verdict];

function checkSubject(subject: ResourceDescriptor[]): void {
  if (subject.length === 0) throw malformed('a statement needs at least one subject');
  subject.forEach((entry, index) => {
    if (!entry.digest || Object.keys(entry.digest).length === 0) {
      throw malformed(`subject #${index} has no digest`);
    }
    checkDescriptor(entry, `subject #${index}`);
  });
}

const HEX_DIGEST_LENGTHS: Record<string, number> = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 };

/** A descriptor needs a uri or a digest; a digest of a known SHA algorithm must be lowercase hex of its length. */
function checkDescriptor(descriptor: ResourceDescriptor, label: string): void {
  if (!descriptor.uri && (!descriptor.digest || Object.keys(descriptor.digest).length === 0)) {
    throw malformed(`${label} has neither a uri nor a digest`);
  }
  for (const [algorithm, value] of Object.entries(descriptor.digest ?? {})) {
    const length = HEX_DIGEST_LENGTHS[algorithm];
    const valid = length === undefined ? value.length > 0 : new RegExp(`^[0-9a-f]{${length}}$`).test(value);
    if (!valid) throw malformed(`${label} has an invalid ${algorithm} digest "${value}"`);
  }
}

const isSha256 = (value: string): boolean => /^[0-9a-f]{64}$/.test(value);

const malformed = (message: string): SigningError => new SigningError(SigningErrorCode.MALFORMED, message);
