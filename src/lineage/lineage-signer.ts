import { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import canonicalize from 'canonicalize';
import { sha256Hex } from 'src/common/sha256';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { GateVerdict } from 'src/gates/gate-verdict';
import { ModelSignatures } from 'src/adapter-versions/model-signatures';
import { AdapterStore } from 'src/inference/adapter-store';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AttestationKind } from 'src/attestation/attestation.entity';
import { AttestationsService, ROLLBACK_PREDICATE_TYPE } from 'src/attestation/attestations.service';
import { signModelFolder } from 'src/attestation/sigstore/bundle';
import {
  IN_TOTO_STATEMENT_TYPE,
  ResourceDescriptor,
  slsaProvenanceStatement,
  Statement,
  testResultOutcomeOf,
  testResultStatement,
} from 'src/attestation/sigstore/in-toto';
import { GATEWAY_KEY_OWNER, KeysService } from 'src/attestation/keys/keys.service';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';

/** The build type of every adapter sealgate trains: a LoRA fitted to one self-edit on top of a stack. */
export const SELF_EDIT_BUILD_TYPE = 'https://sealgate.dev/builds/lora-self-edit/v1';
export const TRAINER_BUILDER_ID = 'https://sealgate.dev/builders/gpu-trainer/v1';
/** The build type of a revert version: the rank concatenation of the versions above the one removed. */
export const REVERT_BUILD_TYPE = 'https://sealgate.dev/builds/lora-revert/v1';
export const GATEWAY_BUILDER_ID = 'https://sealgate.dev/builders/gateway/v1';

export const adapterSubject = (digest: string): ResourceDescriptor => ({
  name: `adapter/${digest}`,
  digest: { sha256: digest },
});

/** The adapter a version was built on, as a provenance dependency; none on the base model. */
const parentDependency = (parent: { digest: string } | null): ResourceDescriptor[] =>
  parent ? [{ ...adapterSubject(parent.digest), name: `parent/${parent.digest}` }] : [];

export interface AppliedEdit {
  channel: { id: string; name: string };
  edit: SelfEditEntity;
  source: KnowledgeSourceEntity | null;
  candidate: AdapterVersionEntity;
  parent: AdapterVersionEntity | null;
  reports: GateReportEntity[];
  requiredGates: string[];
  quorum: number;
}

export interface RevertedStack {
  channel: { id: string; name: string };
  /** The new version, its `revert` record set. */
  version: AdapterVersionEntity;
  parent: AdapterVersionEntity | null;
  baseModelDigest: string;
  reports: GateReportEntity[];
  requiredGates: string[];
}

/**
 * Writes the signed lineage of applied and reverted adapters and of rollbacks (each one also a log leaf), with
 * the gateway's key.
 */
@Injectable()
export class LineageSigner {
  constructor(
    private readonly attestations: AttestationsService,
    private readonly store: AdapterStore,
    private readonly keys: KeysService,
    private readonly signatures: ModelSignatures,
  ) {}

  /**
   * After the commit that applied (or reverted to) a version: its model.sig into its folder, from the signature
   * recorded in that transaction. Nothing is written before the commit, so a crash mid-apply leaves no signed
   * file on an adapter that was never applied (and serving restores a file lost after the commit).
   */
  async publishModelSignature(version: { id: string; digest: string }): Promise<void> {
    await this.signatures.publish(version);
  }

  /**
   * The gateway's signing key. Read before the transaction that moves a head: the first use creates the key,
   * which is a write of its own.
   */
  async gatewayKey(): Promise<KeyObject> {
    return (await this.keys.signer(GATEWAY_KEY_OWNER)).key;
  }

  /**
   * On apply: the adapter folder's model.sig (written to the folder after the commit), the SLSA provenance of the
   * adapter, and each gate report of the run as a signed test result.
   */
  async signApplied(
    manager: EntityManager,
    actor: Actor,
    key: KeyObject,
    applied: AppliedEdit,
  ): Promise<void> {
    const { candidate, edit, source, parent, channel } = applied;
    await this.signModel(manager, actor, key, candidate);

    const training = candidate.training;
    const dependencies: ResourceDescriptor[] = [
      { name: 'self-edit', digest: { sha256: edit.contentSha256 } },
      ...(source ? [{ name: 'passage', digest: { sha256: source.contentSha256 } }] : []),
      ...parentDependency(parent),
      ...(training
        ? [
            { name: 'base-model', digest: { sha256: training.baseModelDigest } },
            { name: 'training-data', digest: { sha256: training.trainingDataSha256 } },
          ]
        : []),
    ];
    const provenance = slsaProvenanceStatement({
      subject: [adapterSubject(candidate.digest)],
      buildType: SELF_EDIT_BUILD_TYPE,
      externalParameters: {
        channel: channel.name,
        selfEditId: edit.id,
        pipelineRun: edit.pipelineRun,
        kind: edit.kind,
        knowledgeSourceId: edit.knowledgeSourceId,
        proposedById: edit.proposedById,
        requestedHyperparameters: edit.hyperparameters,
        requiredGates: applied.requiredGates,
        requiredApprovals: applied.quorum,
      },
      internalParameters: training
        ? {
            hyperparameters: training.hyperparameters,
            device: training.device,
            trainSeconds: training.trainSeconds,
            ...(training.replay ? { replay: training.replay } : {}),
            // The route key the adapter's own config carries, and the parents it was trained on.
            ...(training.routing ? { routing: training.routing } : {}),
            ...(training.sealRoundId ? { sealRoundId: training.sealRoundId } : {}),
          }
        : {},
      resolvedDependencies: dependencies,
      builder: { id: TRAINER_BUILDER_ID },
      invocationId: `${edit.id}.${edit.pipelineRun}`,
      finishedOn: candidate.createdAt,
    });
    await this.attestations.sign(manager, actor, AttestationKind.PROVENANCE, candidate.id, provenance, key);
    await this.signReports(manager, actor, key, candidate, applied.reports);
  }

