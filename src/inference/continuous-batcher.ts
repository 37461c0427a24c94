import {
  advance,
  GenerationRequest,
  GenerationResult,
  prepareRow,
  resultOf,
  Row,
} from 'src/inference/generator';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { gatherCache, KvCache, placeRow, SpareCaches } from 'src/inference/kv-cache';
import { LlamaSession, LoraFeeds } from 'src/inference/llama-session';
import { LoraAdapter } from 'src/inference/lora-adapter';
import { sampleToken } from 'src/inference/sampling';
import { TextTokenizer } from 'src/inference/text-tokenizer';

export interface BatcherOptions {
  /** Rows decoded together in one forward pass; 1 turns batching off (one request at a time). */
  maxBatch: number;
  /** Called after each forward pass, for metrics. */
  onStep?: (step: { kind: 'prefill' | 'decode'; rows: number; queued: number; ms: number }) => void;
}

export interface RowOptions {
  /** Each new piece of final text, in order; text that might still turn into a stop string is held back. */
  onText?: (delta: string) => void;
  /** Aborting drops the row at the next step (a client that went away stops costing compute). */
  signal?: AbortSignal;
}

/** A prepared row (prompt encoded and checked) that has not been queued yet. */
export interface PreparedRow {
  row: Row;
  adapters: LoraAdapter[];
}

/**
 * Columns of capacity the batch KV cache gets beyond its longest row when it is built: decode steps fill them in
 * place, and the cache is rebuilt when they are used up. Unused columns are masked but still read by attention.
 */
const CACHE_GROWTH = 32;

/**
 * How long an idle batcher keeps the memory of its last caches for the next request. Without it, every request
 * that finds the batcher idle allocates its caches afresh, which at one row made a 64-token generation 5-10%
 * slower (docs/benchmarks.md).
 */
const IDLE_MEMORY_MS = 5_000;

interface Ticket extends PreparedRow, RowOptions {
  /** Real tokens this row holds in the batch KV cache (right-aligned). */
  cached: number;
  /** The token to feed at the next decode step (the last one sampled). */
  next: number;
  emitted: string;
  settled: boolean;
  /** Lets go of the row's share of its signal's abort listener (see `watch`). */
  detach?: () => void;
  resolve(result: GenerationResult): void;
  reject(err: unknown): void;
}

/**
 * Continuous batching over one onnxruntime session. Requests join and leave between decode steps: waiting rows
 * are prefilled together (left-padded, each with its own adapter stack), their KV cache is moved into the
 * running batch's, and every decode step feeds one token per row; a finished or cancelled row leaves at once.
 * Work that needs the session alone (scoring) runs between steps. A row's tokens never depend on its
 * neighbours: padding is masked and LoRA factors are per row, so greedy output is the same as alone.
 *
 * The batch KV cache holds tens of megabytes at 32 rows, so it is not rebuilt each time somebody joins or
 * leaves (which, under steady load, is nearly every step): a row that leaves frees its slot (row of the cache),
 * and a joiner is written into a free slot in place. Each decode step writes its new column in place too, into
 * capacity allocated `CACHE_GROWTH` columns at a time. The cache is rebuilt (compacted) only when joiners do
 * not fit the free slots, when its capacity is used up, when too many slots stand empty, or when its leading
 * columns have become padding for every row (see `needsCompaction`).
 */
export class ContinuousBatcher {
  private readonly waiting: Ticket[] = [];
  /** Row b of the batch KV cache: its ticket, or null for a free slot (computed, masked, and ignored). */
  private slots: (Ticket | null)[] = [];
  /** Rows taken from the queue whose prefill is running: no longer waiting, not yet in the batch. */
  private joining: Ticket[] = [];
  private readonly exclusiveWork: (() => Promise<void>)[] = [];
  private cache: KvCache | null = null;
  /**
   * Caches left by rebuilds and by the last batch: the next rebuild writes into their memory. Two, because the
   * growing cache of a batch alternates between two sizes of memory.
   */
  private readonly spares = new SpareCaches(2);
  private idleTimer: NodeJS.Timeout | null = null;
  private lora: LoraFeeds | null = null;
  /** The adapter stacks `lora` was built for, slot by slot. */
  private loraStacks: LoraAdapter[][] = [];
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly session: LlamaSession,
    private readonly tokenizer: TextTokenizer,
    private readonly options: BatcherOptions,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  get batchRows(): number {
    return this.liveRows() + this.joining.length;
  }

