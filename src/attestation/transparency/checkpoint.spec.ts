import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey } from 'src/attestation/sigstore/keys';
import {
  Checkpoint,
  checkpointBody,
  noteVerifierKey,
  parseCheckpointBody,
  signCheckpoint,
  verifyCheckpoint,
} from 'src/attestation/transparency/checkpoint';
import { leafHash, rootHash } from 'src/attestation/transparency/merkle-tree';
import { TransparencyError, TransparencyErrorCode } from 'src/attestation/transparency/transparency.errors';

interface RekorFixture {
  keyName: string;
  publicKeyPem: string;
  noteVerifierKey: string;
  checkpoints: {
    note: string;
    origin: string;
    treeSize: number;
    rootHashBase64: string;
    extensions?: string[];
  }[];
}
const rekor = JSON.parse(
  readFileSync(join(__dirname, '../../../test/fixtures/signing/rekor-checkpoints.json'), 'utf8'),
) as RekorFixture;

const ORIGIN = 'sealgate.example/lineage';
const logKey = generateSigningKeyPair();
const witnessKey = generateSigningKeyPair();
const checkpoint: Checkpoint = {
  origin: ORIGIN,
  treeSize: 3,
  rootHash: rootHash(['proposal', 'gate report', 'approval'].map((event) => leafHash(Buffer.from(event)))),
};
const trusted = [{ name: ORIGIN, publicKey: logKey.publicKeyPem }];

function failure(run: () => unknown): TransparencyError {
  try {
    run();
  } catch (error) {
    if (error instanceof TransparencyError) return error;
    throw error;
  }
  throw new Error('expected a TransparencyError');
}

describe('checkpoint body', () => {
  it('is origin, decimal size and base64 root, one per line', () => {
    expect(checkpointBody(checkpoint)).toBe(`${ORIGIN}\n3\n${checkpoint.rootHash.toString('base64')}\n`);
    expect(parseCheckpointBody(checkpointBody(checkpoint))).toEqual(checkpoint);
  });

  it.each([
    ['no origin', '\n3\nAAAA\n'],
    ['a size with a leading zero', `${ORIGIN}\n03\n${checkpoint.rootHash.toString('base64')}\n`],
    ['a negative size', `${ORIGIN}\n-1\n${checkpoint.rootHash.toString('base64')}\n`],
    ['a short root hash', `${ORIGIN}\n3\nAAAA\n`],
    ['an empty extension line', `${ORIGIN}\n3\n${checkpoint.rootHash.toString('base64')}\n\nx\n`],
    ['no final newline', `${ORIGIN}\n3\n${checkpoint.rootHash.toString('base64')}`],
  ])('refuses a body with %s', (_, body) => {
    expect(failure(() => parseCheckpointBody(body)).code).toBe(TransparencyErrorCode.MALFORMED_CHECKPOINT);
  });
});

