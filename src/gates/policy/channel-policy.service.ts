import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { GateRegistry } from 'src/gates/gate-registry';
import { ChannelPolicy, loadChannelPolicies } from 'src/gates/policy/channel-policy';

/** The channel policies, loaded and checked against the gate registry at boot (a bad file stops the process). */
@Injectable()
export class ChannelPolicyService {
  private readonly policies: Map<string, ChannelPolicy>;

  constructor(@Inject(APP_CONFIG) config: AppConfig, registry: GateRegistry) {
    this.policies = loadChannelPolicies(config.CHANNEL_POLICY_FILE, [...registry.gates]);
  }

  /** The channel's own policy, or `default`. */
  forChannel(channel: string): ChannelPolicy {
    return this.policies.get(channel) ?? { ...this.policies.get('default')!, channel };
  }
}
