import { InitialSchema1764032400000 } from 'migrations/1764032400000-initial-schema';
import { PipelineRuns1764046800000 } from 'migrations/1764046800000-pipeline-runs';
import { LineageSigning1764054000000 } from 'migrations/1764054000000-lineage-signing';
import { AdapterReverts1764061200000 } from 'migrations/1764061200000-adapter-reverts';
import { SealRounds1764068400000 } from 'migrations/1764068400000-seal-rounds';
import { ApiKeyLimits1764072000000 } from 'migrations/1764072000000-api-key-limits';
import { LogCheckpoints1764075600000 } from 'migrations/1764075600000-log-checkpoints';
import { WebhookOutbox1764079200000 } from 'migrations/1764079200000-webhook-outbox';

/** Every migration, oldest first. Listed explicitly so a build never depends on a file glob. */
export const migrations = [
  InitialSchema1764032400000,
  PipelineRuns1764046800000,
  LineageSigning1764054000000,
  AdapterReverts1764061200000,
  SealRounds1764068400000,
  ApiKeyLimits1764072000000,
  LogCheckpoints1764075600000,
  WebhookOutbox1764079200000,
];
