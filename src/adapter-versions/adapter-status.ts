import { registerEnumType } from '@nestjs/graphql';

export enum AdapterStatus {
  /** Trained in quarantine; never served. */
  CANDIDATE = 'CANDIDATE',
  APPLIED = 'APPLIED',
  ROLLED_BACK = 'ROLLED_BACK',
  /** Out of the stack, its weights carried on by a later version (the head a revert built). */
  SUPERSEDED = 'SUPERSEDED',
  DISCARDED = 'DISCARDED',
}
registerEnumType(AdapterStatus, { name: 'AdapterStatus' });
