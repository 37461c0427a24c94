import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { SigningKeyEntity } from 'src/attestation/keys/signing-key.entity';

@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The owner's key that is not retired, if any. */
  current(owner: string): Promise<SigningKeyEntity | null> {
    return this.repository().findOneBy({ owner, retiredAt: IsNull() });
  }

  async retireCurrent(owner: string, at: Date): Promise<void> {
    await this.repository().update({ owner, retiredAt: IsNull() }, { retiredAt: at });
  }

  /** Every key, retired ones included, oldest first. */
  all(): Promise<SigningKeyEntity[]> {
    return this.repository().find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async insert(row: SigningKeyEntity): Promise<void> {
    await this.repository().insert(row);
  }

  private repository() {
    return this.dataSource.getRepository(SigningKeyEntity);
  }
}
