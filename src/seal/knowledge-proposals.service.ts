import { randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelsService } from 'src/channels/channels.service';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { ProposeKnowledgeInput } from 'src/seal/dto/propose-knowledge.input';
import { SelfEditWriter } from 'src/seal/self-edit-writer';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditKind, SelfEditOrigin } from 'src/self-edits/self-edit.types';
import { SelfEditError, SelfEditErrorCode } from 'src/self-edits/self-edits.errors';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

export const DEFAULT_SELF_EDIT_SAMPLES = 5;

/**
 * proposeKnowledge: store the passage, have the channel's model write k self-edits from it, and propose each
 * (origin GENERATED) into the gated pipeline, where the target-gain gate measures SEAL's reward. Nothing is
 * stored when the caller may not propose, the channel is unknown or the model cannot write.
 */
@Injectable()
export class KnowledgeProposalsService {
  constructor(
    private readonly knowledge: KnowledgeService,
    private readonly selfEdits: SelfEditsService,
    private readonly channels: ChannelsService,
    private readonly writer: SelfEditWriter,
  ) {}

  async propose(
    ctx: AuthContext,
    input: ProposeKnowledgeInput,
  ): Promise<{ source: KnowledgeSourceEntity; edits: SelfEditEntity[] }> {
    const { channel, family, samples, seed, ...passage } = input;
    const kind = family ?? SelfEditKind.implications;
    ctx.assertCan(Action.create, Subject.SelfEdit, { channel, kind });
    await this.channels.getByName(channel);
    const written = await this.writer.write(
      channel,
      passage,
      kind,
      samples ?? DEFAULT_SELF_EDIT_SAMPLES,
      seed ?? randomInt(2 ** 31),
    );
    const texts = written.map((w) => w.text).filter((t) => t.length > 0);
    if (texts.length === 0) {
      throw new SelfEditError(
        SelfEditErrorCode.NO_SELF_EDIT_WRITTEN,
        `The ${channel} model wrote nothing from this passage in ${written.length} samples; nothing was stored`,
      );
    }
    const source = await this.knowledge.add(ctx, passage);
    const edits: SelfEditEntity[] = [];
    for (const content of texts) {
      edits.push(
        await this.selfEdits.proposeAs(
          ctx.actor,
          { channel, knowledgeSourceId: source.id, kind, content },
          SelfEditOrigin.GENERATED,
        ),
      );
    }
    return { source, edits };
  }
}
