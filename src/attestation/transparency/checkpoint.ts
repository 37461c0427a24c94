import { KeyObject, sign, verify } from 'node:crypto';
import { sha256Bytes } from 'src/common/sha256';
import { decodeBase64, encodeBase64 } from 'src/attestation/sigstore/base64';
import { loadPrivateKey, loadPublicKey, publicKeyDer, publicKeyOf } from 'src/attestation/sigstore/keys';
import { TransparencyError, TransparencyErrorCode } from 'src/attestation/transparency/transparency.errors';

/**
 * Signed checkpoints: a C2SP tlog-checkpoint body in a C2SP signed note, signed with ECDSA P-256.
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[extension lines\n]\n— <key name> <base64(key id || signature)>\n
 *
 * ECDSA is signed-note signature type 0x02 ("as implemented by transparency-dev/witness", also Sigstore Rekor's):
 * the signature is DER ECDSA over SHA-256 of the note text, and the 4-byte key id is the first four bytes of
 * SHA-256 of the key's SPKI DER (the name is not hashed in, unlike Ed25519 note keys). Rekor's checkpoints
 * verify with exactly this code, so Go's transparency-dev/formats note verifier can check ours.
 */

export interface Checkpoint {
  /** The log's identity, e.g. "sealgate.example/lineage". */
  origin: string;
  treeSize: number;
  /** RFC 6962 root of the first `treeSize` leaves. */
  rootHash: Buffer;
  /** Optional extra body lines (not recommended by the spec). */
  extensions?: string[];
}

export interface NoteSigner {
  name: string;
  /** ECDSA P-256 private key, or its PEM. */
  privateKey: KeyObject | string;
}

export interface NoteVerifierKey {
  name: string;
  /** ECDSA public key, or its SPKI PEM. */
  publicKey: KeyObject | string;
}

export interface VerifiedCheckpoint {
  checkpoint: Checkpoint;
  /** Names of the trusted keys whose signatures verified. */
  signedBy: string[];
}

export const ECDSA_NOTE_SIGNATURE_TYPE = 0x02;
const MAX_SIGNATURES = 64;
const EM_DASH = '\u2014';

/** The note text of a checkpoint; what each signature covers. */
export function checkpointBody(checkpoint: Checkpoint): string {
  const { origin, treeSize, rootHash, extensions = [] } = checkpoint;
  if (!origin || origin.includes('\n')) throw malformed('the origin must be one non-empty line');
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw malformed(`tree size ${treeSize} is not valid`);
  if (rootHash.length !== 32) throw malformed('the root hash must be 32 bytes');
  if (extensions.some((line) => !line || line.includes('\n'))) {
    throw malformed('extension lines must be non-empty');
  }
  return [origin, String(treeSize), encodeBase64(rootHash), ...extensions]
    .map((line) => `${line}\n`)
    .join('');
}

/** SHA-256(SPKI DER)[:4], the note key id of an ECDSA key. */
export const noteKeyId = (publicKey: KeyObject): Buffer =>
  sha256Bytes(publicKeyDer(publicKey)).subarray(0, 4);

/** The verifier key string Go note tooling takes: "<name>+<hex key id>+<base64(0x02 || SPKI DER)>". */
export function noteVerifierKey(name: string, publicKey: KeyObject | string): string {
  const key = ecdsaKey(typeof publicKey === 'string' ? loadPublicKey(publicKey) : publicKey);
  checkKeyName(name);
  const material = Buffer.concat([Buffer.from([ECDSA_NOTE_SIGNATURE_TYPE]), publicKeyDer(key)]);
  return `${name}+${noteKeyId(key).toString('hex')}+${encodeBase64(material)}`;
}

/** The signed note of a checkpoint, one signature line per signer. */
export function signCheckpoint(checkpoint: Checkpoint, signers: NoteSigner[]): string {
  if (signers.length === 0) throw malformed('a checkpoint needs at least one signer');
  const body = checkpointBody(checkpoint);
  const lines = signers.map(({ name, privateKey }) => {
    checkKeyName(name);
    const key = typeof privateKey === 'string' ? loadPrivateKey(privateKey) : ecdsaKey(privateKey);
    const signature = sign('sha256', Buffer.from(body, 'utf8'), key);
    return `${EM_DASH} ${name} ${encodeBase64(Buffer.concat([noteKeyId(key), signature]))}\n`;
  });
  return `${body}\n${lines.join('')}`;
}

/**
 * Verifies a signed checkpoint. Signatures by keys not in `trustedKeys` (name and key id both must match) are
 * ignored, as the signed-note spec requires; one by a trusted key that fails rejects the whole note; at least
 * one trusted signature must verify.
 */
