import { Injectable } from '@nestjs/common';
import { ModelService } from 'src/inference/model.service';
import { ServingStackService } from 'src/adapter-versions/serving-stack.service';
import { SelfEditKind } from 'src/self-edits/self-edit.types';

/** The self-edit prompt families and their templates in the model's prompts.json. */
export const PROMPT_OF: Partial<Record<SelfEditKind, string>> = {
  [SelfEditKind.implications]: 'implications',
  [SelfEditKind.rewrite]: 'rewrite',
  [SelfEditKind.self_qa]: 'self-qa',
};

/** SEAL's sampling of self-edits (temperature 1.0, top-p 0.95). */
export const SELF_EDIT_SAMPLING = { temperature: 1.0, topP: 0.95, maxTokens: 96 } as const;

export interface PassageText {
  title: string;
  passage: string;
}

export interface WrittenSelfEdit {
  text: string;
  /** Digests of the adapters that wrote it, base first: the channel's model at the time. */
  adapterDigests: string[];
}

/**
 * Has a channel's current model write its own self-edits from a passage, as SEAL does: k samples of one prompt
 * family, in one batch. A self-QA prompt ends inside the first question, so "Question 1:" is put back in front.
 */
@Injectable()
export class SelfEditWriter {
  constructor(
    private readonly model: ModelService,
    private readonly stacks: ServingStackService,
  ) {}

  async write(
    channel: string,
    source: PassageText,
    kind: SelfEditKind,
    samples: number,
    seed: number,
  ): Promise<WrittenSelfEdit[]> {
    const family = PROMPT_OF[kind];
    if (!family) throw new Error(`${kind} is not a self-edit prompt family`);
    const stack = await this.stacks.resolve({ channel });
    const prompt = this.model.prompt(family, { title: source.title, context: source.passage });
    const results = await this.model.generate(
      Array.from({ length: samples }, (_, i) => ({
        prompt,
        adapterFolders: stack.folders,
        params: { ...SELF_EDIT_SAMPLING, stop: [], seed: seed + i },
      })),
    );
    return results.map((r) => ({
      text: (kind === SelfEditKind.self_qa ? `Question 1:${r.text}` : r.text).trim(),
      adapterDigests: r.adapterDigests,
    }));
  }
}
