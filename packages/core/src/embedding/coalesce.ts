import { EMBEDDING_LIMITS } from '../limits.ts';
import { countTokens } from '../tokenizer.ts';
import type { EmbeddingProvider } from './provider.ts';

export interface CoalesceOptions {
  /** Wait this long after the last input arrived for more to join (default 100 ms). */
  lingerMs?: number;
  /**
   * Never hold an input longer than this before sending it (default 20 s), counted from its own arrival. It
   * only applies while the worker says more inputs are coming (holdWhile): an input with nothing else under
   * way goes after the linger. 5 s split the bench's 170-file batch on the embedded engine, whose jobs reach
   * the embed stage slowly, into 22 requests where 3 carry it; counting from the first input of the batch
   * instead of the oldest still queued sent a fourth under load (the leftover of a full request, flushed
   * alone when the batch's first input had waited 20 s).
   */
  maxWaitMs?: number;
  limits?: { maxInputs: number; maxRequestTokens: number };
}

interface Waiter {
  vectors: number[][];
  remaining: number;
  tokens: number;
  resolve(r: { embeddings: number[][]; tokens: number }): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  done: boolean;
}
interface Entry {
  text: string;
  tokens: number;
  /** When it was queued (Date.now()). */
  at: number;
  /** Who waits for this text, and where it goes in their result. */
  slots: { waiter: Waiter; index: number }[];
}

/**
 * Embeds the inputs of concurrent callers (ingest jobs) together: inputs queue for a moment and go out in
 * requests filled up to the provider's limits (2,048 inputs, 300,000 tokens), each caller's vectors routed
 * back to it, so a batch of small files costs the requests its chunks need rather than one per file.
 * Nothing here is durable: a crash loses only requests in flight, whose jobs' leases expire and are
 * claimed again (nothing was written for them). The same text queued twice is sent once.
 */
export class EmbeddingCoalescer {
  readonly provider: EmbeddingProvider;
  private readonly lingerMs: number;
  private readonly maxWaitMs: number;
  private readonly limits: { maxInputs: number; maxRequestTokens: number };
  private pending = new Map<string, Entry>();
  private pendingTokens = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the oldest input still queued arrived (0: none queued). */
  private firstAt = 0;
  /**
   * True while more inputs are on their way (the worker has jobs still extracting or chunking): the
   * queue then keeps waiting past the linger, up to maxWaitMs, so that their inputs join the requests.
   */
  holdWhile: (() => boolean) | undefined;

  constructor(provider: EmbeddingProvider, opts: CoalesceOptions = {}) {
    this.provider = provider;
    this.lingerMs = opts.lingerMs ?? 100;
    this.maxWaitMs = opts.maxWaitMs ?? 20_000;
    this.limits = opts.limits ?? EMBEDDING_LIMITS;
  }

  /** Embeds `texts` in order; `tokens` (their cl100k counts, if known) saves counting them again. */
  embed(
    texts: string[],
    opts: { tokens?: number[]; signal?: AbortSignal } = {},
  ): Promise<{ embeddings: number[][]; tokens: number }> {
    if (texts.length === 0) return Promise.resolve({ embeddings: [], tokens: 0 });
    opts.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        vectors: new Array(texts.length),
        remaining: texts.length,
        tokens: 0,
        resolve,
        reject,
        signal: opts.signal,
        done: false,
      };
      opts.signal?.addEventListener('abort', () => this.abandon(waiter), { once: true });
      const at = Date.now();
      texts.forEach((text, index) => {
        const tokens = opts.tokens?.[index] ?? countTokens(text);
        waiter.tokens += tokens;
        const entry = this.pending.get(text);
        if (entry) entry.slots.push({ waiter, index });
        else {
          this.pending.set(text, { text, tokens, at, slots: [{ waiter, index }] });
          this.pendingTokens += tokens;
        }
      });
      this.schedule();
    });
  }

  private schedule(): void {
    const now = Date.now();
    // Full requests go at once; the rest waits for company, within bounds.
    while (this.pending.size >= this.limits.maxInputs || this.pendingTokens >= this.limits.maxRequestTokens) {
      this.send(this.take());
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    // The queue keeps arrival order (take() removes from its front): its first entry is the oldest.
    this.firstAt = this.pending.values().next().value?.at ?? 0;
    if (this.pending.size === 0) return;
    this.arm(now);
  }

  private arm(now: number): void {
    const wait = Math.max(0, Math.min(this.lingerMs, this.firstAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => {
      const at = Date.now();
      if (this.holdWhile?.() && at < this.firstAt + this.maxWaitMs) this.arm(at);
      else this.flush();
    }, wait);
    this.timer.unref?.();
  }

  /** Sends everything queued, in as few requests as the limits allow (first-fit decreasing). */
  private flush(): void {
    this.timer = undefined;
    this.firstAt = 0;
    const entries = [...this.pending.values()].sort((a, b) => b.tokens - a.tokens);
    this.pending.clear();
    this.pendingTokens = 0;
    const bins: { entries: Entry[]; tokens: number }[] = [];
    for (const e of entries) {
      const bin = bins.find(
        (b) =>
          b.entries.length < this.limits.maxInputs && b.tokens + e.tokens <= this.limits.maxRequestTokens,
      );
      if (bin) {
        bin.entries.push(e);
        bin.tokens += e.tokens;
      } else bins.push({ entries: [e], tokens: e.tokens });
    }
    for (const b of bins) this.send(b.entries);
  }

  /** One full request's worth of the queue, oldest first. */
  private take(): Entry[] {
    const out: Entry[] = [];
    let tokens = 0;
    for (const [text, e] of this.pending) {
      if (out.length >= this.limits.maxInputs) break;
      if (out.length > 0 && tokens + e.tokens > this.limits.maxRequestTokens) break;
      out.push(e);
      tokens += e.tokens;
      this.pending.delete(text);
      this.pendingTokens -= e.tokens;
    }
    return out;
  }

  private send(entries: Entry[]): void {
    const live = entries.filter((e) => e.slots.some((s) => !s.waiter.done));
    if (live.length === 0) return;
    const tokens = live.map((e) => e.tokens); // counted once, when queued: the provider does not again
    const texts = live.map((e) => e.text);
    this.provider.embed(texts, { tokens }).then(
      ({ embeddings }) => {
        live.forEach((e, i) => {
          for (const { waiter, index } of e.slots) {
            if (waiter.done) continue;
            waiter.vectors[index] = embeddings[i]!;
            if (--waiter.remaining === 0) {
              waiter.done = true;
              waiter.resolve({ embeddings: waiter.vectors, tokens: waiter.tokens });
            }
          }
        });
      },
      (err: unknown) => {
        for (const e of live) {
          for (const { waiter } of e.slots) {
            if (waiter.done) continue;
            waiter.done = true;
            waiter.reject(err);
          }
        }
      },
    );
  }

  /** An aborted caller: its queued inputs no longer wait (others may still want the same text). */
  private abandon(waiter: Waiter): void {
    if (waiter.done) return;
    waiter.done = true;
    for (const [text, e] of this.pending) {
      e.slots = e.slots.filter((s) => s.waiter !== waiter);
      if (e.slots.length === 0) {
        this.pending.delete(text);
        this.pendingTokens -= e.tokens;
      }
    }
    waiter.reject(waiter.signal?.reason);
    if (this.pending.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.firstAt = 0;
    }
  }
}
