import type { Sql, Tx } from '../db/client.ts';
import { cacheKeyOf, countCache, lookupEmbeddings, storeEmbeddings, vectorText } from '../embedding/cache.ts';
import { EmbeddingCoalescer } from '../embedding/coalesce.ts';
import type { EmbeddingProvider } from '../embedding/provider.ts';

/** One coalescer per provider (per process): every job of the process shares its requests. */
const coalescers = new WeakMap<EmbeddingProvider, EmbeddingCoalescer>();
function coalescerOf(provider: EmbeddingProvider): EmbeddingCoalescer {
  let c = coalescers.get(provider);
  if (!c) {
    c = new EmbeddingCoalescer(provider);
    coalescers.set(provider, c);
  }
  return c;
}

/** Lets the process's coalescer for `embedder` wait while `busy` says more inputs are coming. */
export function holdEmbeddingsWhile(embedder: EmbeddingProvider, busy: () => boolean): void {
  if (embedder.kind !== 'local') coalescerOf(embedder).holdWhile = busy;
}

export interface EmbeddedChunks {
  /** halfvec text, in the chunks' order. */
  embeddings: string[];
  /** Tokens sent to the provider for this job. */
  tokens: number;
  hits: number;
  misses: number;
  /**
   * Writes the new embeddings to the cache, in statements of about CACHE_STATEMENT_BYTES each, outside any
   * transaction (before the publish, which then stays short): the cache is content-addressed, so an entry
   * of a job that fails later is still right.
   */
  cache(sql: Sql): Promise<void>;
  /** Adds the job's hits and misses to the store's counts, in the job's own transaction (the publish). */
  remember(tx: Tx, vectorStoreId: string): Promise<void>;
}

/** One cache INSERT carries about this many bytes of vectors (500 rows of 1,536 dimensions took 565 ms). */
const CACHE_STATEMENT_BYTES = 256 * 1024;

/**
 * The embed stage of ingestion: chunks whose text the cache holds (any store, any earlier upload) are
 * not embedded again; the rest go through the process's coalescer, which shares requests with the
 * other jobs in flight. The local lexical embedding is computed in place (no requests to save).
 */
export async function embedChunks(
  sql: Sql,
  embedder: EmbeddingProvider,
  chunks: { text: string; tokens: number }[],
  signal: AbortSignal,
): Promise<EmbeddedChunks> {
  const key = cacheKeyOf(embedder);
  const texts = chunks.map((c) => c.text);
  const cached = await lookupEmbeddings(sql, key, [...new Set(texts)]);
  const missing: { text: string; tokens: number }[] = [];
  const seen = new Set<string>();
  for (const c of chunks) {
    if (cached.has(c.text) || seen.has(c.text)) continue;
    seen.add(c.text);
    missing.push(c);
  }
  let tokens = 0;
  const fresh = new Map<string, string>();
  if (missing.length) {
    const inputs = missing.map((m) => m.text);
    const result =
      embedder.kind === 'local'
        ? await embedder.embed(inputs, { signal })
        : await coalescerOf(embedder).embed(inputs, { tokens: missing.map((m) => m.tokens), signal });
    tokens = result.tokens;
    for (const [i, m] of missing.entries()) fresh.set(m.text, vectorText(result.embeddings[i]!));
  }
  const hits = chunks.filter((c) => cached.has(c.text)).length;
  const misses = chunks.length - hits;
  return {
    embeddings: texts.map((t) => cached.get(t) ?? fresh.get(t)!),
    tokens,
    hits,
    misses,
    cache: async (sql) => {
      const entries = [...fresh].map(([text, embedding]) => ({ text, embedding }));
      const perStatement = Math.max(
        1,
        Math.floor(CACHE_STATEMENT_BYTES / (entries[0]?.embedding.length ?? 1)),
      );
      for (let i = 0; i < entries.length; i += perStatement)
        await storeEmbeddings(sql, key, entries.slice(i, i + perStatement));
    },
    remember: async (tx, vectorStoreId) => {
      await tx`UPDATE vector_stores SET embedding_cache_hits = embedding_cache_hits + ${hits},
        embedding_cache_misses = embedding_cache_misses + ${misses} WHERE id = ${vectorStoreId}`;
      countCache(hits, misses);
    },
  };
}
