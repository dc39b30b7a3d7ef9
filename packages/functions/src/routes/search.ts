import {
  MultiStoreSearchParams,
  SearchResultsPage,
  VectorStoreSearchParams,
} from '@vsdb/core/search/schemas';
import { searchVectorStores } from '@vsdb/core/search/service';
import { endpoint } from '../http/endpoint.ts';

const tag = 'Search';

export const searchEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/vector_stores/{vector_store_id}/search',
    summary: 'Search a vector store',
    tag,
    body: VectorStoreSearchParams,
    response: SearchResultsPage,
    handler: (c, { params, body }) =>
      searchVectorStores(c.get('deps'), c.get('projectId'), [params.vector_store_id], body),
  }),
  endpoint({
    method: 'post',
    path: '/v1/search',
    summary: 'Search several vector stores (extension)',
    tag,
    body: MultiStoreSearchParams,
    response: SearchResultsPage,
    handler: (c, { body: { vector_store_ids, ...body } }) =>
      searchVectorStores(c.get('deps'), c.get('projectId'), [...new Set(vector_store_ids)], body),
  }),
];
