import { Field, Int, ObjectType } from '@nestjs/graphql';
import { ServedByModel } from 'src/inference/generation.model';

@ObjectType('GenerationChunk', {
  description:
    'One piece of a streamed generation. Text chunks carry new text; each sample ends with one final chunk (done) that carries its finish reason, token counts and the adapter stack used.',
})
export class GenerationChunkModel {
  @Field(() => Int, { description: 'Which sample (0 .. samples-1).' }) index!: number;
  @Field({ description: 'New text since the previous chunk of this sample (empty on the final chunk).' })
  text!: string;
  @Field() done!: boolean;
  @Field(() => String, { nullable: true, description: 'On the final chunk: stop, eos or length.' })
  finishReason!: string | null;
  @Field(() => Int, { nullable: true }) promptTokens!: number | null;
  @Field(() => Int, { nullable: true }) completionTokens!: number | null;
  @Field(() => ServedByModel, {
    nullable: true,
    description: 'On the final chunk: the channel head and digests.',
  })
  servedBy!: ServedByModel | null;
}
