import { Module } from '@nestjs/common';
import { AttestationsRepository } from 'src/attestation/attestations.repository';
import { AttestationsService } from 'src/attestation/attestations.service';
import { KeysService } from 'src/attestation/keys/keys.service';
import { SigningKeysRepository } from 'src/attestation/keys/signing-keys.repository';
import { LogCheckpointsRepository } from 'src/attestation/transparency/log-checkpoints.repository';
import { TransparencyService } from 'src/attestation/transparency/transparency.service';

/** Signing keys, signed statements (attestations) and the transparency log they are appended to. */
@Module({
  providers: [
    SigningKeysRepository,
    AttestationsRepository,
    LogCheckpointsRepository,
    KeysService,
    AttestationsService,
    TransparencyService,
  ],
  exports: [KeysService, AttestationsService, TransparencyService],
})
export class AttestationModule {}
