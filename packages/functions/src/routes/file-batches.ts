import { FileBatch, FileBatchCreateParams } from '@vsdb/core/file-batches/schemas';
import {
  cancelFileBatch,
  createFileBatch,
  getFileBatch,
  listFileBatchFiles,
} from '@vsdb/core/file-batches/service';
import { listOf } from '@vsdb/core/schemas';
import { VectorStoreFile, VectorStoreFileListParams } from '@vsdb/core/vector-store-files/schemas';
import { endpoint } from '../http/endpoint.ts';
import { pollHint } from '../http/respond.ts';

const tag = 'File batches';
const batches = '/v1/vector_stores/{vector_store_id}/file_batches';

export const fileBatchEndpoints = [
  endpoint({
    method: 'post',
    path: batches,
    summary: 'Create a file batch',
    tag,
    body: FileBatchCreateParams,
    response: FileBatch,
    handler: async (c, { params, body }) => {
      const batch = await createFileBatch(c.get('deps'), c.get('projectId'), params.vector_store_id, body);
      pollHint(c, batch.status);
      return batch;
    },
  }),
  endpoint({
    method: 'get',
    path: `${batches}/{batch_id}`,
    summary: 'Retrieve a file batch',
    tag,
    response: FileBatch,
    handler: async (c, { params }) => {
      const { vector_store_id, batch_id } = params;
      const batch = await getFileBatch(c.get('deps').sql, c.get('projectId'), vector_store_id, batch_id);
      pollHint(c, batch.status);
      return batch;
    },
  }),
  endpoint({
    method: 'post',
    path: `${batches}/{batch_id}/cancel`,
    summary: 'Cancel a file batch',
    tag,
    response: FileBatch,
    handler: (c, { params }) =>
      cancelFileBatch(c.get('deps').sql, c.get('projectId'), params.vector_store_id, params.batch_id),
  }),
  endpoint({
    method: 'get',
    path: `${batches}/{batch_id}/files`,
    summary: "List a batch's files",
    tag,
    query: VectorStoreFileListParams,
    response: listOf(VectorStoreFile),
    handler: (c, { params, query }) =>
      listFileBatchFiles(
        c.get('deps').sql,
        c.get('projectId'),
        params.vector_store_id,
        params.batch_id,
        query,
      ),
  }),
];
