import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { systemActor } from 'src/common/actor';
import { AuditService, ChainVerification } from 'src/audit/audit.service';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobsService } from 'src/queues/jobs.service';
import { JobName, JobPayloads, QueueName } from 'src/queues/queue-names';
import { MetricsService } from 'src/observability/metrics.service';

/** Worker side: verifies the audit chain on a schedule and on request, and records the outcome in the chain. */
@Injectable()
export class AuditJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuditJobs.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const minutes = this.config.AUDIT_VERIFY_EVERY_MINUTES;
    if (minutes === 0) return;
    await this.jobs
      .queue(QueueName.maintenance)
      .upsertJobScheduler(
        'audit-chain-verification',
        { every: minutes * 60_000 },
        { name: JobName.VERIFY_AUDIT_CHAIN, data: { requestedBy: 'schedule' } },
      );
  }

  @JobHandler(JobName.VERIFY_AUDIT_CHAIN)
  async verify(payload: JobPayloads[JobName.VERIFY_AUDIT_CHAIN]): Promise<ChainVerification> {
    const result = await this.audit.verifyChain();
    this.metrics.auditChainValid.set(result.valid ? 1 : 0);
    if (!result.valid) this.logger.error({ result }, 'audit chain verification FAILED');
    await this.audit.record(systemActor('worker'), {
      action: 'audit.chain_verified',
      subjectType: 'AuditEvent',
      after: { ...result, requestedBy: payload.requestedBy },
    });
    return result;
  }
}
