import { Module } from '@nestjs/common';
import { InferenceModule } from 'src/inference/inference.module';
import { AttestationsService } from 'src/lineage/attestations/attestations.service';
import { KeysService } from 'src/lineage/keys/keys.service';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { TransparencyService } from 'src/lineage/transparency/transparency.service';

/** Signing keys and the signed statements of lineage. */
@Module({
  imports: [InferenceModule],
  providers: [KeysService, AttestationsService, LineageSigner, TransparencyService],
  exports: [KeysService, AttestationsService, LineageSigner, TransparencyService],
})
export class SigningModule {}
