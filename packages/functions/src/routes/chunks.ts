import { vectorStoreFileChunks } from '@vsdb/core/vector-store-files/chunks';
import { FileChunks } from '@vsdb/core/vector-store-files/schemas';
import { VectorStoreStats, vectorStoreStats } from '@vsdb/core/vector-stores/stats';
import { endpoint } from '../http/endpoint.ts';

/** The console's two extensions: a file's chunks, and a store's kept counts. */
export const chunkEndpoints = [
  endpoint({
    method: 'get',
    path: '/v1/vector_stores/{vector_store_id}/files/{file_id}/chunks',
    summary: 'Chunks of a file with index, page, tokens and character range (extension)',
    tag: 'Vector store files',
    response: FileChunks,
    handler: (c, { params }) =>
      vectorStoreFileChunks(c.get('deps').sql, c.get('projectId'), params.vector_store_id, params.file_id),
  }),
  endpoint({
    method: 'get',
    path: '/v1/vector_stores/{vector_store_id}/stats',
    summary: 'Chunk count and embedding cache hits of a store (extension)',
    tag: 'Vector stores',
    response: VectorStoreStats,
    handler: (c, { params }) =>
      vectorStoreStats(c.get('deps').sql, c.get('projectId'), params.vector_store_id),
  }),
];
