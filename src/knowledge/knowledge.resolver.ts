import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ParseUUIDPipe } from '@nestjs/common';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { PageArgs } from 'src/common/pagination.args';
import { AddKnowledgeSourceInput } from 'src/knowledge/dto/add-knowledge-source.input';
import { KnowledgeSourceModel } from 'src/knowledge/knowledge-source.model';
import { KnowledgeService } from 'src/knowledge/knowledge.service';

@Resolver(() => KnowledgeSourceModel)
export class KnowledgeResolver {
  constructor(private readonly knowledge: KnowledgeService) {}

  @Query(() => [KnowledgeSourceModel], { description: 'Newest first.' })
  @CheckPolicy(Action.read, Subject.KnowledgeSource)
  async knowledgeSources(@Args() page: PageArgs): Promise<KnowledgeSourceModel[]> {
    return (await this.knowledge.page(page.limit, page.offset)).map((k) => KnowledgeSourceModel.from(k));
  }

  @Query(() => KnowledgeSourceModel)
  @CheckPolicy(Action.read, Subject.KnowledgeSource)
  async knowledgeSource(
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
  ): Promise<KnowledgeSourceModel> {
    return KnowledgeSourceModel.from(await this.knowledge.get(id));
  }

  @Mutation(() => KnowledgeSourceModel)
  @CheckPolicy(Action.create, Subject.KnowledgeSource)
  async addKnowledgeSource(
    @Auth() auth: AuthContext,
    @Args('input') input: AddKnowledgeSourceInput,
  ): Promise<KnowledgeSourceModel> {
    return KnowledgeSourceModel.from(await this.knowledge.add(auth, input));
  }
}
