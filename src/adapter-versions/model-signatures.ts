import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { verifyAdapterSignature } from 'src/adapter-versions/adapter-signature';
import { AttestationKind } from 'src/attestation/attestation.entity';
import { AttestationsService } from 'src/attestation/attestations.service';
import { GATEWAY_KEY_OWNER, KeysService } from 'src/attestation/keys/keys.service';
import { loadPublicKey } from 'src/attestation/sigstore/keys';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { AdapterStore } from 'src/inference/adapter-store';

/**
 * The model.sig of each applied adapter. The signature is recorded (an attestation) in the transaction that
 * applies the adapter, and the file is written from that record only after the commit, so a crash mid-apply
 * leaves no signed file on an adapter that was never applied; a file lost in between is restored from the record.
 */
@Injectable()
export class ModelSignatures {
  /** Digests whose model.sig verified in this process (the engine checks the digest on every load from disk). */
  private readonly verified = new Set<string>();

  constructor(
    private readonly attestations: AttestationsService,
    private readonly keys: KeysService,
    private readonly store: AdapterStore,
  ) {}

  /** Writes a version's model.sig from its committed record; false when it has none (never applied). */
  async publish(version: { id: string; digest: string }): Promise<boolean> {
    const [record] = (await this.attestations.about([version.id])).filter(
      (a) => a.kind === AttestationKind.MODEL_SIGNATURE,
    );
    if (!record) return false;
    writeFileSync(join(this.store.folderOf(version.digest), MODEL_SIGNATURE_FILE), record.bundle);
    return true;
  }

  /**
   * Product serving: each adapter carries the gateway's signature from when it was applied (restored from its
   * record when the file is missing), verified against a gateway key, current or retired.
   */
  async verify(versions: { id: string; digest: string }[]): Promise<void> {
    const unchecked = versions.filter((v) => !this.verified.has(v.digest));
    if (unchecked.length === 0) return;
    const gatewayKeys = (await this.keys.publicKeys())
      .filter((k) => k.owner === GATEWAY_KEY_OWNER)
      .map((k) => loadPublicKey(k.publicKeyPem));
    for (const version of unchecked) {
      const folder = this.store.folderOf(version.digest);
      if (!existsSync(join(folder, MODEL_SIGNATURE_FILE))) await this.publish(version);
      await verifyAdapterSignature(folder, gatewayKeys);
      this.verified.add(version.digest);
    }
  }
}
