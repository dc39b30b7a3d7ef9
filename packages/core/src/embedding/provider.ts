import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { LocalEmbeddingProvider } from './local.ts';
import { OpenAIEmbeddingProvider } from './openai.ts';

export interface EmbedOptions {
  signal?: AbortSignal;
  /** Budget for the whole call in ms (waiting for a slot, attempts, retries); past it: embedding_error (502). */
  deadlineMs?: number;
  model?: string;
  dimensions?: number;
  /** The inputs' cl100k_base token counts, when the caller has them: the provider does not count again. */
  tokens?: number[];
}

export interface EmbedResult {
  embeddings: number[][];
  tokens: number;
  requests: number;
}

export interface EmbeddingProvider {
  readonly kind: 'openai' | 'local';
  readonly model: string;
  readonly dimensions: number;
  /** false for the offline lexical embedding */
  readonly semantic: boolean;
  /** Embeds every input, in order. Throws ApiError('embedding_error', ...) (HTTP 502) once retries are spent. */
  embed(inputs: string[], opts?: EmbedOptions): Promise<EmbedResult>;
}

let warnedLexical = false;

/** The one place that picks the embedding provider from EMBEDDING_PROVIDER (auto = openai when a key is set). */
export function createEmbeddingProvider(config: Config, logger: Logger): EmbeddingProvider {
  const log = logger.child('embedding');
  const kind =
    config.EMBEDDING_PROVIDER === 'auto'
      ? config.OPENAI_API_KEY
        ? 'openai'
        : 'local'
      : config.EMBEDDING_PROVIDER;
  if (kind === 'openai') return new OpenAIEmbeddingProvider(config, log);
  if (config.EMBEDDING_PROVIDER === 'auto' && !warnedLexical) {
    warnedLexical = true;
    log.warn(
      'OPENAI_API_KEY is not set: using the offline local embedding, which is lexical (shared words), not semantic. Set OPENAI_API_KEY or EMBEDDING_PROVIDER=local to silence this.',
    );
  }
  return new LocalEmbeddingProvider(config);
}
