import { createHash } from 'node:crypto';
import { toSql } from 'pgvector';
import type { Sql, Tx } from '../db/client.ts';
import { metrics } from '../metrics.ts';
import type { EmbeddingProvider } from './provider.ts';

/** What an embedding is a function of: the provider's kind and model, the dimensions, the text. */
export interface CacheKey {
  model: string;
  dimensions: number;
}

export const cacheKeyOf = (p: EmbeddingProvider): CacheKey => ({
  // The offline lexical embedding and OpenAI may share a model name; their vectors differ.
  model: `${p.kind}:${p.model}`,
  dimensions: p.dimensions,
});

export const textHash = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The cached embeddings (halfvec text, as chunks store them) of those of `texts` the cache holds, by text. */
export async function lookupEmbeddings(
  sql: Sql | Tx,
  key: CacheKey,
  texts: string[],
): Promise<Map<string, string>> {
  if (texts.length === 0) return new Map();
  const byHash = new Map(texts.map((t) => [textHash(t).toString('hex'), t]));
  const rows = await sql<{ h: string; v: string }[]>`
    SELECT encode(text_sha256, 'hex') AS h, embedding::text AS v FROM embedding_cache
    WHERE model = ${key.model} AND dimensions = ${key.dimensions}
      AND text_sha256 IN (SELECT decode(h, 'hex') FROM unnest(${[...byHash.keys()]}::text[]) h)`;
  return new Map(rows.map((r) => [byHash.get(r.h)!, r.v]));
}

/** Remembers embeddings (concurrent writers of the same text keep the first). */
export async function storeEmbeddings(
  sql: Sql | Tx,
  key: CacheKey,
  entries: { text: string; embedding: string }[],
): Promise<void> {
  for (let i = 0; i < entries.length; i += 500) {
    const rows = entries.slice(i, i + 500).map((e) => ({
      model: key.model,
      dimensions: key.dimensions,
      text_sha256: textHash(e.text),
      embedding: e.embedding,
    }));
    await sql`INSERT INTO embedding_cache ${sql(rows)} ON CONFLICT DO NOTHING`;
  }
}

export function countCache(hits: number, misses: number): void {
  if (hits) metrics.inc('embedding_cache_total', { outcome: 'hit' }, hits);
  if (misses) metrics.inc('embedding_cache_total', { outcome: 'miss' }, misses);
}

export const vectorText = (v: number[]) => toSql(v) as string;