  get maxBatch(): number {
    return this.options.maxBatch;
  }

  /** Encodes the prompt and checks its bounds; nothing is queued yet, so a group can be checked whole first. */
  prepare(request: GenerationRequest): Promise<PreparedRow> {
    return prepareRow(this.session.spec, this.tokenizer, request, Math.floor(Math.random() * 2 ** 31)).then(
      (row) => ({ row, adapters: request.adapters }),
    );
  }

  /**
   * Queues rows; each waits for a place in the batch. Admission (the bound on rows in flight, OVERLOADED) is
   * the caller's: ModelService counts rows on the main thread, so a refusal never waits on this thread.
   */
  enqueue(rows: (PreparedRow & RowOptions)[]): Promise<GenerationResult>[] {
    if (this.closed) {
      throw new InferenceError(InferenceErrorCode.MODEL_UNAVAILABLE, 'the gateway is shutting down');
    }
    const tickets: Ticket[] = [];
    const promises = rows.map(
      (prepared) =>
        new Promise<GenerationResult>((resolve, reject) => {
          tickets.push({ ...prepared, cached: 0, next: 0, emitted: '', settled: false, resolve, reject });
        }),
    );
    for (const [signal, group] of groupBySignal(tickets)) this.watch(signal, group);
    this.waiting.push(...tickets.filter((t) => !t.settled));
    this.kick();
    return promises;
  }

