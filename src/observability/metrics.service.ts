import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process, with every metric sealgate exports. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'sealgate_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: 'sealgate_graphql_operations_total',
    help: 'GraphQL operations by type, name and outcome',
    labelNames: ['type', 'name', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly auditEvents = new Counter({
    name: 'sealgate_audit_events_total',
    help: 'Audit events appended, by action',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly auditChainValid = new Gauge({
    name: 'sealgate_audit_chain_valid',
    help: '1 when the last verification of the audit hash chain succeeded, 0 when it failed',
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: 'sealgate_jobs_total',
    help: 'Queue jobs finished by the worker, by queue, job and outcome',
    labelNames: ['queue', 'job', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly servingSteps = new Histogram({
    name: 'sealgate_serving_step_seconds',
    help: 'Forward passes of the continuous batch, by kind (prefill, decode)',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly servingBatchRows = new Gauge({
    name: 'sealgate_serving_batch_rows',
    help: 'Rows in the last forward pass of the continuous batch',
    registers: [this.registry],
  });

  readonly servingQueued = new Gauge({
    name: 'sealgate_serving_queued_rows',
    help: 'Rows waiting for a place in the continuous batch',
    registers: [this.registry],
  });

  readonly servingRejected = new Counter({
    name: 'sealgate_serving_rejected_total',
    help: 'Product requests refused by a limit or for an adapter that is not servable, by reason (OVERLOADED, RATE_LIMITED, ADAPTER_NOT_SERVABLE, ADAPTER_TAMPERED, ...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sealgate_' });
  }

  servingStep(step: { kind: 'prefill' | 'decode'; rows: number; queued: number; ms: number }): void {
    this.servingSteps.observe({ kind: step.kind }, step.ms / 1000);
    this.servingBatchRows.set(step.rows);
    this.servingQueued.set(step.queued);
  }
}
