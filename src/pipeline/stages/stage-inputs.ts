import { Injectable } from '@nestjs/common';
import { ServingStackService } from 'src/adapter-versions/serving-stack.service';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsService } from 'src/channels/channels.service';
import { GatedPart } from 'src/gates/gate-catalog';
import { ModelScreeningInput } from 'src/gates/gate-inputs';
import { ChannelPolicy } from 'src/gates/policy/channel-policy';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { ModelService } from 'src/inference/model.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { GeneratorUpdates } from 'src/seal/rounds/generator-updates';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { selfEditLines } from 'src/self-edits/self-edit-lines';
import { SelfEditKind } from 'src/self-edits/self-edit.types';

/** An edit's channel, the channel's policy, and the stack the channel serves now (the parent of a candidate). */
export interface EditContext {
  channel: ChannelEntity;
  policy: ChannelPolicy;
  parent: { folders: string[]; headAdapterId: string | null };
}

/** What the stages read about an edit: its channel and policy, its passage, the stacks its gates compare. */
@Injectable()
export class StageInputs {
  constructor(
    private readonly channels: ChannelsService,
    private readonly policies: ChannelPolicyService,
    private readonly stacks: ServingStackService,
    private readonly knowledge: KnowledgeService,
    private readonly generators: GeneratorUpdates,
    private readonly model: ModelService,
  ) {}

  /** The digest of the base model every candidate is trained on. */
  get baseModelDigest(): string {
    return this.model.baseModelDigest;
  }

  async contextOf(edit: SelfEditEntity): Promise<EditContext> {
    const channel = await this.channels.get(edit.channelId);
    const parent = await this.stacks.resolve({ channel: channel.name });
    return { channel, policy: this.policies.forChannel(channel.name), parent };
  }

  /** The adapter folders of a version's stack, base first. */
  async foldersOf(adapterVersionId: string | null): Promise<string[]> {
    return (await this.stacks.resolve({ adapterVersionId })).folders;
  }

  /** What the screening gates read, with the channel's current stack as the reference. */
  async screeningOf(edit: SelfEditEntity): Promise<EditContext & { input: ModelScreeningInput }> {
    const context = await this.contextOf(edit);
    return {
      ...context,
      input: {
        selfEdit: { lines: selfEditLines(edit) },
        passage: await this.passageOf(edit),
        protectedEntities: context.policy.protectedEntities,
        hyperparameters: edit.hyperparameters,
        parentFolders: context.parent.folders,
      },
    };
  }

  /**
   * What the screening gates read: the edit against its passage; for a generator update, each kept self-edit
   * against its own passage (one report per gate, its worst part deciding), since no one passage backs them all.
   */
  async screeningParts(
    edit: SelfEditEntity,
    input: ModelScreeningInput,
  ): Promise<GatedPart<ModelScreeningInput>[]> {
    if (edit.kind !== SelfEditKind.generator) return [{ label: edit.id, input }];
    const { parts } = await this.generators.forEdit(edit.id);
    return parts.map((part) => ({
      label: part.knowledgeSourceId,
      input: { ...input, selfEdit: { lines: part.lines }, passage: part.passage },
    }));
  }

  /** The passage the gates check an edit against; a generator update's are its round's passages. */
  async passageOf(edit: SelfEditEntity): Promise<{ title: string; text: string }> {
    if (edit.kind === SelfEditKind.generator) return (await this.generators.forEdit(edit.id)).passage;
    const source = edit.knowledgeSourceId ? await this.knowledge.get(edit.knowledgeSourceId) : null;
    return { title: source?.title ?? '', text: source?.passage ?? '' };
  }
}
