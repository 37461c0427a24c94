import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { systemActor } from 'src/common/actor';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { signStandardWebhook } from 'src/approvals/standard-webhooks';
import { WebhookOutboxEntity } from 'src/approvals/webhook-outbox.entity';
import { WebhookOutboxRepository } from 'src/approvals/webhook-outbox.repository';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobsService } from 'src/queues/jobs.service';
import { JobName, JobPayloads, QueueName } from 'src/queues/queue-names';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';

/** How often the worker queues outbox messages that a crash kept from the queue. */
const RELAY_EVERY_MS = 60_000;

/** The event type of the message sent when an edit starts waiting for its reviewers. */
export const REVIEW_PENDING_EVENT = 'self_edit.awaiting_approval';

/** What a receiver gets (Standard Webhooks' shape: type, timestamp, data). */
export interface ReviewWebhookMessage {
  type: typeof REVIEW_PENDING_EVENT;
  timestamp: string;
  data: {
    selfEditId: string;
    channel: string;
    pipelineRun: number;
    status: SelfEditEntity['status'];
    kind: SelfEditEntity['kind'];
    contentSha256: string;
    knowledgeSourceId: string | null;
    proposedById: string;
  };
}

export class WebhookDeliveryError extends Error {}

/**
 * The reviewers' optional webhook (REVIEW_WEBHOOK_URL). Each pending review becomes one message with a fixed id,
 * written to an outbox in the transaction that puts the edit in front of reviewers, then queued as a job (the
 * relay queues whatever a crash left behind), POSTed with a Standard Webhooks signature made for each attempt, and
 * retried with exponential backoff until the receiver answers 2xx. Each delivery is an audit event.
 */
@Injectable()
export class ReviewWebhook implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReviewWebhook.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly audit: AuditService,
    private readonly outbox: WebhookOutboxRepository,
  ) {}

  /** The relay runs on a schedule in the worker (a job handler only runs where the queues are worked). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    await this.jobs
      .queue(QueueName.maintenance)
      .upsertJobScheduler(
        'review-webhook-relay',
        { every: RELAY_EVERY_MS },
        { name: JobName.RELAY_REVIEW_WEBHOOKS, data: {} },
      );
  }

  get enabled(): boolean {
    return !!this.config.REVIEW_WEBHOOK_URL;
  }

  /**
   * Writes the message for one pipeline run of an edit into the outbox, inside the transaction that moves the
   * edit to AWAITING_APPROVAL; writing the same run again adds nothing.
   */
  async stage(manager: EntityManager, edit: SelfEditEntity, channel: string): Promise<void> {
    if (!this.enabled) return;
    const message: ReviewWebhookMessage = {
      type: REVIEW_PENDING_EVENT,
      timestamp: new Date().toISOString(),
      data: {
        selfEditId: edit.id,
        channel,
        pipelineRun: edit.pipelineRun,
        status: SelfEditStatus.AWAITING_APPROVAL,
        kind: edit.kind,
        contentSha256: edit.contentSha256,
        knowledgeSourceId: edit.knowledgeSourceId,
        proposedById: edit.proposedById,
      },
    };
    await this.outbox.add(
      manager,
      Object.assign(new WebhookOutboxEntity(), {
        id: `msg_${edit.id}.${edit.pipelineRun}`,
        selfEditId: edit.id,
        jobId: `review-webhook.${edit.id}.${edit.pipelineRun}`,
        body: JSON.stringify(message),
        createdAt: new Date(),
        queuedAt: null,
      }),
    );
  }

  /** Queues every outbox message not queued yet (after the commit that wrote it, and on a schedule). */
  @JobHandler(JobName.RELAY_REVIEW_WEBHOOKS)
  async relay(): Promise<{ queued: number }> {
    let queued = 0;
    for (const message of await this.outbox.unqueued(100)) {
      await this.jobs.enqueue(
        JobName.DELIVER_REVIEW_WEBHOOK,
        { webhookId: message.id, selfEditId: message.selfEditId, body: message.body },
        {
          jobId: message.jobId,
          attempts: this.config.REVIEW_WEBHOOK_ATTEMPTS,
          backoff: { type: 'exponential', delay: this.config.REVIEW_WEBHOOK_BACKOFF_MS },
        },
      );
      await this.outbox.markQueued(message.id);
      queued++;
    }
    if (queued) this.logger.log({ queued }, 'review webhooks queued');
    return { queued };
  }

  /** One attempt; any answer but 2xx (or no answer in time) throws, so the queue tries again later. */
  @JobHandler(JobName.DELIVER_REVIEW_WEBHOOK)
  async deliver(job: JobPayloads[JobName.DELIVER_REVIEW_WEBHOOK]): Promise<{ status: number }> {
    const url = this.config.REVIEW_WEBHOOK_URL;
    const secret = this.config.REVIEW_WEBHOOK_SECRET;
    if (!url || !secret) throw new WebhookDeliveryError('REVIEW_WEBHOOK_URL is no longer configured');
    const headers = signStandardWebhook(secret, job.webhookId, Math.floor(Date.now() / 1000), job.body);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'sealgate-webhooks/1', ...headers },
      body: job.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.config.REVIEW_WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status < 200 || response.status >= 300) {
      throw new WebhookDeliveryError(`review webhook answered ${response.status}`);
    }
    await this.audit.record(systemActor('review-webhook'), {
      action: AuditAction.REVIEW_WEBHOOK_DELIVERED,
      subjectType: 'SelfEdit',
      subjectId: job.selfEditId,
      after: { webhookId: job.webhookId, status: response.status },
    });
    return { status: response.status };
  }
}
