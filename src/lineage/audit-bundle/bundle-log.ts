import { Injectable } from '@nestjs/common';
import { AuditRepository } from 'src/audit/audit.repository';
import { KeysService } from 'src/attestation/keys/keys.service';
import { inclusionProof } from 'src/attestation/transparency/merkle-tree';
import { SignedCheckpoint, TransparencyService } from 'src/attestation/transparency/transparency.service';
import { AuditBundle, Row } from 'src/lineage/audit-bundle/audit-bundle';

/** Rows as JSON, the way a verifier reads them back (dates become ISO strings). */
export const asRow = (entity: object): Row => JSON.parse(JSON.stringify(entity)) as Row;

/**
 * The transparency log's part of an audit bundle: a signed checkpoint, the events about the bundle's records
 * inside it with their inclusion proofs, the earlier checkpoints, and every public key.
 */
@Injectable()
export class BundleLog {
  constructor(
    private readonly log: TransparencyService,
    private readonly keys: KeysService,
    private readonly events: AuditRepository,
  ) {}

  /** Taken first: every event exported is inside the tree it signs. */
  checkpoint(): Promise<SignedCheckpoint> {
    return this.log.checkpoint();
  }

  /** The events about `subjectIds` inside `checkpoint`, proven against it. */
  async about(
    checkpoint: SignedCheckpoint,
    subjectIds: string[],
  ): Promise<Pick<AuditBundle, 'log' | 'keys' | 'events'>> {
    const events = await this.events.aboutSubjects(subjectIds, checkpoint.treeSize);
    const leaves = (await this.log.leaves()).slice(0, checkpoint.treeSize);
    const earlier = await this.log.earlierThan(leaves, checkpoint.treeSize);
    return {
      log: { origin: this.log.origin, checkpoint: checkpoint.note, earlier },
      keys: (await this.keys.publicKeys()).map((k) => ({
        owner: k.owner,
        keyId: k.keyId,
        publicKeyPem: k.publicKeyPem,
        createdAt: k.createdAt.toISOString(),
        retiredAt: k.retiredAt?.toISOString() ?? null,
      })),
      events: events.map((event) => ({
        event: asRow(event),
        proof: inclusionProof(leaves, event.seq - 1).map((h) => h.toString('hex')),
      })),
    };
  }
}
