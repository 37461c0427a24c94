import { Module } from '@nestjs/common';
import { PipelineLauncher } from 'src/pipeline/pipeline-launcher';

/** The producer side of the gate pipeline, for whoever proposes edits. */
@Module({
  providers: [PipelineLauncher],
  exports: [PipelineLauncher],
})
export class PipelineModule {}
