import { Args, Field, Float, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { AuditChainVerificationModel } from 'src/audit/audit.model';
import { AuditAction } from 'src/audit/audit-action';
import { AuditedCall, CheckPolicy } from 'src/auth/auth.decorators';
import { Action, Subject } from 'src/auth/policy';
import { BoundedIntPipe } from 'src/common/bounded-int.pipe';
import { MAX_PAGE_SIZE } from 'src/common/pagination.args';
import { KeysService } from 'src/attestation/keys/keys.service';
import { TransparencyService } from 'src/attestation/transparency/transparency.service';

@ObjectType('LogCheckpoint', {
  description: 'A signed checkpoint of the transparency log (C2SP signed note).',
})
class LogCheckpointModel {
  @Field() origin!: string;
  @Field(() => Int) treeSize!: number;
  @Field({ description: 'Hex RFC 6962 root hash.' }) rootHash!: string;
  @Field({ description: 'The signed note text.' }) note!: string;
  @Field({ description: 'When the gateway signed it.' }) signedAt!: Date;
}

@ObjectType('InclusionProof')
class InclusionProofModel {
  @Field(() => Int) leafIndex!: number;
  @Field(() => Int) treeSize!: number;
  @Field(() => [String], { description: 'Hex hashes, leaf to root.' }) hashes!: string[];
}

@ObjectType('SigningKey', { description: 'A public signing key; retired keys stay for verification.' })
class SigningKeyModel {
  @Field({ description: '"gateway", or the principal id of an approver.' }) owner!: string;
  @Field() keyId!: string;
  @Field() publicKeyPem!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) retiredAt!: Date | null;
}

/** The transparency log and the public keys, for auditors who verify without trusting the server. */
@Resolver()
export class TransparencyResolver {
  constructor(
    private readonly log: TransparencyService,
    private readonly keys: KeysService,
  ) {}

  @Query(() => LogCheckpointModel, {
    description:
      'The current signed checkpoint of the lineage log; it is stored and published in `logCheckpoints`. Refused ' +
      '(CONFLICT, LOG_INCONSISTENT) when the log is not an extension of the last checkpoint signed.',
  })
  @CheckPolicy(Action.verify, Subject.AuditEvent)
  async logCheckpoint(): Promise<LogCheckpointModel> {
    return { origin: this.log.origin, ...(await this.log.checkpoint()) };
  }

  @Query(() => [LogCheckpointModel], {
    description:
      'Every checkpoint the gateway signed, by tree size after `afterTreeSize`: keep copies, and check later ' +
      'states of the log against them (`consistencyProof`, or `sealgate verify --checkpoint`).',
  })
  @CheckPolicy(Action.verify, Subject.AuditEvent)
  async logCheckpoints(
    @Args(
      'afterTreeSize',
      { type: () => Float, defaultValue: 0 },
      new BoundedIntPipe('afterTreeSize', 0, Number.MAX_SAFE_INTEGER),
    )
    afterTreeSize: number,
    @Args('limit', { type: () => Int, defaultValue: 100 }, new BoundedIntPipe('limit', 1, MAX_PAGE_SIZE))
    limit: number,
  ): Promise<LogCheckpointModel[]> {
    const published = await this.log.published(afterTreeSize, limit);
    return published.map((c) => ({ origin: this.log.origin, ...c }));
  }

  // Reads the whole log: priced like a large page, so one operation cannot ask for it many times over.
  @Query(() => AuditChainVerificationModel, {
    description:
      'Recomputes every hash and link of the audit log, and checks the log is consistent with every checkpoint ' +
      'the gateway signed earlier.',
    complexity: 100,
  })
  @CheckPolicy(Action.verify, Subject.AuditEvent)
  @AuditedCall(AuditAction.AUDIT_VERIFIED)
  verifyAuditChain(): Promise<AuditChainVerificationModel> {
    return this.log.verifyLog();
  }

  @Query(() => InclusionProofModel, {
    description: 'The inclusion proof of audit event `seq` (leaf seq - 1).',
  })
  @CheckPolicy(Action.verify, Subject.AuditEvent)
  inclusionProof(
    @Args('seq', { type: () => Int }) seq: number,
    @Args('treeSize', { type: () => Int, nullable: true }) treeSize?: number,
  ): Promise<InclusionProofModel> {
    return this.log.inclusion(seq, treeSize ?? undefined);
  }

  @Query(() => [String], {
    description: 'Hex hashes proving the tree of fromSize leaves is a prefix of toSize.',
  })
  @CheckPolicy(Action.verify, Subject.AuditEvent)
  consistencyProof(
    @Args('fromSize', { type: () => Int }) fromSize: number,
    @Args('toSize', { type: () => Int, nullable: true }) toSize?: number,
  ): Promise<string[]> {
    return this.log.consistency(fromSize, toSize ?? undefined);
  }

  @Query(() => [SigningKeyModel], { description: 'Every public signing key, retired ones included.' })
  @CheckPolicy(Action.read, Subject.AuditEvent)
  async signingKeys(): Promise<SigningKeyModel[]> {
    return (await this.keys.publicKeys()).map((k) => ({
      owner: k.owner,
      keyId: k.keyId,
      publicKeyPem: k.publicKeyPem,
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
    }));
  }
}
