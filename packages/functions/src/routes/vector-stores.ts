import { deletedOf, ListQuerySchema, listOf } from '@vsdb/core/schemas';
import { createVectorStore } from '@vsdb/core/vector-stores/create';
import {
  VectorStore,
  VectorStoreCreateParams,
  VectorStoreUpdateParams,
} from '@vsdb/core/vector-stores/schemas';
import {
  deleteVectorStore,
  getVectorStore,
  listVectorStores,
  updateVectorStore,
} from '@vsdb/core/vector-stores/service';
import { endpoint } from '../http/endpoint.ts';
import { pollHint } from '../http/respond.ts';

const tag = 'Vector stores';
const one = '/v1/vector_stores/{vector_store_id}';

export const vectorStoreEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/vector_stores',
    summary: 'Create a vector store',
    tag,
    body: VectorStoreCreateParams,
    response: VectorStore,
    handler: async (c, { body }) => {
      const store = await createVectorStore(c.get('deps'), c.get('projectId'), body);
      pollHint(c, store.status);
      return store;
    },
  }),
  endpoint({
    method: 'get',
    path: '/v1/vector_stores',
    summary: 'List vector stores',
    tag,
    query: ListQuerySchema,
    response: listOf(VectorStore),
    handler: (c, { query }) => listVectorStores(c.get('deps').sql, c.get('projectId'), query),
  }),
  endpoint({
    method: 'get',
    path: one,
    summary: 'Retrieve a vector store',
    tag,
    response: VectorStore,
    handler: async (c, { params }) => {
      const store = await getVectorStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id);
      pollHint(c, store.status);
      return store;
    },
  }),
  endpoint({
    method: 'post',
    path: one,
    summary: 'Update a vector store',
    tag,
    body: VectorStoreUpdateParams,
    response: VectorStore,
    handler: (c, { params, body }) =>
      updateVectorStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id, body),
  }),
  endpoint({
    method: 'delete',
    path: one,
    summary: 'Delete a vector store',
    tag,
    response: deletedOf('vector_store.deleted'),
    handler: (c, { params }) =>
      deleteVectorStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id),
  }),
];
