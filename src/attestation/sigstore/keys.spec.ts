import { createHash, generateKeyPairSync, KeyObject } from 'node:crypto';
import {
  generateSigningKeyPair,
  keyIdOf,
  loadPrivateKey,
  loadPublicKey,
  publicKeyPem,
  signBytes,
  verifyBytes,
} from 'src/attestation/sigstore/keys';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

const pemOf = (key: KeyObject, type: 'spki' | 'pkcs8'): string =>
  key.export({ type, format: 'pem' }).toString();

function failure(run: () => unknown): SigningError {
  try {
    run();
  } catch (error) {
    if (error instanceof SigningError) return error;
    throw error;
  }
  throw new Error('expected a SigningError');
}

describe('signing keys', () => {
  const pair = generateSigningKeyPair();

  it('creates an ECDSA P-256 pair as PKCS#8 and SPKI PEM, with key id = hex SHA-256 of the SPKI DER', () => {
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const publicKey = loadPublicKey(pair.publicKeyPem);
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const der = publicKey.export({ type: 'spki', format: 'der' });
    expect(pair.keyId).toBe(createHash('sha256').update(der).digest('hex'));
    expect(keyIdOf(loadPrivateKey(pair.privateKeyPem))).toBe(pair.keyId);
  });

  it('creates a different key every time', () => {
    expect(generateSigningKeyPair().keyId).not.toBe(pair.keyId);
  });

  it('signs and verifies, and a signature fails for other data or another key', () => {
    const data = Buffer.from('adapter digest');
    const signature = signBytes(loadPrivateKey(pair.privateKeyPem), data);
    expect(signature[0]).toBe(0x30); // DER SEQUENCE, as DSSE and Sigstore bundles carry it
    expect(verifyBytes(loadPublicKey(pair.publicKeyPem), data, signature)).toBe(true);
    expect(verifyBytes(loadPublicKey(pair.publicKeyPem), Buffer.from('adapter digesT'), signature)).toBe(
      false,
    );
    expect(verifyBytes(loadPublicKey(generateSigningKeyPair().publicKeyPem), data, signature)).toBe(false);
    expect(verifyBytes(loadPublicKey(pair.publicKeyPem), data, Buffer.from('not DER'))).toBe(false);
  });

  it('reads SEC1 and passphrase-protected PKCS#8 private keys too', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();
    expect(keyIdOf(loadPrivateKey(sec1))).toBe(keyIdOf(privateKey));
    expect(keyIdOf(loadPrivateKey(encrypted, 'correct horse'))).toBe(keyIdOf(privateKey));
    expect(failure(() => loadPrivateKey(encrypted, 'wrong')).message).toMatch(/could not be read/);
  });

  it('writes public keys in the PEM layout Python’s cryptography writes (model_signing hashes that text)', () => {
    const pem = publicKeyPem(loadPublicKey(pair.publicKeyPem.replace(/\n/g, '\r\n')));
    expect(pem).toBe(pair.publicKeyPem);
    expect(
      pem
        .split('\n')
        .slice(1, -2)
        .every((line) => line.length <= 64),
    ).toBe(true);
    expect(pem.endsWith('-----END PUBLIC KEY-----\n')).toBe(true);
  });

  it.each([
    ['a public key given as private', () => loadPrivateKey(pair.publicKeyPem), /expected a PEM private key/],
    ['a private key given as public', () => loadPublicKey(pair.privateKeyPem), /expected a PEM public key/],
    [
      'garbage inside the PEM armour',
      () => loadPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      /could not be read/,
    ],
    [
      'an RSA private key',
      () => loadPrivateKey(pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, 'pkcs8')),
      /has type rsa; sealgate signs with ECDSA P-256/,
    ],
    [
      'a P-384 private key',
      () => loadPrivateKey(pemOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'pkcs8')),
      /has type ec, curve secp384r1; sealgate signs with ECDSA P-256/,
    ],
    [
      'an RSA public key',
      () => loadPublicKey(pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, 'spki')),
      /has type rsa; expected ECDSA/,
    ],
    [
      'a secp256k1 public key',
      () => loadPublicKey(pemOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, 'spki')),
      /curve secp256k1/,
    ],
  ])('refuses %s with a message saying what is wrong', (_, load, message) => {
    const error = failure(load);
    expect(error.code).toBe(SigningErrorCode.INVALID_KEY);
    expect(error.message).toMatch(message);
  });

  it('accepts others’ P-384 and Ed25519 public keys for verifying', () => {
    for (const key of [
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
    ]) {
      expect(keyIdOf(loadPublicKey(pemOf(key, 'spki')))).toBe(keyIdOf(key));
    }
  });
});
