import { registerEnumType } from '@nestjs/graphql';

export enum ApprovalDecision {
  APPROVE = 'APPROVE',
  REJECT = 'REJECT',
}
registerEnumType(ApprovalDecision, { name: 'ApprovalDecision' });
