import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GATEWAY_KEY_OWNER, KeysService } from 'src/attestation/keys/keys.service';
import { serializeBundle, signModelFolder } from 'src/attestation/sigstore/bundle';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { TestApp } from 'test/support/test-app';

/**
 * Writes model.sig into an adapter folder with the gateway's key, as applying an edit does, for tests that store
 * an applied version directly (product serving refuses an applied adapter without it).
 */
export async function signAsApplied(t: Pick<TestApp, 'get'>, folder: string): Promise<void> {
  const { key } = await t.get(KeysService).signer(GATEWAY_KEY_OWNER);
  const bundle = await signModelFolder(folder, key, { modelName: `adapter-${basename(folder)}` });
  writeFileSync(join(folder, MODEL_SIGNATURE_FILE), serializeBundle(bundle));
}
