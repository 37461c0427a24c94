import {
  advance,
  GenerationRequest,
  GenerationResult,
  prepareRow,
  resultOf,
  Row,
} from 'src/inference/generator';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { gatherCache } from 'src/inference/kv-cache';
import { KvCache, LlamaSession, LoraFeeds } from 'src/inference/llama-session';
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
 * are prefilled together (left-padded, each with its own adapter stack), their KV cache is merged into the
 * running batch's, and every decode step feeds one token per row; a finished or cancelled row leaves at once.
 * Work that needs the session alone (scoring) runs between steps. A row's tokens never depend on its
 * neighbours: padding is masked and LoRA factors are per row, so greedy output is the same as alone.
 */
export class ContinuousBatcher {
  private readonly waiting: Ticket[] = [];
  private active: Ticket[] = [];
  /** Rows taken from the queue whose prefill is running: no longer waiting, not yet in the batch. */
  private joining: Ticket[] = [];
  private readonly exclusiveWork: (() => Promise<void>)[] = [];
  private cache: KvCache | null = null;
  private cacheLength = 0;
  private lora: LoraFeeds | null = null;
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
    return this.active.length + this.joining.length;
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
  }

  private kick(): void {
    this.running ??= this.loop()
      .catch((err: unknown) => {
        // Only a bug gets here; fail what is in flight rather than leave callers waiting forever.
        for (const t of [...this.active, ...this.waiting.splice(0)]) this.settle(t, err);
        this.active = [];
        this.cache = null;
      })
      .finally(() => {
        this.running = null;
        if (this.hasWork()) this.kick();
      });
  }

  private hasWork(): boolean {
    return this.exclusiveWork.length > 0 || this.waiting.length > 0 || this.active.length > 0;
  }

  private async loop(): Promise<void> {
    while (this.hasWork()) {
      // onnxruntime-node runs a forward pass on this thread: yield to the event loop between steps, so new
      // requests are read (and join) while a batch is running instead of after it drains.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let work = this.exclusiveWork.shift(); work; work = this.exclusiveWork.shift()) await work();
      const joining = this.waiting.splice(0, Math.max(0, this.options.maxBatch - this.active.length));
      this.joining = joining;
      let prefilled: { cache: KvCache; length: number } | null = null;
      try {
        if (joining.length > 0) prefilled = await this.prefill(joining);
      } catch (err) {
        for (const t of joining) this.settle(t, err);
      }
      this.joining = [];
      try {
        this.regroup(prefilled ? joining : [], prefilled);
        if (this.active.length > 0) {
          await this.decode();
          this.regroup([], null);
        }
      } catch (err) {
        // A failed decode step leaves no usable cache: every row in flight fails with it.
        for (const t of [...this.active, ...joining]) this.settle(t, err);
        this.active = [];
        this.cache = null;
        this.lora = null;
      }
    }
  }

  private async prefill(joining: Ticket[]): Promise<{ cache: KvCache; length: number }> {
    const spec = this.session.spec;
    const width = Math.max(...joining.map((t) => t.row.prompt.length));
    const pad = (t: Ticket) => width - t.row.prompt.length;
    const started = performance.now();
    const { logits, present } = await this.session.forward({
      inputIds: joining.map((t) => [...Array<number>(pad(t)).fill(spec.padId), ...t.row.prompt]),
      attentionMask: joining.map((t) => [...Array<number>(pad(t)).fill(0), ...t.row.prompt.map(() => 1)]),
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
    return { cache: present, length: width };
  }

  private async decode(): Promise<void> {
    const length = this.cacheLength;
    const started = performance.now();
    const { logits, present } = await this.session.forward({
      inputIds: this.active.map((t) => [t.next]),
      attentionMask: this.active.map((t) => [
        ...Array<number>(length - t.cached).fill(0),
        ...Array<number>(t.cached + 1).fill(1),
      ]),
      positionIds: this.active.map((t) => [t.cached]),
      past: this.cache,
      lora: this.lora!,
    });
    this.report('decode', this.active.length, started);
    this.cache = present;
    this.cacheLength = length + 1;
    const vocab = this.session.spec.vocabSize;
    await Promise.all(
      this.active.map((t, b) => {
        t.cached += 1;
        return this.take(t, logits, b * vocab);
      }),
    );
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

  /**
   * The batch after a step: running rows that are not finished or cancelled, then the rows just prefilled, in
   * one cache right-aligned to the longest of them. Nothing is copied when nobody joined or left.
   */
  private regroup(joining: Ticket[], prefilled: { cache: KvCache; length: number } | null): void {
    const live = (t: Ticket) => {
      if (t.signal?.aborted) this.settle(t, cancelled());
      return !t.settled;
    };
    const kept = this.active.map((t, index) => ({ t, index })).filter(({ t }) => live(t));
    const joined = joining.map((t, index) => ({ t, index })).filter(({ t }) => live(t));
    if (kept.length === this.active.length && joined.length === 0) return;
    this.active = [...kept, ...joined].map(({ t }) => t);
    if (this.active.length === 0) {
      this.cache = null;
      this.cacheLength = 0;
      this.lora = null;
      return;
    }
    const length = Math.max(...this.active.map((t) => t.cached));
    const rowsOf = (xs: { t: Ticket; index: number }[]) =>
      xs.map(({ t, index }) => ({ index, tokens: t.cached }));
    this.cache = gatherCache(
      [
        ...(kept.length > 0 ? [{ cache: this.cache!, rows: rowsOf(kept) }] : []),
        ...(joined.length > 0 ? [{ cache: prefilled!.cache, rows: rowsOf(joined) }] : []),
      ],
      length,
    );
    this.cacheLength = length;
    this.lora = this.session.loraFeeds(this.active.map((t) => t.adapters));
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
