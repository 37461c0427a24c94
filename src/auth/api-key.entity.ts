import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { IdColumn, IntColumn, RefColumn, StringColumn, TimeColumn } from 'src/database/columns';
import { PrincipalEntity } from 'src/auth/principal.entity';

/** Only a SHA-256 of the secret is stored; the token is shown once, at creation. */
@Entity('api_keys')
export class ApiKeyEntity {
  @IdColumn() id!: string;
  @Index() @RefColumn() principalId!: string;
  @ManyToOne(() => PrincipalEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'principalId' })
  principal?: PrincipalEntity;
  @StringColumn(100) label!: string;
  /** Public, unique part of the token, used to find the key without scanning hashes. */
  @StringColumn(16, { unique: true }) prefix!: string;
  @StringColumn(64) secretHash!: string;
  @TimeColumn() createdAt!: Date;
  @TimeColumn({ nullable: true }) expiresAt!: Date | null;
  @TimeColumn({ nullable: true }) revokedAt!: Date | null;
  @TimeColumn({ nullable: true }) lastUsedAt!: Date | null;
  /** Limit overrides for this key; null means the gateway's default (KEY_* configuration). */
  @IntColumn({ nullable: true }) requestsPerMinute!: number | null;
  @IntColumn({ nullable: true }) maxTokensPerRequest!: number | null;
  @IntColumn({ nullable: true }) maxConcurrentStreams!: number | null;
}

/** A key's own limits, each null where the gateway's default applies. */
export type ApiKeyLimits = Pick<
  ApiKeyEntity,
  'requestsPerMinute' | 'maxTokensPerRequest' | 'maxConcurrentStreams'
>;

export const limitsOf = (key: ApiKeyLimits): ApiKeyLimits => ({
  requestsPerMinute: key.requestsPerMinute ?? null,
  maxTokensPerRequest: key.maxTokensPerRequest ?? null,
  maxConcurrentStreams: key.maxConcurrentStreams ?? null,
});