  /**
   * One abort listener per signal however many rows share it (a request of n rows, a stream), removed as soon
   * as the last of those rows is settled: a long-lived signal never collects listeners.
   */
  private watch(signal: AbortSignal, group: Ticket[]): void {
    if (signal.aborted) {
      for (const t of group) this.settle(t, cancelled());
      return;
    }
    const onAbort = () => {
      for (const t of group) this.cancelWaiting(t);
    };
    let open = group.length;
    const detach = () => {
      if (--open === 0) signal.removeEventListener('abort', onAbort);
    };
    for (const t of group) t.detach = detach;
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Runs `work` with the session to itself, between two decode steps. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.exclusiveWork.push(() => work().then(resolve, reject));
      this.kick();
    });
  }

  /** Refuses new work and waits for everything queued or running to finish. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.spares.clear();
  }

  private kick(): void {
    this.running ??= this.loop()
      .catch((err: unknown) => {
        // Only a bug gets here; fail what is in flight rather than leave callers waiting forever.
        for (const t of [...this.active(), ...this.waiting.splice(0)]) this.settle(t, err);
        this.reset();
      })
      .finally(() => {
        this.running = null;
        if (this.hasWork()) this.kick();
      });
  }

  private hasWork(): boolean {
    return this.exclusiveWork.length > 0 || this.waiting.length > 0 || this.liveRows() > 0;
  }

  private active(): Ticket[] {
    return this.slots.filter((t): t is Ticket => t !== null);
  }

  private liveRows(): number {
    let n = 0;
    for (const t of this.slots) if (t) n++;
    return n;
  }

  private async loop(): Promise<void> {
    // Busy again: the spare memory is in use, not idle.
    if (this.idleTimer) clearTimeout(this.idleTimer);
    while (this.hasWork()) {
      // onnxruntime-node runs a forward pass on this thread: yield to the event loop between steps, so new
      // requests are read (and join) while a batch is running instead of after it drains.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let work = this.exclusiveWork.shift(); work; work = this.exclusiveWork.shift()) await work();
      const joining = this.waiting.splice(0, Math.max(0, this.options.maxBatch - this.liveRows()));
      this.joining = joining;
      let prefilled: KvCache | null = null;
      try {
        if (joining.length > 0) prefilled = await this.prefill(joining);
      } catch (err) {
        for (const t of joining) this.settle(t, err);
      }
      this.joining = [];
      try {
        this.admit(prefilled ? joining : [], prefilled);
        if (this.liveRows() > 0) {
          await this.decode();
          this.release();
        }
      } catch (err) {
        // A failed decode step leaves no usable cache: every row in flight fails with it.
        for (const t of [...this.active(), ...joining]) this.settle(t, err);
        this.reset();
      }
    }
  }

  /** Prefills the joiners together: their own cache, right-aligned to the longest prompt. */
  private async prefill(joining: Ticket[]): Promise<KvCache> {
    const spec = this.session.spec;
    const width = Math.max(...joining.map((t) => t.row.prompt.length));
    const pad = (t: Ticket) => width - t.row.prompt.length;
    const started = performance.now();
    const { logits, fresh } = await this.session.forward({
      inputIds: joining.map((t) => [...Array<number>(pad(t)).fill(spec.padId), ...t.row.prompt]),
      attentionMask: { realTokens: joining.map((t) => t.row.prompt.length) },
      positionIds: joining.map((t) => [...Array<number>(pad(t)).fill(0), ...t.row.prompt.map((_, j) => j)]),
      past: null,
      lora: this.session.loraFeeds(joining.map((t) => t.adapters)),
    });
    this.report('prefill', joining.length, started);
    await Promise.all(
      joining.map((t, b) => {
        t.cached = t.row.prompt.length;
        return this.take(t, logits, (b * width + width - 1) * spec.vocabSize);
      }),
    );
    return new KvCache(fresh, width);
  }

  /** One token for every slot; a free slot is fed padding that attends only to itself, and its output is dropped. */
  private async decode(): Promise<void> {
    const cache = this.cache!;
    const padId = this.session.spec.padId;
    const started = performance.now();
    const { logits, fresh } = await this.session.forward({
      inputIds: this.slots.map((t) => [t ? t.next : padId]),
      attentionMask: { realTokens: this.slots.map((t) => (t ? t.cached + 1 : 1)) },
      positionIds: this.slots.map((t) => [t ? t.cached : 0]),
      past: cache,
      lora: this.lora!,
    });
    cache.append(fresh);
    this.report('decode', this.liveRows(), started);
    const vocab = this.session.spec.vocabSize;
    const taken: Promise<void>[] = [];
    this.slots.forEach((t, b) => {
      if (!t) return;
      t.cached += 1;
      taken.push(this.take(t, logits, b * vocab));
    });
    await Promise.all(taken);
  }

  /** Samples a row's next token from its logits and takes it in; a finished row is answered at once. */
  private async take(t: Ticket, logits: Float32Array, offset: number): Promise<void> {
    if (t.settled || t.signal?.aborted) return;
    const vocab = this.session.spec.vocabSize;
    const token = sampleToken(logits, offset, vocab, t.row.request.params, t.row.random);
    t.next = token;
    await advance(t.row, token, this.session.spec.eosIds, this.tokenizer);
    this.emit(t);
    if (t.row.done) this.settle(t);
  }

  /** Frees the slots of rows that finished or were cancelled (nothing is copied); an empty batch is dropped. */
  private release(): void {
    this.slots = this.slots.map((t) => (t && this.isLive(t) ? t : null));
    if (this.liveRows() === 0) this.reset();
  }

  /**
   * Takes the rows just prefilled into the batch: each into a free slot in place when they all fit (the cache
   * is long enough for their prompts and there are free slots for all), otherwise by rebuilding the cache from
   * the running rows and the joiners; the cache is also rebuilt when it has no room for the next decode step's
   * column or has become wasteful.
   */
  private admit(joining: Ticket[], prefilled: KvCache | null): void {
    this.release();
    const joined = joining.map((t, index) => ({ t, index })).filter(({ t }) => this.isLive(t));
    const free = this.slots.flatMap((t, b) => (t ? [] : [b]));
    const cache = this.cache;
    const fits =
      cache !== null &&
      cache.length < cache.capacity &&
      joined.length <= free.length &&
      joined.every(({ t }) => t.cached <= cache.length);
    if (fits && !this.needsCompaction(joined.map(({ t }) => t))) {
      joined.forEach(({ t, index }, k) => {
        placeRow(cache, free[k], prefilled!, index, t.cached);
        this.slots[free[k]] = t;
      });
    } else {
      const kept = this.slots.flatMap((t, index) => (t ? [{ t, index }] : []));
      this.slots = [...kept, ...joined].map(({ t }) => t);
      if (this.slots.length === 0) return this.reset();
      const length = Math.max(...this.slots.map((t) => t!.cached));
      const rowsOf = (xs: { t: Ticket; index: number }[]) =>
        xs.map(({ t, index }) => ({ index, tokens: t.cached }));
      this.cache = gatherCache(
        [
          ...(kept.length > 0 ? [{ cache: cache!, rows: rowsOf(kept) }] : []),
          ...(joined.length > 0 ? [{ cache: prefilled!, rows: rowsOf(joined) }] : []),
        ],
        length,
        length + CACHE_GROWTH,
        this.spares,
      );
      if (cache) this.spares.put(cache);
    }
    this.refreshLora();
  }

  /**
   * Whether rebuilding the cache pays: a rebuild copies the whole cache once, while a free slot costs a row's
   * share of every step and a column of padding every row's share of attention. So: more than a quarter of the
   * slots free after the joiners are placed, or more leading columns of padding for every row than an eighth
   * of the cache (at least 8).
   */
  private needsCompaction(joiners: Ticket[]): boolean {
    const rows = [...this.active(), ...joiners];
    if (rows.length === 0) return false;
    const freeAfter = this.slots.length - rows.length;
    if (freeAfter > Math.max(1, Math.floor(this.slots.length / 4))) return true;
    const longest = Math.max(...rows.map((t) => t.cached));
    const length = this.cache!.length;
    return length - longest > Math.max(8, Math.ceil(length / 8));
  }

  /** Rebuilds the LoRA inputs when a slot's adapter stack changed (a free slot runs on no adapter). */
  private refreshLora(): void {
    const stacks = this.slots.map((t) => t?.adapters ?? []);
    const same =
      this.lora !== null &&
      stacks.length === this.loraStacks.length &&
      stacks.every((stack, b) => sameStack(stack, this.loraStacks[b]));
    if (same) return;
    this.lora = this.session.loraFeeds(stacks);
    this.loraStacks = stacks;
  }

  /** False for a row that is done (finished, failed, or cancelled: settled here if its signal aborted). */
  private isLive(t: Ticket): boolean {
    if (t.signal?.aborted) this.settle(t, cancelled());
    return !t.settled;
  }

  /** Drops the batch; its cache's memory is kept for `IDLE_MEMORY_MS` in case more requests come. */
  private reset(): void {
    if (this.cache) this.spares.put(this.cache);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.spares.clear(), IDLE_MEMORY_MS).unref();
    this.slots = [];
    this.cache = null;
    this.lora = null;
    this.loraStacks = [];
  }

  private emit(t: Ticket): void {
    if (!t.onText) return;
    const text = t.row.done ? t.row.text : withheld(t.row.text, t.row.request.params.stop);
    if (text.length > t.emitted.length && text.startsWith(t.emitted)) {
      const delta = text.slice(t.emitted.length);
      t.emitted = text;
      t.onText(delta);
    }
  }

  private settle(t: Ticket, err?: unknown): void {
    if (t.settled) return;
    t.settled = true;
    t.detach?.();
    if (err === undefined) t.resolve(resultOf(t.row));
    else t.reject(err);
  }

  private cancelWaiting(t: Ticket): void {
    const at = this.waiting.indexOf(t);
    if (at >= 0) {
      this.waiting.splice(at, 1);
      this.settle(t, cancelled());
    }
  }

  private report(kind: 'prefill' | 'decode', rows: number, started: number): void {
    this.options.onStep?.({ kind, rows, queued: this.waiting.length, ms: performance.now() - started });
  }
}

function sameStack(a: LoraAdapter[], b: LoraAdapter[]): boolean {
  return a.length === b.length && a.every((adapter, i) => adapter === b[i]);
}

function groupBySignal(tickets: Ticket[]): Map<AbortSignal, Ticket[]> {
  const groups = new Map<AbortSignal, Ticket[]>();
  for (const t of tickets) {
    if (!t.signal) continue;
    const group = groups.get(t.signal);
    if (group) group.push(t);
    else groups.set(t.signal, [t]);
  }
  return groups;
}

function cancelled(): InferenceError {
  return new InferenceError(InferenceErrorCode.GENERATION_CANCELLED, 'the generation was cancelled');
}

/**
 * The text that is final while generation goes on: without a trailing replacement character (an incomplete
 * multi-byte character) and without an ending that could still grow into a stop string.
 */
export function withheld(text: string, stop: string[]): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '\uFFFD') end--;
  let cut = end;
  for (const s of stop) {
    for (let k = Math.min(s.length - 1, end); k > 0; k--) {
      if (text.slice(end - k, end) === s.slice(0, k)) {
        cut = Math.min(cut, end - k);
        break;
      }
    }
  }
  return text.slice(0, cut);
}
