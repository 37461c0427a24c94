import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { GATEWAY_KEY_OWNER, KeysService } from 'src/lineage/keys/keys.service';
import { signCheckpoint } from 'src/lineage/transparency/checkpoint';
import { consistencyProof, inclusionProof, leafHash, rootHash } from 'src/lineage/transparency/merkle-tree';

/** The leaf of an audit event: its chain hash, which commits to its content (audit-chain.ts). */
export const auditLeaf = (eventHashHex: string): Buffer => leafHash(Buffer.from(eventHashHex, 'hex'));

export interface SignedCheckpoint {
  /** The signed note (C2SP tlog-checkpoint): origin, tree size, base64 root, then signature lines. */
  note: string;
  treeSize: number;
  rootHash: string;
}

/**
 * The transparency log: an RFC 6962 Merkle tree whose leaves are the audit events in sequence order, so every
 * lineage event (proposal, gate report, approval, application, rollback, attestation) is a leaf. Checkpoints are
 * signed by the gateway key; inclusion and consistency proofs let anyone check an event or an older checkpoint
 * without trusting the server.
 */
@Injectable()
export class TransparencyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: KeysService,
  ) {}

  get origin(): string {
    return this.config.TRANSPARENCY_LOG_ORIGIN;
  }

  async checkpoint(): Promise<SignedCheckpoint> {
    const leaves = await this.leaves();
    const root = rootHash(leaves);
    const { key } = await this.keys.signer(GATEWAY_KEY_OWNER);
    const note = signCheckpoint({ origin: this.origin, treeSize: leaves.length, rootHash: root }, [
      { name: this.origin, privateKey: key },
    ]);
    return { note, treeSize: leaves.length, rootHash: root.toString('hex') };
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
    const events = await this.dataSource
      .getRepository(AuditEventEntity)
      .find({ select: { seq: true, hash: true }, order: { seq: 'ASC' } });
    events.forEach((e, i) => {
      if (e.seq !== i + 1) throw new Error(`the audit log has a gap before seq ${e.seq}`);
    });
    return events.map((e) => auditLeaf(e.hash));
  }
}
