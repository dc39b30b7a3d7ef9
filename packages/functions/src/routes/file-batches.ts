import {
  cancelFileBatch,
  createFileBatch,
  FileBatchCreateParams,
  getFileBatch,
} from '@vsdb/core/file-batches/service';
import { runOrQueue } from '@vsdb/core/vector-store-files/attach';
import { listVectorStoreFiles, VectorStoreFileListParams } from '@vsdb/core/vector-store-files/service';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { chunkDefaults, pollHint } from '../http/respond.ts';
import { readJson, readQuery } from '../http/validate.ts';

export const fileBatchRoutes = new Hono<AppEnv>()
  .post('/:vector_store_id/file_batches', async (c) => {
    const { db, jobs, config } = c.get('deps');
    const projectId = c.get('projectId');
    const vectorStoreId = c.req.param('vector_store_id');
    const body = await readJson(c, FileBatchCreateParams);
    const { batch, jobs: refs } = await createFileBatch(
      db.sql,
      projectId,
      vectorStoreId,
      body,
      chunkDefaults(config),
    );
    await runOrQueue({ sql: db.sql, jobs, config }, refs);
    const current = refs.length ? await getFileBatch(db.sql, projectId, vectorStoreId, batch.id) : batch;
    return pollHint(c, current.status).json(current);
  })
  .get('/:vector_store_id/file_batches/:batch_id', async (c) => {
    const { db } = c.get('deps');
    const { vector_store_id, batch_id } = c.req.param();
    const batch = await getFileBatch(db.sql, c.get('projectId'), vector_store_id, batch_id);
    return pollHint(c, batch.status).json(batch);
  })
  .post('/:vector_store_id/file_batches/:batch_id/cancel', async (c) => {
    const { db } = c.get('deps');
    const { vector_store_id, batch_id } = c.req.param();
    return c.json(await cancelFileBatch(db.sql, c.get('projectId'), vector_store_id, batch_id));
  })
  .get('/:vector_store_id/file_batches/:batch_id/files', async (c) => {
    const { db } = c.get('deps');
    const { vector_store_id, batch_id } = c.req.param();
    const projectId = c.get('projectId');
    await getFileBatch(db.sql, projectId, vector_store_id, batch_id);
    const q = readQuery(c, VectorStoreFileListParams);
    return c.json(await listVectorStoreFiles(db.sql, projectId, vector_store_id, q, batch_id));
  });
