/** Every queue sealgate uses. */
export enum QueueName {
  maintenance = 'maintenance',
  /** The gate pipeline of self-edits: screening, candidate training, evaluation. */
  pipeline = 'pipeline',
  /** Outgoing webhooks, apart so that a slow receiver never holds up maintenance work. */
  webhooks = 'webhooks',
  /** ReST-EM rounds, one at a time: a round uses every core it is given for minutes to hours. */
  seal = 'seal',
}

/** Every job; each must have exactly one handler or the worker refuses to start. */
export enum JobName {
  VERIFY_AUDIT_CHAIN = 'verify-audit-chain',
  EXPIRE_REVIEWS = 'expire-reviews',
  SCREEN_SELF_EDIT = 'screen-self-edit',
  TRAIN_CANDIDATE = 'train-candidate',
  EVALUATE_CANDIDATE = 'evaluate-candidate',
  DELIVER_REVIEW_WEBHOOK = 'deliver-review-webhook',
  RELAY_REVIEW_WEBHOOKS = 'relay-review-webhooks',
  RUN_SEAL_ROUND = 'run-seal-round',
}

/** One pipeline run of one self-edit. */
export interface PipelineJob {
  selfEditId: string;
  pipelineRun: number;
}

/** One review webhook message; the same id and body on every attempt, so a receiver can drop duplicates. */
export interface ReviewWebhookJob {
  webhookId: string;
  selfEditId: string;
  /** The JSON text to POST, exactly as signed. */
  body: string;
}

/** One ReST-EM round; a retry resumes the round from its checkpoint. */
export interface SealRoundJob {
  roundId: string;
}

/** The typed payload of each job. */
export interface JobPayloads {
  [JobName.VERIFY_AUDIT_CHAIN]: { requestedBy: string };
  [JobName.EXPIRE_REVIEWS]: Record<string, never>;
  [JobName.SCREEN_SELF_EDIT]: PipelineJob;
  [JobName.TRAIN_CANDIDATE]: PipelineJob;
  [JobName.EVALUATE_CANDIDATE]: PipelineJob;
  [JobName.DELIVER_REVIEW_WEBHOOK]: ReviewWebhookJob;
  [JobName.RELAY_REVIEW_WEBHOOKS]: Record<string, never>;
  [JobName.RUN_SEAL_ROUND]: SealRoundJob;
}

/** Which queue carries each job. */
export const queueOfJob: Record<JobName, QueueName> = {
  [JobName.VERIFY_AUDIT_CHAIN]: QueueName.maintenance,
  [JobName.EXPIRE_REVIEWS]: QueueName.maintenance,
  [JobName.SCREEN_SELF_EDIT]: QueueName.pipeline,
  [JobName.TRAIN_CANDIDATE]: QueueName.pipeline,
  [JobName.EVALUATE_CANDIDATE]: QueueName.pipeline,
  [JobName.DELIVER_REVIEW_WEBHOOK]: QueueName.webhooks,
  [JobName.RELAY_REVIEW_WEBHOOKS]: QueueName.maintenance,
  [JobName.RUN_SEAL_ROUND]: QueueName.seal,
};

/** Retries with exponential backoff; an infrastructure failure never counts as success. */
export const defaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** The name of the flow producer that starts pipeline runs. */
export const PIPELINE_FLOW = 'pipeline-flow';
