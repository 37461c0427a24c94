import { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseBundle, SigstoreBundle, verifyModelFolder } from 'src/attestation/sigstore/bundle';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';

/**
 * An applied adapter is served only with the model.sig the gateway wrote when it applied it: the signature must
 * verify against one of the gateway's keys (current or retired) and cover exactly the folder's files. Anything
 * else (no signature, another signer, a changed or added file) is ADAPTER_TAMPERED. No path is named.
 */
export async function verifyAdapterSignature(folder: string, gatewayKeys: KeyObject[]): Promise<void> {
  const digest = basename(folder);
  const tampered = (why: string) =>
    new InferenceError(InferenceErrorCode.ADAPTER_TAMPERED, `adapter ${digest.slice(0, 12)} ${why}`, {
      digest,
    });
  let bundle: SigstoreBundle;
  try {
    bundle = parseBundle(await readFile(join(folder, MODEL_SIGNATURE_FILE), 'utf8'));
  } catch {
    throw tampered('has no valid signature (model.sig) from when it was applied');
  }
  for (const key of gatewayKeys) {
    try {
      await verifyModelFolder(folder, bundle, key);
      return;
    } catch {
      // another key may have signed it (keys rotate)
    }
  }
  throw tampered('does not match the signature the gateway made when it was applied');
}
