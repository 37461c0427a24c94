import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { sha256Hex } from 'src/common/sha256';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { Gate, GateOutcome } from 'src/gates/gate';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { GateReportsRepository } from 'src/gates/gate-reports.repository';

/** What a report's digest covers: everything in it but its own id and digest. */
export function gateReportDigest(r: Omit<GateReportEntity, 'id' | 'sha256' | 'selfEdit'>): string {
  return sha256Hex(
    canonicalize({
      selfEditId: r.selfEditId,
      pipelineRun: r.pipelineRun,
      gate: r.gate,
      gateVersion: r.gateVersion,
      verdict: r.verdict,
      metrics: r.metrics,
      thresholds: r.thresholds,
      evidence: r.evidence,
      durationMs: r.durationMs,
      createdAt: r.createdAt.toISOString(),
    }) ?? '',
  );
}

/** Stores gate reports (hashed, linked to their edit and pipeline run) and reads them back. */
@Injectable()
export class GateReportsService {
  constructor(
    private readonly repository: GateReportsRepository,
    private readonly audit: AuditService,
  ) {}

  /** Stores the report and logs its digest (a leaf of the transparency log) in the same transaction. */
  async record(
    manager: EntityManager,
    actor: Actor,
    edit: { id: string; pipelineRun: number },
    gate: Pick<Gate<unknown>, 'name' | 'version'>,
    outcome: GateOutcome,
  ): Promise<GateReportEntity> {
    const report = Object.assign(new GateReportEntity(), {
      id: randomUUID(),
      selfEditId: edit.id,
      pipelineRun: edit.pipelineRun,
      gate: gate.name,
      gateVersion: gate.version,
      verdict: outcome.verdict,
      metrics: outcome.metrics,
      // JSON round trip: what is hashed is exactly what the database gives back.
      thresholds: outcome.thresholds,
      evidence: JSON.parse(JSON.stringify(outcome.evidence ?? null)) as unknown,
      durationMs: Math.round(outcome.durationMs),
      createdAt: new Date(),
    });
    report.sha256 = gateReportDigest(report);
    await this.repository.insert(manager, report);
    await this.audit.append(manager, actor, {
      action: AuditAction.GATE_REPORTED,
      subjectType: 'GateReport',
      subjectId: report.id,
      after: {
        selfEditId: edit.id,
        pipelineRun: edit.pipelineRun,
        gate: gate.name,
        verdict: report.verdict,
        sha256: report.sha256,
      },
    });
    return report;
  }

  /** The edit's reports, oldest first; only those of `pipelineRun` when given. */
  forEdit(selfEditId: string, pipelineRun?: number, manager?: EntityManager): Promise<GateReportEntity[]> {
    return this.repository.forEdit(selfEditId, pipelineRun, manager);
  }
}
