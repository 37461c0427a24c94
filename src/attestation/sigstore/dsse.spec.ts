import { createPublicKey, KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase64 } from 'src/attestation/sigstore/base64';
import {
  addSignature,
  decodePayload,
  DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  preAuthEncoding,
  signEnvelope,
  verifyEnvelope,
} from 'src/attestation/sigstore/dsse';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey } from 'src/attestation/sigstore/keys';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

interface DsseVectors {
  keys: Record<string, { public: string }>;
  vectors: {
    id: string;
    envelope: unknown;
    trustedKeys: string[];
    threshold: number;
    supportedPayloadTypes: string[];
    pae: string;
    expect: 'accept' | 'reject';
  }[];
}
const fixtures = (name: string): string => join(__dirname, '../../../test/fixtures/signing', name);
const golden = JSON.parse(readFileSync(fixtures('dsse-vectors.json'), 'utf8')) as DsseVectors;
const ed25519Key = (publicHex: string): KeyObject =>
  createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicHex, 'hex').toString('base64url') },
    format: 'jwk',
  });

function failure(run: () => unknown): SigningError {
  try {
    run();
  } catch (error) {
    if (error instanceof SigningError) return error;
    throw error;
  }
  throw new Error('expected a SigningError');
}

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
const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');

describe('PAE', () => {
  it('matches the DSSE protocol example', () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  // `pae` is what the vector's signatures cover; only in `payload-type-swapped` is that not the envelope's own.
  it.each(golden.vectors)('matches the PAE of test vector $id', (vector) => {
    const envelope = parseEnvelope(vector.envelope);
    const pae = preAuthEncoding(envelope.payloadType, decodePayload(envelope)).toString('hex');
    if (vector.id === 'payload-type-swapped') expect(pae).not.toBe(vector.pae);
    else expect(pae).toBe(vector.pae);
  });

  it('is what the protocol’s ECDSA P-256 example signature covers', () => {
    // protocol.md: P-256 key (X, Y in decimal), signature as raw r || s.
    const coordinate = (decimal: string) =>
      Buffer.from(BigInt(decimal).toString(16).padStart(64, '0'), 'hex');
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: coordinate(
          '46950820868899156662930047687818585632848591499744589407958293238635476079160',
        ).toString('base64url'),
        y: coordinate(
          '5640078356564379163099075877009565129882514886557779369047442380624545832820',
        ).toString('base64url'),
      },
      format: 'jwk',
    });
    const sig = Buffer.from(
      'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==',
      'base64',
    );
    const pae = preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world'));
    expect(verify('sha256', pae, { key, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });
});

describe('DSSE test vectors', () => {
  it.each(golden.vectors)('$expect: $id', (vector) => {
    const trusted = vector.trustedKeys.map((name) => ed25519Key(golden.keys[name]?.public ?? ''));
    const run = () =>
      verifyEnvelope(parseEnvelope(vector.envelope), trusted, {
        threshold: vector.threshold,
        payloadTypes: vector.supportedPayloadTypes,
      });
    if (vector.expect === 'accept') expect(run().signerKeyIds).toHaveLength(vector.threshold);
    else expect(run).toThrow(SigningError);
  });
});

describe('signing and verifying envelopes', () => {
  const signed = signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, gateway.privateKey);

  it('round-trips, with the signer’s key id as keyid and a DER signature', () => {
    expect(signed.payload).toBe(statement.toString('base64'));
    expect(signed.signatures).toEqual([{ keyid: gateway.keyId, sig: expect.any(String) }]);
    expect(decodeBase64(signed.signatures[0]?.sig ?? '')?.[0]).toBe(0x30);
    expect(verifyEnvelope(signed, [gateway.publicKey], { payloadTypes: [IN_TOTO_PAYLOAD_TYPE] })).toEqual({
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: statement,
      signerKeyIds: [gateway.keyId],
    });
  });

  it('survives a trip through JSON', () => {
    const reread = parseEnvelope(JSON.parse(JSON.stringify(signed)));
    expect(verifyEnvelope(reread, [gateway.publicKey]).payload).toEqual(statement);
  });

  it('lets approvers add their signatures and requires each of them', () => {
    const approved = addSignature(signed, approver.privateKey);
    expect(approved.signatures.map((signature) => signature.keyid)).toEqual([gateway.keyId, approver.keyId]);
    const keys = [gateway.publicKey, approver.publicKey];
    expect(verifyEnvelope(approved, keys, { threshold: 2 }).signerKeyIds).toEqual([
      gateway.keyId,
      approver.keyId,
    ]);
    const error = failure(() => verifyEnvelope(signed, keys, { requiredKeyIds: [approver.keyId] }));
    expect(error.code).toBe(SigningErrorCode.SIGNATURE_INVALID);
    expect(error.message).toBe(
      `no valid signature by required key ${approver.keyId}: valid signatures are by ${gateway.keyId}`,
    );
  });

  it('counts a key once, however often its signature is repeated', () => {
    const repeated = { ...signed, signatures: [...signed.signatures, ...signed.signatures] };
    expect(() => verifyEnvelope(repeated, [gateway.publicKey, approver.publicKey], { threshold: 2 })).toThrow(
      `1 of the required 2 trusted keys signed: DSSE signature #1 (keyid ${gateway.keyId}) repeats a signature by key ${gateway.keyId}`,
    );
  });

  it('refuses a second signature by the same key', () => {
    expect(failure(() => addSignature(signed, gateway.privateKey)).code).toBe(
      SigningErrorCode.ALREADY_SIGNED,
    );
  });

  it('fails when one byte of the payload changes', () => {
    const payload = Buffer.from(statement);
    payload[5] = (payload[5] ?? 0) ^ 1;
    const tampered = { ...signed, payload: payload.toString('base64') };
    const error = failure(() => verifyEnvelope(tampered, [gateway.publicKey]));
    expect(error.code).toBe(SigningErrorCode.SIGNATURE_INVALID);
    expect(error.message).toBe(
      `0 of the required 1 trusted keys signed: DSSE signature #0 (keyid ${gateway.keyId}) does not verify with any trusted key`,
    );
  });

  it('fails when one byte of the signature changes', () => {
    const sig = decodeBase64(signed.signatures[0]?.sig ?? '') as Buffer;
    sig[20] = (sig[20] ?? 0) ^ 1;
    const tampered: DsseEnvelope = {
      ...signed,
      signatures: [{ keyid: gateway.keyId, sig: sig.toString('base64') }],
    };
    expect(() => verifyEnvelope(tampered, [gateway.publicKey])).toThrow('DSSE signature #0');
  });

  it('fails when the payload type is changed, since PAE binds it', () => {
    const tampered = { ...signed, payloadType: 'application/vnd.example+json' };
    expect(() => verifyEnvelope(tampered, [gateway.publicKey])).toThrow('does not verify');
  });

  it('fails with another key, even one that claims the signer’s keyid', () => {
    expect(() => verifyEnvelope(signed, [approver.publicKey])).toThrow(
      'does not verify with any trusted key',
    );
    const forged = signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, approver.privateKey);
    const claimed: DsseEnvelope = {
      ...forged,
      signatures: [{ keyid: gateway.keyId, sig: forged.signatures[0]?.sig ?? '' }],
    };
    expect(() => verifyEnvelope(claimed, [gateway.publicKey])).toThrow('does not verify');
  });

  it('refuses a payload type the caller cannot parse', () => {
    expect(
      failure(() => verifyEnvelope(signed, [gateway.publicKey], { payloadTypes: ['text/plain'] })).code,
    ).toBe(SigningErrorCode.MALFORMED);
  });

  it('names a signature that is not canonical base64', () => {
    const sig = signed.signatures[0]?.sig ?? '';
    const sloppy: DsseEnvelope = {
      ...signed,
      signatures: [{ keyid: '', sig: `${sig.slice(0, 10)}!${sig.slice(10)}` }],
    };
    expect(() => verifyEnvelope(sloppy, [gateway.publicKey])).toThrow(
      'DSSE signature #0 is not valid base64',
    );
  });

  it.each([
    ['not an object', []],
    ['no payload', { payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [] }],
    ['no signatures', { payload: '', payloadType: IN_TOTO_PAYLOAD_TYPE }],
    [
      'a signature without sig',
      { payload: '', payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ keyid: 'x' }] },
    ],
  ])('refuses an envelope with %s', (_, value) => {
    expect(failure(() => parseEnvelope(value)).code).toBe(SigningErrorCode.MALFORMED);
  });
});

describe('strict base64', () => {
  it.each([
    ['standard', 'aGVsbG8=', 'hello'],
    ['unpadded', 'aGVsbG8', 'hello'],
    ['URL-safe', '-_-_Pj8=', Buffer.from('fbffbf3e3f', 'hex').toString('latin1')],
  ])('decodes %s base64', (_, text, expected) => {
    expect(decodeBase64(text)?.toString('latin1')).toBe(expected);
  });

  it.each([
    ['a stray character', 'aGVs bG8='],
    ['mixed alphabets', '-/-_Pj8='],
    ['non-zero padding bits', 'aGVsbG9='],
    ['a wrong padding length', 'aGVsbG8=='],
  ])('refuses %s', (_, text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});
