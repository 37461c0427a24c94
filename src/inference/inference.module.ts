import { Module } from '@nestjs/common';
import { AdapterStore } from 'src/inference/adapter-store';
import { ModelService } from 'src/inference/model.service';

/** The model runtime: the base model in onnxruntime and the content-addressed adapter folders. */
@Module({
  providers: [ModelService, AdapterStore],
  exports: [ModelService, AdapterStore],
})
export class InferenceModule {}
