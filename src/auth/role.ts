import { registerEnumType } from '@nestjs/graphql';

export enum Role {
  admin = 'admin',
  ml_engineer = 'ml_engineer',
  compliance_reviewer = 'compliance_reviewer',
  auditor = 'auditor',
  service = 'service',
}
registerEnumType(Role, {
  name: 'Role',
  description: 'What a principal may do is decided by policies/ for its role.',
});
