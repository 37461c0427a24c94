import { Entity, PrimaryColumn } from 'typeorm';
import { RefColumn, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';

/**
 * A reviewers' webhook message, written in the same transaction that puts its edit in front of reviewers, so a
 * crash before it reaches the queue loses nothing: the relay queues every row not queued yet.
 */
@Entity('webhook_outbox')
export class WebhookOutboxEntity {
  /** The message id (`webhook-id`), the same on every delivery attempt. */
  @PrimaryColumn({ type: 'varchar', length: 128 }) id!: string;
  @RefColumn() selfEditId!: string;
  /** The queue job that delivers it; queuing it twice adds nothing. */
  @StringColumn(160) jobId!: string;
  /** The JSON text to POST, exactly as it will be signed. */
  @TextColumn() body!: string;
  @TimeColumn() createdAt!: Date;
  /** When the delivery job was queued; null until then. */
  @TimeColumn({ nullable: true }) queuedAt!: Date | null;
}
