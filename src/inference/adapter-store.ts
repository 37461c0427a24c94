import { Inject, Injectable } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';

/** Where adapter folders live: content-addressed by their digest under $DATA_DIR/adapters. */
@Injectable()
export class AdapterStore {
  readonly root: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = resolve(config.DATA_DIR, 'adapters');
  }

  folderOf(digest: string): string {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`not an adapter digest: ${digest}`);
    return join(this.root, digest);
  }
}
