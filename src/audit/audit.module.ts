import { Global, Module } from '@nestjs/common';
import { AuditRepository } from 'src/audit/audit.repository';
import { AuditResolver } from 'src/audit/audit.resolver';
import { AuditService } from 'src/audit/audit.service';

@Global()
@Module({ providers: [AuditRepository, AuditService, AuditResolver], exports: [AuditService] })
export class AuditModule {}
