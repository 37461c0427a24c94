/**
 * A one-consumer async iterator fed by callbacks: what a subscription resolver returns. Ending early (the client
 * unsubscribed or went away) calls `onReturn`, which cancels the generation behind it.
 */
export class ChunkQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void } | null = null;
  private ended = false;
  private failure: { err: unknown } | null = null;
  private firstSeen: (() => void) | null = null;
  /** Resolves with the first item (or the end), whichever comes first. */
  readonly started: Promise<void>;

  constructor(private readonly onReturn: () => void) {
    this.started = new Promise((resolve) => (this.firstSeen = resolve));
  }

  push(item: T): void {
    if (this.ended) return;
    this.firstSeen?.();
    if (this.waiter) {
      this.waiter.resolve({ value: item, done: false });
      this.waiter = null;
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.finish();
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.failure = { err };
    this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.failure) {
      const { err } = this.failure;
      this.failure = null;
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.ended) this.onReturn();
    this.items.length = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private finish(): void {
    this.ended = true;
    this.firstSeen?.();
    if (this.waiter) {
      const { resolve, reject } = this.waiter;
      this.waiter = null;
      if (this.failure) {
        reject(this.failure.err);
        this.failure = null;
      } else {
        resolve({ value: undefined, done: true });
      }
    }
  }
}
