import { Entity } from 'typeorm';
import { IdColumn, IntColumn, RefColumn, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';

/** A named deployment target (`prod`, `staging`): a base model plus an ordered stack of applied adapters. */
@Entity('channels')
export class ChannelEntity {
  @IdColumn() id!: string;
  @StringColumn(64, { unique: true }) name!: string;
  @TextColumn({ nullable: true }) description!: string | null;
  @StringColumn(200) baseModel!: string;
  /** Top of the applied adapter stack; null means the base model alone. */
  @RefColumn({ nullable: true }) headAdapterId!: string | null;
  @TimeColumn() createdAt!: Date;
  @TimeColumn() updatedAt!: Date;
  @IntColumn() version!: number;
}
