import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { gateReportDigest } from 'src/gates/gate-reports.service';
import { GateVerdict } from 'src/gates/gate-verdict';

@ObjectType('GateMeasure')
export class GateMeasureModel {
  @Field() name!: string;
  @Field(() => Float) value!: number;
}

const measures = (record: Record<string, number>): GateMeasureModel[] =>
  Object.entries(record).map(([name, value]) => ({ name, value }));

@ObjectType('GateReport', {
  description: 'What one gate found on one self-edit in one pipeline run, with its evidence.',
})
export class GateReportModel {
  @Field(() => ID) id!: string;
  @Field(() => ID) selfEditId!: string;
  @Field(() => Int, {
    description: 'The pipeline run (a retry after an infrastructure failure is a new run).',
  })
  pipelineRun!: number;
  @Field() gate!: string;
  @Field() gateVersion!: string;
  @Field(() => GateVerdict) verdict!: GateVerdict;
  @Field(() => [GateMeasureModel]) metrics!: GateMeasureModel[];
  @Field(() => [GateMeasureModel], { description: 'The thresholds the verdict was decided with.' })
  thresholds!: GateMeasureModel[];
  @Field({ description: 'The evidence as JSON text: offending lines, probe answers before and after.' })
  evidence!: string;
  @Field(() => Int) durationMs!: number;
  @Field({ description: 'SHA-256 of the canonical JSON of the report.' }) sha256!: string;
  @Field({ description: 'Whether the stored report still matches its digest.' }) digestValid!: boolean;
  @Field() createdAt!: Date;

  static from(e: GateReportEntity): GateReportModel {
    return Object.assign(new GateReportModel(), {
      id: e.id,
      selfEditId: e.selfEditId,
      pipelineRun: e.pipelineRun,
      gate: e.gate,
      gateVersion: e.gateVersion,
      verdict: e.verdict,
      metrics: measures(e.metrics),
      thresholds: measures(e.thresholds),
      evidence: JSON.stringify(e.evidence),
      durationMs: e.durationMs,
      sha256: e.sha256,
      digestValid: gateReportDigest(e) === e.sha256,
      createdAt: e.createdAt,
    });
  }
}