describe('signed checkpoints', () => {
  it('round-trips: signed by the log key, verified with its public PEM', () => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: logKey.privateKeyPem }]);
    expect(note).toMatch(
      new RegExp(`^${ORIGIN}\\n3\\n[A-Za-z0-9+/]{43}=\\n\\n\u2014 ${ORIGIN} [A-Za-z0-9+/=]+\\n$`),
    );
    expect(verifyCheckpoint(note, trusted, { origin: ORIGIN })).toEqual({ checkpoint, signedBy: [ORIGIN] });
  });

  it('prefixes each signature with the 4-byte key id, SHA-256 of the SPKI DER, as in the Go verifier key', () => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: logKey.privateKeyPem }]);
    const signature = Buffer.from(note.trimEnd().split(' ').pop() ?? '', 'base64');
    const [, keyIdHex] = noteVerifierKey(ORIGIN, logKey.publicKeyPem).split('+');
    expect(signature.subarray(0, 4).toString('hex')).toBe(keyIdHex);
    expect(keyIdHex).toBe(logKey.keyId.slice(0, 8));
  });

  it('keeps extension lines and verifies with several signers, ignoring unknown ones', () => {
    const extended = { ...checkpoint, extensions: ['Timestamp: 1700000000'] };
    const stranger = generateSigningKeyPair();
    const note = signCheckpoint(extended, [
      { name: ORIGIN, privateKey: loadPrivateKey(logKey.privateKeyPem) },
      { name: 'witness.example', privateKey: witnessKey.privateKeyPem },
      { name: 'stranger.example', privateKey: stranger.privateKeyPem },
    ]);
    const verified = verifyCheckpoint(note, [
      ...trusted,
      { name: 'witness.example', publicKey: loadPublicKey(witnessKey.publicKeyPem) },
    ]);
    expect(verified).toEqual({ checkpoint: extended, signedBy: [ORIGIN, 'witness.example'] });
  });

  it('fails naming the key whose signature does not verify when the root, size or origin changed', () => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: logKey.privateKeyPem }]);
    const root = checkpoint.rootHash.toString('base64');
    const otherRoot = Buffer.alloc(32, 7).toString('base64');
    for (const forged of [
      note.replace(root, otherRoot),
      note.replace(`${ORIGIN}\n3\n`, `${ORIGIN}\n4\n`),
      note.replace(`${ORIGIN}\n3`, `${ORIGIN}x\n3`),
    ]) {
      const error = failure(() => verifyCheckpoint(forged, trusted));
      expect(error.code).toBe(TransparencyErrorCode.CHECKPOINT_NOT_TRUSTED);
      expect(error.message).toContain(
        `signature by ${ORIGIN} (key id ${logKey.keyId.slice(0, 8)}) does not verify`,
      );
    }
  });

  it('fails when a byte of the signature changes', () => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: logKey.privateKeyPem }]);
    const [text, line] = [
      note.slice(0, note.lastIndexOf('\n\n') + 2),
      note.slice(note.lastIndexOf('\n\n') + 2),
    ];
    const bytes = Buffer.from(line.trimEnd().split(' ').pop() ?? '', 'base64');
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    const forged = `${text}\u2014 ${ORIGIN} ${bytes.toString('base64')}\n`;
    expect(failure(() => verifyCheckpoint(forged, trusted)).message).toContain('does not verify');
  });

  it('fails when no trusted key signed, listing who did', () => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: witnessKey.privateKeyPem }]);
    const error = failure(() => verifyCheckpoint(note, trusted));
    expect(error.code).toBe(TransparencyErrorCode.CHECKPOINT_NOT_TRUSTED);
    expect(error.message).toBe(
      `the checkpoint has no signature by a trusted key; it is signed by ${ORIGIN} (${witnessKey.keyId.slice(0, 8)})`,
    );
  });

  it('fails for another log than the one expected', () => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: logKey.privateKeyPem }]);
    expect(failure(() => verifyCheckpoint(note, trusted, { origin: 'other.example/log' })).message).toBe(
      `the checkpoint is for log "${ORIGIN}", not "other.example/log"`,
    );
  });

  it.each([
    ['no blank line', (note: string) => note.replace('\n\n', '\n')],
    ['no final newline', (note: string) => note.trimEnd()],
    ['a control character', (note: string) => note.replace(ORIGIN, `${ORIGIN}\t`)],
    ['a hyphen instead of the em dash', (note: string) => note.replace('\u2014', '-')],
    ['a signature too short to hold a key id', (note: string) => note.replace(/ [^ ]+\n$/, ' AAAA\n')],
  ])('refuses a note with %s', (_, mangle) => {
    const note = signCheckpoint(checkpoint, [{ name: ORIGIN, privateKey: logKey.privateKeyPem }]);
    expect(failure(() => verifyCheckpoint(mangle(note), trusted)).code).toBe(
      TransparencyErrorCode.MALFORMED_CHECKPOINT,
    );
  });

  it('refuses key names with spaces or plus signs', () => {
    expect(() => signCheckpoint(checkpoint, [{ name: 'a b', privateKey: logKey.privateKeyPem }])).toThrow(
      'has a space or +',
    );
    expect(() => noteVerifierKey('a+b', logKey.publicKeyPem)).toThrow('has a space or +');
  });
});

describe('Rekor checkpoints (golden)', () => {
  it.each(rekor.checkpoints)(
    'verifies the real checkpoint of tree size $treeSize with Rekor’s key',
    (golden) => {
      const verified = verifyCheckpoint(
        golden.note,
        [{ name: rekor.keyName, publicKey: rekor.publicKeyPem }],
        {
          origin: golden.origin,
        },
      );
      expect(verified.signedBy).toEqual([rekor.keyName]);
      expect(verified.checkpoint.treeSize).toBe(golden.treeSize);
      expect(verified.checkpoint.rootHash.toString('base64')).toBe(golden.rootHashBase64);
      expect(verified.checkpoint.extensions).toEqual(golden.extensions);
    },
  );

  it('writes Rekor’s published note verifier key for Rekor’s public key', () => {
    expect(noteVerifierKey(rekor.keyName, rekor.publicKeyPem)).toBe(rekor.noteVerifierKey);
  });

  it('rejects the real checkpoint once its tree size is changed', () => {
    const [golden] = rekor.checkpoints;
    const forged = golden?.note.replace('\n21428036\n', '\n21428037\n') ?? '';
    expect(() => verifyCheckpoint(forged, [{ name: rekor.keyName, publicKey: rekor.publicKeyPem }])).toThrow(
      'the checkpoint signature by rekor.sigstore.dev (key id c0d23d6a) does not verify',
    );
  });
});
