import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { sha256Hex } from 'src/common/sha256';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, adapterDigest } from 'src/inference/lora-adapter';
import type { PeftFiles } from 'src/inference/lora-concat';

/** The two files of a PEFT adapter folder (what an adapter's digest covers). */
export function readPeftFiles(folder: string): PeftFiles {
  return {
    [ADAPTER_CONFIG_FILE]: readFileSync(join(folder, ADAPTER_CONFIG_FILE)),
    [ADAPTER_WEIGHTS_FILE]: readFileSync(join(folder, ADAPTER_WEIGHTS_FILE)),
  };
}

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

  /** The one way into the store: written aside, then renamed into place; returns the adapter's address. */
  put(files: PeftFiles): { digest: string; folder: string } {
    const digest = adapterDigest({
      [ADAPTER_CONFIG_FILE]: sha256Hex(files[ADAPTER_CONFIG_FILE]),
      [ADAPTER_WEIGHTS_FILE]: sha256Hex(files[ADAPTER_WEIGHTS_FILE]),
    });
    const folder = this.folderOf(digest);
    if (!existsSync(folder)) {
      const staging = join(this.root, `.staging-${randomUUID()}`);
      mkdirSync(staging, { recursive: true });
      try {
        for (const [name, bytes] of Object.entries(files)) writeFileSync(join(staging, name), bytes);
        renameSync(staging, folder);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    }
    return { digest, folder };
  }
}
