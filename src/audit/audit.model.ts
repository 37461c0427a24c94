import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { ChainVerification } from 'src/audit/audit.service';

@ObjectType('AuditEvent', { description: 'One link of the hash-chained audit log.' })
export class AuditEventModel {
  @Field(() => Float, { description: 'Position in the chain, from 1.' }) seq!: number;
  @Field(() => ID, { nullable: true, description: 'Null for the system itself.' }) actorId!: string | null;
  @Field() actorName!: string;
  @Field() action!: string;
  @Field() subjectType!: string;
  @Field(() => String, { nullable: true }) subjectId!: string | null;
  @Field(() => String, { nullable: true, description: 'State before the change, as JSON.' }) beforeJson!:
    string | null;
  @Field(() => String, { nullable: true, description: 'State after the change, as JSON.' }) afterJson!:
    string | null;
  @Field(() => String, { nullable: true }) requestId!: string | null;
  @Field() at!: Date;
  @Field() prevHash!: string;
  @Field() hash!: string;

  static from(e: AuditEventEntity): AuditEventModel {
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    return Object.assign(new AuditEventModel(), {
      seq: e.seq,
      actorId: e.actorId,
      actorName: e.actorName,
      action: e.action,
      subjectType: e.subjectType,
      subjectId: e.subjectId,
      beforeJson: json(e.before),
      afterJson: json(e.after),
      requestId: e.requestId,
      at: e.at,
      prevHash: e.prevHash,
      hash: e.hash,
    });
  }
}

@ObjectType('AuditChainVerification')
export class AuditChainVerificationModel implements ChainVerification {
  @Field() valid!: boolean;
  @Field(() => Int) eventsChecked!: number;
  @Field(() => Float) headSeq!: number;
  @Field() headHash!: string;
  @Field(() => Float, { nullable: true }) firstInvalidSeq!: number | null;
  @Field(() => String, { nullable: true }) problem!: string | null;
  @Field(() => Int, {
    description: 'How many checkpoints the gateway signed earlier the log was found consistent with.',
  })
  checkpointsChecked!: number;
}
