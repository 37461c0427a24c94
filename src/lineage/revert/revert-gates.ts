import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { GateOutcome } from 'src/gates/gate';
import { ForgettingGate } from 'src/gates/forgetting/forgetting.gate';
import { failedGates, runGates } from 'src/gates/gate-catalog';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { CandidateEvaluationInput, ProbeQuestion } from 'src/gates/gate-inputs';
import { ChannelPolicy, RequiredGate } from 'src/gates/policy/channel-policy';
import { AdapterStore, readPeftFiles } from 'src/inference/adapter-store';
import { concatLoraAdapters } from 'src/inference/lora-concat';
import { ModelService } from 'src/inference/model.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { AdapterVersionEntity, editsOf } from 'src/adapter-versions/adapter-version.entity';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { selfEditLines } from 'src/self-edits/self-edit-lines';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

/** One stack as versions, head first (as `AdapterVersionsRepository.chainOf` gives it). */
type Chain = AdapterVersionEntity[];

export interface RevertGateOutcome {
  gate: RequiredGate['gate'];
  outcome: GateOutcome;
}

/** The required gates' outcomes, in the policy's order, and the names of those that failed. */
export interface RevertGateRun {
  outcomes: RevertGateOutcome[];
  failed: string[];
}

/**
 * The model side of a revert: the adapter that replaces the versions above the removed one (their exact rank
 * concatenation), and the forgetting gates of the channel policy run on the stack without the edit, against
 * the current head as the reference; their reports are stored against the removed edit.
 */
@Injectable()
export class RevertGates {
  constructor(
    private readonly store: AdapterStore,
    private readonly model: ModelService,
    private readonly edits: SelfEditsService,
    private readonly knowledge: KnowledgeService,
    private readonly reports: GateReportsService,
  ) {}

  get baseModelDigest(): string {
    return this.model.baseModelDigest;
  }

  /** Writes the concatenation of `carried` (oldest first) to the adapter store. */
  buildAdapter(carried: Chain): { digest: string; folder: string } {
    const files = carried.map((v) => readPeftFiles(this.store.folderOf(v.digest)));
    return this.store.put(concatLoraAdapters(files));
  }

  /** The forgetting gates the channel's policy requires (evaluation stage); none when it lists none. */
  required(policy: ChannelPolicy): RequiredGate[] {
    return policy.gates.evaluation.filter((g) => g.gate instanceof ForgettingGate);
  }

  /**
   * Runs the required gates with the current stack (`head`) as parent and the stack without the edit
   * (`remaining` below the new adapter `digest`) as candidate; retention is measured on the edits that stay.
   */
  async run(
    policy: ChannelPolicy,
    removed: SelfEditEntity,
    head: Chain,
    remaining: { below: Chain; carried: Chain; digest: string },
  ): Promise<RevertGateRun> {
    const gates = this.required(policy);
    if (gates.length === 0) return { outcomes: [], failed: [] };
    const source = removed.knowledgeSourceId ? await this.knowledge.get(removed.knowledgeSourceId) : null;
    const folders = (chain: Chain) => [...chain].reverse().map((v) => this.store.folderOf(v.digest));
    const staying = [...remaining.below, ...remaining.carried].flatMap(editsOf);
    const input: CandidateEvaluationInput = {
      selfEdit: { lines: selfEditLines(removed) },
      passage: { title: source?.title ?? '', text: source?.passage ?? '' },
      protectedEntities: policy.protectedEntities,
      hyperparameters: removed.hyperparameters,
      parentFolders: folders(head),
      candidateFolders: [...folders(remaining.below), this.store.folderOf(remaining.digest)],
      targetQuestions: [],
      retentionQuestions: (await Promise.all(staying.map((id) => this.questionsOf(id)))).flat(),
    };
    const outcomes = await runGates(gates, input);
    return {
      outcomes: gates.map(({ gate }) => ({ gate, outcome: outcomes[gate.name] })),
      failed: failedGates(outcomes),
    };
  }

  /** Stores the reports of a run against the removed edit, in `manager`'s transaction. */
  async record(
    manager: EntityManager,
    actor: Actor,
    removed: SelfEditEntity,
    outcomes: RevertGateOutcome[],
  ): Promise<GateReportEntity[]> {
    const reports: GateReportEntity[] = [];
    for (const { gate, outcome } of outcomes) {
      reports.push(await this.reports.record(manager, actor, removed, gate, outcome));
    }
    return reports;
  }

  private async questionsOf(selfEditId: string): Promise<ProbeQuestion[]> {
    const { knowledgeSourceId } = await this.edits.get(selfEditId);
    return knowledgeSourceId ? ((await this.knowledge.get(knowledgeSourceId)).questions ?? []) : [];
  }
}
