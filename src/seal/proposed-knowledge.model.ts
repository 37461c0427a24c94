import { Field, ObjectType } from '@nestjs/graphql';
import { KnowledgeSourceModel } from 'src/knowledge/knowledge-source.model';
import { SelfEditModel } from 'src/self-edits/self-edit.model';

@ObjectType('ProposedKnowledge', {
  description: 'A passage and the self-edits the channel model wrote from it, each queued for its gates.',
})
export class ProposedKnowledgeModel {
  @Field(() => KnowledgeSourceModel) knowledgeSource!: KnowledgeSourceModel;
  @Field(() => [SelfEditModel]) selfEdits!: SelfEditModel[];
}
