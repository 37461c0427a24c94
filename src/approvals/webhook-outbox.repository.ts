import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { WebhookOutboxEntity } from 'src/approvals/webhook-outbox.entity';

@Injectable()
export class WebhookOutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds the message unless one with its id is there already (a stage that ran twice writes it once). */
  async add(manager: EntityManager, message: WebhookOutboxEntity): Promise<void> {
    const repository = manager.getRepository(WebhookOutboxEntity);
    if (!(await repository.existsBy({ id: message.id }))) await repository.insert(message);
  }

  /** Messages whose delivery job is not queued yet, oldest first. */
  unqueued(limit: number): Promise<WebhookOutboxEntity[]> {
    return this.dataSource
      .getRepository(WebhookOutboxEntity)
      .find({ where: { queuedAt: IsNull() }, order: { createdAt: 'ASC' }, take: limit });
  }

  async markQueued(id: string, at = new Date()): Promise<void> {
    await this.dataSource.getRepository(WebhookOutboxEntity).update({ id }, { queuedAt: at });
  }

  findById(id: string): Promise<WebhookOutboxEntity | null> {
    return this.dataSource.getRepository(WebhookOutboxEntity).findOneBy({ id });
  }
}
