import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { IdColumn, JsonColumn, RefColumn, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';
import { PrincipalEntity } from 'src/auth/principal.entity';

export interface Provenance {
  retrievedAt?: string;
  license?: string;
  publisher?: string;
  notes?: string;
}

export interface PassageQuestion {
  question: string;
  answer: string;
  aliases?: string[];
}

/** A passage of new knowledge and where it came from. Immutable once stored. */
@Entity('knowledge_sources')
export class KnowledgeSourceEntity {
  @IdColumn() id!: string;
  @StringColumn(300) title!: string;
  @TextColumn() passage!: string;
  @StringColumn(2048, { nullable: true }) sourceUri!: string | null;
  @JsonColumn({ nullable: true }) provenance!: Provenance | null;
  /** Questions on the passage with reference answers, when the submitter has them (the SEAL reward's target). */
  @JsonColumn({ nullable: true }) questions!: PassageQuestion[] | null;
  @Index() @StringColumn(64) contentSha256!: string;
  @Index() @RefColumn() submittedById!: string;
  @ManyToOne(() => PrincipalEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'submittedById' })
  submittedBy?: PrincipalEntity;
  @TimeColumn() createdAt!: Date;
}
