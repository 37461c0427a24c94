import { Global, Module } from '@nestjs/common';
import { AuditRepository } from 'src/audit/audit.repository';
import { AuditService } from 'src/audit/audit.service';

@Global()
@Module({ providers: [AuditRepository, AuditService], exports: [AuditRepository, AuditService] })
export class AuditModule {}
