import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AuditRepository } from 'src/audit/audit.repository';
import { AuditService, ChainVerification } from 'src/audit/audit.service';
import { GATEWAY_KEY_OWNER, KeysService } from 'src/attestation/keys/keys.service';
import { Checkpoint, signCheckpoint, verifyCheckpoint } from 'src/attestation/transparency/checkpoint';
import { LogCheckpointEntity } from 'src/attestation/transparency/log-checkpoint.entity';
import { LogCheckpointsRepository } from 'src/attestation/transparency/log-checkpoints.repository';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
} from 'src/attestation/transparency/merkle-tree';
import { TransparencyError, TransparencyErrorCode } from 'src/attestation/transparency/transparency.errors';

/** The leaf of an audit event: its chain hash, which commits to its content (audit-chain.ts). */
export const auditLeaf = (eventHashHex: string): Buffer => leafHash(Buffer.from(eventHashHex, 'hex'));

export interface SignedCheckpoint {
  /** The signed note (C2SP tlog-checkpoint): origin, tree size, base64 root, then signature lines. */
  note: string;
  treeSize: number;
  rootHash: string;
  signedAt: Date;
}

export interface LogVerification extends ChainVerification {
  /** How many of the checkpoints the gateway signed the log was found consistent with. */
  checkpointsChecked: number;
}

/**
 * The transparency log: an RFC 6962 Merkle tree whose leaves are the audit events in sequence order, so every
 * lineage event (proposal, gate report, approval, application, rollback, attestation) is a leaf. Checkpoints are
 * signed by the gateway key, stored (one per tree size) and published; every later state of the log must be
 * consistent with each of them, so rewriting a logged event, even with every later hash recomputed, is detected.
 * Inclusion and consistency proofs let anyone check an event or an older checkpoint without trusting the server.
 */
