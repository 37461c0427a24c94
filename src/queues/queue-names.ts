/** Every queue sealgate uses. */
export enum QueueName {
  maintenance = 'maintenance',
}

/** Every job; each must have exactly one handler or the worker refuses to start. */
export enum JobName {
  VERIFY_AUDIT_CHAIN = 'verify-audit-chain',
}

/** The typed payload of each job. */
export interface JobPayloads {
  [JobName.VERIFY_AUDIT_CHAIN]: { requestedBy: string };
}

/** Which queue carries each job. */
export const queueOfJob: Record<JobName, QueueName> = {
  [JobName.VERIFY_AUDIT_CHAIN]: QueueName.maintenance,
};

/** Retries with exponential backoff; an infrastructure failure never counts as success. */
export const defaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};
