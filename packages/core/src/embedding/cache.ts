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
  // In the same statement, the hits not marked used today are: retention counts from the last use, and a
  // hit writes at most once a day (a data-modifying CTE runs even though nothing reads it).
  const rows = await sql<{ h: string; v: string }[]>`
    WITH hit AS (
      SELECT text_sha256, embedding, used_at FROM embedding_cache
      WHERE model = ${key.model} AND dimensions = ${key.dimensions}
        AND text_sha256 IN (SELECT decode(h, 'hex') FROM unnest(${[...byHash.keys()]}::text[]) h)),
    used AS (
      UPDATE embedding_cache e SET used_at = now() FROM hit
      WHERE hit.used_at < now() - make_interval(hours => ${USED_AT_RESOLUTION_HOURS})
        AND e.model = ${key.model} AND e.dimensions = ${key.dimensions} AND e.text_sha256 = hit.text_sha256)
    SELECT encode(text_sha256, 'hex') AS h, embedding::text AS v FROM hit`;
  return new Map(rows.map((r) => [byHash.get(r.h)!, r.v]));
}

/** A hit moves used_at only when it is older than this: retention is in days, a write per hit is not needed. */
const USED_AT_RESOLUTION_HOURS = 24;

/**
 * Removes up to `limit` cache entries not used for `days` days (maintenance); 0 days keeps everything.
 * Returns how many went.
 */
export async function purgeEmbeddingCache(sql: Sql, days: number, limit: number): Promise<number> {
  if (days <= 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    WITH gone AS (
      DELETE FROM embedding_cache WHERE (model, dimensions, text_sha256) IN (
        SELECT model, dimensions, text_sha256 FROM embedding_cache
        WHERE used_at < now() - make_interval(days => ${days}) ORDER BY used_at LIMIT ${limit})
      RETURNING 1)
    SELECT count(*)::int AS n FROM gone`;
  return row?.n ?? 0;
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