@Injectable()
export class TransparencyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly checkpoints: LogCheckpointsRepository,
    private readonly keys: KeysService,
    private readonly audit: AuditService,
    private readonly auditEvents: AuditRepository,
  ) {}

  get origin(): string {
    return this.config.TRANSPARENCY_LOG_ORIGIN;
  }

  /**
   * A signed checkpoint of the whole log, stored and published. Refuses (LOG_INCONSISTENT) when the log is not an
   * extension of the last checkpoint signed: the gateway never signs a rewritten history.
   */
  async checkpoint(): Promise<SignedCheckpoint> {
    const leaves = await this.leaves();
    const root = rootHash(leaves);
    const latest = await this.checkpoints.latest();
    if (latest) {
      const problem = await this.checkAgainst(leaves, root, latest);
      if (problem) throw new TransparencyError(TransparencyErrorCode.LOG_INCONSISTENT, problem);
      if (latest.treeSize === leaves.length) return signed(latest);
    }
    const { key } = await this.keys.signer(GATEWAY_KEY_OWNER);
    const note = signCheckpoint({ origin: this.origin, treeSize: leaves.length, rootHash: root }, [
      { name: this.origin, privateKey: key },
    ]);
    // Another process may have signed the same size at the same time: the first one stored is the one published.
    const stored = await this.checkpoints.insertOrKeep({
      treeSize: leaves.length,
      rootHash: root.toString('hex'),
      note,
      createdAt: new Date(),
    });
    return signed(stored);
  }

  /** The checkpoints the gateway signed, oldest first, for auditors to keep copies of. */
  async published(afterTreeSize: number, limit: number): Promise<SignedCheckpoint[]> {
    const rows = await this.checkpoints.page(afterTreeSize, limit);
    return rows.map(signed);
  }

  /**
   * The audit chain (every hash and link), then the log against every checkpoint the gateway signed: each note
   * must verify with a gateway key and its tree must be a prefix of today's (an RFC 6962 consistency proof).
   */
  async verifyLog(): Promise<LogVerification> {
    const chain = await this.audit.verifyChain();
    if (!chain.valid) return { ...chain, checkpointsChecked: 0 };
    const leaves = await this.leaves();
    const root = rootHash(leaves);
    const stored = await this.checkpoints.all();
    let checked = 0;
    let lastGood = 0;
    for (const row of stored) {
      const problem = await this.checkAgainst(leaves, root, row);
      if (problem) {
        const where = `an event from seq ${lastGood + 1} to ${row.treeSize} was changed`;
        return { ...chain, valid: false, problem: `${problem} (${where})`, checkpointsChecked: checked };
      }
      checked += 1;
      lastGood = row.treeSize;
    }
    return { ...chain, checkpointsChecked: checked };
  }

  /**
   * The stored checkpoints of trees smaller than `treeSize`, each with the consistency proof from it to the tree
   * of `treeSize` leaves (hex), for an audit bundle.
   */
  async earlierThan(
    leaves: readonly Buffer[],
    treeSize: number,
  ): Promise<{ note: string; proof: string[] }[]> {
    const rows = await this.checkpoints.all();
    return rows
      .filter((row) => row.treeSize < treeSize)
      .map((row) => ({
        note: row.note,
        proof: consistencyProof(leaves, row.treeSize, treeSize).map((h) => h.toString('hex')),
      }));
  }

  /** The audit path of event `seq` (leaf seq - 1) in the tree of `treeSize` leaves (default: all). */
  async inclusion(
    seq: number,
    treeSize?: number,
  ): Promise<{ leafIndex: number; treeSize: number; hashes: string[] }> {
    const leaves = await this.leaves();
    const size = treeSize ?? leaves.length;
    return {
      leafIndex: seq - 1,
      treeSize: size,
      hashes: inclusionProof(leaves, seq - 1, size).map((h) => h.toString('hex')),
    };
  }

  async consistency(fromSize: number, toSize?: number): Promise<string[]> {
    const leaves = await this.leaves();
    return consistencyProof(leaves, fromSize, toSize ?? leaves.length).map((h) => h.toString('hex'));
  }

  async leaves(): Promise<Buffer[]> {
    const events = await this.auditEvents.hashes();
    events.forEach((e, i) => {
      if (e.seq !== i + 1) throw new Error(`the audit log has a gap before seq ${e.seq}`);
    });
    return events.map((e) => auditLeaf(e.hash));
  }

  /**
   * Why the log (its leaves and root) is not an extension of a stored checkpoint, read from its signed note;
   * null when it is.
   */
  private async checkAgainst(
    leaves: readonly Buffer[],
    root: Buffer,
    row: LogCheckpointEntity,
  ): Promise<string | null> {
    let checkpoint: Checkpoint;
    try {
      checkpoint = await this.verifiedNote(row);
    } catch (err) {
      return `the stored checkpoint of ${row.treeSize} events does not verify: ${(err as Error).message}`;
    }
    const { treeSize } = checkpoint;
    const at = `the log is not consistent with the checkpoint of ${treeSize} events signed ${row.createdAt.toISOString()}`;
    if (treeSize > leaves.length) return `${at}: the log now has only ${leaves.length} events`;
    const proof = consistencyProof(leaves, treeSize);
    return verifyConsistency(treeSize, leaves.length, checkpoint.rootHash, root, proof) ? null : at;
  }

  /** A stored checkpoint's note, verified with the gateway's keys (retired ones included) and matched to its row. */
  private async verifiedNote(row: LogCheckpointEntity): Promise<Checkpoint> {
    const gatewayKeys = (await this.keys.publicKeys()).filter((k) => k.owner === GATEWAY_KEY_OWNER);
    const { checkpoint } = verifyCheckpoint(
      row.note,
      gatewayKeys.map((k) => ({ name: this.origin, publicKey: k.publicKeyPem })),
      { origin: this.origin },
    );
    if (checkpoint.treeSize !== row.treeSize) {
      throw new Error(`its note is for a tree of ${checkpoint.treeSize} events`);
    }
    return checkpoint;
  }
}

const signed = (row: LogCheckpointEntity): SignedCheckpoint => ({
  note: row.note,
  treeSize: row.treeSize,
  rootHash: row.rootHash,
  signedAt: row.createdAt,
});
