import { registerEnumType } from '@nestjs/graphql';

export enum GateVerdict {
  PASS = 'PASS',
  WARN = 'WARN',
  FAIL = 'FAIL',
}
registerEnumType(GateVerdict, { name: 'GateVerdict' });
