import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { KnowledgeSourceModel } from 'src/knowledge/knowledge-source.model';
import { ProposeKnowledgeInput } from 'src/seal/dto/propose-knowledge.input';
import { KnowledgeProposalsService } from 'src/seal/knowledge-proposals.service';
import { ProposedKnowledgeModel } from 'src/seal/proposed-knowledge.model';
import { SelfEditModel } from 'src/self-edits/self-edit.model';

@Resolver()
export class SealResolver {
  constructor(private readonly proposals: KnowledgeProposalsService) {}

  @Mutation(() => ProposedKnowledgeModel, {
    description:
      "Store a passage and have the channel's model write k self-edits from it (SEAL); each is proposed " +
      'and goes through the gates, training, evaluation and review like any other edit.',
  })
  @CheckPolicy(Action.create, Subject.KnowledgeSource)
  async proposeKnowledge(
    @Auth() auth: AuthContext,
    @Args('input') input: ProposeKnowledgeInput,
  ): Promise<ProposedKnowledgeModel> {
    const { source, edits } = await this.proposals.propose(auth, input);
    return {
      knowledgeSource: KnowledgeSourceModel.from(source),
      selfEdits: edits.map((e) => SelfEditModel.from(e)),
    };
  }
}
