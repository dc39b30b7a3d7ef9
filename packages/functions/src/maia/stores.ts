import {
  createMaiaStore,
  deleteMaiaStore,
  getMaiaStore,
  listMaiaStores,
  MaiaListQuery,
  MaiaStoreCreate,
} from '@vsdb/core/maia/stores';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { readBody, readQuery } from './http.ts';

/** MAIA's /v1/vector_stores: create (201), list by offset, get, delete. */
export const maiaStoreRoutes = new Hono<AppEnv>()
  .post('/', async (c) => {
    const body = await readBody(c, MaiaStoreCreate);
    return c.json(await createMaiaStore(c.get('deps').db.sql, c.get('projectId'), body), 201);
  })
  .get('/', async (c) =>
    c.json(await listMaiaStores(c.get('deps').db.sql, c.get('projectId'), readQuery(c, MaiaListQuery))),
  )
  .get('/:vector_store_id', async (c) =>
    c.json(await getMaiaStore(c.get('deps').db.sql, c.get('projectId'), c.req.param('vector_store_id'))),
  )
  .delete('/:vector_store_id', async (c) =>
    c.json(await deleteMaiaStore(c.get('deps').db.sql, c.get('projectId'), c.req.param('vector_store_id'))),
  );
