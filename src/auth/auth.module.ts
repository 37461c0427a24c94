import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AbilityFactory, POLICY_FILE } from 'src/auth/ability.factory';
import { ApiKeyCache } from 'src/auth/api-key-cache';
import { AuthGuard } from 'src/auth/auth.guard';
import { loadPolicyFile } from 'src/auth/policy-file';
import { PrincipalsRepository } from 'src/auth/principals.repository';
import { PrincipalsResolver } from 'src/auth/principals.resolver';
import { PrincipalsService } from 'src/auth/principals.service';

@Global()
@Module({
  providers: [
    {
      provide: POLICY_FILE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => loadPolicyFile(config.POLICY_FILE),
    },
    AbilityFactory,
    ApiKeyCache,
    PrincipalsRepository,
    PrincipalsService,
    PrincipalsResolver,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [PrincipalsService, AbilityFactory],
})
export class AuthModule {}