  /**
   * On revert: model.sig of the new folder, its SLSA provenance (built by the gateway from the parent, the
   * versions it carries and the one it removed, with the reason) and the re-run gate reports as test results.
   */
  async signRevert(
    manager: EntityManager,
    actor: Actor,
    key: KeyObject,
    reverted: RevertedStack,
  ): Promise<void> {
    const { version, parent, channel } = reverted;
    const revert = version.revert!;
    await this.signModel(manager, actor, key, version);
    const provenance = slsaProvenanceStatement({
      subject: [adapterSubject(version.digest)],
      buildType: REVERT_BUILD_TYPE,
      externalParameters: {
        channel: channel.name,
        removedAdapterVersionId: revert.removedAdapterVersionId,
        removedSelfEditId: revert.removedSelfEditId,
        fromHeadAdapterId: revert.fromHeadAdapterId,
        carriedAdapterVersionIds: revert.carried.map((c) => c.adapterVersionId),
        reason: revert.reason,
        requestedById: actor.id,
        requiredGates: reverted.requiredGates,
      },
      internalParameters: { method: 'rank-concatenation' },
      resolvedDependencies: [
        ...parentDependency(parent),
        { name: `removed/${revert.removedDigest}`, digest: { sha256: revert.removedDigest } },
        ...revert.carried.map((c) => ({ name: `carried/${c.digest}`, digest: { sha256: c.digest } })),
        { name: 'base-model', digest: { sha256: reverted.baseModelDigest } },
      ],
      builder: { id: GATEWAY_BUILDER_ID },
      invocationId: version.id,
      finishedOn: version.createdAt,
    });
    await this.attestations.sign(manager, actor, AttestationKind.PROVENANCE, version.id, provenance, key);
    await this.signReports(manager, actor, key, version, reverted.reports);
  }

  /**
   * The adapter folder's model.sig (model_signing's format, so `model_signing verify key` accepts the folder),
   * recorded in this transaction; `publishModelSignature` writes the file once it has committed.
   */
  private async signModel(
    manager: EntityManager,
    actor: Actor,
    key: KeyObject,
    version: AdapterVersionEntity,
  ): Promise<void> {
    const folder = this.store.folderOf(version.digest);
    const modelSignature = await signModelFolder(folder, key, { modelName: `adapter-${version.digest}` });
    await this.attestations.recordBundle(
      manager,
      actor,
      AttestationKind.MODEL_SIGNATURE,
      version.id,
      modelSignature,
    );
  }

  /** Each gate report as an in-toto test result about the adapter. */
  private async signReports(
    manager: EntityManager,
    actor: Actor,
    key: KeyObject,
    version: AdapterVersionEntity,
    reports: GateReportEntity[],
  ): Promise<void> {
    for (const report of reports) {
      const test = `${report.gate}@${report.gateVersion}`;
      const statement = testResultStatement({
        subject: [adapterSubject(version.digest)],
        result: testResultOutcomeOf(report.verdict),
        configuration: [{ name: `gate-report/${report.id}`, digest: { sha256: report.sha256 } }],
        passedTests: report.verdict === GateVerdict.PASS ? [test] : [],
        warnedTests: report.verdict === GateVerdict.WARN ? [test] : [],
        failedTests: report.verdict === GateVerdict.FAIL ? [test] : [],
      });
      await this.attestations.sign(manager, actor, AttestationKind.GATE_REPORT, report.id, statement, key);
    }
  }

  signRollback(
    manager: EntityManager,
    actor: Actor,
    key: KeyObject,
    rollback: { channelId: string; channel: string; from: string | null; to: string | null; reason: string },
  ): Promise<unknown> {
    const statement: Statement = {
      _type: IN_TOTO_STATEMENT_TYPE,
      subject: [
        { name: `channel/${rollback.channel}`, digest: { sha256: sha256Hex(canonicalize(rollback) ?? '') } },
      ],
      predicateType: ROLLBACK_PREDICATE_TYPE,
      predicate: { ...rollback, actorId: actor.id, at: new Date().toISOString() },
    };
    return this.attestations.sign(
      manager,
      actor,
      AttestationKind.ROLLBACK,
      rollback.channelId,
      statement,
      key,
    );
  }
}
