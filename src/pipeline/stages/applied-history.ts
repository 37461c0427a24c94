import { Injectable } from '@nestjs/common';
import { editsOf } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ProbeQuestion } from 'src/gates/gate-inputs';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { selfEditLines } from 'src/self-edits/self-edit-lines';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { SelfEditText } from 'src/training/self-edit-sequences';

/** The edits applied below a channel's head: what a new candidate must retain, and what replay trains on. */
@Injectable()
export class AppliedHistory {
  constructor(
    private readonly versions: AdapterVersionsRepository,
    private readonly edits: SelfEditsService,
    private readonly knowledge: KnowledgeService,
  ) {}

  /** The questions of the passages behind the edits applied below `headId` (what the channel must retain). */
  async retentionQuestions(channel: ChannelEntity, headId: string | null): Promise<ProbeQuestion[][]> {
    return this.questionsOf((await this.appliedEdits(channel, headId)).map((e) => e.knowledgeSourceId));
  }

  /** The training text of the edits applied below `headId`, oldest first (policy `training.replay`). */
  async replayOf(channel: ChannelEntity, headId: string | null): Promise<SelfEditText[]> {
    const edits = (await this.appliedEdits(channel, headId)).reverse();
    return Promise.all(
      edits.map(async (e) => {
        const source = e.knowledgeSourceId ? await this.knowledge.get(e.knowledgeSourceId) : null;
        return {
          lines: selfEditLines(e),
          passage: source ? { title: source.title, text: source.passage } : undefined,
        };
      }),
    );
  }

  async questionsOf(sourceIds: (string | null)[]): Promise<ProbeQuestion[][]> {
    return Promise.all(
      sourceIds.map(async (id) => (id ? ((await this.knowledge.get(id)).questions ?? []) : [])),
    );
  }

  /** The edits applied at or below `headId`, newest first. */
  private async appliedEdits(channel: ChannelEntity, headId: string | null): Promise<SelfEditEntity[]> {
    const chain = await this.versions.chainOf(headId);
    // Only this channel's part of the stack counts.
    const own = chain.findIndex((v) => v.channelId !== channel.id);
    const edits: SelfEditEntity[] = [];
    for (const version of own < 0 ? chain : chain.slice(0, own))
      for (const selfEditId of editsOf(version)) edits.push(await this.edits.get(selfEditId));
    return edits;
  }
}
