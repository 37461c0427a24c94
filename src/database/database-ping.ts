import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The database answers a trivial query: what readiness checks. */
@Injectable()
export class DatabasePing {
  constructor(private readonly dataSource: DataSource) {}

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
