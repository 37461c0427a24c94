import { readFileSync, writeFileSync } from 'node:fs';
import { startApp } from 'src/app/bootstrap';
import { AppConfig } from 'src/config/app-config';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { AuditBundle } from 'src/lineage/audit-bundle/audit-bundle';
import { verifyAuditBundle } from 'src/lineage/audit-bundle/verify-audit-bundle';
import { KeysService } from 'src/attestation/keys/keys.service';

/** `sealgate export-audit --channel NAME --out FILE`: the channel's audit bundle, for offline verification. */
export async function runExportAudit(
  config: AppConfig,
  channel: string | undefined,
  out: string | undefined,
): Promise<void> {
  if (!channel || !out) {
    console.error('Usage: sealgate export-audit --channel NAME --out FILE');
    process.exitCode = 2;
    return;
  }
  const started = await startApp('api', { ...config, LOG_LEVEL: 'warn' }, false);
  try {
    const bundle = await started.app.get(AuditBundleExporter).export(channel);
    writeFileSync(out, `${JSON.stringify(bundle, null, 1)}\n`);
    console.error(
      `Wrote ${out}: channel ${channel}, ${bundle.versions.length} adapter version(s), ${bundle.events.length} logged events.`,
    );
  } finally {
    await started.stop();
  }
}

/**
 * `sealgate verify FILE [--gateway-key PEM_FILE] [--checkpoint NOTE_FILE ...]`: checks an audit bundle offline;
 * exit 0 when every link verifies, 1 naming the first broken one. Each `--checkpoint` is a signed checkpoint the
 * auditor kept (from `logCheckpoint` or `logCheckpoints`): the bundle's log must extend it. Needs no database, no
 * network and no server.
 */
export function runVerify(
  file: string | undefined,
  gatewayKeyFile: string | undefined,
  json: boolean,
  checkpointFiles: string[] = [],
): void {
  if (!file) {
    console.error(
      'Usage: sealgate verify FILE [--gateway-key PEM_FILE] [--checkpoint NOTE_FILE ...] [--json]',
    );
    process.exitCode = 2;
    return;
  }
  let bundle: AuditBundle;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8')) as AuditBundle;
  } catch (err) {
    console.error(`${file} is not a readable audit bundle: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const trustedGatewayKeys = gatewayKeyFile ? [readFileSync(gatewayKeyFile, 'utf8')] : undefined;
  let checkpoints: string[];
  try {
    checkpoints = checkpointFiles.map((path) => readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`A checkpoint file is not readable: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const result = verifyAuditBundle(bundle, { trustedGatewayKeys, checkpoints });
  if (json) console.log(JSON.stringify(result));
  else if (result.valid) console.log(`OK: ${result.checked.length} checks passed (${file})`);
  else console.log(`BROKEN after ${result.checked.length} checks: ${result.problem}`);
  process.exitCode = result.valid ? 0 : 1;
}

/** `sealgate keys rotate --owner gateway|PRINCIPAL_ID`: a new signing key; the old public key stays published. */
export async function runRotateKey(config: AppConfig, owner: string | undefined): Promise<void> {
  const started = await startApp('api', { ...config, LOG_LEVEL: 'warn' }, false);
  try {
    const key = await started.app.get(KeysService).rotate(owner ?? 'gateway');
    console.log(`New signing key for ${key.owner}: ${key.keyId}\n${key.publicKeyPem}`);
  } finally {
    await started.stop();
  }
}
