import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { sha256Hex } from 'src/common/sha256';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { SealRoundResult } from 'src/seal/rounds/seal-round.types';
import { SealRoundsRepository } from 'src/seal/rounds/seal-rounds.repository';
import { SelfEditKind } from 'src/self-edits/self-edit.types';
import { selfEditLines } from 'src/self-edits/self-edit-lines';

/**
 * The generator update of ReST-EM's M-step, as gpu/sealgate_gpu/seal/rest_em.py GENERATOR_UPDATE trains it: a
 * LoRA on every projection, on the kept (prompt -> self-edit) pairs, the loss on the self-edit only.
 */
export const GENERATOR_UPDATE = { learningRate: 1e-3, epochs: 3, rank: 16, alpha: 32 } as const;

/** What the pipeline needs of a `generator` self-edit: its round, adapter, passages and training provenance. */
export interface GeneratorUpdate {
  round: SealRoundEntity;
  result: SealRoundResult;
  /** The passages the round learnt from, as one text for the screening gates (titles joined, texts joined). */
  passage: { title: string; text: string };
  /** Each kept self-edit with its own passage: the screening gates check each part on its own. */
  parts: { knowledgeSourceId: string; lines: string[]; passage: { title: string; text: string } }[];
  /** SHA-256 of the canonical JSON of the kept pairs (passage -> self-edit) the generator was fine-tuned on. */
  trainingDataSha256: string;
  /** Seconds the round ran, trials and generator update together. */
  seconds: number;
}

@Injectable()
export class GeneratorUpdates {
  constructor(
    private readonly rounds: SealRoundsRepository,
    private readonly knowledge: KnowledgeService,
  ) {}

  /** The round behind a `generator` self-edit; an edit no round proposed has none, and fails its pipeline. */
  async forEdit(selfEditId: string): Promise<GeneratorUpdate> {
    const round = await this.rounds.findBySelfEdit(selfEditId);
    if (!round?.result) throw new Error(`no succeeded ReST-EM round proposed self-edit ${selfEditId}`);
    const result = round.result;
    const sources = await Promise.all(round.settings.knowledgeSourceIds.map((id) => this.knowledge.get(id)));
    const byId = new Map(sources.map((s) => [s.id, s]));
    const pairs = result.keptSelfEdits.map((e) => {
      const source = byId.get(e.passageId);
      return {
        knowledgeSourceId: e.passageId,
        title: source?.title,
        passage: source?.passage,
        selfEdit: e.text,
      };
    });
    const started = round.startedAt?.getTime() ?? round.createdAt.getTime();
    const finished = round.finishedAt?.getTime() ?? started;
    return {
      round,
      result,
      passage: {
        title: sources.map((s) => s.title).join(' / '),
        text: sources.map((s) => s.passage).join('\n\n'),
      },
      parts: result.keptSelfEdits.map((e) => {
        const source = byId.get(e.passageId);
        return {
          knowledgeSourceId: e.passageId,
          lines: selfEditLines({ kind: SelfEditKind.implications, content: e.text }),
          passage: { title: source?.title ?? '', text: source?.passage ?? '' },
        };
      }),
      trainingDataSha256: sha256Hex(canonicalize(pairs) ?? ''),
      seconds: Math.max(0, (finished - started) / 1000),
    };
  }
}
