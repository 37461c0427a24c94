import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, LessThanOrEqual } from 'typeorm';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { ChannelsService } from 'src/channels/channels.service';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { AdapterStore } from 'src/inference/adapter-store';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { AdapterRevert, AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { AttestationEntity } from 'src/attestation/attestation.entity';
import {
  AUDIT_BUNDLE_FORMAT,
  AuditBundle,
  ExportedAttestation,
  ExportedFile,
  ExportedVersion,
  Row,
} from 'src/lineage/audit-bundle/audit-bundle';
import { KeysService } from 'src/attestation/keys/keys.service';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { TransparencyService } from 'src/attestation/transparency/transparency.service';
import { inclusionProof } from 'src/attestation/transparency/merkle-tree';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';

/** Rows as JSON, the way a verifier reads them back (dates become ISO strings). */
const asRow = (entity: object): Row => JSON.parse(JSON.stringify(entity)) as Row;

const asAttestation = (a: AttestationEntity): ExportedAttestation => ({
  id: a.id,
  kind: a.kind,
  subjectId: a.subjectId,
  bundle: a.bundle,
  sha256: a.sha256,
});

/** Writes the audit bundle of a channel (audit-bundle.ts): its applied stack and every event about it. */
@Injectable()
export class AuditBundleExporter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly versions: AdapterVersionsRepository,
    private readonly channels: ChannelsService,
    private readonly store: AdapterStore,
    private readonly keys: KeysService,
    private readonly log: TransparencyService,
  ) {}

  async export(channelName: string): Promise<AuditBundle> {
    const channel = await this.channels.getByName(channelName);
    // The checkpoint first: every event exported is inside the tree it signs.
    const checkpoint = await this.log.checkpoint();
    const versions: ExportedVersion[] = [];
    for (const version of await this.versions.chainOf(channel.headAdapterId))
      versions.push(await this.exportVersion(version));
    const subjects = new Set<string>([channel.id]);
    for (const v of versions) {
      for (const row of [v.version, v.edit, v.source, ...v.reports, ...v.approvals])
        if (row) subjects.add(String(row.id));
    }
    const attestations = await this.repo(AttestationEntity).findBy({ subjectId: In([...subjects]) });
    attestations.forEach((a) => subjects.add(a.id));
    const events = await this.repo(AuditEventEntity).find({
      where: { subjectId: In([...subjects]), seq: LessThanOrEqual(checkpoint.treeSize) },
      order: { seq: 'ASC' },
    });
    const leaves = (await this.log.leaves()).slice(0, checkpoint.treeSize);
    const earlier = await this.log.earlierThan(leaves, checkpoint.treeSize);
    return {
      format: AUDIT_BUNDLE_FORMAT,
      exportedAt: new Date().toISOString(),
      log: { origin: this.log.origin, checkpoint: checkpoint.note, earlier },
      keys: (await this.keys.publicKeys()).map((k) => ({
        owner: k.owner,
        keyId: k.keyId,
        publicKeyPem: k.publicKeyPem,
        createdAt: k.createdAt.toISOString(),
        retiredAt: k.retiredAt?.toISOString() ?? null,
      })),
      channel: asRow(channel),
      versions,
      events: events.map((event) => ({
        event: asRow(event),
        proof: inclusionProof(leaves, event.seq - 1).map((h) => h.toString('hex')),
      })),
    };
  }

  private async exportVersion(version: AdapterVersionEntity): Promise<ExportedVersion> {
    if (version.revert) return this.exportRevert(version, version.revert);
    const edit = await this.repo(SelfEditEntity).findOneByOrFail({ id: version.selfEditId! });
    const source = edit.knowledgeSourceId
      ? await this.repo(KnowledgeSourceEntity).findOneByOrFail({ id: edit.knowledgeSourceId })
      : null;
    const reports = await this.repo(GateReportEntity).find({
      where: { selfEditId: edit.id, pipelineRun: edit.pipelineRun },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const approvals = await this.repo(ApprovalEntity).find({
      where: { selfEditId: edit.id, pipelineRun: edit.pipelineRun },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const attestations = await this.repo(AttestationEntity).find({
      where: { subjectId: In([version.id, ...reports.map((r) => r.id), ...approvals.map((a) => a.id)]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return {
      version: asRow(version),
      edit: asRow(edit),
      source: source ? asRow(source) : null,
      reports: reports.map(asRow),
      approvals: approvals.map(asRow),
      attestations: attestations.map(asAttestation),
      files: this.filesOf(version.digest),
    };
  }

  /** A revert version: its re-run gate reports, its signatures, and the files of the versions it carries. */
  private async exportRevert(version: AdapterVersionEntity, revert: AdapterRevert): Promise<ExportedVersion> {
    const reports = await this.repo(GateReportEntity).find({
      where: { id: In(revert.gateReportIds) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const attestations = await this.repo(AttestationEntity).find({
      where: { subjectId: In([version.id, ...reports.map((r) => r.id)]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return {
      version: asRow(version),
      edit: null,
      source: null,
      reports: reports.map(asRow),
      approvals: [],
      attestations: attestations.map(asAttestation),
      files: this.filesOf(version.digest),
      carried: revert.carried.map((c) => ({ ...c, files: this.filesOf(c.digest) })),
    };
  }

  /** Every file of an adapter folder but model.sig, in name order. */
  private filesOf(digest: string): ExportedFile[] {
    const folder = this.store.folderOf(digest);
    return readdirSync(folder)
      .filter((name) => name !== MODEL_SIGNATURE_FILE)
      .sort()
      .map((path) => ({ path, base64: readFileSync(join(folder, path)).toString('base64') }));
  }

  private repo<T extends object>(entity: new () => T) {
    return this.dataSource.getRepository(entity);
  }
}
