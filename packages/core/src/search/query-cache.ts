import type { Sql } from '../db/client.ts';
import { cacheKeyOf, countCache, lookupEmbeddings, storeEmbeddings, vectorText } from '../embedding/cache.ts';
import type { EmbeddingProvider, EmbedOptions } from '../embedding/provider.ts';
import { metrics } from '../metrics.ts';

/**
 * Query embeddings: a small LRU in the process, then the database's embedding cache (shared by every
 * instance, and by chunks of the same text), then the provider; what the provider returns is written
 * to the database after the answer, off the request's path.
 */
export class QueryEmbeddingCache {
  private entries = new Map<string, number[]>();
  private size: number;
  hits = 0;
  misses = 0;
  private writes = new Set<Promise<void>>();

  constructor(size = 512) {
    this.size = size;
  }

  async embed(
    embedder: EmbeddingProvider,
    texts: string[],
    opts: EmbedOptions & {
      sql?: Sql;
      /** Runs before the provider is asked (not on a cache hit): a check that should fail first. */
      beforeProvider?: () => Promise<void>;
    } = {},
  ): Promise<number[][]> {
    const { sql, beforeProvider, ...embedOpts } = opts;
    const keys = texts.map(
      (t) => `${embedder.kind}\u0000${embedder.model}\u0000${embedder.dimensions}\u0000${t}`,
    );
    const byKey = new Map(keys.map((k, i) => [k, texts[i]!]));
    let missing = [...new Set(keys.filter((k) => !this.entries.has(k)))];
    this.hits += keys.length - missing.length;
    if (missing.length && sql) {
      const stored = await lookupEmbeddings(sql, cacheKeyOf(embedder), [
        ...new Set(missing.map((k) => byKey.get(k)!)),
      ]).catch(() => new Map<string, string>());
      for (const k of missing) {
        const v = stored.get(byKey.get(k)!);
        if (v) this.remember(k, JSON.parse(v) as number[]);
      }
      const found = missing.filter((k) => this.entries.has(k)).length;
      this.hits += found;
      countCache(found, missing.length - found);
      missing = missing.filter((k) => !this.entries.has(k));
    }
    this.misses += missing.length;
    if (keys.length > missing.length)
      metrics.inc('query_embedding_cache_total', { outcome: 'hit' }, keys.length - missing.length);
    if (missing.length) metrics.inc('query_embedding_cache_total', { outcome: 'miss' }, missing.length);
    if (missing.length) {
      await beforeProvider?.();
      const { embeddings } = await embedder.embed(
        missing.map((k) => byKey.get(k)!),
        embedOpts,
      );
      for (const [i, k] of missing.entries()) this.remember(k, embeddings[i]!);
      if (sql) {
        const entries = missing.map((k, i) => ({
          text: byKey.get(k)!,
          embedding: vectorText(embeddings[i]!),
        }));
        const write = storeEmbeddings(sql, cacheKeyOf(embedder), entries).catch(() => {});
        this.writes.add(write);
        write.finally(() => this.writes.delete(write));
      }
    }
    return keys.map((k) => {
      const v = this.entries.get(k)!;
      this.entries.delete(k); // re-insert: most recently used last
      this.entries.set(k, v);
      return v;
    });
  }

  /** Resolves once the database writes under way have finished (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  private remember(key: string, value: number[]): void {
    this.entries.set(key, value);
    while (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }
}
