import { ListQuerySchema } from '@vsdb/core/schemas';
import { runOrQueue } from '@vsdb/core/vector-store-files/attach';
import { attachFiles } from '@vsdb/core/vector-store-files/service';
import {
  deleteVectorStore,
  getVectorStore,
  insertVectorStore,
  listVectorStores,
  updateVectorStore,
  VectorStoreCreateParams,
  VectorStoreUpdateParams,
} from '@vsdb/core/vector-stores/service';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { chunkDefaults, pollHint } from '../http/respond.ts';
import { readJson, readQuery } from '../http/validate.ts';

export const vectorStoreRoutes = new Hono<AppEnv>()
  .post('/', async (c) => {
    const { db, jobs, config } = c.get('deps');
    const projectId = c.get('projectId');
    const body = await readJson(c, VectorStoreCreateParams);
    const { id, refs } = await db.sql.begin(async (tx) => {
      const id = await insertVectorStore(tx, projectId, body);
      const files = (body.file_ids ?? []).map((fileId) => ({
        fileId,
        chunkingStrategy: body.chunking_strategy,
      }));
      return { id, refs: await attachFiles(tx, projectId, id, files, chunkDefaults(config)) };
    });
    await runOrQueue({ sql: db.sql, jobs, config }, refs);
    const store = await getVectorStore(db.sql, projectId, id);
    return pollHint(c, store.status).json(store);
  })
  .get('/', async (c) => {
    const { db } = c.get('deps');
    return c.json(await listVectorStores(db.sql, c.get('projectId'), readQuery(c, ListQuerySchema)));
  })
  .get('/:vector_store_id', async (c) => {
    const { db } = c.get('deps');
    const store = await getVectorStore(db.sql, c.get('projectId'), c.req.param('vector_store_id'));
    return pollHint(c, store.status).json(store);
  })
  .post('/:vector_store_id', async (c) => {
    const { db } = c.get('deps');
    const body = await readJson(c, VectorStoreUpdateParams);
    return c.json(await updateVectorStore(db.sql, c.get('projectId'), c.req.param('vector_store_id'), body));
  })
  .delete('/:vector_store_id', async (c) => {
    const { db } = c.get('deps');
    return c.json(await deleteVectorStore(db.sql, c.get('projectId'), c.req.param('vector_store_id')));
  });
