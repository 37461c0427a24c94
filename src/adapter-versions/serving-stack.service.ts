import { basename } from 'node:path';
import { Injectable } from '@nestjs/common';
import { ModelSignatures } from 'src/adapter-versions/model-signatures';
import { ChannelsService } from 'src/channels/channels.service';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';
import { AdapterStore } from 'src/inference/adapter-store';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';

/** What a request is served by: a channel's head, or one pinned adapter version, with its stack below it. */
export interface ServingStack {
  channel: string | null;
  /** The adapter version on top (the channel head or the pinned version); null for the base model alone. */
  headAdapterId: string | null;
  /** Adapter folders, base first. */
  folders: string[];
  /** The versions of those folders, base first: what product serving checks before it serves them. */
  versions: { id: string; status: AdapterStatus; applied: boolean }[];
}

export interface ServingTarget {
  channel?: string | null;
  adapterVersionId?: string | null;
}

@Injectable()
export class ServingStackService {
  constructor(
    private readonly versions: AdapterVersionsRepository,
    private readonly channels: ChannelsService,
    private readonly store: AdapterStore,
    private readonly signatures: ModelSignatures,
  ) {}

  /** Product serving: every adapter of the stack carries the gateway's signature from when it was applied. */
  async verifySignatures(stack: ServingStack): Promise<ServingStack> {
    await this.signatures.verify(
      stack.versions.map((v, i) => ({ id: v.id, digest: basename(stack.folders[i]) })),
    );
    return stack;
  }

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
        ...(await this.stackOf(channel.headAdapterId)),
      };
    }
    if (target.adapterVersionId) {
      return {
        channel: null,
        headAdapterId: target.adapterVersionId,
        ...(await this.stackOf(target.adapterVersionId)),
      };
    }
    return { channel: null, headAdapterId: null, folders: [], versions: [] };
  }

  /** The folders and versions of `headId` and its parents, base first. */
  private async stackOf(headId: string | null): Promise<Pick<ServingStack, 'folders' | 'versions'>> {
    const chain = (await this.versions.chainOf(headId)).reverse();
    return {
      folders: chain.map((v) => this.store.folderOf(v.digest)),
      versions: chain.map((v) => ({ id: v.id, status: v.status, applied: v.appliedAt !== null })),
    };
  }
}
