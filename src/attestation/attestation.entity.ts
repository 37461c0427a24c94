import { Entity, Index } from 'typeorm';
import { IdColumn, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';

export enum AttestationKind {
  /** model.sig of an applied adapter folder (model_signing's format). */
  MODEL_SIGNATURE = 'model-signature',
  /** SLSA provenance of an applied adapter. */
  PROVENANCE = 'provenance',
  /** A gate report as an in-toto test result. */
  GATE_REPORT = 'gate-report',
  /** An approver's signed decision. */
  APPROVAL = 'approval',
  ROLLBACK = 'rollback',
}

/** A signed in-toto statement (a Sigstore bundle with a DSSE envelope) about a lineage subject. */
@Entity('attestations')
export class AttestationEntity {
  @IdColumn() id!: string;
  @StringColumn(32) kind!: AttestationKind;
  /** The adapter version, gate report, approval or channel it is about. */
  @Index() @StringColumn(64) subjectId!: string;
  /** The bundle's JSON text, exactly as signed and exported. */
  @TextColumn() bundle!: string;
  @StringColumn(64) sha256!: string;
  @TimeColumn() createdAt!: Date;
}
