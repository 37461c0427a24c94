import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuditJobs } from 'src/audit/audit.jobs';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { JobHandlerRegistry } from 'src/queues/job-handler-registry';
import { MaintenanceProcessor } from 'src/queues/maintenance.processor';

/** Loaded only in `worker` and `embedded` mode: queue consumers and the job handlers they dispatch to. */
@Module({
  imports: [DiscoveryModule],
  providers: [JobHandlerRegistry, JobDispatcher, MaintenanceProcessor, AuditJobs],
})
export class WorkerModule {}
