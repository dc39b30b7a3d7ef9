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
    operationId: 'create_vector_store_v1_vector_stores_post',
    summary: 'Create Vector Store',
    tag,
    status: 201,
    body: MaiaStoreCreate,
    response: MaiaStore,
    handler: (c, { body }) => createMaiaStore(c.get('deps').sql, c.get('projectId'), body),
  }),
  endpoint({
    method: 'get',
    path: '/v1/vector_stores',
    operationId: 'list_vector_stores_v1_vector_stores_get',
    summary: 'List Vector Stores',
    tag,
    query: MaiaListQuery,
    response: MaiaStoreList,
    handler: (c, { query }) => listMaiaStores(c.get('deps').sql, c.get('projectId'), query),
  }),
  endpoint({
    method: 'get',
    path: one,
    operationId: 'get_vector_store_v1_vector_stores__vector_store_id__get',
    summary: 'Get Vector Store',
    tag,
    response: MaiaStore,
    handler: (c, { params }) => getMaiaStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id),
  }),
  endpoint({
    method: 'delete',
    path: one,
    operationId: 'delete_vector_store_v1_vector_stores__vector_store_id__delete',
    summary: 'Delete Vector Store',
    tag,
    response: MaiaStoreDeleted,
    handler: (c, { params }) =>
      deleteMaiaStore(c.get('deps').sql, c.get('projectId'), params.vector_store_id),
  }),
];
