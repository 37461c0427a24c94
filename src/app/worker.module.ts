import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { JobHandlerRegistry } from 'src/queues/job-handler-registry';
import { MaintenanceProcessor } from 'src/queues/maintenance.processor';
import { WebhooksProcessor } from 'src/queues/webhooks.processor';
import { AdapterVersionsModule } from 'src/adapter-versions/adapter-versions.module';
import { ApprovalsModule } from 'src/approvals/approvals.module';
import { ReviewJobs } from 'src/approvals/review.jobs';
import { ChannelsModule } from 'src/channels/channels.module';
import { GatesModule } from 'src/gates/gates.module';
import { InferenceModule } from 'src/inference/inference.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { AttestationModule } from 'src/attestation/attestation.module';
import { LogVerificationJobs } from 'src/attestation/transparency/log-verification.jobs';
import { CandidateTrainer } from 'src/training/candidate-trainer.service';
import { PipelineProcessor } from 'src/pipeline/pipeline.processor';
import { PipelineRecovery } from 'src/pipeline/pipeline-recovery';
import { AppliedHistory } from 'src/pipeline/stages/applied-history';
import { EvaluateStage } from 'src/pipeline/stages/evaluate.stage';
import { PipelineTransitions } from 'src/pipeline/stages/pipeline-transitions';
import { ScreenStage } from 'src/pipeline/stages/screen.stage';
import { StageInputs } from 'src/pipeline/stages/stage-inputs';
import { TrainStage } from 'src/pipeline/stages/train.stage';
import { SealModule } from 'src/seal/seal.module';
import { SealProcessor } from 'src/seal/rounds/seal.processor';
import { SealRoundJobs } from 'src/seal/rounds/seal-round.jobs';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';

/** Loaded only in `worker` and `embedded` mode: queue consumers and the job handlers they dispatch to. */
@Module({
  imports: [
    DiscoveryModule,
    AdapterVersionsModule,
    ApprovalsModule,
    ChannelsModule,
    GatesModule,
    InferenceModule,
    KnowledgeModule,
    SealModule,
    SelfEditsModule,
    AttestationModule,
  ],
  providers: [
    JobHandlerRegistry,
    JobDispatcher,
    MaintenanceProcessor,
    WebhooksProcessor,
    LogVerificationJobs,
    PipelineProcessor,
    PipelineTransitions,
    StageInputs,
    AppliedHistory,
    ScreenStage,
    TrainStage,
    EvaluateStage,
    CandidateTrainer,
    PipelineRecovery,
    ReviewJobs,
    SealRoundJobs,
    SealProcessor,
  ],
  // The health controller asks a worker whether it can train.
  exports: [CandidateTrainer],
})
export class WorkerModule {}
