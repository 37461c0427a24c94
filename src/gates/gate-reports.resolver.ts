import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { CheckPolicy } from 'src/auth/auth.decorators';
import { Action, Subject } from 'src/auth/policy';
import { GateReportModel } from 'src/gates/gate-report.model';
import { GateReportsService } from 'src/gates/gate-reports.service';

@Resolver(() => GateReportModel)
export class GateReportsResolver {
  constructor(private readonly reports: GateReportsService) {}

  @Query(() => [GateReportModel], {
    description: "A self-edit's gate reports, oldest first; only those of one pipeline run when it is given.",
  })
  @CheckPolicy(Action.read, Subject.GateReport)
  async gateReports(
    @Args('selfEditId', { type: () => ID }, ParseUUIDPipe) selfEditId: string,
    @Args('pipelineRun', { type: () => Int, nullable: true }) pipelineRun?: number,
  ): Promise<GateReportModel[]> {
    const reports = await this.reports.forEdit(selfEditId, pipelineRun ?? undefined);
    return reports.map((r) => GateReportModel.from(r));
  }
}
