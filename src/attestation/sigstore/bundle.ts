import { KeyObject } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import {
  DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  isRecord,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  VerifyEnvelopeOptions,
} from 'src/attestation/sigstore/dsse';
import {
  FileDigest,
  modelSigningStatement,
  parseStatement,
  readModelSigningStatement,
  Statement,
  statementPayload,
} from 'src/attestation/sigstore/in-toto';
import { keyIdOf, publicKeyPem } from 'src/attestation/sigstore/keys';
import { sha256File, sha256Hex } from 'src/common/sha256';
import {
  DEFAULT_IGNORE_PATHS,
  hashModelFolder,
  isSafeRelativePath,
  listModelFiles,
} from 'src/attestation/sigstore/model-files';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

/** Sigstore bundle v0.3 (protobuf-specs, JSON mapping), the shape `model_signing sign key` writes to model.sig. */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface SigstoreBundle {
  mediaType: string;
  verificationMaterial: {
    /** No certificate and no transparency-log entry: key-based signing, the verifier brings the public key. */
    publicKey: { hint: string };
    tlogEntries: unknown[];
  };
  dsseEnvelope: DsseEnvelope;
}

/** The key hint model_signing writes and checks: hex SHA-256 of the public key's SPKI PEM text. */
export const publicKeyHint = (key: KeyObject): string => sha256Hex(publicKeyPem(key));

/** Signs any in-toto statement into a bundle (model signature, provenance, test result). */
export function bundleStatement(statement: Statement, signingKey: KeyObject): SigstoreBundle {
  return {
    mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKeyHint(signingKey) }, tlogEntries: [] },
    dsseEnvelope: signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementPayload(statement), signingKey),
  };
}

export interface SignModelOptions {
  /** Defaults to the folder's last path component, as model_signing names the subject. */
  modelName?: string;
  /** Relative paths left unsigned; defaults to model.sig and git's files. */
  ignorePaths?: string[];
}

/** Hashes every file of the folder and signs the model_signing statement over them: the content of model.sig. */
export async function signModelFolder(
  folder: string,
  signingKey: KeyObject,
  options: SignModelOptions = {},
): Promise<SigstoreBundle> {
  const ignorePaths = options.ignorePaths ?? DEFAULT_IGNORE_PATHS;
  const files = await hashModelFolder(folder, ignorePaths);
  const modelName = options.modelName ?? basename(resolve(folder));
  return bundleStatement(modelSigningStatement({ modelName, files, ignorePaths }), signingKey);
}

/** The JSON text of a bundle, as written to model.sig. */
export const serializeBundle = (bundle: SigstoreBundle): string => JSON.stringify(bundle);

/** Parses model.sig (or any key-signed DSSE bundle); signatures are not verified here. */
export function parseBundle(text: string): SigstoreBundle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('the bundle is not JSON');
  }
  if (!isRecord(value)) throw malformed('the bundle is not a JSON object');
  if (value.mediaType !== SIGSTORE_BUNDLE_MEDIA_TYPE) {
    throw malformed(
      `the bundle media type is ${JSON.stringify(value.mediaType)}, not ${SIGSTORE_BUNDLE_MEDIA_TYPE}`,
    );
  }
  const material = value.verificationMaterial;
  if (!isRecord(material)) throw malformed('the bundle has no verificationMaterial');
  const hint = isRecord(material.publicKey) ? material.publicKey.hint : undefined;
  if (typeof hint !== 'string' && hint !== undefined && hint !== null) {
    throw malformed('the key hint is not a string');
  }
  return {
    mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: hint ?? '' },
      tlogEntries: Array.isArray(material.tlogEntries) ? material.tlogEntries : [],
    },
    dsseEnvelope: parseEnvelope(value.dsseEnvelope),
  };
}

export interface VerifiedStatement {
  statement: Statement;
  signerKeyIds: string[];
}

/**
 * Verifies the bundle's DSSE envelope with the trusted keys (by default the first key must have signed) and
 * returns its statement. A key hint that names another key fails first, with a message saying so.
 */
export function verifyBundle(
  bundle: SigstoreBundle,
  trustedKeys: KeyObject[],
  options: VerifyEnvelopeOptions = {},
): VerifiedStatement {
  const [primary] = trustedKeys;
  if (!primary) throw signatureInvalid('no trusted key to verify the bundle with');
  const hint = bundle.verificationMaterial.publicKey.hint;
  if (hint && !trustedKeys.some((key) => publicKeyHint(key) === hint)) {
    throw signatureInvalid(`the bundle names key hint ${hint}, which is none of the trusted keys`);
  }
  const verified = verifyEnvelope(bundle.dsseEnvelope, trustedKeys, {
    requiredKeyIds: [keyIdOf(primary)],
    payloadTypes: [IN_TOTO_PAYLOAD_TYPE],
    ...options,
  });
  return { statement: parseStatement(verified.payload), signerKeyIds: verified.signerKeyIds };
}

export interface VerifiedModel {
  modelName: string;
  files: FileDigest[];
  signerKeyIds: string[];
}

/**
 * What `model_signing verify key` checks: the signature by `publicKey`, then every file of the folder in the
 * statement's order against its signed digest, then that no unsigned file was added. Throws naming the first
 * signature or file that fails.
 */
export async function verifyModelFolder(
  folder: string,
  bundle: SigstoreBundle,
  publicKey: KeyObject,
): Promise<VerifiedModel> {
  const { statement, signerKeyIds } = verifyBundle(bundle, [publicKey]);
  const manifest = readModelSigningStatement(statement);
  const unsafe = manifest.files.find((file) => !isSafeRelativePath(file.path));
  if (unsafe) throw malformed(`the signature names a path outside the folder: ${unsafe.path}`);
  const present = new Set(await listModelFiles(folder, [...DEFAULT_IGNORE_PATHS, ...manifest.ignorePaths]));
  for (const file of manifest.files) {
    if (!present.delete(file.path)) throw digestMismatch(`${file.path} is signed but missing`, file.path);
    const actual = await sha256File(join(folder, file.path));
    if (actual !== file.sha256) {
      throw digestMismatch(`${file.path} has sha256 ${actual}, but ${file.sha256} was signed`, file.path);
    }
  }
  const [unsigned] = present;
  if (unsigned !== undefined) throw digestMismatch(`${unsigned} is not covered by the signature`, unsigned);
  return { modelName: manifest.modelName, files: manifest.files, signerKeyIds };
}

const malformed = (message: string): SigningError => new SigningError(SigningErrorCode.MALFORMED, message);

const signatureInvalid = (message: string): SigningError =>
  new SigningError(SigningErrorCode.SIGNATURE_INVALID, message);

const digestMismatch = (message: string, path: string): SigningError =>
  new SigningError(SigningErrorCode.DIGEST_MISMATCH, message, { path });
