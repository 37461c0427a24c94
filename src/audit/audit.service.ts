import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditAction } from 'src/audit/audit-action';
import { Actor } from 'src/common/actor';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { AuditRepository } from 'src/audit/audit.repository';
import {
  asStoredJson,
  chainHash,
  ChainedContent,
  chainedContentOf,
  GENESIS_HASH,
} from 'src/audit/audit-chain';
import { MetricsService } from 'src/observability/metrics.service';

export interface AuditEntry {
  action: AuditAction;
  subjectType: string;
  subjectId?: string | null;
  before?: unknown;
  after?: unknown;
}

export interface ChainVerification {
  valid: boolean;
  eventsChecked: number;
  headSeq: number;
  headHash: string;
  firstInvalidSeq: number | null;
  problem: string | null;
}

const VERIFY_PAGE = 1000;

@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly transactions: TransactionRunner,
    private readonly metrics: MetricsService,
  ) {}

  /** Appends inside the caller's transaction, so the event commits or rolls back with the change it describes. */
  async append(manager: EntityManager, actor: Actor, entry: AuditEntry): Promise<AuditEventEntity> {
    await this.repository.lockChain(manager);
    const head = await this.repository.head(manager);
    const content: ChainedContent = {
      seq: (head?.seq ?? 0) + 1,
      actorId: actor.id,
      actorName: actor.name,
      action: entry.action,
      subjectType: entry.subjectType,
      subjectId: entry.subjectId ?? null,
      before: asStoredJson(entry.before),
      after: asStoredJson(entry.after),
      requestId: actor.requestId ?? null,
      at: new Date().toISOString(),
    };
    const prevHash = head?.hash ?? GENESIS_HASH;
    const event = Object.assign(new AuditEventEntity(), {
      ...content,
      at: new Date(content.at),
      prevHash,
      hash: chainHash(prevHash, content),
    });
    const saved = await this.repository.insert(manager, event);
    this.metrics.auditEvents.inc({ action: entry.action });
    return saved;
  }

  /** For events that are not part of a larger change (denied calls, privileged reads). */
  record(actor: Actor, entry: AuditEntry): Promise<AuditEventEntity> {
    return this.transactions.run((manager) => this.append(manager, actor, entry));
  }

  list(
    afterSeq: number,
    limit: number,
    filter?: { subjectType?: string; subjectId?: string; actorId?: string },
  ) {
    return this.repository.page(afterSeq, limit, filter);
  }

  /** Recomputes every hash from the stored content and checks each link, page by page. */
  async verifyChain(): Promise<ChainVerification> {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let checked = 0;
    for (;;) {
      const page = await this.repository.page(expectedSeq - 1, VERIFY_PAGE);
      for (const event of page) {
        const problem = this.checkEvent(event, expectedSeq, prevHash);
        if (problem) {
          return {
            valid: false,
            eventsChecked: checked,
            headSeq: event.seq,
            headHash: event.hash,
            firstInvalidSeq: event.seq,
            problem,
          };
        }
        prevHash = event.hash;
        expectedSeq += 1;
        checked += 1;
      }
      if (page.length < VERIFY_PAGE) break;
    }
    return {
      valid: true,
      eventsChecked: checked,
      headSeq: expectedSeq - 1,
      headHash: prevHash,
      firstInvalidSeq: null,
      problem: null,
    };
  }

  private checkEvent(event: AuditEventEntity, expectedSeq: number, prevHash: string): string | null {
    if (event.seq !== expectedSeq) return `sequence gap: expected ${expectedSeq}, found ${event.seq}`;
    if (event.prevHash !== prevHash) return 'prevHash does not match the previous event';
    const recomputed = chainHash(prevHash, chainedContentOf(event));
    return recomputed === event.hash ? null : 'content does not match its hash';
  }
}
