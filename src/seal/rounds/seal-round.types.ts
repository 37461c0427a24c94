import { registerEnumType } from '@nestjs/graphql';

/** Where a ReST-EM round stands. QUEUED and RUNNING are live; the rest are final. */
export enum SealRoundStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(SealRoundStatus, {
  name: 'SealRoundStatus',
  description: 'QUEUED and RUNNING are live; SUCCEEDED, FAILED and CANCELLED are final.',
});

export const LIVE_ROUND_STATUSES: readonly SealRoundStatus[] = [
  SealRoundStatus.QUEUED,
  SealRoundStatus.RUNNING,
];

/** What the round was asked to do. */
export interface SealRoundSettings {
  knowledgeSourceIds: string[];
  /** Self-edits sampled per passage. */
  k: number;
  seed: number;
}

/** The last progress line of the round (`[round] <stage>: <done>/<total> (<seconds> s)`). */
export interface SealRoundProgress {
  stage: string;
  done: number;
  total: number;
  /** Seconds since the Python round started (its own clock). */
  seconds: number;
}

/** One kept self-edit: the best of k for its passage, kept only when its reward was positive. */
export interface KeptSelfEdit {
  /** The knowledge source id (the passages file names each passage by it). */
  passageId: string;
  text: string;
  reward: number;
}

/** The round's summary, as the Python round printed it (gpu/sealgate_gpu/seal/round.py). */
export interface SealRoundResult {
  round: number;
  passages: number;
  k: number;
  meanReward: number;
  meanBestReward: number;
  kept: number;
  generatorLoss: number | null;
  keptSelfEdits: KeptSelfEdit[];
  /** The generator adapter the round wrote (a PEFT folder under DATA_DIR/seal-rounds/<id>/). */
  adapterDir: string;
  /** The torch device the round ran on. */
  device?: string;
}
