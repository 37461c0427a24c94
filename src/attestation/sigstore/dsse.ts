import { KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64 } from 'src/attestation/sigstore/base64';
import { keyIdOf, signBytes, verifyBytes } from 'src/attestation/sigstore/keys';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

/** DSSE (github.com/secure-systems-lab/dsse, protocol v1.0.0) JSON envelope. */
export interface DsseEnvelope {
  /** Base64 of the serialized body. */
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

export interface DsseSignature {
  /** Unauthenticated hint; sealgate writes the signer's key id (hex SHA-256 of its SPKI DER). */
  keyid: string;
  /** Base64 of the DER ECDSA signature over PAE(payloadType, payload). */
  sig: string;
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, with lengths in bytes. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

/** A new envelope over `payload`, signed by `signingKey`. */
export function signEnvelope(payloadType: string, payload: Buffer, signingKey: KeyObject): DsseEnvelope {
  return addSignature({ payload: encodeBase64(payload), payloadType, signatures: [] }, signingKey);
}

/** The envelope with one more signature (an approver's); refuses a key that has already signed it. */
export function addSignature(envelope: DsseEnvelope, signingKey: KeyObject): DsseEnvelope {
  const keyid = keyIdOf(signingKey);
  if (envelope.signatures.some((signature) => signature.keyid === keyid)) {
    throw new SigningError(SigningErrorCode.ALREADY_SIGNED, `key ${keyid} has already signed this envelope`, {
      keyId: keyid,
    });
  }
  const sig = signBytes(signingKey, preAuthEncoding(envelope.payloadType, decodePayload(envelope)));
  return { ...envelope, signatures: [...envelope.signatures, { keyid, sig: encodeBase64(sig) }] };
}

export interface VerifyEnvelopeOptions {
  /** How many distinct trusted keys must have signed (default 1). */
  threshold?: number;
  /** Key ids (see `keyIdOf`) each of which must have a valid signature, e.g. every approver's. */
  requiredKeyIds?: string[];
  /** Payload types the caller can parse; any other is refused. */
  payloadTypes?: string[];
}

export interface VerifiedEnvelope {
  payloadType: string;
  payload: Buffer;
  /** Key ids of the trusted keys with a valid signature, in signature order. */
  signerKeyIds: string[];
}

/**
 * Verifies per the DSSE protocol's (t, n) rule: each signature counts for at most one trusted key, a key
 * counts once, and a signature that verifies with no trusted key is skipped unless a rule below then fails.
 */
export function verifyEnvelope(
  envelope: DsseEnvelope,
  trustedKeys: KeyObject[],
  options: VerifyEnvelopeOptions = {},
): VerifiedEnvelope {
  const payload = decodePayload(envelope);
  const signed = preAuthEncoding(envelope.payloadType, payload);
  const keys = new Map(trustedKeys.map((key) => [keyIdOf(key), key]));
  const signerKeyIds: string[] = [];
  const failures: string[] = [];
  for (const [index, signature] of envelope.signatures.entries()) {
    const label = `DSSE signature #${index}${signature.keyid ? ` (keyid ${signature.keyid})` : ''}`;
    const sig = decodeBase64(signature.sig);
    // The keyid only narrows the search when it names a trusted key; other schemes of key ids are allowed.
    const named = keys.get(signature.keyid);
    const candidates = named ? [[signature.keyid, named] as const] : [...keys];
    const match = sig && candidates.find(([, key]) => verifyBytes(key, signed, sig));
    if (!sig) failures.push(`${label} is not valid base64`);
    else if (!match) failures.push(`${label} does not verify with any trusted key`);
    else if (signerKeyIds.includes(match[0]))
      failures.push(`${label} repeats a signature by key ${match[0]}`);
    else signerKeyIds.push(match[0]);
  }
  const firstFailure =
    failures[0] ??
    (signerKeyIds.length > 0
      ? `valid signatures are by ${signerKeyIds.join(', ')}`
      : 'the envelope has no signatures');
  for (const required of options.requiredKeyIds ?? []) {
    if (!signerKeyIds.includes(required)) {
      throw signatureInvalid(`no valid signature by required key ${required}: ${firstFailure}`, required);
    }
  }
  const threshold = options.threshold ?? 1;
  if (signerKeyIds.length < threshold) {
    throw signatureInvalid(
      `${signerKeyIds.length} of the required ${threshold} trusted keys signed: ${firstFailure}`,
    );
  }
  if (options.payloadTypes && !options.payloadTypes.includes(envelope.payloadType)) {
    throw malformed(
      `payload type "${envelope.payloadType}" is not one of ${options.payloadTypes.join(', ')}`,
    );
  }
  return { payloadType: envelope.payloadType, payload, signerKeyIds };
}

/** Checks the JSON shape of an envelope (signatures not verified); a missing or null keyid becomes "". */
export function parseEnvelope(value: unknown): DsseEnvelope {
  if (!isRecord(value)) throw malformed('the DSSE envelope is not a JSON object');
  const { payload, payloadType, signatures } = value;
  if (typeof payload !== 'string') throw malformed('the DSSE envelope has no string "payload"');
  if (typeof payloadType !== 'string') throw malformed('the DSSE envelope has no string "payloadType"');
  if (!Array.isArray(signatures)) throw malformed('the DSSE envelope has no "signatures" array');
  return {
    payload,
    payloadType,
    signatures: signatures.map((signature: unknown, index) => {
      if (!isRecord(signature) || typeof signature.sig !== 'string') {
        throw malformed(`DSSE signature #${index} has no string "sig"`);
      }
      const keyid = signature.keyid ?? '';
      if (typeof keyid !== 'string') {
        throw malformed(`DSSE signature #${index} has a "keyid" that is not a string`);
      }
      return { keyid, sig: signature.sig };
    }),
  };
}

/** The payload bytes (standard or URL-safe base64, as DSSE allows). */
export function decodePayload(envelope: DsseEnvelope): Buffer {
  const payload = decodeBase64(envelope.payload);
  if (!payload) throw malformed('the DSSE payload is not valid base64');
  return payload;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const malformed = (message: string): SigningError => new SigningError(SigningErrorCode.MALFORMED, message);

const signatureInvalid = (message: string, keyId?: string): SigningError =>
  new SigningError(SigningErrorCode.SIGNATURE_INVALID, message, keyId ? { keyId } : undefined);
