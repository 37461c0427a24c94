import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { systemActor } from 'src/common/actor';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { LogVerification, TransparencyService } from 'src/attestation/transparency/transparency.service';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobsService } from 'src/queues/jobs.service';
import { JobName, JobPayloads, QueueName } from 'src/queues/queue-names';
import { MetricsService } from 'src/observability/metrics.service';

/**
 * Worker side: verifies the audit chain and the log against every signed checkpoint, on a schedule and on
 * request, records the outcome in the chain, then signs and publishes a checkpoint over it when it held, so that
 * later verifications have a recent anchor.
 */
@Injectable()
export class LogVerificationJobs implements OnApplicationBootstrap {
  private readonly logger = new Logger(LogVerificationJobs.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly log: TransparencyService,
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
  async verify(payload: JobPayloads[JobName.VERIFY_AUDIT_CHAIN]): Promise<LogVerification> {
    const result = await this.log.verifyLog();
    this.metrics.auditChainValid.set(result.valid ? 1 : 0);
    if (!result.valid) this.logger.error({ result }, 'audit chain verification FAILED');
    await this.audit.record(systemActor('worker'), {
      action: AuditAction.AUDIT_CHAIN_VERIFIED,
      subjectType: 'AuditEvent',
      after: { ...result, requestedBy: payload.requestedBy },
    });
    if (result.valid) await this.log.checkpoint();
    return result;
  }
}
