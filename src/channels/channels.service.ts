import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Actor } from 'src/common/actor';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsRepository } from 'src/channels/channels.repository';

export interface NewChannel {
  name: string;
  baseModel: string;
  description?: string | null;
}

@Injectable()
export class ChannelsService {
  constructor(
    private readonly repository: ChannelsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  list(): Promise<ChannelEntity[]> {
    return this.repository.list();
  }

  async get(id: string): Promise<ChannelEntity> {
    const channel = await this.repository.findById(id);
    if (!channel) throw CommonError.notFound('Channel', id);
    return channel;
  }

  async getByName(name: string): Promise<ChannelEntity> {
    const channel = await this.repository.findByName(name);
    if (!channel) throw CommonError.notFound('Channel', name);
    return channel;
  }

  create(ctx: AuthContext, input: NewChannel): Promise<ChannelEntity> {
    ctx.assertCan(Action.create, Subject.Channel, input);
    return this.createAs(ctx.actor, input);
  }

  private createAs(actor: Actor, input: NewChannel): Promise<ChannelEntity> {
    return this.transactions.run(async (manager) => {
      if (await this.repository.findByName(input.name, manager)) {
        throw new CommonError(CommonErrorCode.ALREADY_EXISTS, `A channel named ${input.name} already exists`);
      }
      const now = new Date();
      const channel = await this.repository.insert(
        manager,
        Object.assign(new ChannelEntity(), {
          id: randomUUID(),
          name: input.name,
          baseModel: input.baseModel,
          description: input.description ?? null,
          headAdapterId: null,
          createdAt: now,
          updatedAt: now,
          version: 1,
        }),
      );
      await this.audit.append(manager, actor, {
        action: AuditAction.CHANNEL_CREATED,
        subjectType: Subject.Channel,
        subjectId: channel.id,
        after: { name: channel.name, baseModel: channel.baseModel, headAdapterId: null },
      });
      return channel;
    });
  }
}
