import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Actor } from 'src/common/actor';
import { CommonError } from 'src/common/errors/domain-error';
import { sha256Hex } from 'src/common/sha256';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { KnowledgeSourceEntity, PassageQuestion, Provenance } from 'src/knowledge/knowledge-source.entity';
import { KnowledgeRepository } from 'src/knowledge/knowledge.repository';

export interface NewKnowledgeSource {
  title: string;
  passage: string;
  sourceUri?: string | null;
  provenance?: Provenance | null;
  questions?: PassageQuestion[] | null;
}

@Injectable()
export class KnowledgeService {
  constructor(
    private readonly repository: KnowledgeRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  async get(id: string): Promise<KnowledgeSourceEntity> {
    const source = await this.repository.findById(id);
    if (!source) throw CommonError.notFound('KnowledgeSource', id);
    return source;
  }

  page(limit: number, offset: number): Promise<KnowledgeSourceEntity[]> {
    return this.repository.page(limit, offset);
  }

  add(ctx: AuthContext, input: NewKnowledgeSource): Promise<KnowledgeSourceEntity> {
    ctx.assertCan(Action.create, Subject.KnowledgeSource, input);
    return this.addAs(ctx.actor, input);
  }

  private addAs(actor: Actor, input: NewKnowledgeSource): Promise<KnowledgeSourceEntity> {
    if (!actor.id) throw new Error('A knowledge source must be submitted by a principal');
    const submittedById = actor.id;
    return this.transactions.run(async (manager) => {
      const source = await this.repository.insert(
        manager,
        Object.assign(new KnowledgeSourceEntity(), {
          id: randomUUID(),
          title: input.title,
          passage: input.passage,
          sourceUri: input.sourceUri ?? null,
          provenance: input.provenance ?? null,
          questions: input.questions?.length ? input.questions : null,
          contentSha256: sha256Hex(input.passage),
          submittedById,
          createdAt: new Date(),
        }),
      );
      await this.audit.append(manager, actor, {
        action: AuditAction.KNOWLEDGE_ADDED,
        subjectType: Subject.KnowledgeSource,
        subjectId: source.id,
        after: { title: source.title, sourceUri: source.sourceUri, contentSha256: source.contentSha256 },
      });
      return source;
    });
  }
}
