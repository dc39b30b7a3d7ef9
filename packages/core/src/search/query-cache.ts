import type { EmbeddingProvider, EmbedOptions } from '../embedding/provider.ts';
import { metrics } from '../metrics.ts';

/** A small LRU of query embeddings, so a repeated query does not pay for the embedding call again. */
export class QueryEmbeddingCache {
  private entries = new Map<string, number[]>();
  private size: number;
  hits = 0;
  misses = 0;

  constructor(size = 512) {
    this.size = size;
  }

  async embed(embedder: EmbeddingProvider, texts: string[], opts: EmbedOptions = {}): Promise<number[][]> {
    const keys = texts.map(
      (t) => `${embedder.kind}\u0000${embedder.model}\u0000${embedder.dimensions}\u0000${t}`,
    );
    const missing = [...new Set(keys.filter((k) => !this.entries.has(k)))];
    this.hits += keys.length - missing.length;
    this.misses += missing.length;
    if (keys.length > missing.length)
      metrics.inc('query_embedding_cache_total', { outcome: 'hit' }, keys.length - missing.length);
    if (missing.length) metrics.inc('query_embedding_cache_total', { outcome: 'miss' }, missing.length);
    if (missing.length) {
      const byKey = new Map(keys.map((k, i) => [k, texts[i]!]));
      const { embeddings } = await embedder.embed(
        missing.map((k) => byKey.get(k)!),
        opts,
      );
      for (const [i, k] of missing.entries()) this.remember(k, embeddings[i]!);
    }
    return keys.map((k) => {
      const v = this.entries.get(k)!;
      this.entries.delete(k); // re-insert: most recently used last
      this.entries.set(k, v);
      return v;
    });
  }

  private remember(key: string, value: number[]): void {
    this.entries.set(key, value);
    while (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }
}
