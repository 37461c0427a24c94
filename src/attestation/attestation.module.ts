import { Module } from '@nestjs/common';
import { AttestationsService } from 'src/attestation/attestations.service';
import { KeysService } from 'src/attestation/keys/keys.service';
import { TransparencyService } from 'src/attestation/transparency/transparency.service';

/** Signing keys, signed statements (attestations) and the transparency log they are appended to. */
@Module({
  providers: [KeysService, AttestationsService, TransparencyService],
  exports: [KeysService, AttestationsService, TransparencyService],
})
export class AttestationModule {}
