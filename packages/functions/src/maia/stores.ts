import {
  MaiaListQuery,
  MaiaStore,
  MaiaStoreCreate,
  MaiaStoreDeleted,
  MaiaStoreList,
} from '@vsdb/core/maia/schemas';
import { createMaiaStore, deleteMaiaStore, getMaiaStore, listMaiaStores } from '@vsdb/core/maia/stores';
import { endpoint } from '../http/endpoint.ts';

const tag = 'vector_stores';
const one = '/v1/vector_stores/{vector_store_id}';

/** MAIA's /v1/vector_stores: create (201), list by offset, get, delete. */
export const maiaStoreEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/vector_stores',
    summary: 'Create a vector store',
    tag,
    status: 201,
    body: MaiaStoreCreate,
    response: MaiaStore,
    handler: (c, { body }) => createMaiaStore(c.get('deps').sql, c.get('projectId'), body),
  }),
  endpoint({
    method: 'get',
    path: '/v1/vector_stores',
    summary: 'List vector stores',
    tag,
    query: MaiaListQuery,
    response: MaiaStoreList,
    handler: (c, { query }) => listMaiaStores(c.get('deps').sql, c.get('projectId'), query),
  }),
  endpoint({
    method: 'get',
    path: one,
    summary: 'Retrieve a vector store',
    tag,
    response: MaiaStore,
    handler: (c, { params }) => getMaiaStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id),
  }),
  endpoint({
    method: 'delete',
    path: one,
    summary: 'Delete a vector store',
    tag,
    response: MaiaStoreDeleted,
    handler: (c, { params }) =>
      deleteMaiaStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id),
  }),
];
