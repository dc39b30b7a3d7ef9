import {
  MultiStoreSearchParams,
  searchVectorStores,
  VectorStoreSearchParams,
} from '@vsdb/core/search/service';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { readJson } from '../http/validate.ts';

const deps = (c: Context<AppEnv>) => {
  const { db, config, embedder, queryCache } = c.get('deps');
  return { sql: db.sql, config, embedder, cache: queryCache };
};

/** POST /v1/vector_stores/{id}/search (OpenAI and MAIA). */
export const vectorStoreSearchRoutes = new Hono<AppEnv>().post('/:vector_store_id/search', async (c) => {
  const body = await readJson(c, VectorStoreSearchParams);
  return c.json(
    await searchVectorStores(deps(c), c.get('projectId'), [c.req.param('vector_store_id')], body),
  );
});

/** POST /v1/search: our extension, one global top-k over several stores. */
export const multiStoreSearchRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const { vector_store_ids, ...body } = await readJson(c, MultiStoreSearchParams);
  return c.json(await searchVectorStores(deps(c), c.get('projectId'), [...new Set(vector_store_ids)], body));
});
