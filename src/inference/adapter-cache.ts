import { LoraAdapter } from 'src/inference/lora-adapter';

/**
 * Loaded adapters by folder, least recently used first out once their bytes pass the budget. A load in flight
 * is shared by every caller asking for the same folder.
 */
export class AdapterCache {
  private readonly entries = new Map<string, LoraAdapter>();
  private readonly loading = new Map<string, Promise<LoraAdapter>>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly load: (folder: string) => Promise<LoraAdapter>,
  ) {}

  async get(folder: string): Promise<LoraAdapter> {
    const hit = this.entries.get(folder);
    if (hit) {
      this.entries.delete(folder);
      this.entries.set(folder, hit); // Map order is recency order
      return hit;
    }
    const pending = this.loading.get(folder);
    if (pending) return pending;
    const promise = this.load(folder)
      .then((adapter) => {
        this.insert(folder, adapter);
        return adapter;
      })
      .finally(() => this.loading.delete(folder));
    this.loading.set(folder, promise);
    return promise;
  }

  get size(): { adapters: number; bytes: number } {
    return { adapters: this.entries.size, bytes: this.bytes };
  }

  private insert(folder: string, adapter: LoraAdapter): void {
    this.entries.set(folder, adapter);
    this.bytes += adapter.bytes;
    for (const [key, old] of this.entries) {
      if (this.bytes <= this.maxBytes || key === folder) break;
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
  }
}
