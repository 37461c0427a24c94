import { Injectable } from '@nestjs/common';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobName, PipelineJob } from 'src/queues/queue-names';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import {
  isAt,
  PIPELINE_ACTOR,
  PipelineTransitions,
  StageResult,
} from 'src/pipeline/stages/pipeline-transitions';
import { StageInputs } from 'src/pipeline/stages/stage-inputs';

const S = SelfEditStatus;

/** The first stage: the screening gates read the edit and its passage, before any training. */
@Injectable()
export class ScreenStage {
  constructor(
    private readonly edits: SelfEditsService,
    private readonly inputs: StageInputs,
    private readonly transitions: PipelineTransitions,
  ) {}

  @JobHandler(JobName.SCREEN_SELF_EDIT)
  async screen(job: PipelineJob): Promise<StageResult> {
    let edit = await this.edits.get(job.selfEditId);
    if (edit.pipelineRun === job.pipelineRun && edit.status === S.PROPOSED) {
      edit = await this.edits.transition(PIPELINE_ACTOR, edit.id, S.SCREENING);
    }
    if (!isAt(edit, job, S.SCREENING)) return { stage: 'screening', outcome: 'skipped', status: edit.status };
    const { policy, input } = await this.inputs.screeningOf(edit);
    const parts = await this.inputs.screeningParts(edit, input);
    return this.transitions.gateStage(edit, 'screening', policy.gates.screening, parts, S.TRAINING);
  }
}
