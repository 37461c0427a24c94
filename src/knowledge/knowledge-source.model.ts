import { Field, ID, ObjectType } from '@nestjs/graphql';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';

@ObjectType('Provenance')
export class ProvenanceModel {
  @Field(() => String, { nullable: true }) retrievedAt?: string;
  @Field(() => String, { nullable: true }) license?: string;
  @Field(() => String, { nullable: true }) publisher?: string;
  @Field(() => String, { nullable: true }) notes?: string;
}

@ObjectType('PassageQuestion')
export class PassageQuestionModel {
  @Field() question!: string;
  @Field() answer!: string;
  @Field(() => [String]) aliases!: string[];
}

@ObjectType('KnowledgeSource', { description: 'A passage of new knowledge and where it came from.' })
export class KnowledgeSourceModel {
  @Field(() => ID) id!: string;
  @Field() title!: string;
  @Field() passage!: string;
  @Field(() => String, { nullable: true }) sourceUri!: string | null;
  @Field(() => ProvenanceModel, { nullable: true }) provenance!: ProvenanceModel | null;
  @Field(() => [PassageQuestionModel], { description: 'Questions on the passage with reference answers.' })
  questions!: PassageQuestionModel[];
  @Field({ description: 'SHA-256 of the passage text.' }) contentSha256!: string;
  @Field(() => ID) submittedById!: string;
  @Field() createdAt!: Date;

  static from(e: KnowledgeSourceEntity): KnowledgeSourceModel {
    return Object.assign(new KnowledgeSourceModel(), {
      id: e.id,
      title: e.title,
      passage: e.passage,
      sourceUri: e.sourceUri,
      provenance: e.provenance,
      questions: (e.questions ?? []).map((q) => ({ ...q, aliases: q.aliases ?? [] })),
      contentSha256: e.contentSha256,
      submittedById: e.submittedById,
      createdAt: e.createdAt,
    });
  }
}
