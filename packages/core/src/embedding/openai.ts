import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import type { Config } from '../config.ts';
import { EMBEDDING_LIMITS } from '../limits.ts';
import type { Logger } from '../logger.ts';
import { metrics } from '../metrics.ts';
import { type AttemptFailure, classifyFailure, embeddingError } from './openai-errors.ts';
import { type Batch, type PackLimits, packBatches } from './pack.ts';
import type { EmbeddingProvider, EmbedOptions, EmbedResult } from './provider.ts';
import { type BackoffPolicy, backoffDelay } from './retry.ts';
import { Semaphore } from './semaphore.ts';

/** Knobs that are not (yet) configuration; tests shrink the backoff to stay fast. */
export interface OpenAIProviderOptions {
  /** First backoff step in ms (default 500); doubles per retry. */
  backoffBaseMs?: number;
  /** Cap on one backoff step in ms (default 20 s). */
  backoffMaxMs?: number;
  /** Budget for all attempts of one HTTP request, from its first attempt (default 5 min, or one EMBEDDING_TIMEOUT_MS if longer). */
  deadlineMs?: number;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** Per-request limits (default OpenAI's: 2,048 inputs, 300,000 tokens, 8,192 tokens per input). */
  limits?: Partial<PackLimits>;
}

// Only the text-embedding-3 family accepts `dimensions`; ada-002 and most self-hosted models reject it.
const ACCEPTS_DIMENSIONS = /^text-embedding-3-/;

interface Request {
  model: string;
  dimensions: number;
  sendDimensions: boolean;
}

/** Embeddings through the official SDK against OPENAI_BASE_URL, with our own packing, concurrency and retries. */
export class OpenAIEmbeddingProvider implements EmbeddingProvider {
  readonly kind = 'openai' as const;
  readonly semantic = true;
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly log: Logger;
  private readonly slots: Semaphore;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly deadlineMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly limits: PackLimits;

  constructor(config: Config, logger: Logger, options: OpenAIProviderOptions = {}) {
    if (!config.OPENAI_API_KEY)
      throw new Error('OPENAI_API_KEY is required for the openai embedding provider');
    this.model = config.EMBEDDING_MODEL;
    this.dimensions = config.EMBEDDING_DIMENSIONS;
    this.log = logger;
    this.slots = new Semaphore(config.EMBEDDING_CONCURRENCY);
    this.timeoutMs = config.EMBEDDING_TIMEOUT_MS;
    this.maxRetries = config.EMBEDDING_MAX_RETRIES;
    this.deadlineMs = options.deadlineMs ?? Math.max(300_000, config.EMBEDDING_TIMEOUT_MS);
    this.backoff = {
      baseMs: options.backoffBaseMs ?? 500,
      maxMs: options.backoffMaxMs ?? 20_000,
      random: options.random ?? Math.random,
    };
    this.limits = { ...EMBEDDING_LIMITS, ...options.limits };
    // Everything explicit, so the SDK reads nothing from process.env that config.ts did not.
    this.client = new OpenAI({
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL ?? null,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: config.EMBEDDING_TIMEOUT_MS,
      logLevel: 'off',
    });
  }

