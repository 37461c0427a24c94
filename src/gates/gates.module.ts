import { Module } from '@nestjs/common';
import { GateRegistry } from 'src/gates/gate-registry';
import { GateReportsRepository } from 'src/gates/gate-reports.repository';
import { GateReportsResolver } from 'src/gates/gate-reports.resolver';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { InferenceModule } from 'src/inference/inference.module';

/** The gates, the channel policies that require them (validated at boot) and their stored reports. */
@Module({
  imports: [InferenceModule],
  providers: [GateRegistry, ChannelPolicyService, GateReportsRepository, GateReportsService, GateReportsResolver],
  exports: [GateRegistry, ChannelPolicyService, GateReportsService],
})
export class GatesModule {}
