import { Entity, Index } from 'typeorm';
import { IdColumn, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';

/**
 * The public half of a signing key: the gateway's (`owner` = "gateway") or an approver's (`owner` = their
 * principal id). Retired keys stay, so everything they signed can still be verified.
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  @IdColumn() id!: string;
  @Index() @StringColumn(100) owner!: string;
  /** Hex SHA-256 of the DER public key (the DSSE keyid). */
  @StringColumn(64, { unique: true }) keyId!: string;
  @TextColumn() publicKeyPem!: string;
  @TimeColumn() createdAt!: Date;
  @TimeColumn({ nullable: true }) retiredAt!: Date | null;
}
