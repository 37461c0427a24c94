import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { ChannelsService } from 'src/channels/channels.service';
import { AdapterStore } from 'src/inference/adapter-store';
import { AdapterRevert, AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { AttestationEntity } from 'src/attestation/attestation.entity';
import {
  AUDIT_BUNDLE_FORMAT,
  AuditBundle,
  ExportedAttestation,
  ExportedFile,
  ExportedVersion,
} from 'src/lineage/audit-bundle/audit-bundle';
import { asRow, BundleLog } from 'src/lineage/audit-bundle/bundle-log';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { EditRecords, EditRecordsOf } from 'src/lineage/edit-records';

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
    private readonly versions: AdapterVersionsRepository,
    private readonly channels: ChannelsService,
    private readonly records: EditRecords,
    private readonly store: AdapterStore,
    private readonly log: BundleLog,
  ) {}

  async export(channelName: string): Promise<AuditBundle> {
    const channel = await this.channels.getByName(channelName);
    // The checkpoint first: every event exported is inside the tree it signs.
    const checkpoint = await this.log.checkpoint();
    const chain = await this.versions.chainOf(channel.headAdapterId);
    const records = await this.records.of(chain.flatMap((v) => (v.selfEditId ? [v.selfEditId] : [])));
    const versions: ExportedVersion[] = [];
    for (const version of chain) versions.push(await this.exportVersion(version, records));
    const subjects = new Set<string>([channel.id]);
    for (const v of versions) {
      for (const row of [v.version, v.edit, v.source, ...v.reports, ...v.approvals])
        if (row) subjects.add(String(row.id));
    }
    const attestations = await this.records.attestationsAbout([...subjects]);
    attestations.forEach((a) => subjects.add(a.id));
    const { log, keys, events } = await this.log.about(checkpoint, [...subjects]);
    return {
      format: AUDIT_BUNDLE_FORMAT,
      exportedAt: new Date().toISOString(),
      log,
      keys,
      channel: asRow(channel),
      versions,
      events,
    };
  }

  /** A trained version: its edit with the passage, gate reports and approvals of the run that applied it. */
  private async exportVersion(
    version: AdapterVersionEntity,
    records: EditRecordsOf,
  ): Promise<ExportedVersion> {
    if (version.revert) return this.exportRevert(version, version.revert);
    const edit = records.edits.find((e) => e.id === version.selfEditId)!;
    const source = records.sources.find((s) => s.id === edit.knowledgeSourceId) ?? null;
    const ofRun = (r: { selfEditId: string; pipelineRun: number }) =>
      r.selfEditId === edit.id && r.pipelineRun === edit.pipelineRun;
    const reports = records.reports.filter(ofRun);
    const approvals = records.approvals.filter(ofRun);
    const attestations = await this.records.attestationsAbout([
      version.id,
      ...reports.map((r) => r.id),
      ...approvals.map((a) => a.id),
    ]);
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
    const reports = await this.records.revertReports(revert);
    const attestations = await this.records.attestationsAbout([version.id, ...reports.map((r) => r.id)]);
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
}