  async embed(inputs: string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const batches = packBatches(inputs, this.limits, opts.tokens);
    const model = opts.model ?? this.model;
    const request: Request = {
      model,
      dimensions: opts.dimensions ?? this.dimensions,
      sendDimensions: opts.dimensions !== undefined || ACCEPTS_DIMENSIONS.test(model),
    };

    // One failed batch (or the caller's abort) stops every other batch, queued or in flight.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const budgetMs = opts.deadlineMs ?? this.deadlineMs;
    const deadline = Date.now() + budgetMs;
    const embeddings: number[][] = new Array(inputs.length);
    let tokens = 0;
    let requests = 0;
    let failure: { error: unknown } | undefined;
    try {
      await Promise.allSettled(
        batches.map(async (batch) => {
          try {
            const release = await this.acquire(stop.signal, deadline, budgetMs);
            try {
              const result = await this.send(batch, request, stop.signal, deadline, budgetMs);
              result.vectors.forEach((v, i) => {
                embeddings[batch.start + i] = v;
              });
              tokens += result.tokens;
              requests++;
            } finally {
              release();
            }
          } catch (error) {
            if (!failure && !stop.signal.aborted) failure = { error };
            stop.abort(error);
          }
        }),
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) throw signal.reason;
    if (failure) throw failure.error;
    return { embeddings, tokens, requests };
  }

  /** A slot among EMBEDDING_CONCURRENCY, or embedding_error when none frees up before the deadline. */
  private async acquire(signal: AbortSignal, deadline: number, budgetMs: number) {
    const timeout = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    try {
      return await this.slots.acquire(AbortSignal.any([signal, timeout]));
    } catch (err) {
      if (signal.aborted || !timeout.aborted) throw err;
      throw embeddingError(
        `The embedding provider is busy: no request slot came free within ${budgetMs / 1000} s. Try again later.`,
      );
    }
  }

  /** One packed batch: attempts until success, a final error, retries spent or the deadline passed. */
  private async send(batch: Batch, req: Request, signal: AbortSignal, deadline: number, budgetMs: number) {
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.max(1, Math.min(this.timeoutMs, deadline - Date.now()));
      let failure: AttemptFailure;
      try {
        const response = await this.client.embeddings.create(
          {
            model: req.model,
            input: batch.inputs,
            encoding_format: 'float',
            ...(req.sendDimensions ? { dimensions: req.dimensions } : {}),
          },
          { signal, timeout: timeoutMs, maxRetries: 0 },
        );
        const result = read(response, batch, req);
        metrics.inc('embedding_requests_total', { outcome: 'ok' });
        metrics.inc('embedding_tokens_total', {}, result.tokens);
        return result;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        failure = classifyFailure(err, { model: req.model, timeoutMs });
        metrics.inc('embedding_requests_total', { outcome: failure.retryable ? 'retryable_error' : 'error' });
      }
      if (!failure.retryable) throw failure.error;
      if (attempt > this.maxRetries) {
        throw embeddingError(
          `The embedding provider failed ${attempt} times in a row (last: ${failure.reason}). Try again later.`,
        );
      }
      const delayMs =
        failure.retryAfterMs !== undefined
          ? // The server's wait is a floor; the jitter keeps concurrent batches from retrying in lockstep.
            failure.retryAfterMs + Math.floor(this.backoff.random() * this.backoff.baseMs)
          : backoffDelay(attempt - 1, this.backoff);
      if (Date.now() + delayMs >= deadline) {
        throw embeddingError(
          `The embedding provider did not succeed within ${budgetMs / 1000} s (${attempt} attempts; last: ${failure.reason}). Try again later.`,
        );
      }
      metrics.inc('embedding_retries_total');
      this.log.warn('embedding request failed, retrying', {
        attempt,
        status: failure.status,
        delayMs,
        inputs: batch.inputs.length,
        reason: failure.reason,
      });
      await sleep(delayMs, undefined, { signal }).catch(() => {
        throw signal.reason;
      });
    }
  }
}

/** Checks a response against its batch and returns the vectors in input order. */
function read(response: CreateEmbeddingResponse, batch: Batch, req: Request) {
  const data = Array.isArray(response?.data) ? response.data : [];
  if (data.length !== batch.inputs.length) {
    throw embeddingError(
      `The embedding provider returned ${data.length} embeddings for ${batch.inputs.length} inputs.`,
    );
  }
  const vectors: number[][] = new Array(data.length);
  for (const item of data) {
    const index = item.index;
    if (!Number.isInteger(index) || index < 0 || index >= data.length || vectors[index]) {
      throw embeddingError('The embedding provider returned embeddings with missing or repeated indexes.');
    }
    const vector = toVector(item.embedding);
    if (vector.length !== req.dimensions) {
      throw embeddingError(
        `The embedding model '${req.model}' returned ${vector.length}-dimensional vectors, but ${req.dimensions} were expected${
          req.sendDimensions ? ' (it may not support the dimensions parameter)' : ''
        }. Set EMBEDDING_DIMENSIONS=${vector.length} to match the model.`,
      );
    }
    if (!vector.every(Number.isFinite)) {
      throw embeddingError('The embedding provider returned a vector with non-numeric values.');
    }
    vectors[index] = vector;
  }
  return { vectors, tokens: response.usage?.prompt_tokens ?? batch.tokens };
}

// Some OpenAI-compatible servers answer base64 even when asked for floats.
function toVector(embedding: unknown): number[] {
  if (Array.isArray(embedding)) return embedding as number[];
  if (typeof embedding === 'string') {
    // Copy into a fresh buffer: Float32Array needs a 4-byte-aligned offset, pooled Buffers may not have one.
    const bytes = new Uint8Array(Buffer.from(embedding, 'base64'));
    return Array.from(new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4)));
  }
  throw embeddingError(
    'The embedding provider returned an embedding that is neither a list of numbers nor base64.',
  );
}
