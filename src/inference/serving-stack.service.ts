import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChannelsService } from 'src/channels/channels.service';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';
import { AdapterStore } from 'src/inference/adapter-store';
import { AdapterVersionEntity } from 'src/lineage/adapter-version.entity';

/** What a request is served by: a channel's head, or one pinned adapter version, with its stack below it. */
export interface ServingStack {
  channel: string | null;
  /** The adapter version on top (the channel head or the pinned version); null for the base model alone. */
  headAdapterId: string | null;
  /** Adapter folders, base first. */
  folders: string[];
}

export interface ServingTarget {
  channel?: string | null;
  adapterVersionId?: string | null;
}

const MAX_STACK_DEPTH = 1000;

@Injectable()
export class ServingStackService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly channels: ChannelsService,
    private readonly store: AdapterStore,
  ) {}

  /** With neither a channel nor a version, the base model serves. */
  async resolve(target: ServingTarget): Promise<ServingStack> {
    if (target.channel && target.adapterVersionId) {
      throw new CommonError(
        CommonErrorCode.VALIDATION_FAILED,
        'give a channel or an adapterVersionId, not both',
      );
    }
    if (target.channel) {
      const channel = await this.channels.getByName(target.channel);
      return {
        channel: channel.name,
        headAdapterId: channel.headAdapterId,
        folders: await this.stackOf(channel.headAdapterId),
      };
    }
    if (target.adapterVersionId) {
      return {
        channel: null,
        headAdapterId: target.adapterVersionId,
        folders: await this.stackOf(target.adapterVersionId),
      };
    }
    return { channel: null, headAdapterId: null, folders: [] };
  }

  /** The folders of `headId` and its parents, base first. */
  private async stackOf(headId: string | null): Promise<string[]> {
    const repo = this.dataSource.getRepository(AdapterVersionEntity);
    const digests: string[] = [];
    for (let id = headId; id;) {
      const version = await repo.findOneBy({ id });
      if (!version) throw CommonError.notFound('AdapterVersion', id);
      digests.unshift(version.digest);
      if (digests.length > MAX_STACK_DEPTH)
        throw new Error(`adapter ${headId}: parent chain deeper than ${MAX_STACK_DEPTH}`);
      id = version.parentId;
    }
    return digests.map((d) => this.store.folderOf(d));
  }
}
