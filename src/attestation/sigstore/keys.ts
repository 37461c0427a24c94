import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import { sha256Hex } from 'src/common/sha256';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

/**
 * Keys sealgate creates and signs with: ECDSA on NIST P-256 with SHA-256, DER-encoded signatures (what DSSE,
 * Sigstore bundles, model_signing and Rekor-style checkpoints use).
 */
export const SIGNING_CURVE = 'prime256v1';

/** Others' keys we verify with: the curves model_signing accepts, and Ed25519 for DSSE's own test vectors. */
const VERIFYING_CURVES: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

export interface SigningKeyPair {
  /** PKCS#8 PEM; never leaves the process that created it except into the key store. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  /** Hex SHA-256 of the SPKI DER of the public key. */
  keyId: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: SIGNING_CURVE });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKeyPem(publicKey),
    keyId: keyIdOf(publicKey),
  };
}

/** Loads a PEM private key (PKCS#8, SEC1 or encrypted PKCS#8) and checks that it is an ECDSA P-256 key. */
export function loadPrivateKey(pem: string, passphrase?: string): KeyObject {
  if (!/-----BEGIN (EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    throw invalidKey('expected a PEM private key (-----BEGIN PRIVATE KEY-----)');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (error) {
    throw invalidKey(`the private key PEM could not be read: ${messageOf(error)}`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== SIGNING_CURVE) {
    throw invalidKey(`the private key has ${describe(key)}; sealgate signs with ECDSA P-256 keys`);
  }
  return key;
}

/** Loads an SPKI PEM public key: ECDSA on P-256, P-384 or P-521, or Ed25519. */
export function loadPublicKey(pem: string): KeyObject {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw invalidKey('expected a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw invalidKey(`the public key PEM could not be read: ${messageOf(error)}`);
  }
  if (signatureDigestOf(key) === undefined) {
    throw invalidKey(`the public key has ${describe(key)}; expected ECDSA (P-256, P-384, P-521) or Ed25519`);
  }
  return key;
}

/** The public half, as a key object; a public key is returned as it is. */
export const publicKeyOf = (key: KeyObject): KeyObject =>
  key.type === 'private' ? createPublicKey(key) : key;

/** SPKI PEM in the one layout OpenSSL and Python's `cryptography` both write (64-column lines, final newline). */
export const publicKeyPem = (key: KeyObject): string =>
  publicKeyOf(key).export({ type: 'spki', format: 'pem' }).toString();

export const publicKeyDer = (key: KeyObject): Buffer =>
  publicKeyOf(key).export({ type: 'spki', format: 'der' });

/** Hex SHA-256 of the SPKI DER: the key id sealgate writes into DSSE signatures and key listings. */
export const keyIdOf = (key: KeyObject): string => sha256Hex(publicKeyDer(key));

/** ECDSA signature (DER) over `data`, hashed with SHA-256 for a P-256 key. */
export function signBytes(privateKey: KeyObject, data: Buffer): Buffer {
  const digest = signatureDigestOf(privateKey);
  if (privateKey.type !== 'private' || digest === undefined) {
    throw invalidKey(
      `signing needs an ECDSA or Ed25519 private key, not a ${privateKey.type} key of ${describe(privateKey)}`,
    );
  }
  return sign(digest, data, privateKey);
}

/** True when `signature` is a valid signature of `data` by `publicKey`; never throws on bad input. */
export function verifyBytes(publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  const digest = signatureDigestOf(publicKey);
  if (digest === undefined) return false;
  try {
    return verify(digest, data, publicKeyOf(publicKey), signature);
  } catch {
    return false;
  }
}

/** The digest each supported key type signs with (null: Ed25519 hashes internally); undefined if unsupported. */
function signatureDigestOf(key: KeyObject): 'sha256' | 'sha384' | 'sha512' | null | undefined {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType !== 'ec') return undefined;
  return VERIFYING_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
}

/** "type rsa", "type ec, curve secp384r1". */
function describe(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `type ${key.asymmetricKeyType ?? 'unknown'}${curve ? `, curve ${curve}` : ''}`;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const invalidKey = (message: string): SigningError => new SigningError(SigningErrorCode.INVALID_KEY, message);
