import { KeyObject, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { sha256Hex } from 'src/common/sha256';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AttestationEntity, AttestationKind } from 'src/attestation/attestation.entity';
import { AttestationsRepository } from 'src/attestation/attestations.repository';
import { bundleStatement, serializeBundle, SigstoreBundle } from 'src/attestation/sigstore/bundle';
import { Statement } from 'src/attestation/sigstore/in-toto';

/** sealgate's own predicate types, for statements no public predicate fits. */
export const APPROVAL_PREDICATE_TYPE = 'https://sealgate.dev/attestations/approval/v1';
export const ROLLBACK_PREDICATE_TYPE = 'https://sealgate.dev/attestations/rollback/v1';

/** Stores signed statements, each also a leaf of the transparency log (an audit event naming its digest). */
@Injectable()
export class AttestationsService {
  constructor(
    private readonly repository: AttestationsRepository,
    private readonly audit: AuditService,
  ) {}

  /** Records a bundle signed elsewhere (model.sig is signed over the files by the signing library). */
  async recordBundle(
    manager: EntityManager,
    actor: Actor,
    kind: AttestationKind,
    subjectId: string,
    bundle: SigstoreBundle,
  ): Promise<AttestationEntity> {
    const text = serializeBundle(bundle);
    const row = Object.assign(new AttestationEntity(), {
      id: randomUUID(),
      kind,
      subjectId,
      bundle: text,
      sha256: sha256Hex(text),
      createdAt: new Date(),
    });
    await this.repository.insert(manager, row);
    await this.audit.append(manager, actor, {
      action: AuditAction.ATTESTATION_RECORDED,
      subjectType: 'Attestation',
      subjectId: row.id,
      after: {
        kind,
        about: subjectId,
        sha256: row.sha256,
        keyIds: bundle.dsseEnvelope.signatures.map((s) => s.keyid),
      },
    });
    return row;
  }

  sign(
    manager: EntityManager,
    actor: Actor,
    kind: AttestationKind,
    subjectId: string,
    statement: Statement,
    key: KeyObject,
  ): Promise<AttestationEntity> {
    return this.recordBundle(manager, actor, kind, subjectId, bundleStatement(statement, key));
  }

  about(subjectIds: string[], manager?: EntityManager): Promise<AttestationEntity[]> {
    return this.repository.about(subjectIds, manager);
  }
}
