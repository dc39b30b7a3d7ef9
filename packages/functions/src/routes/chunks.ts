import { vectorStoreFileChunks } from '@vsdb/core/vector-store-files/chunks';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';

/** GET …/files/{file_id}/chunks (extension): a file's chunks with index, page and tokens, and its parsed text. */
export const chunkRoutes = new Hono<AppEnv>().get('/:vector_store_id/files/:file_id/chunks', async (c) => {
  const { db } = c.get('deps');
  const { vector_store_id, file_id } = c.req.param();
  return c.json(await vectorStoreFileChunks(db.sql, c.get('projectId'), vector_store_id, file_id));
});
