import { Module } from '@nestjs/common';
import { InferenceModule } from 'src/inference/inference.module';
import { AttestationsService } from 'src/lineage/attestations/attestations.service';
import { KeysService } from 'src/lineage/keys/keys.service';
import { LineageSigner } from 'src/lineage/lineage-signer';

/** Signing keys and the signed statements of lineage. */
@Module({
  imports: [InferenceModule],
  providers: [KeysService, AttestationsService, LineageSigner],
  exports: [KeysService, AttestationsService, LineageSigner],
})
export class SigningModule {}
