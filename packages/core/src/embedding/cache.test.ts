import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../test/helpers.ts';
import type { Database } from '../db/client.ts';
import { lookupEmbeddings, purgeEmbeddingCache, storeEmbeddings, textHash } from './cache.ts';

// Retention of the embedding cache (migration 0006): a lookup marks what it used, maintenance drops the rest.
let db: Database;
const key = { model: 'openai:text-embedding-3-small', dimensions: 3 };

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db?.close());

const age = (text: string, days: number) =>
  db.sql`UPDATE embedding_cache SET used_at = now() - make_interval(days => ${days})
         WHERE text_sha256 = ${textHash(text)}`;
const usedDaysAgo = async (text: string) => {
  const [row] = await db.sql<{ d: number }[]>`
    SELECT extract(epoch FROM now() - used_at) / 86400 AS d FROM embedding_cache WHERE text_sha256 = ${textHash(text)}`;
  return row ? Number(row.d) : null;
};

describe('embedding cache retention', () => {
  it('keeps what was used recently and removes what was not, in bounded passes', async () => {
    const texts = ['kept by a lookup', 'used last week', 'unused a while', 'unused longer'];
    await storeEmbeddings(
      db.sql,
      key,
      texts.map((text) => ({ text, embedding: '[1,0,0]' })),
    );
    await age('kept by a lookup', 200);
    await age('used last week', 7);
    await age('unused a while', 100);
    await age('unused longer', 300);

    // A lookup that finds an entry marks it used (a hit from today is not written again).
    const found = await lookupEmbeddings(db.sql, key, ['kept by a lookup', 'never stored']);
    expect([...found.keys()]).toEqual(['kept by a lookup']);
    expect(await usedDaysAgo('kept by a lookup')).toBeLessThan(0.01);

    expect(await purgeEmbeddingCache(db.sql, 0, 100)).toBe(0); // 0 days: keep everything
    expect(await purgeEmbeddingCache(db.sql, 90, 1)).toBe(1); // the oldest first, at most `limit`
    expect(await usedDaysAgo('unused longer')).toBeNull();
    expect(await purgeEmbeddingCache(db.sql, 90, 100)).toBe(1);
    expect(await usedDaysAgo('unused a while')).toBeNull();
    expect(await purgeEmbeddingCache(db.sql, 90, 100)).toBe(0);
    expect(await usedDaysAgo('used last week')).toBeGreaterThan(6.9);
    expect((await lookupEmbeddings(db.sql, key, texts)).size).toBe(2);
  });
});
