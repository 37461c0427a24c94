import { registerEnumType } from '@nestjs/graphql';

export enum AdapterStatus {
  /** Trained in quarantine; never served. */
  CANDIDATE = 'CANDIDATE',
  APPLIED = 'APPLIED',
  ROLLED_BACK = 'ROLLED_BACK',
  DISCARDED = 'DISCARDED',
}
registerEnumType(AdapterStatus, { name: 'AdapterStatus' });
