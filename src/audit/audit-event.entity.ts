import { Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber, JsonColumn, RefColumn, StringColumn, TimeColumn } from 'src/database/columns';

/**
 * An append-only, hash-chained record of a state change or privileged call. `hash` is the SHA-256 of the
 * previous hash and the canonical JSON of this event's content (see audit-chain.ts); `prevHash` is unique, so
 * two writers can never fork the chain.
 */
@Entity('audit_events')
export class AuditEventEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber }) seq!: number;
  @RefColumn({ nullable: true }) actorId!: string | null;
  @StringColumn(100) actorName!: string;
  @StringColumn(100) action!: string;
  @StringColumn(64) subjectType!: string;
  @StringColumn(64, { nullable: true }) subjectId!: string | null;
  @JsonColumn({ nullable: true }) before!: unknown;
  @JsonColumn({ nullable: true }) after!: unknown;
  @StringColumn(64, { nullable: true }) requestId!: string | null;
  @TimeColumn() at!: Date;
  @StringColumn(64, { unique: true }) prevHash!: string;
  @StringColumn(64, { unique: true }) hash!: string;
}
