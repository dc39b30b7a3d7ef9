import { MaiaSearchRequest, maiaSearch } from '@vsdb/core/maia/search';
import {
  MaiaPreviewQuery,
  MaiaQueryRequest,
  previewStructured,
  queryStructured,
} from '@vsdb/core/maia/structured';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { readBody, readQuery } from './http.ts';

/** MAIA's search, structured query (a store's CSV rows, or one file's) and CSV preview. */
export const maiaSearchRoutes = new Hono<AppEnv>()
  .post('/:vector_store_id/search', async (c) => {
    const body = await readBody(c, MaiaSearchRequest);
    return c.json(await maiaSearch(c.get('deps'), c.get('projectId'), c.req.param('vector_store_id'), body));
  })
  .post('/:vector_store_id/query', async (c) => {
    const body = await readBody(c, MaiaQueryRequest);
    const sql = c.get('deps').db.sql;
    return c.json(await queryStructured(sql, c.get('projectId'), c.req.param('vector_store_id'), body.sql));
  })
  .post('/:vector_store_id/files/:file_id/query', async (c) => {
    const body = await readBody(c, MaiaQueryRequest);
    const { vector_store_id, file_id } = c.req.param();
    const sql = c.get('deps').db.sql;
    return c.json(await queryStructured(sql, c.get('projectId'), vector_store_id, body.sql, file_id));
  })
  .get('/:vector_store_id/files/:file_id/preview', async (c) => {
    const { limit } = readQuery(c, MaiaPreviewQuery);
    const { vector_store_id, file_id } = c.req.param();
    return c.json(
      await previewStructured(c.get('deps').db.sql, c.get('projectId'), vector_store_id, file_id, limit),
    );
  });
