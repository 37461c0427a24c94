import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { systemActor } from 'src/common/actor';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobsService } from 'src/queues/jobs.service';
import { JobName, QueueName } from 'src/queues/queue-names';

const EVERY_MS = 10 * 60_000;

/** Worker side: every ten minutes, reviews past their channel's expiry end as EXPIRED. */
@Injectable()
export class ReviewJobs implements OnApplicationBootstrap {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly jobs: JobsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs
      .queue(QueueName.maintenance)
      .upsertJobScheduler('review-expiry', { every: EVERY_MS }, { name: JobName.EXPIRE_REVIEWS, data: {} });
  }

  @JobHandler(JobName.EXPIRE_REVIEWS)
  async expire(): Promise<{ expired: number }> {
    return { expired: await this.approvals.expireOverdue(systemActor('review-expiry')) };
  }
}
