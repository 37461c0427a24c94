import { KeyObject, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { SigningKeyEntity } from 'src/attestation/keys/signing-key.entity';
import { SigningKeysRepository } from 'src/attestation/keys/signing-keys.repository';
import { generateSigningKeyPair, loadPrivateKey } from 'src/attestation/sigstore/keys';

/** The owner name of the gateway's own key (approvers' keys are owned by their principal id). */
export const GATEWAY_KEY_OWNER = 'gateway';

/**
 * Signing keys. Private keys live only in files under $DATA_DIR/keys (mode 0600, one per key id); the database
 * holds the public halves, which stay published after a rotation so old signatures still verify. No API ever
 * returns a private key.
 */
@Injectable()
export class KeysService {
  private readonly logger = new Logger(KeysService.name);
  private readonly dir: string;
  private readonly cache = new Map<string, KeyObject>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly repository: SigningKeysRepository,
  ) {
    this.dir = resolve(config.DATA_DIR, 'keys');
  }

  /** The owner's current key (created on first use), to sign with. */
  async signer(owner: string): Promise<{ key: KeyObject; row: SigningKeyEntity }> {
    const row =
      (await this.repository.current(owner)) ?? (await this.create(owner));
    return { key: this.privateKey(row), row };
  }

  /** Retires the owner's current key and makes a new one; the old public key stays for verification. */
  async rotate(owner: string): Promise<SigningKeyEntity> {
    await this.repository.retireCurrent(owner, new Date());
    return this.create(owner);
  }

  publicKeys(): Promise<SigningKeyEntity[]> {
    return this.repository.all();
  }

  private async create(owner: string): Promise<SigningKeyEntity> {
    const pair = generateSigningKeyPair();
    const row = Object.assign(new SigningKeyEntity(), {
      id: randomUUID(),
      owner,
      keyId: pair.keyId,
      publicKeyPem: pair.publicKeyPem,
      createdAt: new Date(),
      retiredAt: null,
    });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(row);
    writeFileSync(file, pair.privateKeyPem, { mode: 0o600 });
    chmodSync(file, 0o600);
    await this.repository.insert(row);
    this.logger.log({ owner, keyId: row.keyId }, 'signing key created');
    return row;
  }

  private privateKey(row: SigningKeyEntity): KeyObject {
    const cached = this.cache.get(row.keyId);
    if (cached) return cached;
    const file = this.fileOf(row);
    if (!existsSync(file))
      throw new Error(`the private key of ${row.owner} (${row.keyId}) is missing from ${this.dir}`);
    const key = loadPrivateKey(readFileSync(file, 'utf8'));
    this.cache.set(row.keyId, key);
    return key;
  }

  private fileOf(row: SigningKeyEntity): string {
    return join(this.dir, `${row.keyId}.pem`);
  }
}