export function verifyCheckpoint(
  note: string,
  trustedKeys: NoteVerifierKey[],
  options: { origin?: string } = {},
): VerifiedCheckpoint {
  const { body, signatures } = splitNote(note);
  const checkpoint = parseCheckpointBody(body);
  const keys = trustedKeys.map(({ name, publicKey }) => {
    const key = ecdsaKey(typeof publicKey === 'string' ? loadPublicKey(publicKey) : publicKey);
    return { name, key, keyId: noteKeyId(key) };
  });
  const signedBy = new Set<string>();
  for (const signature of signatures) {
    const trusted = keys.find((key) => key.name === signature.name && key.keyId.equals(signature.keyId));
    if (!trusted) continue;
    if (!verifiesNoteSignature(trusted.key, body, signature.signature)) {
      throw notTrusted(
        `the checkpoint signature by ${signature.name} (key id ${signature.keyId.toString('hex')}) does not verify`,
      );
    }
    signedBy.add(signature.name);
  }
  if (signedBy.size === 0) {
    const signers = signatures.map((signature) => `${signature.name} (${signature.keyId.toString('hex')})`);
    throw notTrusted(
      `the checkpoint has no signature by a trusted key; it is signed by ${signers.join(', ')}`,
    );
  }
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw notTrusted(`the checkpoint is for log "${checkpoint.origin}", not "${options.origin}"`);
  }
  return { checkpoint, signedBy: [...signedBy] };
}

/** Reads a checkpoint body (no signatures): origin, decimal size without leading zeros, base64 32-byte root. */
export function parseCheckpointBody(body: string): Checkpoint {
  if (!body.endsWith('\n')) throw malformed('the checkpoint body must end with a newline');
  const [origin, size, root, ...extensions] = body.slice(0, -1).split('\n');
  if (!origin) throw malformed('the checkpoint has no origin line');
  if (size === undefined || !/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw malformed(`the checkpoint tree size ${JSON.stringify(size)} is not a decimal number`);
  }
  const rootHash = root !== undefined && isStandardBase64(root) ? decodeBase64(root) : undefined;
  if (rootHash?.length !== 32) {
    throw malformed(`the checkpoint root hash ${JSON.stringify(root)} is not 32 bytes`);
  }
  if (extensions.some((line) => line === '')) throw malformed('the checkpoint has an empty extension line');
  return { origin, treeSize: Number(size), rootHash, ...(extensions.length > 0 && { extensions }) };
}

interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

/** Splits a signed note at its last blank line into the signed text and its signature lines. */
function splitNote(note: string): { body: string; signatures: NoteSignature[] } {
  // eslint-disable-next-line no-control-regex -- the spec forbids control characters other than newline
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw malformed('the note contains a control character');
  if (!note.endsWith('\n')) throw malformed('the note must end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('the note has no blank line between its text and its signatures');
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed(`the note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line): NoteSignature => {
    const match = new RegExp(`^${EM_DASH} (\\S+) (\\S+)$`).exec(line);
    const bytes = match?.[2] !== undefined && isStandardBase64(match[2]) ? decodeBase64(match[2]) : undefined;
    if (!match?.[1] || !bytes || bytes.length < 5 || match[1].includes('+')) {
      throw malformed(`not a signature line: ${JSON.stringify(line)}`);
    }
    return { name: match[1], keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  return { body: note.slice(0, split + 1), signatures };
}

function verifiesNoteSignature(publicKey: KeyObject, body: string, signature: Buffer): boolean {
  try {
    return verify('sha256', Buffer.from(body, 'utf8'), publicKey, signature);
  } catch {
    return false;
  }
}

function ecdsaKey(key: KeyObject): KeyObject {
  if (publicKeyOf(key).asymmetricKeyType !== 'ec') {
    throw malformed(`checkpoint keys must be ECDSA keys, not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

function checkKeyName(name: string): void {
  if (!name || /[\s+]/u.test(name)) {
    throw malformed(`key name ${JSON.stringify(name)} is empty or has a space or +`);
  }
}

const isStandardBase64 = (text: string): boolean => /^[A-Za-z0-9+/]+={0,2}$/.test(text);

const malformed = (message: string): TransparencyError =>
  new TransparencyError(TransparencyErrorCode.MALFORMED_CHECKPOINT, message);

const notTrusted = (message: string): TransparencyError =>
  new TransparencyError(TransparencyErrorCode.CHECKPOINT_NOT_TRUSTED, message);
