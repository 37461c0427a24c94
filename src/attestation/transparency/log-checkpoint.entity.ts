import { Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';

/**
 * A checkpoint the gateway signed, kept and published so that later states of the log can be checked against it
 * (RFC 6962 consistency). One per tree size: the gateway never signs two roots for the same size.
 */
@Entity('log_checkpoints')
export class LogCheckpointEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber }) treeSize!: number;
  /** Hex RFC 6962 root of the first `treeSize` audit events. */
  @StringColumn(64) rootHash!: string;
  /** The signed note (C2SP tlog-checkpoint), exactly as signed. */
  @TextColumn() note!: string;
  @TimeColumn() createdAt!: Date;
}
